/* import_vigil.c - reads vigil's own JSON Lines (record_to_json) back into
 * records, exactly: for every record vigil writes, serialising the parsed
 * record gives the same bytes. Fixed-size fields that do not fit, wrong
 * types and non-TCP transports make the line bad rather than being cut. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/alloc.h"
#include "store/import_int.h"

#define VIGIL_MAX_LIST 10000

struct vctx {
	char *err;
	size_t errlen;
};

static int vfail(struct vctx *v, const char *what, const char *field)
{
	snprintf(v->err, v->errlen, "%s %s", field, what);
	return -1;
}

/* Optional string member into a char array; too long is an error. */
static int get_fixed(struct vctx *v, const struct ij_val *o, const char *key, const char *name, char *dst,
		     size_t size)
{
	const struct ij_val *x = ij_get(o, key);
	if (!x || x->type == IJ_NULL)
		return 0;
	if (x->type != IJ_STR)
		return vfail(v, "is not a string", name);
	if (x->len >= size || memchr(x->str, '\0', x->len))
		return vfail(v, "is too long", name);
	memcpy(dst, x->str, x->len + 1);
	return 0;
}

/* Optional string member into a heap string (null/absent: NULL). */
static int get_str(struct vctx *v, const struct ij_val *o, const char *key, const char *name, char **dst)
{
	const struct ij_val *x = ij_get(o, key);
	if (!x || x->type == IJ_NULL)
		return 0;
	if (x->type != IJ_STR)
		return vfail(v, "is not a string", name);
	import_set_str(dst, x->str, x->len, x->len + 1);
	return 0;
}

static int get_list(struct vctx *v, const struct ij_val *o, const char *key, const char *name, struct strlist *l)
{
	const struct ij_val *x = ij_get(o, key);
	if (!x || x->type == IJ_NULL)
		return 0;
	if (x->type != IJ_ARR)
		return vfail(v, "is not an array", name);
	if (x->len > VIGIL_MAX_LIST)
		return vfail(v, "has too many entries", name);
	strlist_free(l);
	for (const struct ij_val *e = x->child; e; e = e->next) {
		if (e->type != IJ_STR)
			return vfail(v, "has a non-string entry", name);
		char *s = NULL;
		import_set_str(&s, e->str, e->len, e->len + 1);
		strlist_add(l, s);
		free(s);
	}
	return 0;
}

static int get_int(struct vctx *v, const struct ij_val *o, const char *key, const char *name, int64_t min,
		   int64_t max, int64_t *out, bool *present)
{
	const struct ij_val *x = ij_get(o, key);
	*present = false;
	if (!x || x->type == IJ_NULL)
		return 0;
	if (ij_int(x, min, max, false, out) < 0)
		return vfail(v, "is not an integer in range", name);
	*present = true;
	return 0;
}

static int get_bool(struct vctx *v, const struct ij_val *o, const char *key, const char *name, bool *out)
{
	const struct ij_val *x = ij_get(o, key);
	if (!x || x->type == IJ_NULL)
		return 0;
	if (x->type != IJ_BOOL)
		return vfail(v, "is not true/false", name);
	*out = x->b;
	return 0;
}

static int vigil_tls(struct vctx *v, const struct ij_val *t, struct service_record *rec)
{
	if (t->type != IJ_OBJ)
		return vfail(v, "is not an object", "tls");
	rec->has_tls = true;
	struct record_tls *tls = &rec->tls;
	if (get_fixed(v, t, "version", "tls.version", tls->version, sizeof(tls->version)) < 0 ||
	    get_fixed(v, t, "cipher", "tls.cipher", tls->cipher, sizeof(tls->cipher)) < 0)
		return -1;
	const struct ij_val *c = ij_get(t, "cert");
	if (!c || c->type == IJ_NULL)
		return 0;
	if (c->type != IJ_OBJ)
		return vfail(v, "is not an object", "tls.cert");
	tls->have_cert = true;
	if (get_str(v, c, "subject_cn", "tls.cert.subject_cn", &tls->subject_cn) < 0 ||
	    get_list(v, c, "sans", "tls.cert.sans", &tls->sans) < 0 ||
	    get_str(v, c, "issuer_cn", "tls.cert.issuer_cn", &tls->issuer_cn) < 0 ||
	    get_fixed(v, c, "not_before", "tls.cert.not_before", tls->not_before, sizeof(tls->not_before)) < 0 ||
	    get_fixed(v, c, "not_after", "tls.cert.not_after", tls->not_after, sizeof(tls->not_after)) < 0 ||
	    get_fixed(v, c, "sha256", "tls.cert.sha256", tls->sha256, sizeof(tls->sha256)) < 0)
		return -1;
	return 0;
}

