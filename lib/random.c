/*
 * random.c - a small, fast, seedable generator (xoshiro256**, by Blackman
 * and Vigna), so that shuffles and augmentations repeat exactly.
 */
#include "cnn.h"

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15u);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

void cnn_rng_seed(cnn_rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t cnn_rng_next(cnn_rng *r)
{
	uint64_t *s = r->s, result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

double cnn_rng_uniform(cnn_rng *r)
{
	return (double)(cnn_rng_next(r) >> 11) * 0x1p-53;
}

uint64_t cnn_rng_below(cnn_rng *r, uint64_t n)
{
	/* Reject the top sliver that would make small values more likely. */
	uint64_t limit = n ? UINT64_MAX - UINT64_MAX % n : 0, x;

	if (n == 0)
		return 0;
	do
		x = cnn_rng_next(r);
	while (x >= limit);
	return x % n;
}
