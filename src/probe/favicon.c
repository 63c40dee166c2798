/* favicon.c - owns the favicon hash: a base64 encoder with Python's
 * encodebytes line breaks and MurmurHash3 x86_32 (public-domain algorithm
 * by Austin Appleby, written out here). */
#include "probe/favicon.h"

#include <stdlib.h>

#include "lib/alloc.h"

#define B64_LINE 76

static uint32_t rotl32(uint32_t x, int r)
{
	return (x << r) | (x >> (32 - r));
}

uint32_t favicon_murmur3_32(const void *data, size_t len, uint32_t seed)
{
	const uint8_t *p = data;
	const uint32_t c1 = 0xcc9e2d51, c2 = 0x1b873593;
	uint32_t h = seed, k;
	size_t nblocks = len / 4;
	for (size_t i = 0; i < nblocks; i++, p += 4) {
		k = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
		k *= c1;
		k = rotl32(k, 15);
		k *= c2;
		h ^= k;
		h = rotl32(h, 13);
		h = h * 5 + 0xe6546b64;
	}
	k = 0;
	switch (len & 3) {
	case 3:
		k ^= (uint32_t)p[2] << 16;
		/* fall through */
	case 2:
		k ^= (uint32_t)p[1] << 8;
		/* fall through */
	case 1:
		k ^= p[0];
		k *= c1;
		k = rotl32(k, 15);
		k *= c2;
		h ^= k;
		break;
	default:
		break;
	}
	h ^= (uint32_t)len;  /* the reference mixes in len modulo 2^32 */
	h ^= h >> 16;
	h *= 0x85ebca6b;
	h ^= h >> 13;
	h *= 0xc2b2ae35;
	h ^= h >> 16;
	return h;
}

/* base64 of data with a '\n' after every B64_LINE characters and at the
 * end; returns the length written to out (sized by the caller). */
static size_t b64_lines(const uint8_t *d, size_t len, char *out)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0, col = 0;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)d[i] << 16;
		size_t n = len - i < 3 ? len - i : 3;
		if (n > 1)
			v |= (uint32_t)d[i + 1] << 8;
		if (n > 2)
			v |= d[i + 2];
		char q[4] = {tab[v >> 18], tab[(v >> 12) & 63], n > 1 ? tab[(v >> 6) & 63] : '=',
			     n > 2 ? tab[v & 63] : '='};
		for (int k = 0; k < 4; k++) {
			out[o++] = q[k];
			if (++col == B64_LINE) {
				out[o++] = '\n';
				col = 0;
			}
		}
	}
	if (col)
		out[o++] = '\n';
	return o;
}

int32_t favicon_hash(const uint8_t *data, size_t len)
{
	if (len > SIZE_MAX / 2)
		abort();  /* callers cap len far below this */
	size_t chars = (len + 2) / 3 * 4;
	char *text = xmalloc(chars + chars / B64_LINE + 1);
	size_t n = b64_lines(data, len, text);
	uint32_t h = favicon_murmur3_32(text, n, 0);
	free(text);
	/* mmh3.hash's signed reading, without implementation-defined casts */
	return h <= INT32_MAX ? (int32_t)h : -(int32_t)~h - 1;
}
