/* html.h - the two facts read from a (hostile, possibly truncated) HTML
 * body: its <title> and its <meta name="generator">. Not an HTML parser:
 * a linear scan that skips comments, with bounded output. */
#ifndef VIGIL_HTML_H
#define VIGIL_HTML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest title returned, in bytes (without the NUL). */
#define HTML_TITLE_MAX 512

/* The text of the first <title ...>...</title> outside comments (tag names
 * ASCII case-insensitive, attributes allowed). Entities &amp; &lt; &gt;
 * &quot; &apos; &#39; &nbsp; and numeric &#NN; / &#xHH; are decoded (a bad
 * code point becomes U+FFFD, NUL bytes too); runs of ASCII whitespace become
 * one space; leading and trailing whitespace is trimmed; at most
 * HTML_TITLE_MAX bytes, cut on a UTF-8 boundary. Other bytes, invalid UTF-8
 * included, are kept as they are. A title without </title> runs to the end
 * of the body (as in browsers; the body may have been truncated). Returns a
 * NUL-terminated string the caller frees ("" for an empty title), or NULL
 * if there is no complete <title> start tag. */
char *html_title(const uint8_t *body, size_t len);

/* The content of the first <meta name="generator" content="..."> (attribute
 * names and the value "generator" ASCII case-insensitive, attributes in
 * either order, values double-, single- or un-quoted), decoded and trimmed
 * like a title, NUL-terminated, cut to outlen - 1 bytes on a UTF-8 boundary.
 * Returns true if found (out may be "" for an empty content), false (out
 * "" when outlen > 0) otherwise. */
bool html_meta_generator(const uint8_t *body, size_t len, char *out, size_t outlen);

#endif
