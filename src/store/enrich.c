/* enrich.c - owns address-owner enrichment: the list of sources (MaxMind DB
 * files opened through libmaxminddb, ip2asn TSV files parsed into sorted
 * range tables), the ip2asn parser and its warnings, and the per-record
 * lookup that fills country / asn / org. Every input file is untrusted:
 * sizes are capped, strings are bounded and made valid UTF-8, and
 * libmaxminddb's errors are reported, never ignored. */
#include "store/enrich.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/alloc.h"
#include "lib/siphash.h"

#define ENRICH_TSV_MAX_BYTES (512u << 20)   /* ip2asn-v4.tsv is ~30 MB */
#define ENRICH_TSV_MAX_LINE 1024
#define ENRICH_ORG_MAX 128                   /* bytes of an org name kept */
#define ENRICH_MAX_ORGS ((1u << 22) - 2)     /* org index fits 22 bits of meta */
#define ENRICH_WARN_PER_FILE 8               /* detailed warnings per file */
#define ENRICH_WARN_MAX 64                   /* warning lines held in all (enrich.h) */
#define ENRICH_MMDB_SWEEP 1024               /* load-time check lookups */

/* One ip2asn range, 16 bytes. meta packs the org (bits 10..31: index + 1,
 * 0 = none) and the country (bits 0..9: 1 + 26 * (c0 - 'A') + (c1 - 'A'),
 * 0 = unknown). */
struct enrich_range {
	uint32_t lo, hi;  /* inclusive, host byte order */
	uint32_t asn;
	uint32_t meta;
};

struct range_table {
	struct enrich_range *r;  /* sorted by lo, disjoint */
	size_t n;
	char *orgs;              /* NUL-terminated names, deduplicated */
	size_t orgs_len, orgs_cap;
	uint32_t *org_off;       /* org index -> offset in orgs */
	size_t norgs, org_cap;
};

enum source_kind { SRC_MMDB, SRC_RANGES };

struct source {
	enum source_kind kind;
	MMDB_s mmdb;
	struct range_table t;
};

struct enrich {
	struct source **src;
	size_t nsrc;
	char (*warn)[ENRICH_WARN_LEN];
	size_t nwarn;
	uint64_t *lookup_errors;  /* behind a pointer: counted through a const enrich */
};

/* What one or more sources know about an address. */
struct owner {
	char country[3];
	uint32_t asn;         /* 0: no AS known (then org is ignored) */
	char org[ENRICH_ORG_MAX + 1];
};

struct enrich *enrich_new(void)
{
	struct enrich *e = xcalloc(1, sizeof(*e));
	e->warn = xcalloc(ENRICH_WARN_MAX, sizeof(*e->warn));
	e->lookup_errors = xcalloc(1, sizeof(*e->lookup_errors));
	return e;
}

void enrich_free(struct enrich *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->nsrc; i++) {
		struct source *s = e->src[i];
		if (s->kind == SRC_MMDB) {
			MMDB_close(&s->mmdb);
		} else {
			free(s->t.r);
			free(s->t.orgs);
			free(s->t.org_off);
		}
		free(s);
	}
	free(e->src);
	free(e->warn);
	free(e->lookup_errors);
	free(e);
}

static void add_source(struct enrich *e, struct source *s)
{
	e->src = xrealloc(e->src, (e->nsrc + 1) * sizeof(*e->src));
	e->src[e->nsrc++] = s;
}

size_t enrich_warnings(const struct enrich *e, char lines[][ENRICH_WARN_LEN], size_t max)
{
	size_t n = e->nwarn < max ? e->nwarn : max;
	for (size_t i = 0; i < n; i++)
		memcpy(lines[i], e->warn[i], ENRICH_WARN_LEN);
	return n;
}

uint64_t enrich_lookup_errors(const struct enrich *e)
{
	return *e->lookup_errors;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

/* ---- strings from untrusted files ---- */

/* Length of the valid UTF-8 sequence at p (n bytes available), 0 if invalid
 * (overlong forms, surrogates and code points above U+10FFFF are invalid). */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];
	if (c < 0x80)
		return 1;
	size_t len;
	uint32_t cp;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* Copy an org name from p[0..n) into out (ENRICH_ORG_MAX + 1 bytes): control
 * characters become spaces, invalid UTF-8 bytes '?', blanks are trimmed and
 * the result is cut at ENRICH_ORG_MAX bytes on a character boundary.
 * Returns the length (0: empty). */
