/* ports.h - TCP port lists such as "80,443,8000-8100". */
#ifndef VIGIL_PORTS_H
#define VIGIL_PORTS_H

#include <stddef.h>
#include <stdint.h>

struct portset {
	uint16_t *ports;  /* sorted, unique */
	uint32_t n;
};

/* Parse a port list (comma-separated ports and ranges, 1-65535). Returns 0,
 * or -1 with a message in err. Adds to ps, which must be initialised. */
int ports_parse(const char *s, struct portset *ps, char *err, size_t errlen);
void ports_free(struct portset *ps);

#endif
