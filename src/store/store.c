/* store.c - backend selection and the mapping from a service record to
 * the columns both backends store (docs/store.md). */
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/alloc.h"
#include "query/query.h"

const char *const store_columns[STORE_NCOLS] = {
	"ip", "port", "transport", "ts", "http_status", "http_title", "http_server", "http_location",
	"http_body_sha256", "http_body_len", "http_favicon_hash", "headers", "has_tls", "tls_version",
	"tls_cipher", "cert_subject_cn", "cert_issuer_cn", "cert_sans", "cert_sha256", "cert_not_after",
	"banner", "product", "edition", "version", "version_source", "verdict", "compromised", "country",
	"asn", "org", "record",
};

struct store *store_open(const char *uri, char *err, size_t errlen)
{
	struct store *s = xcalloc(1, sizeof(*s));
	if (strncmp(uri, "postgres://", 11) == 0 || strncmp(uri, "postgresql://", 13) == 0 ||
	    strstr(uri, "dbname=") != NULL)
		s->be = &store_backend_postgres;
	else
		s->be = &store_backend_sqlite;
	if (s->be->open(s, uri, err, errlen) < 0) {
		free(s);
		return NULL;
	}
	return s;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	s->be->close(s);
	free(s);
}

void store_finding_text(const struct service_record *rec, struct strbuf *cves, struct strbuf *evidence)
{
	strbuf_init(cves);
	strbuf_init(evidence);
	for (size_t i = 0; i < rec->vulns.n; i++)
		strbuf_printf(cves, "%s%s", i ? "," : "", rec->vulns.v[i]);
	for (size_t i = 0; i < rec->evidence.n; i++)
		strbuf_printf(evidence, "%s\n", rec->evidence.v[i]);
	strbuf_adds(cves, "");
	strbuf_adds(evidence, "");
}

void store_facet_sql(const struct query_facet *f, bool as_text, char *select, size_t select_len, char *tail,
		     size_t tail_len)
{
	if (f->via_vulns) {
		snprintf(select, select_len,
			 "SELECT upper(v.cve), count(*) FROM services JOIN vulns v ON v.service_id = services.id");
		snprintf(tail, tail_len, "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT %d", f->limit);
	} else {
		snprintf(select, select_len, as_text ? "SELECT (%s)::text, count(*) FROM services" :
			 "SELECT %s, count(*) FROM services", f->column);
		snprintf(tail, tail_len, "AND %s IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT %d", f->column, f->limit);
	}
}

void store_row_buf_init(struct store_row_buf *b)
{
	strbuf_init(&b->headers);
	strbuf_init(&b->sans);
	strbuf_init(&b->banner);
	strbuf_init(&b->json);
	for (int i = 0; i < 5; i++)
		strbuf_init(&b->clean[i]);
}

void store_row_buf_free(struct store_row_buf *b)
{
	strbuf_free(&b->headers);
	strbuf_free(&b->sans);
	strbuf_free(&b->banner);
	strbuf_free(&b->json);
	for (int i = 0; i < 5; i++)
		strbuf_free(&b->clean[i]);
}

static struct store_value sv_text(const char *s)
{
	struct store_value v = {.type = s ? SV_TEXT : SV_NULL, .s = s};
	return v;
}

static struct store_value sv_int(int64_t i)
{
	struct store_value v = {.type = SV_INT, .i = i};
	return v;
}

static struct store_value sv_null(void)
{
	struct store_value v = {.type = SV_NULL};
	return v;
}

/* Text columns must not hold NUL bytes or invalid UTF-8 (PostgreSQL rejects
 * them): bytes are written the way JSON escapes them, minus the quotes. */
static void text_escaped(struct strbuf *out, const void *p, size_t n)
{
	size_t start = out->len;
	strbuf_json_str(out, p, n);
	/* drop the quotes strbuf_json_str added */
	memmove(out->data + start, out->data + start + 1, out->len - start - 2);
	out->len -= 2;
	out->data[out->len] = '\0';
}

/* Server-sent text for a text column: valid UTF-8 is kept, every byte of
 * an invalid sequence becomes U+FFFD (PostgreSQL rejects invalid UTF-8, and
 * both backends must store the same text). Returns s itself when it is
 * clean, else the cleaned copy in out. */
