/* query.c - owns the search language: the lexer (terms, quotes, negation,
 * comma lists), value validation per filter type, compilation to a SQL
 * boolean expression with bound parameters for the SQLite and PostgreSQL
 * dialects, filter-name suggestions and facet lists.
 *
 * Design decisions (see query.h for the language):
 * - Every user byte reaches the database as a bound parameter; the SQL text
 *   is assembled only from the fixed templates below, so a query cannot
 *   inject SQL. Full-text strings are quoted for the engine's own syntax by
 *   the dialect (FTS5 "..." strings), so they cannot inject FTS operators.
 * - Each term becomes one parenthesised condition; terms are joined by AND.
 *   Several bare words give one full-text condition per word or phrase (so
 *   each can be negated on its own, and PostgreSQL can use phraseto_tsquery
 *   for phrases only).
 * - A negated term is NOT coalesce((term), FALSE): a row where the column is
 *   NULL "does not have that value", so -product:iis matches rows without a
 *   product and -compromised:true matches unknown ones.
 * - ssl:TEXT is a substring match over the certificate's names (subject CN
 *   or SANs); http.html:TEXT is full text (the body is not stored, the
 *   banner/title/headers are); has_ssl is an alias of has_tls; hostname and
 *   a few other Shodan filters whose data vigil does not keep are errors
 *   that say what to use instead.
 * - before:/after: take YYYY-MM-DD (UTC midnight), RFC 3339
 *   (YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)) and Shodan's DD/MM/YYYY;
 *   they compare strictly (ts < t, ts > t).
 * - country:XX must be two letters; it is upper-cased and compared as
 *   upper(country) = ?. */
#include "query/query.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/alloc.h"
#include "scan/targets.h"

/* ---- filters ---------------------------------------------------------- */

enum kind {
	K_IP,        /* ip = ?, or a CIDR like K_NET */
	K_NET,       /* ip BETWEEN ? AND ? */
	K_PORT,      /* port = ? */
	K_TEXT_EQ,   /* lower(col) = lower(?) */
	K_COUNTRY,   /* upper(country) = ? */
	K_LIKE,      /* lower(col) LIKE lower(?) ESCAPE '\' */
	K_LIKE_SSL,  /* K_LIKE on cert_subject_cn OR cert_sans */
	K_STATUS,    /* http_status = ? */
	K_FAVICON,   /* http_favicon_hash = ? */
	K_FPR,       /* cert_sha256 = lower(?) */
	K_VULN,      /* EXISTS (... upper(v.cve) = upper(?)) */
	K_HAS_VULN,  /* [NOT] EXISTS (...) */
	K_BOOL,      /* col = 1 / col = 0 */
	K_ASN,       /* asn = ? */
	K_SCAN,      /* scan_id IN (SELECT id FROM scans WHERE ...) */
	K_BEFORE,    /* ts < ? */
	K_AFTER,     /* ts > ? */
	K_FULLTEXT,  /* the dialect's full-text condition */
};

struct filter {
	const char *name;
	enum kind kind;
	const char *column;
};

/* Order matters only for suggestions: on a tie the earlier name wins. */
static const struct filter filters[] = {
	{"port", K_PORT, "port"},
	{"net", K_NET, "ip"},
	{"ip", K_IP, "ip"},
	{"country", K_COUNTRY, "country"},
	{"asn", K_ASN, "asn"},
	{"org", K_TEXT_EQ, "org"},
	{"product", K_TEXT_EQ, "product"},
	{"version", K_TEXT_EQ, "version"},
	{"edition", K_TEXT_EQ, "edition"},
	{"verdict", K_TEXT_EQ, "verdict"},
	{"transport", K_TEXT_EQ, "transport"},
	{"title", K_LIKE, "http_title"},
	{"http.title", K_LIKE, "http_title"},
	{"http.status", K_STATUS, "http_status"},
	{"http.html", K_FULLTEXT, NULL},
	{"http.favicon.hash", K_FAVICON, "http_favicon_hash"},
	{"server", K_LIKE, "http_server"},
	{"ssl", K_LIKE_SSL, NULL},
	{"ssl.cert.subject.cn", K_LIKE, "cert_subject_cn"},
	{"ssl.cert.issuer.cn", K_LIKE, "cert_issuer_cn"},
	{"ssl.cert.fingerprint", K_FPR, "cert_sha256"},
	{"vuln", K_VULN, NULL},
	{"has_vuln", K_HAS_VULN, NULL},
	{"compromised", K_BOOL, "compromised"},
	{"has_tls", K_BOOL, "has_tls"},
	{"has_ssl", K_BOOL, "has_tls"},
	{"scan", K_SCAN, NULL},
	{"before", K_BEFORE, "ts"},
	{"after", K_AFTER, "ts"},
};
#define NFILTERS (sizeof(filters) / sizeof(filters[0]))

/* Shodan filters whose data vigil does not keep: a pointed error. */
static const struct {
	const char *name, *hint;
} unsupported[] = {
	{"hostname", "host names are not stored; try ssl.cert.subject.cn, ssl, ip or net"},
	{"domain", "domain names are not stored; try ssl.cert.subject.cn or ssl"},
	{"city", "locations finer than a country are not stored; try country"},
	{"region", "locations finer than a country are not stored; try country"},
	{"state", "locations finer than a country are not stored; try country"},
	{"postal", "locations finer than a country are not stored; try country"},
	{"geo", "locations finer than a country are not stored; try country or net"},
	{"isp", "try org or asn"},
	{"os", "operating systems are not detected; try product"},
	{"cpe", "try product and version"},
	{"device", "try product"},
	{"hash", "banner hashes are not stored; try http.favicon.hash"},
	{"tag", "tags are not stored; try verdict or vuln"},
};

