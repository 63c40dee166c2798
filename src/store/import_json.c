/* import_json.c - the importers' JSON parser: strict RFC 8259 values into an
 * arena-allocated tree, with a depth cap and exact string decoding (see
 * IJ_RAW_BYTES). Hand-written rather than json-c because vigil and masscan
 * carry raw banner bytes as \u00XX escapes, which json-c would turn into
 * different (UTF-8) bytes, breaking the vigil round trip. The input size is
 * capped by the caller (one line or object), and so is the tree. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/alloc.h"
#include "store/import_int.h"

#define IJ_CHUNK (64u << 10)
/* Values per parse: keeps the tree small even for "[1,1,1,...]" lines. */
#define IJ_MAX_NODES 200000

struct ij_chunk {
	struct ij_chunk *next;
	size_t cap, used;
	max_align_t data[];
};

struct ij_arena {
	struct ij_chunk *head;  /* current chunk first; the last one is kept on reset */
};

struct ij_arena *ij_arena_new(void)
{
	struct ij_arena *a = xcalloc(1, sizeof(*a));
	return a;
}

void ij_arena_reset(struct ij_arena *a)
{
	/* keep one standard-size chunk for the next line */
	struct ij_chunk *keep = NULL;
	struct ij_chunk *c = a->head;
	while (c) {
		struct ij_chunk *next = c->next;
		if (!keep && c->cap == IJ_CHUNK) {
			keep = c;
		} else {
			free(c);
		}
		c = next;
	}
	if (keep) {
		keep->next = NULL;
		keep->used = 0;
	}
	a->head = keep;
}

void ij_arena_free(struct ij_arena *a)
{
	if (!a)
		return;
	struct ij_chunk *c = a->head;
	while (c) {
		struct ij_chunk *next = c->next;
		free(c);
		c = next;
	}
	free(a);
}

static void *ij_alloc(struct ij_arena *a, size_t n)
{
	n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
	if (!a->head || a->head->cap - a->head->used < n) {
		size_t cap = n > IJ_CHUNK ? n : IJ_CHUNK;
		struct ij_chunk *c = xmalloc(sizeof(*c) + cap);
		c->cap = cap;
		c->used = 0;
		if (cap > IJ_CHUNK && a->head) {
			/* a big one-off block goes behind the current chunk */
			c->next = a->head->next;
			a->head->next = c;
			c->used = n;
			return c->data;
		}
		c->next = a->head;
		a->head = c;
	}
	void *p = (char *)a->head->data + a->head->used;
	a->head->used += n;
	return p;
}

struct ij_parser {
	struct ij_arena *a;
	const char *s;
	size_t len, pos;
	int flags;
	char *err;
	size_t errlen;
	bool incomplete;
	size_t nodes;
};

static int ij_fail(struct ij_parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int ij_fail(struct ij_parser *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->err, p->errlen, fmt, ap);
	va_end(ap);
	return IJ_ERR;
}

static int ij_eof(struct ij_parser *p, const char *what)
{
	p->incomplete = true;
	return ij_fail(p, "unexpected end of input in %s", what);
}

static void ij_skip_ws(struct ij_parser *p)
{
	while (p->pos < p->len) {
		char c = p->s[p->pos];
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		p->pos++;
	}
}

