/* import_util.c - field helpers shared by the importers: addresses, the
 * time formats the tools write, bounded string copies, and the HTTP
 * response head found in banners (status, headers, Server, Location). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/alloc.h"
#include "scan/targets.h"
#include "store/import_int.h"

#define HTTP_MAX_HEADERS 100
#define HTTP_MAX_NAME 256
#define HTTP_MAX_VALUE 8192
#define MAX_STR 65536

int import_parse_ip(const char *s, size_t len, uint32_t *ip)
{
	while (len > 0 && (s[0] == ' ' || s[0] == '\t')) {
		s++;
		len--;
	}
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (len == 0 || len > 64)
		return -1;
	if (memchr(s, ':', len)) {
		/* plausible IPv6 text: hex digits, colons, dots (v4-mapped), zone */
		for (size_t i = 0; i < len; i++) {
			char c = s[i];
			if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' ||
			      c == '.' || c == '%' || c == '[' || c == ']'))
				return -1;
		}
		return -2;
	}
	return ipv4_parse(s, len, ip) == 0 ? 0 : -1;
}

static int digits(const char *s, size_t n, int *out)
{
	int v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

static int make_time(int Y, int M, int D, int h, int m, int sec, long off, time_t *out)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (Y < 1970 || M < 1 || M > 12 || D < 1 || D > mdays[M - 1] || h > 23 || m > 59 || sec > 60)
		return -1;
	struct tm tm = {0};
	tm.tm_year = Y - 1900;
	tm.tm_mon = M - 1;
	tm.tm_mday = D;
	tm.tm_hour = h;
	tm.tm_min = m;
	tm.tm_sec = sec;
	time_t t = timegm(&tm);
	if (t == (time_t)-1 || t - off < 0 || t - off > IMPORT_MAX_TIME)
		return -1;
	*out = t - off;
	return 0;
}

int import_parse_time(const char *s, size_t len, time_t *out)
{
	int Y, M, D, h, m, sec;
	/* X.509 style, as Shodan writes certificate dates: 20240101000000Z */
	if (len == 15 && s[14] == 'Z') {
		if (digits(s, 4, &Y) || digits(s + 4, 2, &M) || digits(s + 6, 2, &D) || digits(s + 8, 2, &h) ||
		    digits(s + 10, 2, &m) || digits(s + 12, 2, &sec))
			return -1;
		return make_time(Y, M, D, h, m, sec, 0, out);
	}
	if (len < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ' && s[10] != 't') || s[13] != ':' ||
	    s[16] != ':')
		return -1;
	if (digits(s, 4, &Y) || digits(s + 5, 2, &M) || digits(s + 8, 2, &D) || digits(s + 11, 2, &h) ||
	    digits(s + 14, 2, &m) || digits(s + 17, 2, &sec))
		return -1;
	size_t i = 19;
	if (i < len && (s[i] == '.' || s[i] == ',')) {
		i++;
		size_t f = i;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == f)
			return -1;
	}
	long off = 0;
	if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
		i++;
	} else if (i < len && (s[i] == '+' || s[i] == '-')) {
		int oh, om;
		int sign = s[i] == '-' ? -1 : 1;
		i++;
		if (i + 5 <= len && s[i + 2] == ':') {
			if (digits(s + i, 2, &oh) || digits(s + i + 3, 2, &om))
				return -1;
			i += 5;
		} else if (i + 4 <= len) {
			if (digits(s + i, 2, &oh) || digits(s + i + 2, 2, &om))
				return -1;
			i += 4;
		} else {
			return -1;
		}
		if (oh > 23 || om > 59)
			return -1;
		off = sign * (oh * 3600L + om * 60L);
	}
	if (i != len)
		return -1;
	return make_time(Y, M, D, h, m, sec, off, out);
}

int import_parse_uint(const char *s, size_t len, uint32_t max, uint32_t *out)
{
	if (len == 0 || len > 10)
		return -1;
	uint64_t v = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > max)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

int import_parse_unix(const char *s, size_t len, time_t *out)
{
	if (len == 0 || len > 12)
		return -1;
	long long v = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v > IMPORT_MAX_TIME)
		return -1;
	*out = (time_t)v;
	return 0;
}