static size_t clean_org(const char *p, size_t n, char *out)
{
	const unsigned char *s = (const unsigned char *)p;
	size_t o = 0, i = 0;
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	while (i < n) {
		size_t len = utf8_len(s + i, n - i);
		if (o + (len ? len : 1) > ENRICH_ORG_MAX)
			break;
		if (len == 0) {
			out[o++] = '?';
			i++;
		} else if (len == 1) {
			out[o++] = (s[i] < 0x20 || s[i] == 0x7f) ? ' ' : (char)s[i];
			i++;
		} else {
			memcpy(out + o, s + i, len);
			o += len;
			i += len;
		}
	}
	while (o > 0 && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
	return o;
}

/* A country code as two upper-case letters in out[3]; false for anything
 * else, and for the "unknown" spellings (ZZ, None, -, empty). */
static bool clean_country(const char *p, size_t n, char out[3])
{
	if (n != 2)
		return false;
	char a = p[0], b = p[1];
	if (a >= 'a' && a <= 'z')
		a = (char)(a - 'a' + 'A');
	if (b >= 'a' && b <= 'z')
		b = (char)(b - 'a' + 'A');
	if (a < 'A' || a > 'Z' || b < 'A' || b > 'Z' || (a == 'Z' && b == 'Z'))
		return false;
	out[0] = a;
	out[1] = b;
	out[2] = '\0';
	return true;
}

/* The ways ip2asn and RIR files say "no country": None, ZZ, -, empty. */
static bool unknown_country(const char *p, size_t n)
{
	return n == 0 || (n == 4 && memcmp(p, "None", 4) == 0) || (n == 2 && strncasecmp(p, "ZZ", 2) == 0) ||
	       (n == 1 && p[0] == '-');
}

/* "64496", "AS64496" or "as64496" -> 64496 (0..2^32-1); false otherwise. */
static bool parse_asn(const char *p, size_t n, uint32_t *out)
{
	if (n >= 2 && (p[0] == 'A' || p[0] == 'a') && (p[1] == 'S' || p[1] == 's')) {
		p += 2;
		n -= 2;
	}
	if (n == 0 || n > 10)
		return false;
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(p[i] - '0');
	}
	if (v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* Dotted quad without leading zeros, or a decimal 32-bit number (the
 * ip2asn-v4-u32 variant). */
static bool parse_ipv4(const char *p, size_t n, uint32_t *out)
{
	if (n == 0 || n > 15)
		return false;
	if (!memchr(p, '.', n)) {
		if (n > 10)
			return false;
		uint64_t v = 0;
		for (size_t i = 0; i < n; i++) {
			if (p[i] < '0' || p[i] > '9')
				return false;
			v = v * 10 + (uint64_t)(p[i] - '0');
		}
		if (v > UINT32_MAX)
			return false;
		*out = (uint32_t)v;
		return true;
	}
	uint32_t v = 0;
	size_t i = 0;
	for (int part = 0; part < 4; part++) {
		if (part > 0) {
			if (i >= n || p[i] != '.')
				return false;
			i++;
		}
		size_t start = i;
		unsigned oct = 0;
		while (i < n && i - start < 3 && p[i] >= '0' && p[i] <= '9')
			oct = oct * 10 + (unsigned)(p[i++] - '0');
		if (i == start || oct > 255 || (i - start > 1 && p[start] == '0'))
			return false;
		v = v << 8 | oct;
	}
	if (i != n)
		return false;
	*out = v;
	return true;
}

/* A short printable excerpt of untrusted text for a warning. */
static void excerpt(const char *p, size_t n, char out[24])
{
	size_t o = 0;
	for (size_t i = 0; i < n && o < 20; i++)
		out[o++] = (p[i] > 0x20 && p[i] < 0x7f) ? p[i] : '?';
	if (n > 20) {
		out[o++] = '.';
		out[o++] = '.';
	}
	out[o] = '\0';
}

/* ---- ip2asn TSV ---- */

struct load_range {
	struct enrich_range r;
	uint32_t line;
};

struct load_ctx {
	struct enrich *e;
	const char *name;         /* base name of the file, for warnings */
	size_t shown, total;      /* warnings of this file: kept / all */
	char first[ENRICH_WARN_LEN];
	struct load_range *lr;
	size_t n, cap;
	struct range_table *t;
	uint32_t *slots;          /* org hash set: org index + 1, 0 empty */
	size_t nslots;
	uint8_t key[16];
};

static void push_warning(struct enrich *e, const char *text)
{
	if (e->nwarn < ENRICH_WARN_MAX)
		snprintf(e->warn[e->nwarn++], ENRICH_WARN_LEN, "%s", text);
}

static void load_warn(struct load_ctx *c, size_t line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void load_warn(struct load_ctx *c, size_t line, const char *fmt, ...)
{
	char why[96], text[ENRICH_WARN_LEN];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(text, sizeof(text), "%.40s:%zu: %s", c->name, line, why);
	if (c->total++ == 0)
		memcpy(c->first, text, sizeof(text));
	if (c->shown < ENRICH_WARN_PER_FILE) {
		c->shown++;
		push_warning(c->e, text);
	}
}

static uint64_t org_hash(const struct load_ctx *c, const char *s, size_t n)
{
	return siphash24(c->key, s, n);
}

static void org_rehash(struct load_ctx *c, size_t nslots)
{
	free(c->slots);
	c->slots = xcalloc(nslots, sizeof(*c->slots));
	c->nslots = nslots;
	for (size_t i = 0; i < c->t->norgs; i++) {
		const char *s = c->t->orgs + c->t->org_off[i];
		size_t h = (size_t)org_hash(c, s, strlen(s)) & (nslots - 1);
		while (c->slots[h])
			h = (h + 1) & (nslots - 1);
		c->slots[h] = (uint32_t)i + 1;
	}
}

/* Index + 1 of org s[0..n) in the table, adding it if new; 0 when the table
 * is full (the range is kept without a name). */
static uint32_t org_intern(struct load_ctx *c, const char *s, size_t n)
{
	struct range_table *t = c->t;
	if (2 * (t->norgs + 1) > c->nslots)
		org_rehash(c, c->nslots ? 2 * c->nslots : 1024);
	size_t h = (size_t)org_hash(c, s, n) & (c->nslots - 1);
	while (c->slots[h]) {
		const char *o = t->orgs + t->org_off[c->slots[h] - 1];
		if (strncmp(o, s, n) == 0 && o[n] == '\0')
			return c->slots[h];
		h = (h + 1) & (c->nslots - 1);
	}
	if (t->norgs >= ENRICH_MAX_ORGS)
		return 0;
	if (t->orgs_len + n + 1 > t->orgs_cap) {
		t->orgs_cap = (t->orgs_cap ? 2 * t->orgs_cap : 65536) + n + 1;
		t->orgs = xrealloc(t->orgs, t->orgs_cap);
	}
	if (t->norgs == t->org_cap) {
		t->org_cap = t->org_cap ? 2 * t->org_cap : 4096;
		t->org_off = xrealloc(t->org_off, t->org_cap * sizeof(*t->org_off));
	}
	t->org_off[t->norgs] = (uint32_t)t->orgs_len;
	memcpy(t->orgs + t->orgs_len, s, n);
	t->orgs[t->orgs_len + n] = '\0';
	t->orgs_len += n + 1;
	c->slots[h] = (uint32_t)++t->norgs;
	return c->slots[h];
}

/* Parse one line (without its newline). Returns true if it was a valid
 * range line, false for blank/comment/IPv6/bad lines; *ipv6 counts the
 * skipped IPv6 lines. */
static bool parse_line(struct load_ctx *c, const char *p, size_t n, size_t line, size_t *ipv6)
{
	if (n > 0 && p[n - 1] == '\r')
		n--;
	size_t lead = 0;
	while (lead < n && (p[lead] == ' ' || p[lead] == '\t'))
		lead++;
	if (lead == n || p[lead] == '#')
		return false;
	if (n > ENRICH_TSV_MAX_LINE) {
		load_warn(c, line, "line longer than %d bytes", ENRICH_TSV_MAX_LINE);
		return false;
	}
	const char *f[5];
	size_t fl[5];
	size_t nf = 0, start = 0;
	while (nf < 5) {  /* four tab-ended fields; the name is the rest */
		const char *tab = nf < 4 ? memchr(p + start, '\t', n - start) : NULL;
		size_t stop = tab ? (size_t)(tab - p) : n;
		f[nf] = p + start;
		fl[nf++] = stop - start;
		if (!tab)
			break;
		start = stop + 1;
	}
	char ex[24];
	if (nf >= 1 && memchr(f[0], ':', fl[0])) {
		(*ipv6)++;
		return false;
	}
	if (nf < 4) {
		excerpt(p, n, ex);
		load_warn(c, line, "expected 5 tab-separated fields: \"%s\"", ex);
		return false;
	}
	uint32_t lo, hi, asn = 0;
	if (!parse_ipv4(f[0], fl[0], &lo)) {
		excerpt(f[0], fl[0], ex);
		load_warn(c, line, "bad range start \"%s\"", ex);
		return false;
	}
	if (!parse_ipv4(f[1], fl[1], &hi)) {
		excerpt(f[1], fl[1], ex);
		load_warn(c, line, "bad range end \"%s\"", ex);
		return false;
	}
	if (hi < lo) {
		load_warn(c, line, "range end before range start");
		return false;
	}
	if (!parse_asn(f[2], fl[2], &asn)) {
		excerpt(f[2], fl[2], ex);
		load_warn(c, line, "bad AS number \"%s\"", ex);
		return false;
	}
	char cc[3] = "";
	if (!clean_country(f[3], fl[3], cc) && !unknown_country(f[3], fl[3])) {
		excerpt(f[3], fl[3], ex);
		load_warn(c, line, "bad country code \"%s\" (kept as unknown)", ex);
	}
	uint32_t org = 0;
	if (asn != 0 && nf == 5) {
		char name[ENRICH_ORG_MAX + 1];
		size_t len = clean_org(f[4], fl[4], name);
		if (len > 0) {
			org = org_intern(c, name, len);
			if (org == 0)
				load_warn(c, line, "more than %u distinct AS names: name dropped", ENRICH_MAX_ORGS);
		}
	}
	if (asn == 0 && !cc[0])
		return true;  /* "Not routed" and nothing else known: nothing to store */
	if (c->n == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 4096;
		c->lr = xrealloc(c->lr, c->cap * sizeof(*c->lr));
	}
	uint32_t ccode = cc[0] ? 1u + 26u * (uint32_t)(cc[0] - 'A') + (uint32_t)(cc[1] - 'A') : 0;
	c->lr[c->n++] = (struct load_range){{lo, hi, asn, org << 10 | ccode}, (uint32_t)line};
	return true;
}

static int cmp_load_range(const void *a, const void *b)
{
	const struct load_range *x = a, *y = b;
	if (x->r.lo != y->r.lo)
		return x->r.lo < y->r.lo ? -1 : 1;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return 0;
}

static void ip_str(uint32_t ip, char out[16])
{
	snprintf(out, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}

/* Sort if needed, then make the ranges disjoint (the range starting first,
 * or on a tie the earlier line, wins; a later one is trimmed or dropped) and
 * merge adjacent ranges with the same data. Fills c->t->r. */
static void finish_ranges(struct load_ctx *c, bool sorted)
{
	if (!sorted)
		qsort(c->lr, c->n, sizeof(*c->lr), cmp_load_range);
	struct range_table *t = c->t;
	t->r = xmalloc((c->n ? c->n : 1) * sizeof(*t->r));
	t->n = 0;
	uint32_t last_line = 0;
	for (size_t i = 0; i < c->n; i++) {
		struct load_range cur = c->lr[i];
		if (t->n > 0) {
			struct enrich_range *prev = &t->r[t->n - 1];
			if (cur.r.lo <= prev->hi) {
				char a[16], b[16];
				if (cur.r.hi <= prev->hi) {
					load_warn(c, cur.line, "range overlaps line %u's range: dropped", last_line);
					continue;
				}
				cur.r.lo = prev->hi + 1;
				ip_str(cur.r.lo, a);
				ip_str(cur.r.hi, b);
				load_warn(c, cur.line, "range overlaps line %u's range: trimmed to %s-%s", last_line,
					  a, b);
			}
			if (cur.r.lo == prev->hi + 1 && cur.r.asn == prev->asn && cur.r.meta == prev->meta) {
				prev->hi = cur.r.hi;
				last_line = cur.line;
				continue;
			}
		}
		t->r[t->n++] = cur.r;
		last_line = cur.line;
	}
	if (t->n > 0 && t->n < c->n)
		t->r = xrealloc(t->r, t->n * sizeof(*t->r));
	/* org_off / orgs keep spare capacity from doubling: trim it */
	if (t->norgs > 0) {
		t->org_off = xrealloc(t->org_off, t->norgs * sizeof(*t->org_off));
		t->orgs = xrealloc(t->orgs, t->orgs_len);
	}
}

int enrich_add_ip2asn_buffer(struct enrich *e, const void *data, size_t len, const char *name,
			     char *err, size_t errlen)
{
	const char *label = base_name(name ? name : "ip2asn");
	const unsigned char *u = data;
	if (len >= 2 && u[0] == 0x1f && u[1] == 0x8b) {
		snprintf(err, errlen, "%s: gzip-compressed; decompress it first (gunzip)", label);
		return -1;
	}
	if (len > ENRICH_TSV_MAX_BYTES) {
		snprintf(err, errlen, "%s: larger than %u MiB", label, ENRICH_TSV_MAX_BYTES >> 20);
		return -1;
	}
	struct source *s = xcalloc(1, sizeof(*s));
	s->kind = SRC_RANGES;
	struct load_ctx c = {.e = e, .name = label, .t = &s->t};
	if (getrandom(c.key, sizeof(c.key), GRND_NONBLOCK) != (ssize_t)sizeof(c.key))
		memcpy(c.key, "vigil-enrich-key", sizeof(c.key));
	const char *p = data, *end = p + len;
	size_t line = 0, good = 0, ipv6 = 0, unsorted_line = 0;
	uint32_t prev_lo = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		line++;
		size_t before = c.n;
		if (parse_line(&c, p, (size_t)(le - p), line, &ipv6))
			good++;
		if (c.n > before) {
			if (before > 0 && c.lr[c.n - 1].r.lo < prev_lo && !unsorted_line)
				unsorted_line = line;
			prev_lo = c.lr[c.n - 1].r.lo;
		}
		p = nl ? nl + 1 : end;
	}
	free(c.slots);
	if (good == 0) {
		if (c.total > 0)
			snprintf(err, errlen, "no valid ip2asn line (first problem: %s)", c.first);
		else
			snprintf(err, errlen, "%s: no ip2asn ranges (empty file?)", label);
		free(c.lr);
		free(s->t.orgs);
		free(s->t.org_off);
		free(s);
		return -1;
	}
	if (unsorted_line) {
		char text[ENRICH_WARN_LEN];
		snprintf(text, sizeof(text), "%.40s:%zu: range starts before the previous line's: input not sorted, sorted on load",
			 label, unsorted_line);
		push_warning(e, text);
	}
	finish_ranges(&c, unsorted_line == 0);
	free(c.lr);
	char text[ENRICH_WARN_LEN];
	if (ipv6 > 0) {
		snprintf(text, sizeof(text), "%.40s: %zu IPv6 lines skipped", label, ipv6);
		push_warning(e, text);
	}
	if (c.total > c.shown) {
		snprintf(text, sizeof(text), "%.40s: %zu more warnings not shown", label, c.total - c.shown);
		push_warning(e, text);
	}
	add_source(e, s);
	return 0;
}

int enrich_add_ip2asn(struct enrich *e, const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);  /* a FIFO must not block */
	if (fd < 0) {
		snprintf(err, errlen, "cannot open ip2asn file %s: %s", path, strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "ip2asn file %s: not a regular file", path);
		close(fd);
		return -1;
	}
	if ((uint64_t)st.st_size > ENRICH_TSV_MAX_BYTES) {
		snprintf(err, errlen, "ip2asn file %s: larger than %u MiB", path, ENRICH_TSV_MAX_BYTES >> 20);
		close(fd);
		return -1;
	}
	size_t size = (size_t)st.st_size, got = 0;
	char *buf = xmalloc(size + 1);
	while (got < size) {
		ssize_t r = read(fd, buf + got, size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(err, errlen, "cannot read ip2asn file %s: %s", path, strerror(errno));
			free(buf);
			close(fd);
			return -1;
		}
		if (r == 0)
			break;  /* shrank while reading: parse what we have */
		got += (size_t)r;
	}
	close(fd);
	int rc = enrich_add_ip2asn_buffer(e, buf, got, path, err, errlen);
	free(buf);
	return rc;
}

static void range_lookup(const struct range_table *t, uint32_t ip, struct owner *o, bool want_cc,
			 bool want_as)
{
	size_t lo = 0, hi = t->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->r[mid].lo <= ip)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || ip > t->r[lo - 1].hi)
		return;
	const struct enrich_range *r = &t->r[lo - 1];
	uint32_t cc = r->meta & 1023, org = r->meta >> 10;
	if (want_cc && cc) {
		o->country[0] = (char)('A' + (cc - 1) / 26);
		o->country[1] = (char)('A' + (cc - 1) % 26);
		o->country[2] = '\0';
	}
	if (want_as && r->asn) {
		o->asn = r->asn;
		o->org[0] = '\0';
		if (org)
			snprintf(o->org, sizeof(o->org), "%s", t->orgs + t->org_off[org - 1]);
	}
}

