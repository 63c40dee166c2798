/* http.c - owns HTTP/1.x response parsing: status line, headers, body
 * framing (RFC 9112 section 6: no body, chunked, Content-Length, close) and
 * chunked decoding. A state machine fed in any split; lines go through one
 * capped line buffer that only ever scans new bytes, so one-byte feeds stay
 * linear. Memory is bounded by the limits: the line buffer by
 * max_header_bytes (or HTTP_CHUNK_LINE_MAX), stored headers by
 * max_header_bytes and max_headers, the body by max_body. */
#include "probe/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/alloc.h"

enum {
	ST_STATUS,      /* status line (possibly after interim 1xx responses) */
	ST_HEADERS,
	ST_BODY_CL,     /* remaining bytes of a Content-Length body */
	ST_BODY_CLOSE,  /* body delimited by the connection close */
	ST_CHUNK_SIZE,  /* chunk-size [; extensions] line */
	ST_CHUNK_DATA,
	ST_CHUNK_CR,    /* CRLF after chunk data */
	ST_CHUNK_LF,
	ST_TRAILERS,
	ST_DONE,
	ST_ERROR,
};

enum { CL_NONE, CL_OK, CL_BAD, CL_CONFLICT };

/* Kind of the previous header line, for obsolete line folding. */
enum { PREV_NONE, PREV_KEPT, PREV_DROPPED, PREV_FRAMING };

/* "HTTP/1.x SP 3DIGIT": what the first 12 bytes must look like; the 13th
 * is SP or the line end. */
#define STATUS_FIXED 12
#define STATUS_CHECKED (STATUS_FIXED + 1)

static int fail(struct http_parser *p, const char *why)
{
	snprintf(p->error, sizeof(p->error), "%s", why);
	p->state = ST_ERROR;
	return HTTP_ERROR;
}

static bool is_blank(unsigned char c)
{
	return c == ' ' || c == '\t';
}

static bool is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* Trim SP, HT and CR around s[*a..*b). */
static void trim(const char *s, size_t *a, size_t *b)
{
	while (*a < *b && (is_blank((unsigned char)s[*a]) || s[*a] == '\r'))
		(*a)++;
	while (*b > *a && (is_blank((unsigned char)s[*b - 1]) || s[*b - 1] == '\r'))
		(*b)--;
}

static void denul(char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] == '\0')
			s[i] = ' ';
}

void http_response_free(struct http_response *r)
{
	for (size_t i = 0; i < r->nheaders; i++)
		free(r->headers[i].name);  /* value shares the allocation */
	free(r->headers);
	free(r->reason);
	free(r->body);
	memset(r, 0, sizeof(*r));
	r->content_length = -1;
}

/* Forget a response (an interim 1xx) but keep the running byte counts. */
static void reset_response(struct http_parser *p)
{
	http_response_free(&p->resp);
	p->hdr_cap = 0;
	p->body_cap = 0;
	p->cl_state = CL_NONE;
	p->cl_value = -1;
	p->te_seen = p->te_chunked = false;
	p->prev_header = PREV_NONE;
}

void http_parser_init(struct http_parser *p, const struct http_limits *lim, bool head_request)
{
	memset(p, 0, sizeof(*p));
	if (lim)
		p->lim = *lim;
	if (!p->lim.max_header_bytes)
		p->lim.max_header_bytes = HTTP_DEF_MAX_HEADER_BYTES;
	if (!p->lim.max_headers)
		p->lim.max_headers = HTTP_DEF_MAX_HEADERS;
	if (!p->lim.max_body)
		p->lim.max_body = HTTP_DEF_MAX_BODY;
	p->head_request = head_request;
	p->state = ST_STATUS;
	reset_response(p);
}

void http_parser_free(struct http_parser *p)
{
	http_response_free(&p->resp);
	free(p->line);
	p->line = NULL;
	p->line_len = p->line_cap = 0;
	p->hdr_cap = p->body_cap = 0;
}

