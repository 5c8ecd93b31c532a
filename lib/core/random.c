/*
 * random.c - a small, fast, seedable generator (xoshiro256**, by Blackman
 * and Vigna), so that shuffles and augmentations repeat exactly.
 */
#include <math.h>

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

double cnn_rng_normal01(cnn_rng *r)
{
	/* Box-Muller; one of the pair is enough. */
	double u = 1 - cnn_rng_uniform(r), v = cnn_rng_uniform(r);

	return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

/* Marsaglia and Tsang's method; shapes below 1 borrow from shape + 1. */
double cnn_rng_gamma(cnn_rng *r, double shape)
{
	double d, c;

	if (shape < 1)
		return cnn_rng_gamma(r, shape + 1) * pow(1 - cnn_rng_uniform(r), 1 / shape);
	d = shape - 1.0 / 3;
	c = 1 / sqrt(9 * d);
	for (;;) {
		double x = cnn_rng_normal01(r), v = 1 + c * x, u;
		if (v <= 0)
			continue;
		v = v * v * v;
		u = 1 - cnn_rng_uniform(r);
		if (log(u) < 0.5 * x * x + d - d * v + d * log(v))
			return d * v;
	}
}

double cnn_rng_beta(cnn_rng *r, double a, double b)
{
	double x = cnn_rng_gamma(r, a), y = cnn_rng_gamma(r, b);

	return x + y > 0 ? x / (x + y) : 0.5;
}