/* ---- MaxMind DB ---- */

/* libmaxminddb statuses that only mean "this path is not in this record". */
static bool mmdb_status_ok(int status)
{
	return status == MMDB_SUCCESS || status == MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR ||
	       status == MMDB_INVALID_LOOKUP_PATH_ERROR;
}

/* Value at path in entry; false if absent. *status gets the first real error. */
static bool mmdb_get(MMDB_entry_s *entry, const char *const *path, MMDB_entry_data_s *d, int *status)
{
	int st = MMDB_aget_value(entry, d, path);
	if (!mmdb_status_ok(st)) {
		if (*status == MMDB_SUCCESS)
			*status = st;
		return false;
	}
	return st == MMDB_SUCCESS && d->has_data;
}

static bool mmdb_uint(const MMDB_entry_data_s *d, uint32_t *out)
{
	switch (d->type) {
	case MMDB_DATA_TYPE_UINT16:
		*out = d->uint16;
		return true;
	case MMDB_DATA_TYPE_UINT32:
		*out = d->uint32;
		return true;
	case MMDB_DATA_TYPE_UINT64:
		if (d->uint64 > UINT32_MAX)
			return false;
		*out = (uint32_t)d->uint64;
		return true;
	case MMDB_DATA_TYPE_INT32:
		if (d->int32 < 0)
			return false;
		*out = (uint32_t)d->int32;
		return true;
	case MMDB_DATA_TYPE_UTF8_STRING:
		return parse_asn(d->utf8_string, d->data_size, out);
	default:
		return false;
	}
}