const char *http_response_header(const struct http_response *r, const char *name)
{
	for (size_t i = 0; i < r->nheaders; i++)
		if (strcasecmp(r->headers[i].name, name) == 0)
			return r->headers[i].value;
	return NULL;
}

/* Append up to and including the next LF of d[0..n) to the line buffer.
 * *used gets the bytes taken. Returns 1 if a line is complete, 0 if d was
 * used up without an LF, -1 if the line would exceed limit bytes (LF
 * included): then the bytes that fit are in the buffer, as they would be
 * had they come one at a time. */
static int line_take(struct http_parser *p, const uint8_t *d, size_t n, size_t *used, size_t limit)
{
	const uint8_t *nl = memchr(d, '\n', n);
	size_t take = nl ? (size_t)(nl - d) + 1 : n;
	int rc = nl != NULL;
	if (take > limit - p->line_len) {
		take = limit - p->line_len;
		rc = -1;
	}
	if (p->line_len + take + 1 > p->line_cap) {
		size_t cap = p->line_cap ? p->line_cap : 256;
		while (cap < p->line_len + take + 1)
			cap *= 2;
		p->line = xrealloc(p->line, cap);
		p->line_cap = cap;
	}
	memcpy(p->line + p->line_len, d, take);
	p->line_len += take;
	*used = take;
	return rc;
}

/* The complete line without its LF and an optional CR before it; the
 * buffer is NUL-terminated (NUL bytes may also occur inside). */
static size_t line_end(struct http_parser *p)
{
	size_t n = p->line_len - 1;
	if (n > 0 && p->line[n - 1] == '\r')
		n--;
	p->line[n] = '\0';
	return n;
}

/* Could the first bytes of a status line still become "HTTP/1.x 3DIGIT"? */
static int status_prefix_check(struct http_parser *p)
{
	static const char pat[] = "HTTP/1.d ddde";
	size_t n = p->line_len < STATUS_CHECKED ? p->line_len : STATUS_CHECKED;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p->line[i];
		bool ok = pat[i] == 'd' ? is_digit(c) :
			  pat[i] == 'e' ? c == ' ' || c == '\r' || c == '\n' :
			  c == (unsigned char)pat[i];
		if (!ok)
			return fail(p, i < 5 ? "not an HTTP response" : "bad status line");
	}
	return 0;
}

static int parse_status(struct http_parser *p, size_t n)
{
	const char *s = p->line;
	if (n < STATUS_FIXED || (n > STATUS_FIXED && s[STATUS_FIXED] != ' '))
		return fail(p, "bad status line");
	if (s[9] == '0')
		return fail(p, "bad status code");
	p->resp.version_minor = s[7] - '0';
	p->resp.status = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
	size_t a = n > STATUS_FIXED ? STATUS_FIXED + 1 : n, b = n;
	trim(s, &a, &b);
	free(p->resp.reason);
	p->resp.reason = xmalloc(b - a + 1);
	memcpy(p->resp.reason, s + a, b - a);
	p->resp.reason[b - a] = '\0';
	denul(p->resp.reason, b - a);
	return 0;
}

/* Content-Length: a list of identical decimal numbers ("42" or "42, 42"),
 * also identical across repeated headers. */
static void parse_content_length(struct http_parser *p, const char *v, size_t n)
{
	if (p->cl_state == CL_BAD || p->cl_state == CL_CONFLICT)
		return;
	size_t i = 0;
	for (;;) {
		size_t a = i, b = i;
		while (b < n && v[b] != ',')
			b++;
		size_t next = b;
		trim(v, &a, &b);
		if (a == b) {
			p->cl_state = CL_BAD;
			return;
		}
		int64_t x = 0;
		for (size_t k = a; k < b; k++) {
			unsigned char c = (unsigned char)v[k];
			if (!is_digit(c) || x > (INT64_MAX - (c - '0')) / 10) {
				p->cl_state = CL_BAD;
				return;
			}
			x = x * 10 + (c - '0');
		}
		if (p->cl_state == CL_OK && x != p->cl_value) {
			p->cl_state = CL_CONFLICT;
			return;
		}
		p->cl_state = CL_OK;
		p->cl_value = x;
		if (next == n)
			return;
		i = next + 1;
	}
}

