/* permute.c - cyclic-group target permutation with sharding and resume. */
#include "scan/permute.h"

__extension__ typedef unsigned __int128 u128;

static uint64_t mulmod(uint64_t a, uint64_t b, uint64_t m)
{
	return (uint64_t)(((u128)a * b) % m);
}

uint64_t perm_powmod(uint64_t b, uint64_t e, uint64_t m)
{
	uint64_t r = 1 % m;
	b %= m;
	while (e) {
		if (e & 1)
			r = mulmod(r, b, m);
		b = mulmod(b, b, m);
		e >>= 1;
	}
	return r;
}

/* Deterministic Miller-Rabin for all 64-bit n. */
bool perm_is_prime(uint64_t n)
{
	static const uint64_t bases[] = {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37};
	if (n < 2)
		return false;
	for (unsigned i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		if (n == bases[i])
			return true;
		if (n % bases[i] == 0)
			return false;
	}
	uint64_t d = n - 1;
	int s = 0;
	while ((d & 1) == 0) {
		d >>= 1;
		s++;
	}
	for (unsigned i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		uint64_t x = perm_powmod(bases[i], d, n);
		if (x == 1 || x == n - 1)
			continue;
		bool composite = true;
		for (int r = 1; r < s; r++) {
			x = mulmod(x, x, n);
			if (x == n - 1) {
				composite = false;
				break;
			}
		}
		if (composite)
			return false;
	}
	return true;
}

static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Distinct prime factors of q by trial division (q < 2^50: <= 2^25 steps). */
static int factorize(uint64_t q, uint64_t *f, int max)
{
	int n = 0;
	for (uint64_t d = 2; d * d <= q; d += (d == 2 ? 1 : 2)) {
		if (q % d == 0) {
			if (n < max)
				f[n++] = d;
			while (q % d == 0)
				q /= d;
		}
	}
	if (q > 1 && n < max)
		f[n++] = q;
	return n;
}

void perm_init(struct perm *pm, uint64_t n, uint64_t seed, uint32_t shard, uint32_t nshards)
{
	uint64_t p = n + 1;
	while (!perm_is_prime(p))
		p++;
	uint64_t q = p - 1;
	uint64_t rng = seed;
	uint64_t g = 1;
	if (p > 2) {
		uint64_t factors[64];
		int nf = factorize(q, factors, 64);
		for (;;) {
			g = 2 + splitmix64(&rng) % (p - 2);  /* 2 .. p-1 */
			bool ok = true;
			for (int i = 0; i < nf && ok; i++)
				ok = perm_powmod(g, q / factors[i], p) != 1;
			if (ok)
				break;
		}
	}
	uint64_t offset = splitmix64(&rng) % q;
	uint64_t start = (uint64_t)(((u128)q * shard) / nshards);
	uint64_t end = (uint64_t)(((u128)q * (shard + 1)) / nshards);
	pm->n = n;
	pm->p = p;
	pm->g = g;
	pm->first = perm_powmod(g, (offset + start) % q, p);
	pm->steps = end - start;
}

void perm_iter_at(struct perm_iter *it, const struct perm *pm, uint64_t step)
{
	it->pm = pm;
	if (step > pm->steps)
		step = pm->steps;
	it->done = step;
	it->cur = mulmod(pm->first, perm_powmod(pm->g, step, pm->p), pm->p);
}

bool perm_next(struct perm_iter *it, uint64_t *idx)
{
	const struct perm *pm = it->pm;
	while (it->done < pm->steps) {
		uint64_t x = it->cur;
		it->cur = mulmod(x, pm->g, pm->p);
		it->done++;
		if (x <= pm->n) {
			*idx = x - 1;
			return true;
		}
	}
	return false;
}
