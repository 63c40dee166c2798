/* favicon.h - the favicon hash Shodan and others index ("http.favicon.hash"):
 * MurmurHash3 x86_32 of the favicon's base64 text as Python's
 * base64.encodebytes writes it. */
#ifndef VIGIL_FAVICON_H
#define VIGIL_FAVICON_H

#include <stddef.h>
#include <stdint.h>

/* MurmurHash3 x86_32 (Austin Appleby's reference algorithm) of data[0..len)
 * with seed. */
uint32_t favicon_murmur3_32(const void *data, size_t len, uint32_t seed);

/* Shodan's favicon hash of the icon bytes data[0..len): standard base64
 * with "\n" after every 76 output characters and after the last line (no
 * output at all for len 0), hashed with murmur3 seed 0, returned as a signed
 * 32-bit integer like Python's mmh3.hash. Allocates about 4/3 len bytes:
 * the caller bounds len (the probe's max_body). */
int32_t favicon_hash(const uint8_t *data, size_t len);

#endif
