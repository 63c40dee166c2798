/* html.c - owns extracting the title and the generator meta tag from HTML
 * bodies: a single forward scan (comments and script/style contents are
 * skipped), a small start-tag attribute reader, entity decoding and
 * whitespace collapsing into a bounded output. Every index is checked
 * against the body length; the work is linear in the body size. */
#include "probe/html.h"

#include <stdlib.h>
#include <string.h>

#include "lib/alloc.h"

static bool is_ws(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

static uint8_t lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

/* Does s[i..len) start with word (lowercase ASCII), case-insensitively? */
static bool ci_at(const uint8_t *s, size_t len, size_t i, const char *word)
{
	size_t n = strlen(word);
	if (i > len || len - i < n)
		return false;
	for (size_t k = 0; k < n; k++)
		if (lower(s[i + k]) != (uint8_t)word[k])
			return false;
	return true;
}

/* Does a tag name end at i (end of input counts as not ending it)? */
static bool name_ends(const uint8_t *s, size_t len, size_t i)
{
	return i < len && (is_ws(s[i]) || s[i] == '/' || s[i] == '>');
}

/* First i >= from where s[i..] is "</tag" ending a name, or len. */
static size_t find_end_tag(const uint8_t *s, size_t len, size_t from, const char *tag)
{
	size_t n = strlen(tag);
	for (size_t i = from; i < len; i++) {
		const uint8_t *lt = memchr(s + i, '<', len - i);
		if (!lt)
			return len;
		i = (size_t)(lt - s);
		if (i + 1 < len && s[i + 1] == '/' && ci_at(s, len, i + 2, tag) &&
		    (i + 2 + n == len || name_ends(s, len, i + 2 + n)))
			return i;
	}
	return len;
}

struct attr {
	size_t name, nlen;  /* offsets into the body */
	size_t val, vlen;
};

/* Read the next attribute of a start tag from *pos. Returns 1 with a
 * filled in, 0 at the tag's '>' (*pos just after it), -1 if the input ends
 * first. */
static int next_attr(const uint8_t *s, size_t len, size_t *pos, struct attr *a)
{
	size_t i = *pos;
	while (i < len && (is_ws(s[i]) || s[i] == '/'))
		i++;
	if (i >= len)
		return -1;
	if (s[i] == '>') {
		*pos = i + 1;
		return 0;
	}
	a->name = i++;  /* a leading '=' belongs to the name */
	while (i < len && !is_ws(s[i]) && s[i] != '/' && s[i] != '>' && s[i] != '=')
		i++;
	a->nlen = i - a->name;
	a->val = i;
	a->vlen = 0;
	size_t j = i;
	while (j < len && is_ws(s[j]))
		j++;
	if (j < len && s[j] == '=') {
		j++;
		while (j < len && is_ws(s[j]))
			j++;
		if (j >= len)
			return -1;
		if (s[j] == '"' || s[j] == '\'') {
			const uint8_t *q = memchr(s + j + 1, s[j], len - j - 1);
			if (!q)
				return -1;
			a->val = j + 1;
			a->vlen = (size_t)(q - s) - a->val;
			i = (size_t)(q - s) + 1;
		} else {
			a->val = j;
			while (j < len && !is_ws(s[j]) && s[j] != '>')
				j++;
			a->vlen = j - a->val;
			i = j;
		}
	}
	*pos = i;
	return 1;
}

/* Skip the rest of a start tag from *pos. Returns 0, or -1 if unterminated. */
static int skip_tag(const uint8_t *s, size_t len, size_t *pos)
{
	struct attr a;
	int r;
	while ((r = next_attr(s, len, pos, &a)) == 1)
		;
	return r;
}

/* Find the next <tag start tag at or after *pos outside comments and
 * script/style contents. Returns 0 with *pos just after the tag name, -1 if
 * there is none. */
static int find_start_tag(const uint8_t *s, size_t len, size_t *pos, const char *tag)
{
	size_t n = strlen(tag);
	size_t i = *pos;
	while (i < len) {
		const uint8_t *lt = memchr(s + i, '<', len - i);
		if (!lt)
			return -1;
		i = (size_t)(lt - s);
		if (ci_at(s, len, i, "<!--")) {
			size_t k = i + 4;
			for (;;) {
				const uint8_t *d = k < len ? memchr(s + k, '-', len - k) : NULL;
				if (!d)
					return -1;
				k = (size_t)(d - s);
				if (ci_at(s, len, k, "-->"))
					break;
				k++;
			}
			i = k + 3;
			continue;
		}
		if (ci_at(s, len, i + 1, tag) && name_ends(s, len, i + 1 + n)) {
			*pos = i + 1 + n;
			return 0;
		}
		const char *raw = NULL;
		if (ci_at(s, len, i + 1, "script") && name_ends(s, len, i + 7))
			raw = "script";
		else if (ci_at(s, len, i + 1, "style") && name_ends(s, len, i + 6))
			raw = "style";
		if (raw) {
			size_t k = i + 1 + strlen(raw);
			if (skip_tag(s, len, &k) < 0)
				return -1;
			i = find_end_tag(s, len, k, raw);
			if (i < len)
				i++;
			continue;
		}
		i++;
	}
	return -1;
}

/* Bounded text output with whitespace collapsing. */
struct text_out {
	char *buf;
	size_t cap;   /* bytes available, excluding the NUL */
	size_t len;
	bool space;   /* whitespace seen since the last text */
	bool full;
};

static void out_add(struct text_out *o, const uint8_t *u, size_t n)
{
	if (o->full)
		return;
	size_t need = n + (o->space && o->len > 0);
	if (need > o->cap - o->len) {
		o->full = true;
		return;
	}
	if (o->space && o->len > 0)
		o->buf[o->len++] = ' ';
	o->space = false;
	memcpy(o->buf + o->len, u, n);
	o->len += n;
}

static size_t utf8_encode(uint32_t cp, uint8_t *u)
{
	if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		cp = 0xfffd;
	if (cp < 0x80) {
		u[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		u[0] = (uint8_t)(0xc0 | (cp >> 6));
		u[1] = (uint8_t)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		u[0] = (uint8_t)(0xe0 | (cp >> 12));
		u[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (uint8_t)(0x80 | (cp & 0x3f));
		return 3;
	}
	u[0] = (uint8_t)(0xf0 | (cp >> 18));
	u[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
	u[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
	u[3] = (uint8_t)(0x80 | (cp & 0x3f));
	return 4;
}

/* Decode the entity at s[i] == '&' within s[..end). Returns the bytes it
 * spans and the code point in *cp, or 0 if it is not one we decode. */
static size_t entity(const uint8_t *s, size_t end, size_t i, uint32_t *cp)
{
	static const struct {
		const char *name;
		uint32_t cp;
	} named[] = {
		{"amp;", '&'}, {"lt;", '<'}, {"gt;", '>'}, {"quot;", '"'},
		{"apos;", '\''}, {"nbsp;", 0xa0},
	};
	size_t j = i + 1;
	if (j < end && s[j] == '#') {
		j++;
		bool hex = j < end && (s[j] == 'x' || s[j] == 'X');
		if (hex)
			j++;
		uint32_t v = 0;
		size_t digits = 0;
		for (; j < end && digits < 16; j++, digits++) {
			uint8_t c = s[j], d;
			if (c >= '0' && c <= '9')
				d = (uint8_t)(c - '0');
			else if (hex && lower(c) >= 'a' && lower(c) <= 'f')
				d = (uint8_t)(lower(c) - 'a' + 10);
			else
				break;
			v = v * (hex ? 16 : 10) + d;
			if (v > 0x10ffff)
				v = 0x110000;  /* stays out of range, no overflow */
		}
		if (digits == 0 || j >= end || s[j] != ';')
			return 0;
		*cp = v;
		return j + 1 - i;
	}
	for (size_t k = 0; k < sizeof(named) / sizeof(named[0]); k++) {
		size_t n = strlen(named[k].name);
		if (end - j >= n && memcmp(s + j, named[k].name, n) == 0) {
			*cp = named[k].cp;
			return n + 1;
		}
	}
	return 0;
}

/* Decode s[a..b) into o: entities, NUL to U+FFFD, whitespace collapsed. */
static void decode_text(const uint8_t *s, size_t a, size_t b, struct text_out *o)
{
	for (size_t i = a; i < b && !o->full;) {
		uint8_t u[4];
		uint32_t cp;
		size_t used = s[i] == '&' ? entity(s, b, i, &cp) : 0;
		if (used)
			i += used;
		else
			cp = s[i++];
		if (cp < 0x80 && is_ws((uint8_t)cp)) {
			o->space = true;
		} else if (!used && cp >= 0x80) {
			u[0] = (uint8_t)cp;  /* a raw byte is kept as it is */
			out_add(o, u, 1);
		} else {
			out_add(o, u, utf8_encode(cp, u));  /* NUL: U+FFFD */
		}
	}
	if (o->full) {
		/* drop a multi-byte sequence cut by the cap */
		size_t k = o->len, cont = 0;
		while (k > 0 && cont < 3 && ((uint8_t)o->buf[k - 1] & 0xc0) == 0x80) {
			k--;
			cont++;
		}
		if (k > 0) {
			uint8_t lead = (uint8_t)o->buf[k - 1];
			size_t want = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
			if (lead >= 0xc0 && want > cont + 1)
				o->len = k - 1;
		}
		while (o->len > 0 && o->buf[o->len - 1] == ' ')
			o->len--;
	}
	o->buf[o->len] = '\0';
}

char *html_title(const uint8_t *body, size_t len)
{
	size_t i = 0;
	if (!body || find_start_tag(body, len, &i, "title") < 0 || skip_tag(body, len, &i) < 0)
		return NULL;
	size_t end = find_end_tag(body, len, i, "title");
	struct text_out o = {.buf = xmalloc(HTML_TITLE_MAX + 1), .cap = HTML_TITLE_MAX};
	decode_text(body, i, end, &o);
	return xrealloc(o.buf, o.len + 1);
}

/* Is s[off..off+n) the word (lowercase ASCII), case-insensitively? */
static bool span_is(const uint8_t *s, size_t off, size_t n, const char *word)
{
	return n == strlen(word) && ci_at(s, off + n, off, word);
}

bool html_meta_generator(const uint8_t *body, size_t len, char *out, size_t outlen)
{
	if (outlen == 0)
		return false;
	out[0] = '\0';
	if (!body)
		return false;
	size_t i = 0;
	while (find_start_tag(body, len, &i, "meta") == 0) {
		struct attr a;
		bool gen = false, seen_name = false, seen_content = false;
		size_t cval = 0, clen = 0;
		int r;
		while ((r = next_attr(body, len, &i, &a)) == 1) {
			if (!seen_name && span_is(body, a.name, a.nlen, "name")) {
				seen_name = true;
				gen = span_is(body, a.val, a.vlen, "generator");
			} else if (!seen_content && span_is(body, a.name, a.nlen, "content")) {
				seen_content = true;
				cval = a.val;
				clen = a.vlen;
			}
		}
		if (r < 0)
			return false;
		if (gen && seen_content) {
			struct text_out o = {.buf = out, .cap = outlen - 1};
			decode_text(body, cval, cval + clen, &o);
			return true;
		}
	}
	return false;
}