static int hex4(const char *s, unsigned *out)
{
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		char c = s[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static size_t utf8_put(char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* p->s[p->pos] is the opening quote. Decodes into the arena. Every escape
 * decodes to at most as many bytes as it takes in the input (a \uXXXX
 * escape is 6 bytes and becomes at most 3; a surrogate pair is 12 and
 * becomes 4), so the input length bounds the output. */
static int ij_string(struct ij_parser *p, const char **out, size_t *outlen)
{
	size_t i = p->pos + 1;
	size_t end = i;
	while (end < p->len && p->s[end] != '"') {
		if (p->s[end] == '\\')
			end++;
		end++;
	}
	if (end >= p->len) {
		p->pos = p->len;
		return ij_eof(p, "a string");
	}
	char *o = ij_alloc(p->a, end - i + 1);
	size_t n = 0;
	while (i < end) {
		unsigned char c = (unsigned char)p->s[i];
		if (c < 0x20) {
			p->pos = i;
			return ij_fail(p, "control character 0x%02x in a string", c);
		}
		if (c != '\\') {
			o[n++] = (char)c;
			i++;
			continue;
		}
		char e = p->s[i + 1];
		switch (e) {
		case '"': o[n++] = '"'; i += 2; continue;
		case '\\': o[n++] = '\\'; i += 2; continue;
		case '/': o[n++] = '/'; i += 2; continue;
		case 'b': o[n++] = '\b'; i += 2; continue;
		case 'f': o[n++] = '\f'; i += 2; continue;
		case 'n': o[n++] = '\n'; i += 2; continue;
		case 'r': o[n++] = '\r'; i += 2; continue;
		case 't': o[n++] = '\t'; i += 2; continue;
		case 'u': break;
		default:
			p->pos = i;
			return ij_fail(p, "bad escape in a string");
		}
		unsigned cp;
		if (i + 6 > end || hex4(p->s + i + 2, &cp) < 0) {
			p->pos = i;
			return ij_fail(p, "bad \\u escape in a string");
		}
		i += 6;
		if (cp >= 0xd800 && cp <= 0xdbff) {
			unsigned lo;
			if (i + 6 <= end && p->s[i] == '\\' && p->s[i + 1] == 'u' && hex4(p->s + i + 2, &lo) == 0 &&
			    lo >= 0xdc00 && lo <= 0xdfff) {
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				i += 6;
			} else {
				cp = 0xfffd;  /* lone high surrogate */
			}
		} else if (cp >= 0xdc00 && cp <= 0xdfff) {
			cp = 0xfffd;  /* lone low surrogate */
		}
		if ((p->flags & IJ_RAW_BYTES) && cp >= 0x80 && cp <= 0xff)
			o[n++] = (char)cp;
		else
			n += utf8_put(o + n, cp);
	}
	o[n] = '\0';
	*out = o;
	*outlen = n;
	p->pos = end + 1;
	return IJ_OK;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int ij_number(struct ij_parser *p, struct ij_val *v)
{
	size_t i = p->pos;
	if (i < p->len && p->s[i] == '-')
		i++;
	if (i >= p->len)
		return ij_eof(p, "a number");
	if (p->s[i] == '0') {
		i++;
	} else if (is_digit(p->s[i])) {
		while (i < p->len && is_digit(p->s[i]))
			i++;
	} else {
		p->pos = i;
		return ij_fail(p, "bad number");
	}
	if (i < p->len && p->s[i] == '.') {
		i++;
		if (i >= p->len)
			return ij_eof(p, "a number");
		if (!is_digit(p->s[i])) {
			p->pos = i;
			return ij_fail(p, "bad number");
		}
		while (i < p->len && is_digit(p->s[i]))
			i++;
	}
	if (i < p->len && (p->s[i] == 'e' || p->s[i] == 'E')) {
		i++;
		if (i < p->len && (p->s[i] == '+' || p->s[i] == '-'))
			i++;
		if (i >= p->len)
			return ij_eof(p, "a number");
		if (!is_digit(p->s[i])) {
			p->pos = i;
			return ij_fail(p, "bad number");
		}
		while (i < p->len && is_digit(p->s[i]))
			i++;
	}
	size_t n = i - p->pos;
	char *t = ij_alloc(p->a, n + 1);
	memcpy(t, p->s + p->pos, n);
	t[n] = '\0';
	v->type = IJ_NUM;
	v->str = t;
	v->len = n;
	p->pos = i;
	return IJ_OK;
}

static int ij_literal(struct ij_parser *p, const char *word)
{
	size_t n = strlen(word);
	size_t avail = p->len - p->pos;
	if (memcmp(p->s + p->pos, word, avail < n ? avail : n) != 0)
		return ij_fail(p, "unexpected character '%c'", p->s[p->pos]);
	if (avail < n) {
		p->pos = p->len;
		return ij_eof(p, "a literal");
	}
	p->pos += n;
	return IJ_OK;
}

static int ij_value(struct ij_parser *p, struct ij_val *v, int depth);

static int ij_container(struct ij_parser *p, struct ij_val *v, int depth, bool is_obj)
{
	v->type = is_obj ? IJ_OBJ : IJ_ARR;
	if (depth >= IJ_MAX_DEPTH)
		return ij_fail(p, "nested deeper than %d levels", IJ_MAX_DEPTH);
	char close = is_obj ? '}' : ']';
	p->pos++;
	struct ij_val **tail = &v->child;
	ij_skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == close) {
		p->pos++;
		return IJ_OK;
	}
	for (;;) {
		if (++p->nodes > IJ_MAX_NODES)
			return ij_fail(p, "more than %d values", IJ_MAX_NODES);
		struct ij_val *kid = ij_alloc(p->a, sizeof(*kid));
		memset(kid, 0, sizeof(*kid));
		ij_skip_ws(p);
		if (is_obj) {
			if (p->pos >= p->len)
				return ij_eof(p, "an object");
			if (p->s[p->pos] != '"')
				return ij_fail(p, "expected a string key");
			int rc = ij_string(p, &kid->key, &kid->keylen);
			if (rc != IJ_OK)
				return rc;
			ij_skip_ws(p);
			if (p->pos >= p->len)
				return ij_eof(p, "an object");
			if (p->s[p->pos] != ':')
				return ij_fail(p, "expected ':' after a key");
			p->pos++;
		}
		int rc = ij_value(p, kid, depth + 1);
		if (rc != IJ_OK)
			return rc;
		*tail = kid;
		tail = &kid->next;
		v->len++;
		ij_skip_ws(p);
		if (p->pos >= p->len)
			return ij_eof(p, is_obj ? "an object" : "an array");
		char c = p->s[p->pos];
		if (c == ',') {
			p->pos++;
			continue;
		}
		if (c == close) {
			p->pos++;
			return IJ_OK;
		}
		return ij_fail(p, "expected ',' or '%c'", close);
	}
}

static int ij_value(struct ij_parser *p, struct ij_val *v, int depth)
{
	ij_skip_ws(p);
	if (p->pos >= p->len)
		return ij_eof(p, "a value");
	char c = p->s[p->pos];
	switch (c) {
	case '{':
		return ij_container(p, v, depth, true);
	case '[':
		return ij_container(p, v, depth, false);
	case '"':
		v->type = IJ_STR;
		return ij_string(p, &v->str, &v->len);
	case 't':
		v->type = IJ_BOOL;
		v->b = true;
		return ij_literal(p, "true");
	case 'f':
		v->type = IJ_BOOL;
		v->b = false;
		return ij_literal(p, "false");
	case 'n':
		v->type = IJ_NULL;
		return ij_literal(p, "null");
	default:
		if (c == '-' || is_digit(c))
			return ij_number(p, v);
		if ((unsigned char)c >= 0x20 && (unsigned char)c < 0x7f)
			return ij_fail(p, "unexpected character '%c'", c);
		return ij_fail(p, "unexpected byte 0x%02x", (unsigned char)c);
	}
}

int ij_parse(struct ij_arena *a, const char *text, size_t len, size_t *pos, int flags, struct ij_val **out, char *err,
	     size_t errlen)
{
	struct ij_parser p = {.a = a, .s = text, .len = len, .pos = *pos, .flags = flags, .err = err, .errlen = errlen};
	struct ij_val *v = ij_alloc(a, sizeof(*v));
	memset(v, 0, sizeof(*v));
	int rc = ij_value(&p, v, 0);
	*pos = p.pos;
	if (rc != IJ_OK)
		return p.incomplete ? IJ_INCOMPLETE : IJ_ERR;
	*out = v;
	return IJ_OK;
}

const struct ij_val *ij_get(const struct ij_val *o, const char *key)
{
	if (!o || o->type != IJ_OBJ)
		return NULL;
	const struct ij_val *found = NULL;
	size_t klen = strlen(key);
	for (const struct ij_val *k = o->child; k; k = k->next)
		if (k->keylen == klen && memcmp(k->key, key, klen) == 0)
			found = k;
	return found;
}

const struct ij_val *ij_get_type(const struct ij_val *o, const char *key, enum ij_type t)
{
	const struct ij_val *v = ij_get(o, key);
	return v && v->type == t ? v : NULL;
}

const char *ij_get_str(const struct ij_val *o, const char *key)
{
	const struct ij_val *v = ij_get_type(o, key, IJ_STR);
	return v ? v->str : NULL;
}

int ij_int(const struct ij_val *v, int64_t min, int64_t max, bool allow_str, int64_t *out)
{
	if (!v || !(v->type == IJ_NUM || (allow_str && v->type == IJ_STR)))
		return -1;
	const char *s = v->str;
	size_t n = v->len, i = 0;
	bool neg = false;
	if (n > 0 && s[0] == '-') {
		neg = true;
		i = 1;
	}
	if (i >= n || n - i > 18)
		return -1;
	int64_t x = 0;
	for (; i < n; i++) {
		if (!is_digit(s[i]))
			return -1;
		x = x * 10 + (s[i] - '0');
	}
	if (neg)
		x = -x;
	if (x < min || x > max)
		return -1;
	*out = x;
	return 0;
}