static int vigil_http(struct vctx *v, const struct ij_val *h, struct service_record *rec)
{
	if (h->type != IJ_OBJ)
		return vfail(v, "is not an object", "http");
	rec->has_http = true;
	struct record_http *http = &rec->http;
	int64_t x;
	bool present;
	if (get_int(v, h, "status", "http.status", -2147483647 - 1, 2147483647, &x, &present) < 0)
		return -1;
	if (present)
		http->status = (int)x;
	if (get_str(v, h, "title", "http.title", &http->title) < 0 ||
	    get_str(v, h, "server", "http.server", &http->server) < 0 ||
	    get_str(v, h, "location", "http.location", &http->location) < 0 ||
	    get_fixed(v, h, "body_sha256", "http.body_sha256", http->body_sha256, sizeof(http->body_sha256)) < 0 ||
	    get_bool(v, h, "body_truncated", "http.body_truncated", &http->body_truncated) < 0)
		return -1;
	if (get_int(v, h, "body_len", "http.body_len", 0, INT64_MAX, &x, &present) < 0)
		return -1;
	if (present)
		http->body_len = (size_t)x;
	if (get_int(v, h, "favicon_hash", "http.favicon_hash", -2147483647 - 1, 2147483647, &x, &present) < 0)
		return -1;
	if (present) {
		http->have_favicon = true;
		http->favicon_hash = (int32_t)x;
	}
	const struct ij_val *hd = ij_get(h, "headers");
	if (hd && hd->type != IJ_NULL) {
		if (hd->type != IJ_ARR)
			return vfail(v, "is not an array", "http.headers");
		if (hd->len > VIGIL_MAX_LIST)
			return vfail(v, "has too many entries", "http.headers");
		for (const struct ij_val *p = hd->child; p; p = p->next) {
			if (p->type != IJ_ARR || p->len != 2 || p->child->type != IJ_STR ||
			    p->child->next->type != IJ_STR)
				return vfail(v, "entries must be [name, value] string pairs", "http.headers");
			char *n = NULL, *val = NULL;
			import_set_str(&n, p->child->str, p->child->len, p->child->len + 1);
			import_set_str(&val, p->child->next->str, p->child->next->len, p->child->next->len + 1);
			strlist_add(&http->header_names, n);
			strlist_add(&http->header_values, val);
			free(n);
			free(val);
		}
	}
	return 0;
}

static int vigil_toolshell(struct vctx *v, const struct ij_val *t, struct service_record *rec)
{
	if (t->type != IJ_OBJ)
		return vfail(v, "is not an object", "toolshell");
	rec->has_toolshell = true;
	if (get_str(v, t, "verdict", "toolshell.verdict", &rec->verdict) < 0 ||
	    get_list(v, t, "evidence", "toolshell.evidence", &rec->evidence) < 0)
		return -1;
	const struct ij_val *c = ij_get(t, "compromised");
	if (c && c->type == IJ_BOOL)
		rec->compromised = c->b ? TRI_TRUE : TRI_FALSE;
	else if (c && c->type != IJ_NULL)
		return vfail(v, "is not true/false/null", "toolshell.compromised");
	return 0;
}