void import_fmt_time(time_t t, char buf[24])
{
	struct tm tm;
	if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 0) {
		snprintf(buf, 24, "invalid");
		return;
	}
	strftime(buf, 24, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Largest n' <= n that does not cut a UTF-8 sequence of s. */
static size_t utf8_cut(const char *s, size_t n)
{
	size_t k = n;
	/* step back over continuation bytes, at most 3 */
	while (k > 0 && n - k < 3 && ((unsigned char)s[k] & 0xc0) == 0x80)
		k--;
	return ((unsigned char)s[k] & 0xc0) == 0x80 ? n : k;
}

void import_copy_fixed(char *dst, size_t dst_size, const char *s, size_t len)
{
	const char *nul = memchr(s, '\0', len);
	if (nul)
		len = (size_t)(nul - s);
	if (len >= dst_size)
		len = utf8_cut(s, dst_size - 1);
	memcpy(dst, s, len);
	dst[len] = '\0';
}

void import_set_str(char **dst, const char *s, size_t len, size_t cap)
{
	const char *nul = memchr(s, '\0', len);
	if (nul)
		len = (size_t)(nul - s);
	if (cap == 0)
		cap = MAX_STR;
	if (len > cap)
		len = utf8_cut(s, cap);
	free(*dst);
	char *p = xmalloc(len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	*dst = p;
}

void import_set_banner(struct service_record *rec, const void *bytes, size_t len)
{
	if (len > IMPORT_MAX_BANNER)
		len = IMPORT_MAX_BANNER;
	free(rec->banner);
	rec->banner = xmalloc(len + 1);
	if (len)
		memcpy(rec->banner, bytes, len);
	rec->banner[len] = 0;
	rec->banner_len = len;
	rec->probed = true;
}

static bool name_is(const char *name, size_t nlen, const char *want)
{
	return nlen == strlen(want) && strncasecmp(name, want, nlen) == 0;
}

void import_http_header(struct service_record *rec, const char *name, size_t nlen, const char *value, size_t vlen)
{
	struct record_http *h = &rec->http;
	if (h->header_names.n >= HTTP_MAX_HEADERS)
		return;
	while (vlen > 0 && (value[0] == ' ' || value[0] == '\t')) {
		value++;
		vlen--;
	}
	while (vlen > 0 && (value[vlen - 1] == ' ' || value[vlen - 1] == '\t' || value[vlen - 1] == '\r'))
		vlen--;
	char *n = NULL, *v = NULL;
	import_set_str(&n, name, nlen, HTTP_MAX_NAME);
	import_set_str(&v, value, vlen, HTTP_MAX_VALUE);
	strlist_add(&h->header_names, n);
	strlist_add(&h->header_values, v);
	if (!h->server && name_is(name, nlen, "server"))
		h->server = xstrdup(v);
	if (!h->location && name_is(name, nlen, "location"))
		h->location = xstrdup(v);
	free(n);
	free(v);
	rec->has_http = true;
	rec->probed = true;
}

bool import_http_head(struct service_record *rec, const char *data, size_t len)
{
	/* "HTTP/1.1 200 OK", "HTTP/1.0 404", "HTTP/2 301" */
	if (len < 12 || memcmp(data, "HTTP/", 5) != 0)
		return false;
	size_t i = 5;
	while (i < len && i < 9 && data[i] != ' ')
		i++;
	if (i + 4 > len || data[i] != ' ')
		return false;
	int status;
	if (digits(data + i + 1, 3, &status) < 0 || (i + 4 < len && data[i + 4] != ' ' && data[i + 4] != '\r' &&
						      data[i + 4] != '\n'))
		return false;
	rec->has_http = true;
	rec->probed = true;
	rec->http.status = status;
	const char *nl = memchr(data, '\n', len);
	if (!nl)
		return true;
	size_t pos = (size_t)(nl - data) + 1;
	while (pos < len) {
		const char *l = data + pos;
		const char *e = memchr(l, '\n', len - pos);
		size_t ll = e ? (size_t)(e - l) : len - pos;
		pos += ll + 1;
		size_t tl = ll;
		if (tl > 0 && l[tl - 1] == '\r')
			tl--;
		if (tl == 0)
			break;  /* end of the head */
		const char *colon = memchr(l, ':', tl);
		if (!colon || colon == l)
			continue;
		size_t nlen = (size_t)(colon - l);
		bool token = true;
		for (size_t k = 0; k < nlen; k++)
			if ((unsigned char)l[k] <= ' ' || (unsigned char)l[k] >= 0x7f)
				token = false;
		if (!token)
			continue;
		import_http_header(rec, l, nlen, colon + 1, tl - nlen - 1);
	}
	return true;
}