#define SQL_LIKE_ESCAPE " ESCAPE '\\'"
/* "services.id IN (...)": the planner looks vulns up by CVE once, instead
 * of probing vulns for every service row. */
#define SQL_VULN_EXISTS "services.id IN (SELECT v.service_id FROM vulns v WHERE 1=1"

/* ---- small helpers ---------------------------------------------------- */

static void seterr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || errlen == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static char lc(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static char uc(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool eq_nocase(const char *a, size_t alen, const char *b)
{
	size_t blen = strlen(b);
	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++)
		if (lc(a[i]) != lc(b[i]))
			return false;
	return true;
}

/* n decimal digits (1..maxd) into *out; no sign, no blanks. */
static bool parse_uint(const char *s, size_t n, size_t maxd, uint64_t *out)
{
	if (n == 0 || n > maxd)
		return false;
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return true;
}

/* Well-formed UTF-8 (no overlongs, surrogates or code points > U+10FFFF). */
static bool utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned char c = s[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		size_t k;
		unsigned char lo = 0x80, hi = 0xbf;
		if (c >= 0xc2 && c <= 0xdf) {
			k = 1;
		} else if (c >= 0xe0 && c <= 0xef) {
			k = 2;
			if (c == 0xe0)
				lo = 0xa0;
			else if (c == 0xed)
				hi = 0x9f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			k = 3;
			if (c == 0xf0)
				lo = 0x90;
			else if (c == 0xf4)
				hi = 0x8f;
		} else {
			return false;
		}
		if (n - i <= k)
			return false;
		if (s[i + 1] < lo || s[i + 1] > hi)
			return false;
		for (size_t j = 2; j <= k; j++)
			if (s[i + j] < 0x80 || s[i + j] > 0xbf)
				return false;
		i += k + 1;
	}
	return true;
}

/* Case-insensitive Levenshtein distance; both lengths at most 64. */
static size_t edit_distance(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t prev[65], cur[65];
	for (size_t j = 0; j <= blen; j++)
		prev[j] = j;
	for (size_t i = 1; i <= alen; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= blen; j++) {
			size_t cost = lc(a[i - 1]) == lc(b[j - 1]) ? 0 : 1;
			size_t v = prev[j - 1] + cost;
			if (prev[j] + 1 < v)
				v = prev[j] + 1;
			if (cur[j - 1] + 1 < v)
				v = cur[j - 1] + 1;
			cur[j] = v;
		}
		memcpy(prev, cur, (blen + 1) * sizeof(size_t));
	}
	return prev[blen];
}

/* The name among names[0..n) (stride bytes apart) closest to s[0..len). */
static const char *closest(const char *s, size_t len, const char *const *names, size_t n, size_t stride)
{
	if (len == 0 || len > 64)
		return NULL;
	const char *best = NULL;
	size_t bestd = SIZE_MAX;
	for (size_t i = 0; i < n; i++) {
		const char *name = *(const char *const *)(const void *)((const char *)names + i * stride);
		size_t nl = strlen(name);
		if (nl > 64)
			continue;
		size_t dist = edit_distance(s, len, name, nl);
		if (dist < bestd) {
			bestd = dist;
			best = name;
		}
	}
	return bestd <= 3 && bestd < len ? best : NULL;
}

const char *query_suggest(const char *s)
{
	if (!s)
		return NULL;
	return closest(s, strnlen(s, 65), &filters[0].name, NFILTERS, sizeof(filters[0]));
}

/* ---- values ------------------------------------------------------------ */

/* A.B.C.D or A.B.C.D/N (host bits are cleared) into [lo, hi]. */
static bool parse_net(const char *s, size_t n, uint32_t *lo, uint32_t *hi)
{
	const char *slash = memchr(s, '/', n);
	size_t alen = slash ? (size_t)(slash - s) : n;
	uint32_t a;
	if (ipv4_parse(s, alen, &a) < 0)
		return false;
	uint64_t bits = 32;
	if (slash) {
		size_t blen = n - alen - 1;
		if (!parse_uint(slash + 1, blen, 2, &bits) || bits > 32 || (blen == 2 && slash[1] == '0'))
			return false;
	}
	uint32_t mask = bits == 0 ? 0 : 0xffffffffu << (32 - bits);
	*lo = a & mask;
	*hi = (a & mask) | ~mask;
	return true;
}

static bool leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days since 1970-01-01 of a valid proleptic Gregorian date, year >= 1. */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
	y -= m <= 2;
	int64_t era = y / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static bool valid_date(uint64_t y, uint64_t m, uint64_t d)
{
	static const uint8_t mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1)
		return false;
	uint64_t max = mdays[m - 1] + (m == 2 && leap((int64_t)y) ? 1 : 0);
	return d <= max;
}

/* YYYY-MM-DD, YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM) or D/M/YYYY
 * into unix seconds. */
