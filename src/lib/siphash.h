/* siphash.h - SipHash-2-4, the keyed hash behind stateless probe cookies. */
#ifndef VIGIL_SIPHASH_H
#define VIGIL_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

/* SipHash-2-4 of len bytes at data under a 16-byte key (reference algorithm
 * by Aumasson and Bernstein). */
uint64_t siphash24(const uint8_t key[16], const void *data, size_t len);

#endif
