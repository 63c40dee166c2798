/* dedup.c - constant-memory duplicate-reply suppression. */
#include "scan/dedup.h"

#include <stdlib.h>
#include <string.h>

#include "lib/alloc.h"

void dedup_init(struct dedup *d)
{
	/* calloc: untouched pages stay unmapped, so RSS grows only with hits. */
	d->slots = xcalloc(DEDUP_SLOTS, sizeof(uint64_t));
}

void dedup_free(struct dedup *d)
{
	free(d->slots);
	d->slots = NULL;
}

bool dedup_first(struct dedup *d, uint32_t ip, uint16_t port)
{
	uint64_t key = (((uint64_t)ip << 16) | port) + 1;
	uint64_t h = key * 0x9e3779b97f4a7c15ULL;
	uint64_t *set = d->slots + ((h >> 40) & ((DEDUP_SLOTS - 1) & ~3u));
	for (int i = 0; i < 4; i++)
		if (set[i] == key)
			return false;
	memmove(set + 1, set, 3 * sizeof(uint64_t));  /* newest first */
	set[0] = key;
	return true;
}
