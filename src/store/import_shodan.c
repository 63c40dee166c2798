/* import_shodan.c - reads Shodan banner files: one banner JSON object per
 * line, as `shodan download` writes them (after gunzip) and as the stream
 * and host APIs return them. Maps the address, port, time, raw banner
 * (data), HTTP (status, title, server, favicon hash, and the headers and
 * Location parsed from data), TLS (cipher, certificate names, dates,
 * SHA-256), product/version, CVEs, country, ASN and organisation. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/alloc.h"
#include "store/import_int.h"

#define SHODAN_MAX_VULNS 1000

static void shodan_http(const struct ij_val *h, struct service_record *rec)
{
	rec->has_http = true;
	rec->probed = true;
	int64_t x;
	if (ij_int(ij_get(h, "status"), 100, 999, false, &x) == 0)
		rec->http.status = (int)x;
	const struct ij_val *s;
	if ((s = ij_get_type(h, "title", IJ_STR)))
		import_set_str(&rec->http.title, s->str, s->len, 1024);
	if ((s = ij_get_type(h, "server", IJ_STR)))
		import_set_str(&rec->http.server, s->str, s->len, 1024);
	/* http.location in a Shodan banner is the path that was requested
	 * ("/"), not a redirect target: the Location header comes from data */
	const struct ij_val *fav = ij_get_type(h, "favicon", IJ_OBJ);
	if (fav && ij_int(ij_get(fav, "hash"), INT32_MIN, INT32_MAX, false, &x) == 0) {
		rec->http.have_favicon = true;
		rec->http.favicon_hash = (int32_t)x;
	}
}

static void shodan_ssl(const struct ij_val *ssl, struct service_record *rec)
{
	struct record_tls *t = &rec->tls;
	rec->has_tls = true;
	rec->probed = true;
	const struct ij_val *cipher = ij_get_type(ssl, "cipher", IJ_OBJ);
	const struct ij_val *s;
	if (cipher) {
		if ((s = ij_get_type(cipher, "version", IJ_STR)))
			import_copy_fixed(t->version, sizeof(t->version), s->str, s->len);
		if ((s = ij_get_type(cipher, "name", IJ_STR)))
			import_copy_fixed(t->cipher, sizeof(t->cipher), s->str, s->len);
	}
	const struct ij_val *cert = ij_get_type(ssl, "cert", IJ_OBJ);
	if (!cert)
		return;
	t->have_cert = true;
	const struct ij_val *subj = ij_get_type(cert, "subject", IJ_OBJ);
	if ((s = ij_get_type(subj, "CN", IJ_STR)))
		import_set_str(&t->subject_cn, s->str, s->len, 256);
	const struct ij_val *iss = ij_get_type(cert, "issuer", IJ_OBJ);
	if ((s = ij_get_type(iss, "CN", IJ_STR)))
		import_set_str(&t->issuer_cn, s->str, s->len, 256);
	time_t tt;
	if ((s = ij_get_type(cert, "issued", IJ_STR)) && import_parse_time(s->str, s->len, &tt) == 0)
		import_fmt_time(tt, t->not_before);
	if ((s = ij_get_type(cert, "expires", IJ_STR)) && import_parse_time(s->str, s->len, &tt) == 0)
		import_fmt_time(tt, t->not_after);
	const struct ij_val *fp = ij_get_type(cert, "fingerprint", IJ_OBJ);
	if ((s = ij_get_type(fp, "sha256", IJ_STR)) && s->len == 64) {
		bool hex = true;
		for (size_t i = 0; i < 64; i++)
			if (!isxdigit((unsigned char)s->str[i]))
				hex = false;
		if (hex)
			for (size_t i = 0; i <= 64; i++)
				t->sha256[i] = (char)tolower((unsigned char)s->str[i]);
	}
}

