/* import_int.h - shared internals of the importers (src/store/import*.c):
 * the input source (file descriptor or memory, read line by line with a
 * cap), the per-import context and report helpers, a small bounded JSON
 * parser, and field helpers (addresses, times, HTTP heads). Not a public
 * API: only import*.c include it. */
#ifndef VIGIL_IMPORT_INT_H
#define VIGIL_IMPORT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "store/import.h"

/* ---- input source ---- */

struct import_src {
	int fd;                  /* -1: memory source */
	const uint8_t *mem;      /* memory source */
	size_t memlen, mempos;
	uint8_t *buf;            /* fd source: buffered bytes buf[start..end) */
	size_t cap, start, end;
	bool eof;
	int read_errno;          /* first read error, 0 if none */
	uint64_t lineno;         /* number of the line last returned (1-based) */
	bool at_start;           /* a UTF-8 BOM is dropped at the very start */
	bool skipping;           /* fd source: drop the rest of a too long line */
};

void import_src_mem(struct import_src *s, const uint8_t *data, size_t len);
void import_src_fd(struct import_src *s, int fd);
void import_src_free(struct import_src *s);
/* Buffer up to want bytes from the start of the input without consuming
 * them (for format detection); *head and *len describe what is available. */
void import_src_peek(struct import_src *s, size_t want, const uint8_t **head, size_t *len);
/* The next line without "\n" or "\r\n". Returns 1 with the line, 0 at the
 * end (or on a read error, see read_errno). A line longer than
 * IMPORT_MAX_LINE is returned cut to that length with *too_long set; the
 * rest of it is skipped. The pointer is valid until the next call. */
int import_src_line(struct import_src *s, const char **line, size_t *len, bool *too_long);
/* Raw bytes (for the XML reader): up to n bytes, 0 at the end, -1 on error. */
ssize_t import_src_read(struct import_src *s, void *dst, size_t n);

/* ---- context ---- */

struct ij_arena;

struct import_ctx {
	struct import_src *src;
	uint16_t default_port;
	time_t default_time;     /* for records whose format carries no time */
	import_emit_fn *emit;
	void *arg;
	struct import_report *rep;
	bool stopped;            /* emit() returned non-zero */
	struct ij_arena *arena;  /* reused JSON arena */
};