/* Transfer-Encoding: remember whether the last coding (of the last such
 * header) is chunked. */
static void parse_transfer_encoding(struct http_parser *p, const char *v, size_t n)
{
	size_t i = 0;
	while (i <= n) {
		size_t a = i, b = i;
		while (b < n && v[b] != ',')
			b++;
		i = b + 1;
		const char *semi = memchr(v + a, ';', b - a);
		if (semi)
			b = (size_t)(semi - v);
		trim(v, &a, &b);
		if (a == b)
			continue;
		p->te_seen = true;
		p->te_chunked = b - a == 7 && strncasecmp(v + a, "chunked", 7) == 0;
	}
}

static void store_header(struct http_parser *p, const char *name, size_t nlen, const char *val, size_t vlen)
{
	struct http_response *r = &p->resp;
	if (r->nheaders >= p->lim.max_headers) {
		r->headers_truncated = true;
		p->prev_header = PREV_DROPPED;
		return;
	}
	if (r->nheaders == p->hdr_cap) {
		size_t cap = p->hdr_cap ? p->hdr_cap * 2 : 16;
		if (cap > p->lim.max_headers)
			cap = p->lim.max_headers;
		r->headers = xrealloc(r->headers, cap * sizeof(*r->headers));
		p->hdr_cap = cap;
	}
	char *m = xmalloc(nlen + vlen + 2);
	memcpy(m, name, nlen);
	m[nlen] = '\0';
	memcpy(m + nlen + 1, val, vlen);
	m[nlen + 1 + vlen] = '\0';
	denul(m + nlen + 1, vlen);
	r->headers[r->nheaders].name = m;
	r->headers[r->nheaders].value = m + nlen + 1;
	r->nheaders++;
	p->prev_header = PREV_KEPT;
	p->last_nlen = nlen;
	p->last_vlen = vlen;
	p->last_cap = nlen + vlen + 2;
}

/* Obsolete line folding: append the continuation to the previous value. */
static int fold_header(struct http_parser *p, size_t n)
{
	if (p->prev_header == PREV_NONE)
		return fail(p, "bad header line");
	if (p->prev_header == PREV_FRAMING)
		return fail(p, "folded framing header");
	size_t a = 0, b = n;
	trim(p->line, &a, &b);
	if (p->prev_header == PREV_DROPPED || a == b)
		return 0;
	/* lengths and capacity are tracked so many folds stay linear */
	struct http_header *h = &p->resp.headers[p->resp.nheaders - 1];
	size_t nlen = p->last_nlen, vlen = p->last_vlen;
	size_t need = nlen + 1 + vlen + 1 + (b - a) + 1;
	if (need > p->last_cap) {
		p->last_cap = need > 2 * p->last_cap ? need : 2 * p->last_cap;
		h->name = xrealloc(h->name, p->last_cap);
		h->value = h->name + nlen + 1;
	}
	char *v = h->value;
	if (vlen)
		v[vlen++] = ' ';
	memcpy(v + vlen, p->line + a, b - a);
	denul(v + vlen, b - a);
	vlen += b - a;
	v[vlen] = '\0';
	p->last_vlen = vlen;
	return 0;
}

static int parse_header(struct http_parser *p, size_t n)
{
	const char *s = p->line;
	if (is_blank((unsigned char)s[0]))
		return fold_header(p, n);
	size_t c = 0;
	while (c < n && is_tchar((unsigned char)s[c]))
		c++;
	if (c == 0 || c == n || s[c] != ':')
		return fail(p, memchr(s, ':', n) ? "bad header name" : "bad header line");
	size_t a = c + 1, b = n;
	trim(s, &a, &b);
	bool framing = false;
	if (c == 14 && strncasecmp(s, "Content-Length", 14) == 0) {
		parse_content_length(p, s + a, b - a);
		framing = true;
	} else if (c == 17 && strncasecmp(s, "Transfer-Encoding", 17) == 0) {
		parse_transfer_encoding(p, s + a, b - a);
		framing = true;
	}
	store_header(p, s, c, s + a, b - a);
	if (framing)
		p->prev_header = PREV_FRAMING;
	return 0;
}

