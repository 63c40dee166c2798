/* http.h - incremental HTTP/1.x response parser. Bytes come from hostile
 * servers in any split; memory stays bounded by struct http_limits whatever
 * they send, and non-HTTP input (SSH banners, TLS records) fails within the
 * first few bytes. */
#ifndef VIGIL_HTTP_H
#define VIGIL_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One header as received. name and value are NUL-terminated and share one
 * allocation owned by the response (never free them yourself). The name is
 * kept in its original case, headers in their original order; the value is
 * trimmed of surrounding blanks (SP, HT, CR). A NUL byte inside a value is
 * replaced by a space; other bytes (control characters, invalid UTF-8) are
 * kept as received, so escape them before printing (strbuf_json_str). An
 * obsolete folded continuation line is appended to the value after one
 * space. */
struct http_header {
	char *name;
	char *value;
};

#define HTTP_DEF_MAX_HEADER_BYTES (64u * 1024)
#define HTTP_DEF_MAX_HEADERS 100u
#define HTTP_DEF_MAX_BODY (256u * 1024)
/* Longest chunk-size line (size plus extensions). */
#define HTTP_CHUNK_LINE_MAX 4096u
/* Largest chunk size accepted (2^40). */
#define HTTP_CHUNK_MAX ((uint64_t)1 << 40)

/* A field left at 0 takes its default. */
struct http_limits {
	size_t max_header_bytes;  /* status lines + header lines, terminators
				   * included, of all interim (1xx) and the final
				   * response together; the same cap applies to the
				   * trailer section. Default 64 KiB */
	size_t max_headers;       /* headers kept; more set headers_truncated.
				   * Default 100 */
	size_t max_body;          /* body bytes kept; more set body_truncated.
				   * Default 256 KiB */
};

struct http_response {
	int version_minor;        /* the x of HTTP/1.x: 0..9 (normally 0 or 1) */
	int status;               /* 100..999 (never an interim 1xx but 101) */
	char *reason;             /* "" if absent; NULs replaced by spaces */
	struct http_header *headers;
	size_t nheaders;
	uint8_t *body;            /* decoded (de-chunked); NULL if empty */
	size_t body_len;
	bool body_truncated;      /* more body than max_body (arrived, or still
				   * announced by Content-Length or a chunk size
				   * once max_body bytes are in): parsing stopped
				   * with HTTP_DONE; the connection cannot be
				   * reused */
	bool chunked;             /* Transfer-Encoding's last coding is chunked */
	int64_t content_length;   /* a valid Content-Length header, else -1 (also
				   * set, but not used, with chunked or HEAD) */
	bool headers_truncated;   /* more than max_headers headers: the extra
				   * ones were dropped (framing headers among them
				   * are still honoured) */
};

enum { HTTP_AGAIN = 0, HTTP_DONE = 1, HTTP_ERROR = -1 };

struct http_parser {
	/* private */
	int state;
	struct http_limits lim;
	bool head_request;
	char *line;               /* current line, capped (see http.c) */
	size_t line_len, line_cap;
	size_t header_bytes;      /* header section bytes so far */
	size_t trailer_bytes;
	size_t hdr_cap;           /* slots allocated in resp.headers */
	size_t body_cap;
	uint64_t remaining;       /* Content-Length or chunk bytes to come */
	int cl_state;
	int64_t cl_value;
	bool te_seen, te_chunked;
	int prev_header;          /* what the last header line was (obs-fold) */
	size_t last_nlen, last_vlen, last_cap;  /* last kept header's block */
	/* public */
	bool any_input;           /* some bytes were fed (not "no response") */
	size_t extra;             /* bytes after the response in the feed that
				   * returned HTTP_DONE (ignored; a keep-alive
				   * caller should not reuse the connection
				   * when this is not 0) */
	struct http_response resp;
	char error[128];          /* why HTTP_ERROR, a short phrase */
};

/* Prepare p for one response. lim NULL means the defaults. head_request:
 * the request was HEAD, so the response has no body whatever its headers
 * say. Pair with http_parser_free. */
void http_parser_init(struct http_parser *p, const struct http_limits *lim, bool head_request);

/* Feed bytes as they arrive, in any split (down to one byte at a time).
 * Returns HTTP_AGAIN (need more), HTTP_DONE (p->resp is a complete response;
 * bytes after it, in this and later calls, are ignored), or HTTP_ERROR
 * (malformed or over a limit; p->error says why; later calls keep
 * returning HTTP_ERROR). Interim 1xx responses are skipped, except
 * 101 Switching Protocols which is final. */
int http_parser_feed(struct http_parser *p, const uint8_t *data, size_t len);

/* The peer closed the connection. Returns HTTP_DONE if the response is
 * complete (already done, body delimited by the close, or closed inside the
 * trailers after the last chunk), else HTTP_ERROR: "no response" (nothing
 * received), "truncated headers", or "truncated body" - in that last case
 * p->resp is usable and holds the status, headers and the body bytes that
 * arrived. */
int http_parser_eof(struct http_parser *p);

/* Free everything p holds, p->resp included. p may be initialised again. */
void http_parser_free(struct http_parser *p);

/* Free a response's memory and zero it. A caller may take the response out
 * of the parser (copy p->resp, then memset p->resp to 0) and free it later
 * with this. */
void http_response_free(struct http_response *r);

/* Value of the first header called name (ASCII case-insensitive), or NULL. */
const char *http_response_header(const struct http_response *r, const char *name);

#endif