/* Count a bad line and keep "line N: message" among the first errors. */
void import_bad(struct import_ctx *c, uint64_t line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The next line worth parsing, for the line-oriented formats: an over-long
 * line is reported as bad and skipped, so are blank lines and, when
 * comments is true, lines starting with '#'. Returns 1 with the line, its
 * number and the offset of its first non-blank byte; 0 at the end. */
int import_next_line(struct import_ctx *c, bool comments, const char **line, size_t *len, size_t *start,
		     uint64_t *lineno);
/* Hand rec to emit(), count it, free it. Returns -1 when emit() asked to stop. */
int import_emit(struct import_ctx *c, struct service_record *rec);

/* The per-format readers; each returns 0, or -1 when stopped by emit()
 * (bad lines are reported, not returned). */
int import_read_vigil(struct import_ctx *c);
int import_read_shodan(struct import_ctx *c);
int import_read_masscan_json(struct import_ctx *c);
int import_read_masscan_list(struct import_ctx *c);
int import_read_zmap(struct import_ctx *c);
int import_read_nmap(struct import_ctx *c);

/* ---- masscan's merge window (import_masscan.c) ---- */

/* A bounded FIFO of pending records keyed by (ip, port): masscan reports a
 * port and its banners as separate entries, merged here. */
struct import_window;

struct import_window *import_window_new(void);
/* The pending record for (ip, port), created (with ts) if new, after
 * emitting the oldest one when full. NULL when emit() asked to stop. */
struct service_record *import_window_get(struct import_ctx *c, struct import_window *w, uint32_t ip, uint16_t port,
					 time_t ts, bool *created);
/* Emit every pending record, oldest first. -1 when emit() asked to stop. */
int import_window_flush(struct import_ctx *c, struct import_window *w);
/* Free the window and whatever it still holds (not emitted). */
void import_window_free(struct import_window *w);
/* Merge one masscan banner (its application name and bytes) into rec:
 * "title" and "http.server" go to http, "ssl" marks TLS, others are the
 * banner (an "http" banner also gives the HTTP status and headers). */
void import_masscan_banner(struct service_record *rec, const char *app, size_t applen, const char *data, size_t n);
/* Decode \xNN escapes (masscan, Nmap's banner script) in place; returns
 * the new length. */
size_t import_unescape_x(char *s, size_t n);

/* ---- bounded JSON parser ---- */

enum ij_type { IJ_NULL, IJ_BOOL, IJ_NUM, IJ_STR, IJ_ARR, IJ_OBJ };

struct ij_val {
	enum ij_type type;
	bool b;                  /* IJ_BOOL */
	const char *str;         /* IJ_STR: decoded bytes; IJ_NUM: the number's text; NUL-terminated */
	size_t len;              /* IJ_STR/IJ_NUM: bytes in str; IJ_ARR/IJ_OBJ: children */
	const char *key;         /* member of an object: its key (decoded, NUL-terminated) */
	size_t keylen;
	struct ij_val *child;    /* IJ_ARR/IJ_OBJ: first child */
	struct ij_val *next;     /* next sibling */
};

/* Decoding of \u0080-\u00ff escapes: vigil and masscan write a raw byte
 * that is not valid UTF-8 as \u00XX (its Latin-1 reading), so IJ_RAW_BYTES
 * turns those escapes back into the byte; otherwise they are the Unicode
 * code point, UTF-8 encoded (standard JSON, Shodan). */
#define IJ_RAW_BYTES 1

#define IJ_MAX_DEPTH 64

enum { IJ_OK = 0, IJ_ERR = -1, IJ_INCOMPLETE = -2 };

struct ij_arena *ij_arena_new(void);
void ij_arena_reset(struct ij_arena *a);
void ij_arena_free(struct ij_arena *a);

/* Parse one JSON value at text[*pos..len) (leading blanks skipped). On
 * IJ_OK *out is the value and *pos is just past it. IJ_INCOMPLETE: the text
 * ended inside the value. IJ_ERR: syntax error at *pos, message in err. */
int ij_parse(struct ij_arena *a, const char *text, size_t len, size_t *pos, int flags, struct ij_val **out, char *err,
	     size_t errlen);
/* The member key of object o (the last one if repeated), or NULL. */
const struct ij_val *ij_get(const struct ij_val *o, const char *key);
/* ij_get that also requires a type (NULL otherwise). */
const struct ij_val *ij_get_type(const struct ij_val *o, const char *key, enum ij_type t);
/* String member as a NUL-terminated C string, or NULL. */
const char *ij_get_str(const struct ij_val *o, const char *key);
/* An integer in [min, max] from a number without fraction or exponent (or,
 * with allow_str, a string of digits). Returns 0 or -1. */
int ij_int(const struct ij_val *v, int64_t min, int64_t max, bool allow_str, int64_t *out);

/* ---- field helpers ---- */

/* IPv4 dotted quad into *ip. Returns 0; -1 for garbage; -2 for an IPv6
 * address (the caller reports "IPv6 not supported yet"). */
int import_parse_ip(const char *s, size_t len, uint32_t *ip);
/* Decimal digits only (no sign, no blanks), at most max. Returns 0 or -1. */
int import_parse_uint(const char *s, size_t len, uint32_t max, uint32_t *out);
/* "YYYY-MM-DD[T ]HH:MM:SS[.frac][Z|+hh:mm|+hhmm]" (no zone: UTC) or
 * "YYYYMMDDHHMMSSZ" (X.509 style). Returns 0 or -1. */
int import_parse_time(const char *s, size_t len, time_t *out);
/* Latest time accepted anywhere (9999-12-31T23:59:59Z): later ones would
 * not survive the vigil round trip (a 5-digit year). */
#define IMPORT_MAX_TIME 253402300799LL

/* Unix seconds as decimal digits, at most IMPORT_MAX_TIME. Returns 0 or -1. */
int import_parse_unix(const char *s, size_t len, time_t *out);
/* t as "YYYY-MM-DDTHH:MM:SSZ" into buf[24]. */
void import_fmt_time(time_t t, char buf[24]);
/* Copy s[0..len) into a char array of size dst_size, cut if longer (at a
 * UTF-8 character boundary). */
void import_copy_fixed(char *dst, size_t dst_size, const char *s, size_t len);
/* Set a string field from s[0..len) (cut at a NUL byte and at cap bytes). */
void import_set_str(char **dst, const char *s, size_t len, size_t cap);
/* Set the banner to bytes[0..len), cut at IMPORT_MAX_BANNER. */
void import_set_banner(struct service_record *rec, const void *bytes, size_t len);
/* If data starts with an HTTP response head ("HTTP/1.1 200 OK\r\n..."), set
 * has_http, the status, the headers (capped) and server/location where not
 * set yet. Returns true if it was an HTTP head. */
bool import_http_head(struct service_record *rec, const char *data, size_t len);
/* Add one header, capped in count and length; fills server/location. */
void import_http_header(struct service_record *rec, const char *name, size_t nlen, const char *value, size_t vlen);

#endif