/* Fill rec (initialised by the caller) from a parsed vigil object. */
static int vigil_from_obj(const struct ij_val *o, struct service_record *rec, char *err, size_t errlen)
{
	struct vctx v = {err, errlen};
	if (o->type != IJ_OBJ)
		return vfail(&v, "is not a JSON object", "the line");
	const struct ij_val *ipv = ij_get(o, "ip");
	if (!ipv)
		return vfail(&v, "is missing", "ip");
	if (ipv->type != IJ_STR)
		return vfail(&v, "is not a string", "ip");
	int ok = import_parse_ip(ipv->str, ipv->len, &rec->ip);
	if (ok == -2) {
		snprintf(err, errlen, "IPv6 not supported yet");
		return -1;
	}
	if (ok < 0)
		return vfail(&v, "is not an IPv4 address", "ip");
	int64_t x;
	const struct ij_val *pv = ij_get(o, "port");
	if (!pv)
		return vfail(&v, "is missing", "port");
	if (ij_int(pv, 1, 65535, false, &x) < 0)
		return vfail(&v, "is not a port number (1-65535)", "port");
	rec->port = (uint16_t)x;
	const char *tr = ij_get_str(o, "transport");
	if (ij_get(o, "transport") && (!tr || strcmp(tr, "tcp") != 0)) {
		snprintf(err, errlen, "transport %.20s not supported (tcp only)", tr ? tr : "(not a string)");
		return -1;
	}
	const struct ij_val *ts = ij_get(o, "timestamp");
	if (!ts)
		return vfail(&v, "is missing", "timestamp");
	if (ts->type == IJ_STR) {
		if (import_parse_time(ts->str, ts->len, &rec->timestamp) < 0)
			return vfail(&v, "is not an RFC 3339 time", "timestamp");
	} else if (ij_int(ts, 0, IMPORT_MAX_TIME, false, &x) == 0) {
		rec->timestamp = (time_t)x;
	} else {
		return vfail(&v, "is not an RFC 3339 time", "timestamp");
	}
	const struct ij_val *t = ij_get(o, "tls");
	if (t && t->type != IJ_NULL && vigil_tls(&v, t, rec) < 0)
		return -1;
	const struct ij_val *h = ij_get(o, "http");
	if (h && h->type != IJ_NULL && vigil_http(&v, h, rec) < 0)
		return -1;
	const struct ij_val *b = ij_get(o, "banner");
	if (b && b->type != IJ_NULL) {
		if (b->type != IJ_STR)
			return vfail(&v, "is not a string", "banner");
		free(rec->banner);
		rec->banner = xmalloc(b->len + 1);
		memcpy(rec->banner, b->str, b->len + 1);
		rec->banner_len = b->len;
	}
	if (get_str(&v, o, "error", "error", &rec->error) < 0 || get_str(&v, o, "country", "country", &rec->country) < 0 ||
	    get_str(&v, o, "org", "org", &rec->org) < 0 || get_str(&v, o, "product", "product", &rec->product) < 0 ||
	    get_str(&v, o, "edition", "edition", &rec->edition) < 0 ||
	    get_str(&v, o, "version", "version", &rec->version) < 0 ||
	    get_str(&v, o, "version_source", "version_source", &rec->version_source) < 0)
		return -1;
	bool present;
	if (get_int(&v, o, "asn", "asn", 0, UINT32_MAX, &x, &present) < 0)
		return -1;
	if (present)
		rec->asn = (uint32_t)x;
	const struct ij_val *tsh = ij_get(o, "toolshell");
	if (tsh && tsh->type != IJ_NULL && vigil_toolshell(&v, tsh, rec) < 0)
		return -1;
	if (get_list(&v, o, "vulns", "vulns", &rec->vulns) < 0)
		return -1;
	rec->probed = rec->has_tls || rec->has_http || rec->banner || rec->error;
	return 0;
}

static int vigil_parse(struct ij_arena *a, const char *line, size_t len, struct service_record *rec, char *err,
		       size_t errlen)
{
	record_init(rec, 0, 0, 0);
	size_t pos = 0;
	struct ij_val *root;
	char jerr[128];
	int rc = ij_parse(a, line, len, &pos, IJ_RAW_BYTES, &root, jerr, sizeof(jerr));
	if (rc != IJ_OK) {
		snprintf(err, errlen, "invalid JSON at byte %zu: %s", pos + 1, jerr);
		return -1;
	}
	while (pos < len && (line[pos] == ' ' || line[pos] == '\t' || line[pos] == '\r' || line[pos] == '\n'))
		pos++;
	if (pos != len) {
		snprintf(err, errlen, "invalid JSON at byte %zu: text after the record", pos + 1);
		return -1;
	}
	if (vigil_from_obj(root, rec, err, errlen) < 0) {
		record_free(rec);
		return -1;
	}
	return 0;
}

int import_vigil_line(const char *line, size_t len, struct service_record *rec, char *err, size_t errlen)
{
	struct ij_arena *a = ij_arena_new();
	int rc = vigil_parse(a, line, len, rec, err, errlen);
	ij_arena_free(a);
	return rc;
}

int import_read_vigil(struct import_ctx *c)
{
	const char *line;
	size_t len, i;
	uint64_t ln;
	while (import_next_line(c, false, &line, &len, &i, &ln) > 0) {
		struct service_record rec;
		char err[IMPORT_ERR_LEN];
		ij_arena_reset(c->arena);
		if (vigil_parse(c->arena, line, len, &rec, err, sizeof(err)) < 0) {
			import_bad(c, ln, "%s", err);
			continue;
		}
		if (import_emit(c, &rec) < 0)
			return -1;
	}
	return 0;
}
