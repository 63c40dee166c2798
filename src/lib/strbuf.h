/* strbuf.h - growable byte buffer and JSON string escaping.
 * JSON output must stay valid whatever bytes a remote server sends. */
#ifndef VIGIL_STRBUF_H
#define VIGIL_STRBUF_H

#include <stddef.h>
#include <stdint.h>

struct strbuf {
	char *data;    /* NUL-terminated when non-NULL */
	size_t len;
	size_t cap;
};

void strbuf_init(struct strbuf *sb);
void strbuf_free(struct strbuf *sb);
void strbuf_reset(struct strbuf *sb);
void strbuf_add(struct strbuf *sb, const void *p, size_t n);
void strbuf_adds(struct strbuf *sb, const char *s);
void strbuf_printf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append p[0..n) as a quoted JSON string. Valid UTF-8 passes through;
 * control characters are \u-escaped; each byte of an invalid UTF-8 sequence
 * becomes \u00XX (its Latin-1 reading), so no input can break the JSON. */
void strbuf_json_str(struct strbuf *sb, const void *p, size_t n);

#endif