static bool parse_time(const char *s, size_t n, int64_t *out)
{
	uint64_t y, m, d, hh = 0, mm = 0, ss = 0;
	int64_t offset = 0;
	const char *sl1 = memchr(s, '/', n);
	if (sl1) {
		const char *sl2 = memchr(sl1 + 1, '/', n - (size_t)(sl1 + 1 - s));
		if (!sl2 || !parse_uint(s, (size_t)(sl1 - s), 2, &d) ||
		    !parse_uint(sl1 + 1, (size_t)(sl2 - sl1 - 1), 2, &m) ||
		    n - (size_t)(sl2 + 1 - s) != 4 || !parse_uint(sl2 + 1, 4, 4, &y))
			return false;
	} else {
		if (n < 10 || s[4] != '-' || s[7] != '-' || !parse_uint(s, 4, 4, &y) ||
		    !parse_uint(s + 5, 2, 2, &m) || !parse_uint(s + 8, 2, 2, &d))
			return false;
		if (n > 10) {
			if (n < 20 || (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':' ||
			    !parse_uint(s + 11, 2, 2, &hh) || !parse_uint(s + 14, 2, 2, &mm) ||
			    !parse_uint(s + 17, 2, 2, &ss) || hh > 23 || mm > 59 || ss > 60)
				return false;
			size_t i = 19;
			if (s[i] == '.') {
				size_t start = ++i;
				while (i < n && is_digit(s[i]))
					i++;
				if (i == start || i - start > 9)
					return false;
			}
			if (i + 1 == n && (s[i] == 'Z' || s[i] == 'z')) {
				offset = 0;
			} else if (i + 6 == n && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
				uint64_t oh, om;
				if (!parse_uint(s + i + 1, 2, 2, &oh) || !parse_uint(s + i + 4, 2, 2, &om) ||
				    oh > 23 || om > 59)
					return false;
				offset = (int64_t)(oh * 3600 + om * 60);
				if (s[i] == '-')
					offset = -offset;
			} else {
				return false;
			}
		}
	}
	if (!valid_date(y, m, d))
		return false;
	*out = days_from_civil((int64_t)y, (int64_t)m, (int64_t)d) * 86400 +
	       (int64_t)(hh * 3600 + mm * 60 + ss) - offset;
	return true;
}

/* ---- compilation ------------------------------------------------------- */

struct value {
	const char *s;  /* unescaped, NUL-terminated (in the lexer's scratch) */
	size_t len;
	bool quoted;
};

struct term {
	bool neg;
	const struct filter *f;  /* NULL: a bare word or phrase */
	struct value v[QUERY_MAX_VALUES];
	size_t nv;
};

/* How a value's condition becomes an id query (dialects with id_lists). */
enum ids_form {
	IDS_NONE,      /* no index answers it alone: filter rows */
	IDS_SERVICES,  /* SELECT id FROM services WHERE <cond> */
	IDS_BY_SCAN,   /* ... WHERE scan_id IN (all scans) AND <cond>: the
			* (scan_id, ip, port) index, scan by scan */
	IDS_DIRECT,    /* <cond> is services.id IN (<id query>) */
	IDS_TAG,       /* the tag in compiler.tag (services_tags) */
};

struct compiler {
	const struct query_dialect *d;
	enum ids_form form;  /* of the value emit_value wrote last */
	char tag[QUERY_TAG_MAX];
	struct query_sql *out;
	size_t cap;
	char *err;
	size_t errlen;
};

static struct query_param *new_param(struct compiler *c)
{
	struct query_sql *q = c->out;
	if (q->nparams == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		q->params = xrealloc(q->params, c->cap * sizeof(*q->params));
	}
	struct query_param *p = &q->params[q->nparams++];
	*p = (struct query_param){0};
	return p;
}

static void ph_int(struct compiler *c, int64_t v)
{
	struct query_param *p = new_param(c);
	p->is_int = true;
	p->i = v;
	c->d->placeholder(&c->out->where, (int)c->out->nparams);
}

/* A string parameter taking ownership of the heap string s. */
static void ph_own(struct compiler *c, char *s)
{
	new_param(c)->s = s;
	c->d->placeholder(&c->out->where, (int)c->out->nparams);
}

static void ph_str(struct compiler *c, const char *s, size_t n)
{
	char *copy = xmalloc(n + 1);
	memcpy(copy, s, n);
	copy[n] = '\0';
	ph_own(c, copy);
}

static void sql(struct compiler *c, const char *s)
{
	strbuf_adds(&c->out->where, s);
}

/* Characters (code points) in valid UTF-8 s[0..n). */
static size_t utf8_chars(const char *s, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += ((unsigned char)s[i] & 0xc0) != 0x80;
	return k;
}

/* A case-insensitive substring of col: through the dialect's index when it
 * has one for col (titles: 3 characters at least, trigrams), else
 * lower(col) LIKE lower(?) ESCAPE '\' with ?= %value% (% _ \ escaped),
 * or for Server headers with a dictionary, that LIKE over the distinct
 * values and their tags. Returns true when an index was used. */
static bool emit_like(struct compiler *c, const char *col, const struct value *v)
{
	if (c->d->like_indexed && utf8_chars(v->s, v->len) >= 3 && strcmp(col, "http_title") == 0) {
		struct strbuf p2;
		strbuf_init(&p2);
		c->d->like_indexed_value(&p2, col, v->s, v->len);
		new_param(c)->s = p2.data;
		c->d->like_indexed(&c->out->where, col, (int)c->out->nparams);
		return true;
	}
	struct strbuf pat;
	strbuf_init(&pat);
	strbuf_add(&pat, "%", 1);
	for (size_t i = 0; i < v->len; i++) {
		if (v->s[i] == '%' || v->s[i] == '_' || v->s[i] == '\\')
			strbuf_add(&pat, "\\", 1);
		strbuf_add(&pat, &v->s[i], 1);
	}
	strbuf_add(&pat, "%", 1);
	if (c->d->server_dict && strcmp(col, "http_server") == 0) {
		/* the matching distinct values' tags, ORed in one FTS5 query
		 * (a token no row has when none matches) */
		sql(c, "services.id IN (SELECT rowid FROM services_tags WHERE services_tags MATCH"
		       " (SELECT coalesce(group_concat('\"" QUERY_TAG_SERVER "' || id || '\"', ' OR '), '\""
		       QUERY_TAG_SERVER "none\"') FROM servers WHERE lower(text) LIKE lower(");
		ph_own(c, pat.data);
		sql(c, ")" SQL_LIKE_ESCAPE "))");
		return true;
	}
	sql(c, "lower(");
	sql(c, col);
	sql(c, ") LIKE lower(");
	ph_own(c, pat.data);
	sql(c, ")" SQL_LIKE_ESCAPE);
	return false;
}

static void emit_fulltext(struct compiler *c, const struct value *v)
{
	struct strbuf param;
	strbuf_init(&param);
	if (c->d->fulltext_value)
		c->d->fulltext_value(&param, v->s, v->len);
	else
		strbuf_add(&param, v->s, v->len);
	new_param(c)->s = param.data;
	if (v->quoted && c->d->fulltext_phrase)
		c->d->fulltext_phrase(&c->out->where, (int)c->out->nparams);
	else
		c->d->fulltext(&c->out->where, (int)c->out->nparams);
}

size_t query_tag(char out[QUERY_TAG_MAX], const char *prefix, const char *value, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t k = strlen(prefix);
	if (k >= QUERY_TAG_MAX)
		return 0;
	memcpy(out, prefix, k);
	for (size_t i = 0; i < n; i++) {
		char ch = lc(value[i]);
		if ((ch >= 'a' && ch <= 'z' && ch != 'x') || is_digit(ch)) {
			if (k + 1 >= QUERY_TAG_MAX)
				return 0;
			out[k++] = ch;
		} else {
			if (k + 3 >= QUERY_TAG_MAX)
				return 0;
			out[k++] = 'x';
			out[k++] = hex[(unsigned char)ch >> 4];
			out[k++] = hex[(unsigned char)ch & 15];
		}
	}
	out[k] = '\0';
	return k;
}

size_t query_tag_int(char out[QUERY_TAG_MAX], const char *prefix, int64_t v)
{
	size_t k = strlen(prefix);
	if (k + 22 >= QUERY_TAG_MAX)
		return 0;
	memcpy(out, prefix, k);
	if (v < 0)
		out[k++] = 'n';
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	char d[20];
	size_t nd = 0;
	do {
		d[nd++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	while (nd)
		out[k++] = d[--nd];
	out[k] = '\0';
	return k;
}

/* The value just written is looked up by its tag (dialects with id_lists). */
static void tag_str(struct compiler *c, const char *prefix, const char *s, size_t n)
{
	if (query_tag(c->tag, prefix, s, n))
		c->form = IDS_TAG;
}

static void tag_int(struct compiler *c, const char *prefix, int64_t v)
{
	if (query_tag_int(c->tag, prefix, v))
		c->form = IDS_TAG;
}

static bool parse_bool(const struct value *v, bool *out)
{
	if (eq_nocase(v->s, v->len, "true")) {
		*out = true;
		return true;
	}
	if (eq_nocase(v->s, v->len, "false")) {
		*out = false;
		return true;
	}
	return false;
}

/* One value of a filter term: a boolean SQL condition, or -1 and err. */
static int emit_value(struct compiler *c, const struct filter *f, const struct value *v)
{
	const int vl = (int)(v->len > 40 ? 40 : v->len);
	uint64_t u;
	uint32_t lo, hi;
	int64_t t;
	bool b;
	c->form = IDS_NONE;
	switch (f->kind) {
	case K_IP:
	case K_NET:
		c->form = IDS_BY_SCAN;
		break;
	case K_BEFORE:
	case K_AFTER:
	case K_SCAN:
		c->form = IDS_SERVICES;
		break;
	case K_VULN:
	case K_FULLTEXT:
		c->form = IDS_DIRECT;
		break;
	case K_HAS_VULN:
		if (parse_bool(v, &b) && b)
			c->form = IDS_DIRECT;
		break;
	default:
		break;
	}
	switch (f->kind) {
	case K_IP:
		if (!memchr(v->s, '/', v->len)) {
			if (ipv4_parse(v->s, v->len, &lo) < 0) {
				seterr(c->err, c->errlen, "ip: expected an IPv4 address like 198.51.100.7 or a network like 198.51.100.0/24 (got '%.*s')", vl, v->s);
				return -1;
			}
			sql(c, "ip = ");
			ph_int(c, (int64_t)lo);
			return 0;
		}
		__attribute__((fallthrough));
	case K_NET:
		if (!parse_net(v->s, v->len, &lo, &hi)) {
			seterr(c->err, c->errlen, "%s: expected an IPv4 network like 198.51.100.0/24 (got '%.*s')", f->name, vl, v->s);
			return -1;
		}
		sql(c, "ip BETWEEN ");
		ph_int(c, (int64_t)lo);
		sql(c, " AND ");
		ph_int(c, (int64_t)hi);
		return 0;
	case K_PORT:
		if (!parse_uint(v->s, v->len, 5, &u) || u < 1 || u > 65535) {
			seterr(c->err, c->errlen, "port: expected a number 1-65535 (got '%.*s')", vl, v->s);
			return -1;
		}
		sql(c, "port = ");
		ph_int(c, (int64_t)u);
		tag_int(c, QUERY_TAG_PORT, (int64_t)u);
		return 0;
	case K_TEXT_EQ:
		sql(c, "lower(");
		sql(c, f->column);
		sql(c, ") = lower(");
		ph_str(c, v->s, v->len);
		sql(c, ")");
		if (strcmp(f->column, "product") == 0)
			tag_str(c, QUERY_TAG_PRODUCT, v->s, v->len);
		else if (strcmp(f->column, "verdict") == 0)
			tag_str(c, QUERY_TAG_VERDICT, v->s, v->len);
		return 0;
	case K_COUNTRY: {
		if (v->len != 2 || !is_alpha(v->s[0]) || !is_alpha(v->s[1])) {
			seterr(c->err, c->errlen, "country: expected a two-letter ISO 3166 code like DE (got '%.*s')", vl, v->s);
			return -1;
		}
		char cc[3] = {uc(v->s[0]), uc(v->s[1]), '\0'};
		sql(c, "upper(country) = ");
		ph_str(c, cc, 2);
		tag_str(c, QUERY_TAG_COUNTRY, cc, 2);
		return 0;
	}
	case K_LIKE:
		if (emit_like(c, f->column, v))
			c->form = IDS_DIRECT;
		return 0;
	case K_LIKE_SSL:
		sql(c, "(");
		emit_like(c, "cert_subject_cn", v);
		sql(c, " OR ");
		emit_like(c, "cert_sans", v);
		sql(c, ")");
		return 0;
	case K_STATUS:
		if (!parse_uint(v->s, v->len, 3, &u) || u < 100) {
			seterr(c->err, c->errlen, "http.status: expected a number 100-999 (got '%.*s')", vl, v->s);
			return -1;
		}
		sql(c, "http_status = ");
		ph_int(c, (int64_t)u);
		return 0;
	case K_FAVICON: {
		bool neg = v->len > 0 && v->s[0] == '-';
		if (!parse_uint(v->s + neg, v->len - neg, 10, &u) || u > (neg ? 2147483648u : 2147483647u)) {
			seterr(c->err, c->errlen, "http.favicon.hash: expected a signed 32-bit number (got '%.*s')", vl, v->s);
			return -1;
		}
		sql(c, "http_favicon_hash = ");
		ph_int(c, neg ? -(int64_t)u : (int64_t)u);
		tag_int(c, QUERY_TAG_FAVICON, neg ? -(int64_t)u : (int64_t)u);
		return 0;
	}
	case K_FPR: {
		char hex[65];
		size_t n = 0;
		for (size_t i = 0; i < v->len; i++) {
			char ch = lc(v->s[i]);
			if (ch == ':')
				continue;
			if (n == 64 || !(is_digit(ch) || (ch >= 'a' && ch <= 'f'))) {
				n = 0;
				break;
			}
			hex[n++] = ch;
		}
		if (n != 64) {
			seterr(c->err, c->errlen, "ssl.cert.fingerprint: expected a SHA-256 fingerprint (64 hex digits, colons allowed)");
			return -1;
		}
		sql(c, "cert_sha256 = lower(");
		ph_str(c, hex, 64);
		sql(c, ")");
		return 0;
	}
	case K_VULN: {
		/* CVE-YYYY-NNNN with 4 to 7 sequence digits */
		const char *dash = v->len > 9 ? memchr(v->s + 4, '-', v->len - 4) : NULL;
		if (!dash || !eq_nocase(v->s, 4, "cve-") || dash != v->s + 8 ||
		    !parse_uint(v->s + 4, 4, 4, &u) ||
		    v->len - 9 < 4 || !parse_uint(dash + 1, v->len - 9, 7, &u)) {
			seterr(c->err, c->errlen, "vuln: expected a CVE id like CVE-2025-53770 (got '%.*s')", vl, v->s);
			return -1;
		}
		char id[17];
		for (size_t i = 0; i < v->len; i++)
			id[i] = uc(v->s[i]);
		sql(c, SQL_VULN_EXISTS " AND upper(v.cve) = upper(");
		ph_str(c, id, v->len);
		sql(c, "))");
		return 0;
	}
	case K_HAS_VULN:
		if (!parse_bool(v, &b)) {
			seterr(c->err, c->errlen, "has_vuln: expected true or false (got '%.*s')", vl, v->s);
			return -1;
		}
		sql(c, b ? SQL_VULN_EXISTS ")" : "NOT " SQL_VULN_EXISTS ")");
		return 0;
	case K_BOOL:
		if (!parse_bool(v, &b)) {
			seterr(c->err, c->errlen, "%s: expected true or false (got '%.*s')", f->name, vl, v->s);
			return -1;
		}
		sql(c, f->column);
		sql(c, b ? " = 1" : " = 0");
		/* has_tls:false stays a row test: untagged rows are the false ones */
		if (strcmp(f->column, "compromised") == 0)
			tag_int(c, QUERY_TAG_COMPROMISED, b);
		else if (b)
			tag_int(c, QUERY_TAG_TLS, 1);
		return 0;
	case K_ASN: {
		size_t skip = v->len > 2 && eq_nocase(v->s, 2, "as") ? 2 : 0;
		if (!parse_uint(v->s + skip, v->len - skip, 10, &u) || u > 4294967295u) {
			seterr(c->err, c->errlen, "asn: expected an AS number like 64496 or AS64496 (got '%.*s')", vl, v->s);
			return -1;
		}
		sql(c, "asn = ");
		ph_int(c, (int64_t)u);
		tag_int(c, QUERY_TAG_ASN, (int64_t)u);
		return 0;
	}
	case K_SCAN:
		sql(c, "scan_id IN (SELECT id FROM scans WHERE name = ");
		ph_str(c, v->s, v->len);
		sql(c, " OR CAST(id AS TEXT) = ");
		ph_str(c, v->s, v->len);
		sql(c, ")");
		return 0;
	case K_BEFORE:
	case K_AFTER:
		if (!parse_time(v->s, v->len, &t)) {
			seterr(c->err, c->errlen, "%s: expected a date like 2026-01-01, 2026-01-01T12:00:00Z or 01/01/2026 (got '%.*s')", f->name, vl, v->s);
			return -1;
		}
		sql(c, f->kind == K_BEFORE ? "ts < " : "ts > ");
		ph_int(c, t);
		return 0;
	case K_FULLTEXT:
		emit_fulltext(c, v);
		return 0;
	}
	return -1;
}

#define IDS_DIRECT_PREFIX "services.id IN ("

/* The id query of the value whose condition is where[start..) (written
 * by emit_value with c->form set), or NULL. */
static char *value_ids_sql(struct compiler *c, size_t start)
{
	const char *cond = c->out->where.data + start;
	size_t n = c->out->where.len - start;
	struct strbuf q;
	strbuf_init(&q);
	switch (c->form) {
	case IDS_NONE:
		return NULL;
	case IDS_SERVICES:
		strbuf_adds(&q, "SELECT id FROM services WHERE ");
		strbuf_add(&q, cond, n);
		break;
	case IDS_BY_SCAN:
		strbuf_adds(&q, "SELECT id FROM services WHERE scan_id IN (SELECT id FROM scans) AND ");
		strbuf_add(&q, cond, n);
		break;
	case IDS_TAG:
		strbuf_adds(&q, "SELECT rowid FROM services_tags WHERE services_tags MATCH ?");
		break;
	case IDS_DIRECT: {
		size_t pl = strlen(IDS_DIRECT_PREFIX);
		if (n < pl + 1 || strncmp(cond, IDS_DIRECT_PREFIX, pl) != 0 || cond[n - 1] != ')')
			return NULL;
		strbuf_add(&q, cond + pl, n - pl - 1);
		break;
	}
	}
	return q.data;
}

static int emit_term(struct compiler *c, const struct term *t)
{
	struct query_sql *q = c->out;
	if (q->nterms > 0)
		sql(c, " AND ");
	struct query_term *qt = &q->terms[q->nterms];
	*qt = (struct query_term){.neg = t->neg, .off = q->where.len, .p0 = q->nparams};
	if (c->d->id_lists) {
		qt->vals = xcalloc(t->nv, sizeof(*qt->vals));
		qt->indexed = true;
	}
	sql(c, t->neg ? "NOT coalesce((" : "(");
	for (size_t i = 0; i < t->nv; i++) {
		if (i > 0)
			sql(c, " OR ");
		size_t start = q->where.len, p0 = q->nparams;
		c->form = IDS_DIRECT;  /* bare words: the full-text index */
		if (!t->f)
			emit_fulltext(c, &t->v[i]);
		else if (emit_value(c, t->f, &t->v[i]) < 0)
			return -1;
		if (qt->indexed) {
			char *ids = value_ids_sql(c, start);
			if (!ids) {
				qt->indexed = false;
			} else {
				struct query_ids *qi = &qt->vals[qt->nvals++];
				*qi = (struct query_ids){.sql = ids, .p0 = p0, .np = q->nparams - p0};
				if (c->form == IDS_TAG) {
					/* an FTS5 string: the token is [a-z0-9] only */
					size_t tl = strlen(c->tag);
					qi->tag = xmalloc(tl + 3);
					qi->tag[0] = '"';
					memcpy(qi->tag + 1, c->tag, tl);
					memcpy(qi->tag + 1 + tl, "\"", 2);
				}
			}
		}
	}
	sql(c, t->neg ? "), FALSE)" : ")");
	qt->len = q->where.len - qt->off;
	qt->np = q->nparams - qt->p0;
	q->nterms++;
	return 0;
}

/* ---- lexer ------------------------------------------------------------- */

struct lexer {
	const char *p, *end;
	char *scratch;  /* unescaped values of the current term */
	size_t used;
	char *err;
	size_t errlen;
};

static bool name_char(char c)
{
	return is_alpha(c) || is_digit(c) || c == '.' || c == '_' || c == '-';
}

/* A "..." string at lx->p (which is a quote): \" and \\ are escapes. */
static int lex_quoted(struct lexer *lx, struct value *v)
{
	char *o = lx->scratch + lx->used;
	v->s = o;
	v->quoted = true;
	lx->p++;
	while (lx->p < lx->end) {
		char ch = *lx->p;
		if (ch == '\\' && lx->p + 1 < lx->end && (lx->p[1] == '"' || lx->p[1] == '\\')) {
			*o++ = lx->p[1];
			lx->p += 2;
		} else if (ch == '"') {
			lx->p++;
			*o = '\0';
			v->len = (size_t)(o - v->s);
			lx->used += v->len + 1;
			return 0;
		} else {
			*o++ = ch;
			lx->p++;
		}
	}
	seterr(lx->err, lx->errlen, "unbalanced quote: a '\"' is never closed");
	return -1;
}

/* An unquoted word or value: up to a blank (or a comma when in_list). */
static int lex_bare(struct lexer *lx, struct value *v, bool in_list)
{
	const char *start = lx->p;
	while (lx->p < lx->end && !is_blank(*lx->p) && !(in_list && *lx->p == ',')) {
		if (*lx->p == '"') {
			const char *e = lx->p;
			while (e < lx->end && !is_blank(*e))
				e++;
			int n = (int)(e - start > 40 ? 40 : e - start);
			seterr(lx->err, lx->errlen, "stray quote in '%.*s': quote the whole word or value", n, start);
			return -1;
		}
		lx->p++;
	}
	size_t n = (size_t)(lx->p - start);
	v->s = lx->scratch + lx->used;
	memcpy(lx->scratch + lx->used, start, n);
	lx->scratch[lx->used + n] = '\0';
	v->len = n;
	v->quoted = false;
	lx->used += n + 1;
	return 0;
}

static void unknown_filter(struct lexer *lx, const char *name, size_t len)
{
	int n = (int)(len > 40 ? 40 : len);
	for (size_t i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++)
		if (eq_nocase(name, len, unsupported[i].name)) {
			seterr(lx->err, lx->errlen, "filter '%s' is not supported: %s", unsupported[i].name, unsupported[i].hint);
			return;
		}
	const char *s = closest(name, len, &filters[0].name, NFILTERS, sizeof(filters[0]));
	if (s)
		seterr(lx->err, lx->errlen, "unknown filter '%.*s': did you mean '%s'?", n, name, s);
	else
		seterr(lx->err, lx->errlen, "unknown filter '%.*s': try port, net, country, org, product, version, title, vuln, has_tls or after (or quote a word to search for it)", n, name);
}

/* The next term into *t; returns 1 (a term), 0 (end of input) or -1. */
static int lex_term(struct lexer *lx, struct term *t)
{
	while (lx->p < lx->end && is_blank(*lx->p))
		lx->p++;
	if (lx->p == lx->end)
		return 0;
	lx->used = 0;
	t->neg = false;
	t->f = NULL;
	t->nv = 0;
	if (*lx->p == '-') {
		t->neg = true;
		lx->p++;
		if (lx->p == lx->end || is_blank(*lx->p)) {
			seterr(lx->err, lx->errlen, "'-' must be followed by the term it negates, without a blank");
			return -1;
		}
		if (*lx->p == '-') {
			seterr(lx->err, lx->errlen, "'--': a term can be negated only once");
			return -1;
		}
	}
	if (*lx->p == '"') {
		if (lex_quoted(lx, &t->v[0]) < 0)
			return -1;
		if (lx->p < lx->end && !is_blank(*lx->p)) {
			seterr(lx->err, lx->errlen, "expected a blank after the closing quote of a phrase");
			return -1;
		}
		if (strspn(t->v[0].s, " \t\r\n") == t->v[0].len) {
			seterr(lx->err, lx->errlen, "empty phrase: put words between the quotes");
			return -1;
		}
		t->nv = 1;
		return 1;
	}
	const char *q = lx->p;
	if (is_alpha(*q))
		while (q < lx->end && name_char(*q))
			q++;
	if (q == lx->p || q == lx->end || *q != ':') {
		if (lex_bare(lx, &t->v[0], false) < 0)
			return -1;
		t->nv = 1;
		return 1;
	}
	const char *name = lx->p;
	size_t nlen = (size_t)(q - lx->p);
	for (size_t i = 0; i < NFILTERS; i++)
		if (eq_nocase(name, nlen, filters[i].name))
			t->f = &filters[i];
	if (!t->f) {
		unknown_filter(lx, name, nlen);
		return -1;
	}
	lx->p = q + 1;
	for (;;) {
		if (t->nv == QUERY_MAX_VALUES) {
			seterr(lx->err, lx->errlen, "%s: too many values (at most %d)", t->f->name, QUERY_MAX_VALUES);
			return -1;
		}
		struct value *v = &t->v[t->nv];
		if (lx->p < lx->end && *lx->p == '"') {
			if (lex_quoted(lx, v) < 0)
				return -1;
		} else if (lex_bare(lx, v, true) < 0) {
			return -1;
		}
		if (v->len == 0) {
			seterr(lx->err, lx->errlen, "%s: empty value", t->f->name);
			return -1;
		}
		t->nv++;
		if (lx->p == lx->end || is_blank(*lx->p))
			return 1;
		if (*lx->p != ',') {
			seterr(lx->err, lx->errlen, "%s: expected ',' or a blank after a quoted value", t->f->name);
			return -1;
		}
		lx->p++;
	}
}

/* ---- API --------------------------------------------------------------- */

int query_compile(const char *text, const struct query_dialect *d, struct query_sql *out, char *err, size_t errlen)
{
	*out = (struct query_sql){0};
	strbuf_init(&out->where);
	if (!text)
		text = "";
	size_t len = strnlen(text, QUERY_MAX_LEN + 1);
	if (len > QUERY_MAX_LEN) {
		seterr(err, errlen, "query too long: at most %d bytes", QUERY_MAX_LEN);
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)text[i];
		if ((ch < 0x20 && !is_blank((char)ch)) || ch == 0x7f) {
			seterr(err, errlen, "control character (0x%02x) at byte %zu of the query", ch, i);
			return -1;
		}
	}
	if (!utf8_valid((const unsigned char *)text, len)) {
		seterr(err, errlen, "the query is not valid UTF-8");
		return -1;
	}
	struct lexer lx = {
		.p = text, .end = text + len, .scratch = xmalloc(len + QUERY_MAX_VALUES + 1),
		.err = err, .errlen = errlen,
	};
	struct compiler c = {.d = d, .out = out, .err = err, .errlen = errlen};
	out->terms = xcalloc(QUERY_MAX_TERMS, sizeof(*out->terms));
	struct term *t = xmalloc(sizeof(*t));
	int rc = 0;
	for (;;) {
		int r = lex_term(&lx, t);
		if (r == 0)
			break;
		if (r > 0 && out->nterms == QUERY_MAX_TERMS) {
			seterr(err, errlen, "too many terms: at most %d", QUERY_MAX_TERMS);
			r = -1;
		}
		if (r < 0 || emit_term(&c, t) < 0) {
			rc = -1;
			break;
		}
	}
	free(t);
	free(lx.scratch);
	if (rc < 0) {
		query_sql_free(out);
		return -1;
	}
	if (out->nterms == 0)
		strbuf_adds(&out->where, "1=1");
	return 0;
}

void query_sql_free(struct query_sql *q)
{
	for (size_t i = 0; q->terms && i < QUERY_MAX_TERMS; i++) {
		for (size_t k = 0; k < q->terms[i].nvals; k++) {
			free(q->terms[i].vals[k].sql);
			free(q->terms[i].vals[k].tag);
		}
		free(q->terms[i].vals);
	}
	free(q->terms);
	for (size_t i = 0; i < q->nparams; i++)
		free(q->params[i].s);
	free(q->params);
	strbuf_free(&q->where);
	*q = (struct query_sql){0};
	strbuf_init(&q->where);
}

/* ---- dialects ---------------------------------------------------------- */

static void sqlite_placeholder(struct strbuf *sql, int idx)
{
	(void)idx;
	strbuf_add(sql, "?", 1);
}

static void sqlite_fulltext(struct strbuf *sql, int idx)
{
	strbuf_adds(sql, "services.id IN (SELECT rowid FROM services_fts WHERE services_fts MATCH ");
	sqlite_placeholder(sql, idx);
	strbuf_adds(sql, ")");
}

/* An FTS5 string: "..." with internal quotes doubled. FTS5 reads the
 * string as a phrase of the tokens in it, never as operators. */
static void sqlite_fulltext_value(struct strbuf *param, const char *s, size_t n)
{
	strbuf_add(param, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"')
			strbuf_add(param, "\"", 1);
		strbuf_add(param, &s[i], 1);
	}
	strbuf_add(param, "\"", 1);
}

/* services_tri: an FTS5 trigram index over titles and Server headers. A
 * phrase of trigrams matches exactly the case-insensitive substrings of 3+
 * characters, from the index alone; the parameter is the column filter
 * and the FTS5 string. */
static void sqlite_like_indexed(struct strbuf *sql, const char *column, int idx)
{
	(void)column;
	strbuf_adds(sql, "services.id IN (SELECT rowid FROM services_tri WHERE services_tri MATCH ");
	sqlite_placeholder(sql, idx);
	strbuf_adds(sql, ")");
}

static void sqlite_like_indexed_value(struct strbuf *param, const char *column, const char *s, size_t n)
{
	strbuf_adds(param, column);
	strbuf_adds(param, " : ");
	sqlite_fulltext_value(param, s, n);
}

const struct query_dialect query_dialect_sqlite = {
	.name = "sqlite",
	.like_indexed = sqlite_like_indexed,
	.like_indexed_value = sqlite_like_indexed_value,
	.id_lists = true,
	.server_dict = true,
	.placeholder = sqlite_placeholder,
	.fulltext = sqlite_fulltext,
	.fulltext_phrase = sqlite_fulltext,
	.fulltext_value = sqlite_fulltext_value,
};

static void pg_placeholder(struct strbuf *sql, int idx)
{
	strbuf_printf(sql, "$%d", idx);
}

static void pg_fulltext(struct strbuf *sql, int idx)
{
	strbuf_adds(sql, "services.fts @@ plainto_tsquery('simple', ");
	pg_placeholder(sql, idx);
	strbuf_adds(sql, ")");
}

static void pg_fulltext_phrase(struct strbuf *sql, int idx)
{
	strbuf_adds(sql, "services.fts @@ phraseto_tsquery('simple', ");
	pg_placeholder(sql, idx);
	strbuf_adds(sql, ")");
}

const struct query_dialect query_dialect_postgres = {
	.name = "postgres",
	.placeholder = pg_placeholder,
	.fulltext = pg_fulltext,
	.fulltext_phrase = pg_fulltext_phrase,
	.fulltext_value = NULL,
};

/* ---- facets ------------------------------------------------------------ */

static const struct facet_def {
	const char *name;
	const char *column;
	bool via_vulns;
} facet_defs[] = {
	{"port", "services.port", false},
	{"country", "services.country", false},
	{"asn", "services.asn", false},
	{"org", "services.org", false},
	{"product", "services.product", false},
	{"version", "services.version", false},
	{"verdict", "services.verdict", false},
	{"transport", "services.transport", false},
	{"http.status", "services.http_status", false},
	{"http.title", "services.http_title", false},
	{"title", "services.http_title", false},
	{"server", "services.http_server", false},
	{"ssl.cert.subject.cn", "services.cert_subject_cn", false},
	{"vuln", "upper(vulns.cve)", true},
};
#define NFACETS (sizeof(facet_defs) / sizeof(facet_defs[0]))

int query_parse_facets(const char *text, struct query_facet *out, size_t max, size_t *n, char *err, size_t errlen)
{
	*n = 0;
	if (!text)
		text = "";
	size_t len = strnlen(text, QUERY_MAX_LEN + 1);
	if (len > QUERY_MAX_LEN) {
		seterr(err, errlen, "facet list too long: at most %d bytes", QUERY_MAX_LEN);
		return -1;
	}
	const char *p = text, *end = text + len;
	while (p < end && is_blank(*p))
		p++;
	if (p == end)
		return 0;
	for (;;) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *ie = comma ? comma : end;
		const char *s = p, *e = ie;
		while (s < e && is_blank(*s))
			s++;
		while (e > s && is_blank(e[-1]))
			e--;
		const char *colon = memchr(s, ':', (size_t)(e - s));
		size_t nlen = (size_t)((colon ? colon : e) - s);
		int shown = (int)(nlen > 40 ? 40 : nlen);
		if (nlen == 0) {
			seterr(err, errlen, "empty facet name in the facet list");
			goto fail;
		}
		const struct facet_def *fd = NULL;
		for (size_t i = 0; i < NFACETS; i++)
			if (eq_nocase(s, nlen, facet_defs[i].name))
				fd = &facet_defs[i];
		if (!fd) {
			const char *sug = closest(s, nlen, &facet_defs[0].name, NFACETS, sizeof(facet_defs[0]));
			if (sug)
				seterr(err, errlen, "unknown facet '%.*s': did you mean '%s'?", shown, s, sug);
			else
				seterr(err, errlen, "unknown facet '%.*s': facets are port, country, asn, org, product, version, verdict, transport, http.status, http.title, server, ssl.cert.subject.cn and vuln", shown, s);
			goto fail;
		}
		uint64_t limit = QUERY_FACET_DEFAULT_LIMIT;
		if (colon && (!parse_uint(colon + 1, (size_t)(e - colon - 1), 4, &limit) ||
			      limit < 1 || limit > QUERY_FACET_MAX_LIMIT)) {
			seterr(err, errlen, "facet %s: the limit must be a number 1-%d", fd->name, QUERY_FACET_MAX_LIMIT);
			goto fail;
		}
		for (size_t i = 0; i < *n; i++)
			if (strcmp(out[i].column, fd->column) == 0) {
				seterr(err, errlen, "facet %s is given twice", fd->name);
				goto fail;
			}
		if (*n == max) {
			seterr(err, errlen, "too many facets: at most %zu", max);
			goto fail;
		}
		out[(*n)++] = (struct query_facet){fd->name, fd->column, (int)limit, fd->via_vulns};
		if (!comma)
			return 0;
		p = comma + 1;
	}
fail:
	*n = 0;
	return -1;
}
