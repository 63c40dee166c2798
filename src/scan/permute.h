/* permute.h - full-cycle pseudo-random order over N targets in O(1) memory.
 *
 * The order is a walk through the cyclic multiplicative group (Z/pZ)* for the
 * smallest prime p > N: x -> x*g mod p visits every element 1..p-1 once, and
 * elements <= N map to target indices 0..N-1 (larger ones are skipped; since
 * p < 2N at most half are skipped). g (a random primitive root) and the start
 * offset come from the seed. Shard i of S walks the contiguous exponent range
 * [floor(Q*i/S), floor(Q*(i+1)/S)) with Q = p-1, so shards are disjoint and
 * their union is the whole set. A position within a shard is one integer,
 * which is what --resume saves. Products use 128-bit arithmetic. */
#ifndef VIGIL_PERMUTE_H
#define VIGIL_PERMUTE_H

#include <stdbool.h>
#include <stdint.h>

struct perm {
	uint64_t n;      /* number of targets */
	uint64_t p;      /* prime modulus, p > n */
	uint64_t g;      /* primitive root mod p */
	uint64_t first;  /* group element at this shard's first exponent */
	uint64_t steps;  /* exponents in this shard */
};

struct perm_iter {
	const struct perm *pm;
	uint64_t cur;    /* element at exponent offset `done` */
	uint64_t done;   /* steps taken within the shard */
};

/* Build the permutation of n >= 1 targets for shard `shard` of `nshards`. */
void perm_init(struct perm *pm, uint64_t n, uint64_t seed, uint32_t shard, uint32_t nshards);
/* Position an iterator `step` steps into the shard (0 = start). */
void perm_iter_at(struct perm_iter *it, const struct perm *pm, uint64_t step);
/* Next target index, or false when the shard is exhausted. */
bool perm_next(struct perm_iter *it, uint64_t *idx);

/* Exposed for tests. */
bool perm_is_prime(uint64_t n);
uint64_t perm_powmod(uint64_t b, uint64_t e, uint64_t m);

#endif