/* Look ip up in one MaxMind DB; returns MMDB_SUCCESS or libmaxminddb's
 * error (lookups and values that fail are misses). */
static int mmdb_lookup(const MMDB_s *db, uint32_t ip, struct owner *o, bool want_cc, bool want_as)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	sin.sin_addr.s_addr = htonl(ip);
	int status = MMDB_SUCCESS;
	MMDB_lookup_result_s res = MMDB_lookup_sockaddr(db, (const struct sockaddr *)&sin, &status);
	if (status != MMDB_SUCCESS || !res.found_entry)
		return status;
	MMDB_entry_data_s d;
	if (want_cc) {
		static const char *const paths[][3] = {
			{"country", "iso_code", NULL},
			{"registered_country", "iso_code", NULL},
			{"country_code", NULL, NULL},  /* IPinfo Lite */
			{"country", NULL, NULL},       /* IPinfo country_asn: "US" */
		};
		for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
			if (mmdb_get(&res.entry, paths[i], &d, &status) && d.type == MMDB_DATA_TYPE_UTF8_STRING &&
			    clean_country(d.utf8_string, d.data_size, o->country))
				break;
	}
	if (want_as) {
		static const char *const asn_paths[][2] = {{"autonomous_system_number", NULL}, {"asn", NULL}};
		static const char *const org_paths[][2] = {{"autonomous_system_organization", NULL},
							   {"as_name", NULL}};
		uint32_t asn = 0;
		for (size_t i = 0; i < 2 && asn == 0; i++)
			if (mmdb_get(&res.entry, asn_paths[i], &d, &status) && !mmdb_uint(&d, &asn))
				asn = 0;
		if (asn != 0) {
			o->asn = asn;
			o->org[0] = '\0';
			for (size_t i = 0; i < 2; i++)
				if (mmdb_get(&res.entry, org_paths[i], &d, &status) &&
				    d.type == MMDB_DATA_TYPE_UTF8_STRING &&
				    clean_org(d.utf8_string, d.data_size, o->org) > 0)
					break;
		}
	}
	return status;
}