static void body_reserve(struct http_parser *p, size_t want)
{
	if (want <= p->body_cap)
		return;
	size_t cap = p->body_cap ? p->body_cap : 4096;
	while (cap < want)
		cap *= 2;
	if (cap > p->lim.max_body)
		cap = p->lim.max_body;
	p->resp.body = xrealloc(p->resp.body, cap);
	p->body_cap = cap;
}

/* Keep body bytes up to max_body; past it, mark truncated and finish. */
static void body_add(struct http_parser *p, const uint8_t *d, size_t n)
{
	struct http_response *r = &p->resp;
	size_t room = p->lim.max_body - r->body_len;
	bool over = n > room;
	if (over)
		n = room;
	if (n) {
		body_reserve(p, r->body_len + n);
		memcpy(r->body + r->body_len, d, n);
		r->body_len += n;
	}
	if (over) {
		r->body_truncated = true;
		p->state = ST_DONE;
	}
}

/* The empty line after the headers: pick the body framing. */
static int headers_done(struct http_parser *p)
{
	struct http_response *r = &p->resp;
	if (r->status < 200 && r->status != 101) {
		reset_response(p);  /* interim: the real response follows */
		p->state = ST_STATUS;
		return 0;
	}
	r->content_length = p->cl_state == CL_OK ? p->cl_value : -1;
	if (p->head_request || r->status < 200 || r->status == 204 || r->status == 304) {
		p->state = ST_DONE;
	} else if (p->te_seen) {
		r->chunked = p->te_chunked;
		p->state = p->te_chunked ? ST_CHUNK_SIZE : ST_BODY_CLOSE;
	} else if (p->cl_state == CL_BAD) {
		return fail(p, "bad Content-Length");
	} else if (p->cl_state == CL_CONFLICT) {
		return fail(p, "conflicting Content-Length");
	} else if (p->cl_state == CL_OK) {
		if (p->cl_value == 0) {
			p->state = ST_DONE;
		} else {
			p->remaining = (uint64_t)p->cl_value;
			body_reserve(p, p->remaining < p->lim.max_body ? (size_t)p->remaining : p->lim.max_body);
			p->state = ST_BODY_CL;
		}
	} else {
		p->state = ST_BODY_CLOSE;
	}
	return 0;
}

/* chunk-size [BWS] [; chunk-ext] */
static int parse_chunk_size(struct http_parser *p, size_t n)
{
	const char *s = p->line;
	uint64_t v = 0;
	size_t i = 0;
	for (; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		unsigned d;
		if (is_digit(c))
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			break;
		v = v * 16 + d;
		if (v > HTTP_CHUNK_MAX)
			return fail(p, "chunk size too large");
	}
	if (i == 0)
		return fail(p, "bad chunk size");
	while (i < n && is_blank((unsigned char)s[i]))
		i++;
	if (i < n && s[i] != ';')
		return fail(p, "bad chunk size");
	if (v == 0) {
		p->state = ST_TRAILERS;
	} else {
		p->remaining = v;
		p->state = ST_CHUNK_DATA;
	}
	return 0;
}

/* A complete line in p->line for the line-oriented states. */
static int on_line(struct http_parser *p)
{
	size_t raw = p->line_len;
	size_t n = line_end(p);
	int rc = 0;
	switch (p->state) {
	case ST_STATUS:
		p->header_bytes += raw;
		rc = parse_status(p, n);
		if (rc == 0)
			p->state = ST_HEADERS;
		break;
	case ST_HEADERS:
		p->header_bytes += raw;
		rc = n == 0 ? headers_done(p) : parse_header(p, n);
		break;
	case ST_CHUNK_SIZE:
		rc = parse_chunk_size(p, n);
		break;
	case ST_TRAILERS:
		p->trailer_bytes += raw;
		if (n == 0)
			p->state = ST_DONE;  /* trailers are discarded */
		break;
	default:
		break;
	}
	p->line_len = 0;
	return rc;
}

