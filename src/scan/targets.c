/* targets.c - owns the IPv4 target syntax and the set algebra over ranges. */
#include "scan/targets.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/alloc.h"

/* IANA special-purpose and other never-scan ranges (see DEVELOPERS.md). */
static const char *const targets_reserved[] = {
	"0.0.0.0/8",       "10.0.0.0/8",     "100.64.0.0/10",  "127.0.0.0/8",
	"169.254.0.0/16",  "172.16.0.0/12",  "192.0.0.0/24",   "192.0.2.0/24",
	"192.88.99.0/24",  "192.168.0.0/16", "198.18.0.0/15",  "198.51.100.0/24",
	"203.0.113.0/24",  "224.0.0.0/4",    "240.0.0.0/4",    "255.255.255.255/32",
};

void rangeset_init(struct rangeset *rs)
{
	memset(rs, 0, sizeof(*rs));
	rs->normalized = true;
}

void rangeset_free(struct rangeset *rs)
{
	free(rs->r);
	free(rs->cum);
	rangeset_init(rs);
}

void rangeset_add(struct rangeset *rs, uint32_t lo, uint32_t hi)
{
	if (rs->n == rs->cap) {
		rs->cap = rs->cap ? rs->cap * 2 : 16;
		rs->r = xrealloc(rs->r, rs->cap * sizeof(*rs->r));
	}
	rs->r[rs->n].lo = lo;
	rs->r[rs->n].hi = hi;
	rs->n++;
	rs->normalized = false;
}

static int range_cmp(const void *a, const void *b)
{
	const struct ip_range *x = a, *y = b;
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return 0;
}

void rangeset_normalize(struct rangeset *rs)
{
	if (rs->n > 1)
		qsort(rs->r, rs->n, sizeof(*rs->r), range_cmp);
	size_t out = 0;
	for (size_t i = 0; i < rs->n; i++) {
		if (out > 0 && (uint64_t)rs->r[i].lo <= (uint64_t)rs->r[out - 1].hi + 1) {
			if (rs->r[i].hi > rs->r[out - 1].hi)
				rs->r[out - 1].hi = rs->r[i].hi;
		} else {
			rs->r[out++] = rs->r[i];
		}
	}
	rs->n = out;
	free(rs->cum);
	rs->cum = xmalloc((rs->n + 1) * sizeof(uint64_t));
	uint64_t total = 0;
	for (size_t i = 0; i < rs->n; i++) {
		rs->cum[i] = total;
		total += (uint64_t)rs->r[i].hi - rs->r[i].lo + 1;
	}
	rs->cum[rs->n] = total;
	rs->total = total;
	rs->normalized = true;
}

void rangeset_subtract(struct rangeset *rs, struct rangeset *ex)
{
	if (!rs->normalized)
		rangeset_normalize(rs);
	if (!ex->normalized)
		rangeset_normalize(ex);
	struct rangeset res;
	rangeset_init(&res);
	size_t j = 0;
	for (size_t i = 0; i < rs->n; i++) {
		uint64_t lo = rs->r[i].lo, hi = rs->r[i].hi;
		while (j < ex->n && ex->r[j].hi < lo)
			j++;
		size_t k = j;
		while (lo <= hi && k < ex->n && ex->r[k].lo <= hi) {
			if (ex->r[k].lo > lo)
				rangeset_add(&res, (uint32_t)lo, ex->r[k].lo - 1);
			lo = (uint64_t)ex->r[k].hi + 1;
			k++;
		}
		if (lo <= hi)
			rangeset_add(&res, (uint32_t)lo, (uint32_t)hi);
	}
	rangeset_normalize(&res);
	rangeset_free(rs);
	*rs = res;
}

uint32_t rangeset_pick(const struct rangeset *rs, uint64_t idx)
{
	size_t lo = 0, hi = rs->n;  /* find last i with cum[i] <= idx */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (rs->cum[mid] <= idx)
			lo = mid;
		else
			hi = mid;
	}
	return rs->r[lo].lo + (uint32_t)(idx - rs->cum[lo]);
}

bool rangeset_contains(const struct rangeset *rs, uint32_t ip)
{
	size_t lo = 0, hi = rs->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (rs->r[mid].hi < ip)
			lo = mid + 1;
		else if (rs->r[mid].lo > ip)
			hi = mid;
		else
			return true;
	}
	return false;
}

/* Parse a decimal number of at most maxdigits digits, no sign, no leading
 * zero (unless it is "0"). Returns -1 on any other form. */
