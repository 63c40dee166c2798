/* ports.c - owns the port-list syntax: "80", "80,443", "8000-8100". */
#include "scan/ports.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/alloc.h"

static int port_num(const char *s, size_t len, uint32_t *out)
{
	if (len == 0 || len > 5)
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

int ports_parse(const char *s, struct portset *ps, char *err, size_t errlen)
{
	uint8_t *seen = xcalloc(65536 / 8, 1);
	for (uint32_t i = 0; i < ps->n; i++)
		seen[ps->ports[i] >> 3] |= (uint8_t)(1u << (ps->ports[i] & 7));
	const char *p = s;
	if (*p == '\0') {
		snprintf(err, errlen, "empty port list: give ports like -p 80,443,8000-8100");
		goto fail;
	}
	for (;;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		const char *dash = memchr(p, '-', len);
		uint32_t a, b;
		if (dash) {
			if (port_num(p, (size_t)(dash - p), &a) < 0 ||
			    port_num(dash + 1, len - (size_t)(dash - p) - 1, &b) < 0) {
				snprintf(err, errlen, "bad port range '%.*s': expected A-B with 1 <= A <= B <= 65535", (int)(len > 32 ? 32 : len), p);
				goto fail;
			}
		} else if (port_num(p, len, &a) < 0) {
			snprintf(err, errlen, "bad port '%.*s': expected a number 1-65535", (int)(len > 32 ? 32 : len), p);
			goto fail;
		} else {
			b = a;
		}
		if (a == 0 || b == 0 || a > 65535 || b > 65535 || b < a) {
			snprintf(err, errlen, "bad port '%.*s': ports must be 1-65535 (ranges low-high)", (int)(len > 32 ? 32 : len), p);
			goto fail;
		}
		for (uint32_t v = a; v <= b; v++)
			seen[v >> 3] |= (uint8_t)(1u << (v & 7));
		if (!end)
			break;
		p = end + 1;
	}
	uint32_t n = 0;
	for (uint32_t v = 1; v <= 65535; v++)
		n += (seen[v >> 3] >> (v & 7)) & 1;
	free(ps->ports);
	ps->ports = xmalloc(n * sizeof(uint16_t));
	ps->n = 0;
	for (uint32_t v = 1; v <= 65535; v++)
		if ((seen[v >> 3] >> (v & 7)) & 1)
			ps->ports[ps->n++] = (uint16_t)v;
	free(seen);
	return 0;
fail:
	free(seen);
	return -1;
}

void ports_free(struct portset *ps)
{
	free(ps->ports);
	ps->ports = NULL;
	ps->n = 0;
}
