/* dedup.h - fixed-size set of recently reported (ip, port) pairs, so a target
 * that answers several probes (retries, retransmitted SYN-ACKs) is reported
 * once. Memory is constant (DEDUP_SLOTS * 8 bytes) whatever the range size:
 * a 4-way set-associative table whose oldest entry in a full set is evicted. */
#ifndef VIGIL_DEDUP_H
#define VIGIL_DEDUP_H

#include <stdbool.h>
#include <stdint.h>

#define DEDUP_SLOTS (1u << 18)

struct dedup {
	uint64_t *slots;  /* key+1 so 0 means empty */
};

void dedup_init(struct dedup *d);
void dedup_free(struct dedup *d);
/* True if (ip, port) was not seen recently; records it. */
bool dedup_first(struct dedup *d, uint32_t ip, uint16_t port);

#endif
