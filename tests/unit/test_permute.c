/* test_permute.c - the permutation visits every target exactly once, for
 * every size and shard split, and resumes at the exact position. */
#include <stdlib.h>
#include <string.h>

#include "scan/permute.h"
#include "test.h"

/* Walk all shards; every index in [0,n) must appear exactly once. */
static int visit_all(uint64_t n, uint64_t seed, uint32_t nshards)
{
	uint8_t *seen = calloc(n, 1);
	uint64_t count = 0;
	int bad = 0;
	for (uint32_t s = 0; s < nshards; s++) {
		struct perm pm;
		struct perm_iter it;
		perm_init(&pm, n, seed, s, nshards);
		perm_iter_at(&it, &pm, 0);
		uint64_t idx;
		while (perm_next(&it, &idx)) {
			if (idx >= n || seen[idx]) {
				bad++;
				break;
			}
			seen[idx] = 1;
			count++;
		}
	}
	free(seen);
	return bad == 0 && count == n;
}

TEST(permute_sizes_single_shard)
{
	static const uint64_t sizes[] = {1, 2, 3, 4, 5, 7, 255, 256, 257, 1000, 65536, 65537};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		CHECK(visit_all(sizes[i], 42 + i, 1));
}

TEST(permute_multiport_set)
{
	/* a /16 times 3 ports, and a /20 times 100 ports */
	CHECK(visit_all(65536ULL * 3, 7, 1));
	CHECK(visit_all(4096ULL * 100, 8, 1));
}

TEST(permute_shards_disjoint_and_complete)
{
	static const uint64_t sizes[] = {1, 2, 3, 255, 65536};
	static const uint32_t shards[] = {2, 3, 7, 16};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		for (size_t j = 0; j < sizeof(shards) / sizeof(shards[0]); j++)
			CHECK(visit_all(sizes[i], 1234, shards[j]));
}

TEST(permute_seed_changes_order)
{
	struct perm a, b;
	struct perm_iter ia, ib;
	perm_init(&a, 65536, 1, 0, 1);
	perm_init(&b, 65536, 2, 0, 1);
	perm_iter_at(&ia, &a, 0);
	perm_iter_at(&ib, &b, 0);
	int same = 0;
	for (int i = 0; i < 100; i++) {
		uint64_t x, y;
		perm_next(&ia, &x);
		perm_next(&ib, &y);
		same += x == y;
	}
	CHECK(same < 10);
	/* same seed, same order */
	struct perm c;
	struct perm_iter ic;
	perm_init(&c, 65536, 1, 0, 1);
	perm_iter_at(&ia, &a, 0);
	perm_iter_at(&ic, &c, 0);
	for (int i = 0; i < 100; i++) {
		uint64_t x, y;
		perm_next(&ia, &x);
		perm_next(&ic, &y);
		CHECK(x == y);
	}
}

TEST(permute_resume_position)
{
	struct perm pm;
	struct perm_iter it, it2;
	perm_init(&pm, 100000, 99, 1, 3);
	perm_iter_at(&it, &pm, 0);
	uint64_t idx, idx2;
	for (int i = 0; i < 5000; i++)
		perm_next(&it, &idx);
	perm_iter_at(&it2, &pm, it.done);
	int mismatch = 0;
	while (perm_next(&it, &idx)) {
		if (!perm_next(&it2, &idx2) || idx != idx2)
			mismatch++;
	}
	CHECK(mismatch == 0);
	CHECK(!perm_next(&it2, &idx2));
}

TEST(permute_large_space_128bit)
{
	/* all of IPv4 times 65535 ports: the modulus exceeds 2^47 */
	uint64_t n = (1ULL << 32) * 65535ULL;
	struct perm pm;
	struct perm_iter it;
	perm_init(&pm, n, 5, 0, 1);
	CHECK(pm.p > n);
	CHECK(perm_is_prime(pm.p));
	perm_iter_at(&it, &pm, pm.steps - 1000);
	uint64_t idx;
	int got = 0;
	while (perm_next(&it, &idx)) {
		CHECK(idx < n);
		got++;
	}
	CHECK(got > 0 && got <= 1000);
	/* the generator really is a primitive root: g^((p-1)/2) != 1 */
	CHECK(perm_powmod(pm.g, (pm.p - 1) / 2, pm.p) != 1);
}

TEST(permute_primes)
{
	CHECK(perm_is_prime(2));
	CHECK(perm_is_prime(65537));
	CHECK(perm_is_prime(4294967311ULL));  /* 2^32 + 15 */
	CHECK(!perm_is_prime(1));
	CHECK(!perm_is_prime(65536));
	CHECK(!perm_is_prime(3215031751ULL)); /* strong pseudoprime to 2,3,5,7 */
}