static size_t line_limit(const struct http_parser *p)
{
	switch (p->state) {
	case ST_STATUS:
	case ST_HEADERS:
		return p->lim.max_header_bytes - p->header_bytes;
	case ST_TRAILERS:
		return p->lim.max_header_bytes - p->trailer_bytes;
	default:
		return HTTP_CHUNK_LINE_MAX;
	}
}

static int result(const struct http_parser *p)
{
	if (p->state == ST_DONE)
		return HTTP_DONE;
	if (p->state == ST_ERROR)
		return HTTP_ERROR;
	return HTTP_AGAIN;
}

int http_parser_feed(struct http_parser *p, const uint8_t *data, size_t len)
{
	size_t off = 0;
	if (len && p->state != ST_DONE && p->state != ST_ERROR)
		p->any_input = true;
	while (off < len && p->state != ST_DONE && p->state != ST_ERROR) {
		const uint8_t *d = data + off;
		size_t n = len - off, used;
		switch (p->state) {
		case ST_STATUS:
		case ST_HEADERS:
		case ST_CHUNK_SIZE:
		case ST_TRAILERS: {
			/* the first bytes of a status line go one check at a time,
			 * so non-HTTP input fails before anything else */
			if (p->state == ST_STATUS && p->line_len < STATUS_CHECKED && n > STATUS_CHECKED - p->line_len)
				n = STATUS_CHECKED - p->line_len;
			int r = line_take(p, d, n, &used, line_limit(p));
			off += used;
			if (p->state == ST_STATUS && p->line_len <= STATUS_CHECKED && status_prefix_check(p) < 0)
				return HTTP_ERROR;
			if (r < 0) {
				if (p->state == ST_CHUNK_SIZE)
					return fail(p, "chunk size line too long");
				if (p->state == ST_TRAILERS)
					return fail(p, "trailers too large");
				return fail(p, "headers too large");
			}
			if (r == 1 && on_line(p) < 0)
				return HTTP_ERROR;
			break;
		}
		case ST_BODY_CL:
		case ST_CHUNK_DATA:
			used = n < p->remaining ? n : (size_t)p->remaining;
			p->remaining -= used;
			off += used;
			body_add(p, d, used);
			if (p->state == ST_DONE)
				break;
			if (p->remaining == 0) {
				p->state = p->state == ST_BODY_CL ? ST_DONE : ST_CHUNK_CR;
			} else if (p->resp.body_len == p->lim.max_body) {
				/* full, and more is announced: no need to wait */
				p->resp.body_truncated = true;
				p->state = ST_DONE;
			}
			break;
		case ST_BODY_CLOSE:
			off += n;
			body_add(p, d, n);
			break;
		case ST_CHUNK_CR:
			off++;
			if (d[0] == '\r')
				p->state = ST_CHUNK_LF;
			else if (d[0] == '\n')
				p->state = ST_CHUNK_SIZE;
			else
				return fail(p, "missing CRLF after chunk");
			break;
		case ST_CHUNK_LF:
			off++;
			if (d[0] != '\n')
				return fail(p, "missing CRLF after chunk");
			p->state = ST_CHUNK_SIZE;
			break;
		default:
			break;
		}
		if (p->state == ST_DONE)
			p->extra = len - off;
	}
	return result(p);
}

int http_parser_eof(struct http_parser *p)
{
	switch (p->state) {
	case ST_DONE:
	case ST_ERROR:
		break;
	case ST_BODY_CLOSE:
	case ST_TRAILERS:
		p->state = ST_DONE;
		break;
	case ST_STATUS:
		return fail(p, p->any_input ? "truncated headers" : "no response");
	case ST_HEADERS:
		return fail(p, "truncated headers");
	default:
		return fail(p, "truncated body");
	}
	return result(p);
}