int enrich_add_mmdb(struct enrich *e, const char *path, char *err, size_t errlen)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		snprintf(err, errlen, "cannot open MaxMind DB %s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "MaxMind DB %s: not a regular file", path);
		return -1;
	}
	if (st.st_size < 64) {
		snprintf(err, errlen, "%s: not a MaxMind DB file (only %lld bytes)", path, (long long)st.st_size);
		return -1;
	}
	struct source *s = xcalloc(1, sizeof(*s));
	s->kind = SRC_MMDB;
	errno = 0;
	int status = MMDB_open(path, MMDB_MODE_MMAP, &s->mmdb);
	if (status != MMDB_SUCCESS) {
		if (status == MMDB_FILE_OPEN_ERROR || status == MMDB_IO_ERROR)
			snprintf(err, errlen, "cannot read MaxMind DB %s: %s", path,
				 errno ? strerror(errno) : MMDB_strerror(status));
		else if (status == MMDB_INVALID_METADATA_ERROR || status == MMDB_UNKNOWN_DATABASE_FORMAT_ERROR)
			snprintf(err, errlen, "%s: not a MaxMind DB file (%s)", path, MMDB_strerror(status));
		else
			snprintf(err, errlen, "%s: corrupt or truncated MaxMind DB (%s)", path, MMDB_strerror(status));
		free(s);
		return -1;
	}
	/* libmaxminddb checks the metadata and sizes at open, the tree and data
	 * only as lookups reach them: sweep addresses across the IPv4 space so a
	 * broken file fails now, with a message, instead of silently later. */
	for (uint32_t i = 0; i < ENRICH_MMDB_SWEEP; i++) {
		struct owner o = {0};
		uint32_t ip = i * (UINT32_MAX / (ENRICH_MMDB_SWEEP - 1));
		status = mmdb_lookup(&s->mmdb, ip, &o, true, true);
		if (status != MMDB_SUCCESS) {
			char a[16];
			ip_str(ip, a);
			snprintf(err, errlen, "%s: corrupt MaxMind DB (looking up %s: %s)", path, a,
				 MMDB_strerror(status));
			MMDB_close(&s->mmdb);
			free(s);
			return -1;
		}
	}
	add_source(e, s);
	return 0;
}