/* Map one banner object onto rec (initialised). Returns 0, or -1 with err. */
static int shodan_from_obj(const struct ij_val *o, struct service_record *rec, char *err, size_t errlen)
{
	if (o->type != IJ_OBJ) {
		snprintf(err, errlen, "not a JSON object");
		return -1;
	}
	const struct ij_val *ipv = ij_get_type(o, "ip_str", IJ_STR);
	int64_t x;
	if (ipv) {
		int ok = import_parse_ip(ipv->str, ipv->len, &rec->ip);
		if (ok == -2) {
			snprintf(err, errlen, "IPv6 not supported yet");
			return -1;
		}
		if (ok < 0) {
			snprintf(err, errlen, "ip_str is not an IPv4 address");
			return -1;
		}
	} else if (ij_int(ij_get(o, "ip"), 0, UINT32_MAX, false, &x) == 0) {
		rec->ip = (uint32_t)x;
	} else if (ij_get(o, "ipv6")) {
		snprintf(err, errlen, "IPv6 not supported yet");
		return -1;
	} else {
		snprintf(err, errlen, "no ip_str or ip");
		return -1;
	}
	if (ij_int(ij_get(o, "port"), 1, 65535, false, &x) < 0) {
		snprintf(err, errlen, "%s", ij_get(o, "port") ? "port is not a port number (1-65535)" : "no port");
		return -1;
	}
	rec->port = (uint16_t)x;
	const char *tr = ij_get_str(o, "transport");
	if (tr && strcmp(tr, "tcp") != 0) {
		snprintf(err, errlen, "transport %.20s not supported (tcp only)", tr);
		return -1;
	}
	const struct ij_val *s;
	if ((s = ij_get_type(o, "timestamp", IJ_STR)) && import_parse_time(s->str, s->len, &rec->timestamp) < 0) {
		snprintf(err, errlen, "timestamp is not an ISO 8601 time");
		return -1;
	}
	if ((s = ij_get_type(o, "data", IJ_STR)) && s->len > 0)
		import_set_banner(rec, s->str, s->len);
	const struct ij_val *h = ij_get_type(o, "http", IJ_OBJ);
	if (h)
		shodan_http(h, rec);
	if (rec->banner) {
		/* the response head Shodan keeps in data: headers and Location */
		int status = rec->http.status;
		bool had_http = rec->has_http;
		if (import_http_head(rec, (const char *)rec->banner, rec->banner_len) && had_http && status)
			rec->http.status = status;
	}
	const struct ij_val *ssl = ij_get_type(o, "ssl", IJ_OBJ);
	if (ssl)
		shodan_ssl(ssl, rec);
	if ((s = ij_get_type(o, "product", IJ_STR)))
		import_set_str(&rec->product, s->str, s->len, 256);
	if ((s = ij_get_type(o, "version", IJ_STR)))
		import_set_str(&rec->version, s->str, s->len, 256);
	if (rec->product || rec->version)
		record_set(&rec->version_source, "shodan");
	const struct ij_val *vulns = ij_get_type(o, "vulns", IJ_OBJ);
	if (vulns) {
		size_t n = 0;
		for (const struct ij_val *k = vulns->child; k && n < SHODAN_MAX_VULNS; k = k->next, n++) {
			char *cve = NULL;
			import_set_str(&cve, k->key, k->keylen, 64);
			strlist_add(&rec->vulns, cve);
			free(cve);
		}
	}
	const struct ij_val *loc = ij_get_type(o, "location", IJ_OBJ);
	if ((s = ij_get_type(loc, "country_code", IJ_STR)) && s->len == 2 && isalpha((unsigned char)s->str[0]) &&
	    isalpha((unsigned char)s->str[1])) {
		char cc[3] = {(char)toupper((unsigned char)s->str[0]), (char)toupper((unsigned char)s->str[1]), 0};
		record_set(&rec->country, cc);
	}
	if ((s = ij_get_type(o, "asn", IJ_STR))) {
		const char *a = s->str;
		size_t n = s->len;
		if (n > 2 && (a[0] == 'A' || a[0] == 'a') && (a[1] == 'S' || a[1] == 's')) {
			a += 2;
			n -= 2;
		}
		uint32_t v;
		if (import_parse_uint(a, n, UINT32_MAX, &v) == 0)
			rec->asn = v;
	} else if (ij_int(ij_get(o, "asn"), 1, UINT32_MAX, false, &x) == 0) {
		rec->asn = (uint32_t)x;
	}
	if ((s = ij_get_type(o, "org", IJ_STR)))
		import_set_str(&rec->org, s->str, s->len, 256);
	return 0;
}

int import_read_shodan(struct import_ctx *c)
{
	const char *line;
	size_t len, pos;
	uint64_t ln;
	while (import_next_line(c, false, &line, &len, &pos, &ln) > 0) {
		ij_arena_reset(c->arena);
		struct ij_val *root;
		char jerr[128];
		int rc = ij_parse(c->arena, line, len, &pos, 0, &root, jerr, sizeof(jerr));
		if (rc != IJ_OK) {
			import_bad(c, ln, "invalid JSON at byte %zu: %s", pos + 1, jerr);
			continue;
		}
		while (pos < len && (line[pos] == ' ' || line[pos] == '\t'))
			pos++;
		if (pos != len) {
			import_bad(c, ln, "invalid JSON at byte %zu: text after the banner", pos + 1);
			continue;
		}
		struct service_record rec;
		record_init(&rec, 0, 0, c->default_time);
		char err[IMPORT_ERR_LEN];
		if (shodan_from_obj(root, &rec, err, sizeof(err)) < 0) {
			record_free(&rec);
			import_bad(c, ln, "%s", err);
			continue;
		}
		if (import_emit(c, &rec) < 0)
			return -1;
	}
	return 0;
}
