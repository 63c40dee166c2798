/* record.c - service records: lifetime and JSON Lines serialisation. Every
 * string from a remote host goes through strbuf_json_str, so the output is
 * valid JSON whatever bytes the server sent. */
#include "lib/record.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/alloc.h"
#include "lib/timeutil.h"

void strlist_add(struct strlist *l, const char *s)
{
	l->v = xrealloc(l->v, (l->n + 1) * sizeof(char *));
	l->v[l->n++] = xstrdup(s);
}

void strlist_addf(struct strlist *l, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	strlist_add(l, buf);
}

void strlist_free(struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void record_init(struct service_record *r, uint32_t ip, uint16_t port, time_t ts)
{
	memset(r, 0, sizeof(*r));
	r->ip = ip;
	r->port = port;
	r->timestamp = ts;
	r->compromised = TRI_NULL;
}

void record_set(char **dst, const char *src)
{
	free(*dst);
	*dst = src ? xstrdup(src) : NULL;
}

void record_free(struct service_record *r)
{
	free(r->tls.subject_cn);
	free(r->tls.issuer_cn);
	strlist_free(&r->tls.sans);
	free(r->http.title);
	free(r->http.server);
	free(r->http.location);
	strlist_free(&r->http.header_names);
	strlist_free(&r->http.header_values);
	free(r->banner);
	free(r->error);
	free(r->country);
	free(r->org);
	free(r->product);
	free(r->edition);
	free(r->version);
	free(r->version_source);
	free(r->verdict);
	strlist_free(&r->evidence);
	strlist_free(&r->vulns);
	memset(r, 0, sizeof(*r));
}

static void json_key_str(struct strbuf *o, const char *key, const char *val)
{
	strbuf_printf(o, ",\"%s\":", key);
	strbuf_json_str(o, val, strlen(val));
}

static void json_strlist(struct strbuf *o, const char *key, const struct strlist *l)
{
	strbuf_printf(o, ",\"%s\":[", key);
	for (size_t i = 0; i < l->n; i++) {
		if (i)
			strbuf_adds(o, ",");
		strbuf_json_str(o, l->v[i], strlen(l->v[i]));
	}
	strbuf_adds(o, "]");
}

void record_to_json(const struct service_record *r, struct strbuf *o)
{
	char ts[32];
	time_rfc3339(ts, sizeof(ts), r->timestamp);
	strbuf_printf(o, "{\"ip\":\"%u.%u.%u.%u\",\"port\":%u,\"transport\":\"tcp\",\"timestamp\":\"%s\"",
		      r->ip >> 24, (r->ip >> 16) & 255, (r->ip >> 8) & 255, r->ip & 255, r->port, ts);
	if (r->has_tls) {
		const struct record_tls *t = &r->tls;
		strbuf_adds(o, ",\"tls\":{\"version\":");
		strbuf_json_str(o, t->version, strlen(t->version));
		json_key_str(o, "cipher", t->cipher);
		if (t->have_cert) {
			strbuf_adds(o, ",\"cert\":{\"subject_cn\":");
			if (t->subject_cn)
				strbuf_json_str(o, t->subject_cn, strlen(t->subject_cn));
			else
				strbuf_adds(o, "null");
			json_strlist(o, "sans", &t->sans);
			strbuf_adds(o, ",\"issuer_cn\":");
			if (t->issuer_cn)
				strbuf_json_str(o, t->issuer_cn, strlen(t->issuer_cn));
			else
				strbuf_adds(o, "null");
			json_key_str(o, "not_before", t->not_before);
			json_key_str(o, "not_after", t->not_after);
			json_key_str(o, "sha256", t->sha256);
			strbuf_adds(o, "}");
		}
		strbuf_adds(o, "}");
	}
	if (r->has_http) {
		const struct record_http *h = &r->http;
		strbuf_printf(o, ",\"http\":{\"status\":%d", h->status);
		if (h->title)
			json_key_str(o, "title", h->title);
		if (h->server)
			json_key_str(o, "server", h->server);
		if (h->location)
			json_key_str(o, "location", h->location);
		strbuf_adds(o, ",\"headers\":[");
		for (size_t i = 0; i < h->header_names.n; i++) {
			strbuf_adds(o, i ? ",[" : "[");
			strbuf_json_str(o, h->header_names.v[i], strlen(h->header_names.v[i]));
			strbuf_adds(o, ",");
			strbuf_json_str(o, h->header_values.v[i], strlen(h->header_values.v[i]));
			strbuf_adds(o, "]");
		}
		strbuf_adds(o, "]");
		json_key_str(o, "body_sha256", h->body_sha256);
		strbuf_printf(o, ",\"body_len\":%zu", h->body_len);
		if (h->body_truncated)
			strbuf_adds(o, ",\"body_truncated\":true");
		if (h->have_favicon)
			strbuf_printf(o, ",\"favicon_hash\":%d", (int)h->favicon_hash);
		strbuf_adds(o, "}");
	}
	if (r->banner) {
		strbuf_adds(o, ",\"banner\":");
		strbuf_json_str(o, r->banner, r->banner_len);
	}
	if (r->error)
		json_key_str(o, "error", r->error);
	if (r->country)
		json_key_str(o, "country", r->country);
	if (r->asn)
		strbuf_printf(o, ",\"asn\":%u", r->asn);
	if (r->org)
		json_key_str(o, "org", r->org);
	if (r->product)
		json_key_str(o, "product", r->product);
	if (r->edition)
		json_key_str(o, "edition", r->edition);
	if (r->version)
		json_key_str(o, "version", r->version);
	if (r->version_source)
		json_key_str(o, "version_source", r->version_source);
	if (r->has_toolshell) {
		strbuf_adds(o, ",\"toolshell\":{\"verdict\":");
		strbuf_json_str(o, r->verdict ? r->verdict : "", r->verdict ? strlen(r->verdict) : 0);
		strbuf_printf(o, ",\"compromised\":%s",
			      r->compromised == TRI_NULL ? "null" : r->compromised == TRI_TRUE ? "true" : "false");
		json_strlist(o, "evidence", &r->evidence);
		strbuf_adds(o, "}");
	}
	/* vulns at top level: from a check, or imported (e.g. Shodan's) */
	if (r->has_toolshell || r->vulns.n > 0)
		json_strlist(o, "vulns", &r->vulns);
	strbuf_adds(o, "}\n");
}
