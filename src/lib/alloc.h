/* alloc.h - allocation wrappers that abort with a message on out-of-memory.
 * Hostile sizes never reach these: every network-fed buffer has its own cap. */
#ifndef VIGIL_ALLOC_H
#define VIGIL_ALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

#endif