static const char *utf8_clean(struct strbuf *out, const char *s)
{
	if (!s)
		return NULL;
	const unsigned char *p = (const unsigned char *)s;
	bool ascii = true;
	for (const unsigned char *q = p; *q && ascii; q++)
		ascii = *q < 0x80;
	if (ascii)
		return s;
	strbuf_reset(out);
	while (*p) {
		size_t n = 0;
		unsigned char c = *p;
		if (c < 0x80)
			n = 1;
		else if (c >= 0xc2 && c <= 0xdf)
			n = 2;
		else if (c >= 0xe0 && c <= 0xef)
			n = 3;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 4;
		bool ok = n > 0;
		for (size_t i = 1; ok && i < n; i++)
			ok = (p[i] & 0xc0) == 0x80;
		if (ok && n == 3) {
			unsigned cp = ((c & 0x0fu) << 12) | ((p[1] & 0x3fu) << 6) | (p[2] & 0x3fu);
			ok = cp >= 0x800 && (cp < 0xd800 || cp > 0xdfff);
		} else if (ok && n == 4) {
			unsigned cp = ((c & 0x07u) << 18) | ((p[1] & 0x3fu) << 12) | ((p[2] & 0x3fu) << 6) | (p[3] & 0x3fu);
			ok = cp >= 0x10000 && cp <= 0x10ffff;
		}
		if (ok) {
			strbuf_add(out, p, n);
			p += n;
		} else {
			strbuf_add(out, "\xef\xbf\xbd", 3);
			p++;
		}
	}
	return out->data ? out->data : "";
}

void store_record_values(const struct service_record *r, struct store_row_buf *b, struct store_value *v)
{
	strbuf_reset(&b->headers);
	strbuf_reset(&b->sans);
	strbuf_reset(&b->banner);
	strbuf_reset(&b->json);
	record_to_json(r, &b->json);
	if (b->json.len && b->json.data[b->json.len - 1] == '\n')
		b->json.data[--b->json.len] = '\0';
	const struct record_http *h = &r->http;
	for (size_t i = 0; r->has_http && i < h->header_names.n; i++) {
		text_escaped(&b->headers, h->header_names.v[i], strlen(h->header_names.v[i]));
		strbuf_adds(&b->headers, ": ");
		text_escaped(&b->headers, h->header_values.v[i], strlen(h->header_values.v[i]));
		strbuf_adds(&b->headers, "\n");
	}
	for (size_t i = 0; r->has_tls && i < r->tls.sans.n; i++) {
		if (i)
			strbuf_adds(&b->sans, " ");
		text_escaped(&b->sans, r->tls.sans.v[i], strlen(r->tls.sans.v[i]));
	}
	if (r->banner)
		text_escaped(&b->banner, r->banner, r->banner_len);
	int k = 0;
	v[k++] = sv_int((int64_t)r->ip);
	v[k++] = sv_int(r->port);
	v[k++] = sv_text("tcp");
	v[k++] = sv_int((int64_t)r->timestamp);
	v[k++] = r->has_http ? sv_int(h->status) : sv_null();
	v[k++] = sv_text(r->has_http ? utf8_clean(&b->clean[0], h->title) : NULL);
	v[k++] = sv_text(r->has_http ? utf8_clean(&b->clean[1], h->server) : NULL);
	v[k++] = sv_text(r->has_http ? utf8_clean(&b->clean[2], h->location) : NULL);
	v[k++] = sv_text(r->has_http && h->body_sha256[0] ? h->body_sha256 : NULL);
	v[k++] = r->has_http ? sv_int((int64_t)h->body_len) : sv_null();
	v[k++] = r->has_http && h->have_favicon ? sv_int(h->favicon_hash) : sv_null();
	v[k++] = sv_text(r->has_http ? b->headers.data ? b->headers.data : "" : NULL);
	v[k++] = sv_int(r->has_tls ? 1 : 0);
	v[k++] = sv_text(r->has_tls ? r->tls.version : NULL);
	v[k++] = sv_text(r->has_tls ? r->tls.cipher : NULL);
	v[k++] = sv_text(r->has_tls ? utf8_clean(&b->clean[3], r->tls.subject_cn) : NULL);
	v[k++] = sv_text(r->has_tls ? utf8_clean(&b->clean[4], r->tls.issuer_cn) : NULL);
	v[k++] = sv_text(r->has_tls && b->sans.data ? b->sans.data : NULL);
	v[k++] = sv_text(r->has_tls && r->tls.sha256[0] ? r->tls.sha256 : NULL);
	v[k++] = sv_text(r->has_tls && r->tls.not_after[0] ? r->tls.not_after : NULL);
	v[k++] = sv_text(r->banner ? b->banner.data : NULL);
	v[k++] = sv_text(r->product);
	v[k++] = sv_text(r->edition);
	v[k++] = sv_text(r->version);
	v[k++] = sv_text(r->version_source);
	v[k++] = sv_text(r->verdict);
	v[k++] = r->compromised == TRI_NULL ? sv_null() : sv_int(r->compromised == TRI_TRUE);
	v[k++] = sv_text(r->country);
	v[k++] = r->asn ? sv_int(r->asn) : sv_null();
	v[k++] = sv_text(r->org);
	v[k++] = sv_text(b->json.data);
}