static int parse_dec(const char *s, size_t len, size_t maxdigits, uint32_t *out)
{
	if (len == 0 || len > maxdigits || (len > 1 && s[0] == '0'))
		return -1;
	uint32_t v = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint32_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

int ipv4_parse(const char *s, size_t len, uint32_t *out)
{
	uint32_t ip = 0;
	size_t start = 0;
	int octets = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || s[i] == '.') {
			uint32_t v;
			if (octets == 4 || parse_dec(s + start, i - start, 3, &v) < 0 || v > 255)
				return -1;
			ip = (ip << 8) | v;
			octets++;
			start = i + 1;
		}
	}
	if (octets != 4)
		return -1;
	*out = ip;
	return 0;
}

void ipv4_format(uint32_t ip, char buf[16])
{
	snprintf(buf, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}

int targets_parse_token(const char *tok, size_t len, struct rangeset *out, char *err, size_t errlen)
{
	const char *slash = memchr(tok, '/', len);
	const char *dash = memchr(tok, '-', len);
	uint32_t a, b;
	if (slash && !dash) {
		size_t alen = (size_t)(slash - tok);
		uint32_t bits;
		if (ipv4_parse(tok, alen, &a) < 0) {
			snprintf(err, errlen, "bad address in CIDR '%.*s': expected A.B.C.D/N", (int)len, tok);
			return -1;
		}
		if (parse_dec(slash + 1, len - alen - 1, 2, &bits) < 0 || bits > 32) {
			snprintf(err, errlen, "bad CIDR '%.*s': prefix length must be 0 to 32", (int)len, tok);
			return -1;
		}
		uint32_t mask = bits == 0 ? 0 : 0xffffffffu << (32 - bits);
		rangeset_add(out, a & mask, (a & mask) | ~mask);
		return 0;
	}
	if (dash && !slash) {
		size_t alen = (size_t)(dash - tok);
		const char *rest = dash + 1;
		size_t rlen = len - alen - 1;
		if (ipv4_parse(tok, alen, &a) < 0) {
			snprintf(err, errlen, "bad range '%.*s': expected A.B.C.D-E.F.G.H or A.B.C.D-N", (int)len, tok);
			return -1;
		}
		if (memchr(rest, '.', rlen)) {
			if (ipv4_parse(rest, rlen, &b) < 0) {
				snprintf(err, errlen, "bad range end in '%.*s'", (int)len, tok);
				return -1;
			}
		} else {
			uint32_t last;
			if (parse_dec(rest, rlen, 3, &last) < 0 || last > 255) {
				snprintf(err, errlen, "bad range '%.*s': the end must be an address or a last octet 0-255", (int)len, tok);
				return -1;
			}
			b = (a & 0xffffff00u) | last;
		}
		if (b < a) {
			snprintf(err, errlen, "bad range '%.*s': the end is below the start", (int)len, tok);
			return -1;
		}
		rangeset_add(out, a, b);
		return 0;
	}
	if (!dash && !slash && ipv4_parse(tok, len, &a) == 0) {
		rangeset_add(out, a, a);
		return 0;
	}
	snprintf(err, errlen, "bad target '%.*s': expected an IPv4 address, A.B.C.D/N or A.B.C.D-E.F.G.H", (int)(len > 64 ? 64 : len), tok);
	return -1;
}

int targets_parse_text(const char *text, const char *origin, struct rangeset *out, char *err, size_t errlen)
{
	size_t line = 1;
	const char *p = text;
	while (*p) {
		if (*p == '#') {
			while (*p && *p != '\n')
				p++;
			continue;
		}
		if (*p == '\n')
			line++;
		if (*p == ',' || *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
			p++;
			continue;
		}
		const char *start = p;
		while (*p && *p != ',' && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r' && *p != '#')
			p++;
		char sub[TARGETS_ERR_LEN];
		if (targets_parse_token(start, (size_t)(p - start), out, sub, sizeof(sub)) < 0) {
			if (origin)
				snprintf(err, errlen, "%s:%zu: %s", origin, line, sub);
			else
				snprintf(err, errlen, "%s", sub);
			return -1;
		}
	}
	return 0;
}

int targets_parse_file(const char *path, struct rangeset *out, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "cannot read target file %s: %s", path, strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		fclose(f);
		snprintf(err, errlen, "cannot read target file %s: it is a directory", path);
		return -1;
	}
	size_t cap = 1 << 16, len = 0;
	char *buf = xmalloc(cap);
	size_t n;
	while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (cap - len - 1 == 0) {
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
	}
	fclose(f);
	buf[len] = '\0';
	if (memchr(buf, '\0', len)) {
		free(buf);
		snprintf(err, errlen, "target file %s contains NUL bytes: it is not a text list", path);
		return -1;
	}
	int rc = targets_parse_text(buf, path, out, err, errlen);
	free(buf);
	return rc;
}

void targets_add_reserved(struct rangeset *out)
{
	char err[TARGETS_ERR_LEN];
	for (size_t i = 0; i < sizeof(targets_reserved) / sizeof(targets_reserved[0]); i++)
		targets_parse_token(targets_reserved[i], strlen(targets_reserved[i]), out, err, sizeof(err));
}