/* ---- lookups ---- */

void enrich_record(const struct enrich *e, struct service_record *rec, bool overwrite)
{
	bool want_cc = overwrite || !rec->country;
	bool want_as = overwrite || rec->asn == 0 || !rec->org;
	struct owner o = {0};
	for (size_t i = 0; i < e->nsrc && (want_cc || want_as); i++) {
		const struct source *s = e->src[i];
		if (s->kind == SRC_MMDB) {
			struct owner got = {0};
			if (mmdb_lookup(&s->mmdb, rec->ip, &got, want_cc, want_as) != MMDB_SUCCESS) {
				(*e->lookup_errors)++;
				continue;
			}
			if (got.country[0])
				memcpy(o.country, got.country, sizeof(o.country));
			if (got.asn) {
				o.asn = got.asn;
				memcpy(o.org, got.org, sizeof(o.org));
			}
		} else {
			range_lookup(&s->t, rec->ip, &o, want_cc, want_as);
		}
		if (o.country[0])
			want_cc = false;
		if (o.asn)
			want_as = false;
	}
	if (o.country[0] && (overwrite || !rec->country))
		record_set(&rec->country, o.country);
	if (o.asn == 0)
		return;
	if (overwrite) {
		if (rec->asn != o.asn || o.org[0])
			record_set(&rec->org, o.org[0] ? o.org : NULL);
		rec->asn = o.asn;
	} else {
		if (rec->asn == 0)
			rec->asn = o.asn;
		if (!rec->org && o.org[0] && rec->asn == o.asn)
			record_set(&rec->org, o.org);
	}
}
