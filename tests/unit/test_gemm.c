/*
 * test_gemm.c - cnn_sgemm against a naive loop: every transpose, odd and
 * large sizes, alpha and beta, padded leading dimensions, every
 * instruction set this processor runs, and 1 against 2 threads.
 */
#include <stdlib.h>
#include <string.h>

#include "cnn.h"
#include "simd/simd.h"
#include "tap.h"

static const char *const isas[] = { "avx512", "avx2", "generic" };

static unsigned seed = 11;

static float *random_floats(long n)
{
	float *v = malloc(n * sizeof *v);

	for (long i = 0; i < n; i++)
		v[i] = rand_r(&seed) / (RAND_MAX / 2.0f) - 1;
	return v;
}

static void naive(int ta, int tb, int m, int n, int k, float alpha,
		  const float *a, int lda, const float *b, int ldb, float beta,
		  float *c, int ldc)
{
	for (int i = 0; i < m; i++)
		for (int j = 0; j < n; j++) {
			double s = 0;

			for (int p = 0; p < k; p++)
				s += (double)(ta ? a[(long)p * lda + i] : a[(long)i * lda + p]) *
				     (tb ? b[(long)j * ldb + p] : b[(long)p * ldb + j]);
			c[(long)i * ldc + j] = (float)(alpha * s +
				(beta == 0 ? 0 : beta * c[(long)i * ldc + j]));
		}
}

/* One product, with leading dimensions pad wider than needed and C
 * starting as NaN when beta is 0 (it must not be read). */
static double check(int ta, int tb, int m, int n, int k, float alpha,
		    float beta, int pad)
{
	int lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n + pad;
	long na = (long)(ta ? k : m) * lda, nb = (long)(tb ? n : k) * ldb;
	long nc = (long)m * ldc;
	float *a = random_floats(na), *b = random_floats(nb);
	float *c = random_floats(nc), *want = malloc(nc * sizeof *want);
	double err;

	if (beta == 0)
		memset(c, 0xff, nc * sizeof *c);
	memcpy(want, c, nc * sizeof *c);
	naive(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, want, ldc);
	err = cnn_sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) ?
	      INFINITY : 0;
	for (int i = 0; i < m; i++)
		err += tap_relerr(c + (long)i * ldc, want + (long)i * ldc, n) / m;
	free(a), free(b), free(c), free(want);
	return err;
}

static void small_sizes(const char *isa)
{
	for (int t = 0; t < 4; t++) {
		int ta = t >> 1, tb = t & 1, bad = 0;
		double worst = 0;

		for (int s = 1; s <= 37; s++) {
			int sizes[2][3] = { { s, s, s },
					    { s, s * 7 % 37 + 1, s * 13 % 37 + 1 } };

			for (int i = 0; i < 2; i++) {
				double e = check(ta, tb, sizes[i][0], sizes[i][1],
						 sizes[i][2], 1, 0, s % 3);

				worst = e > worst ? e : worst;
				bad += e > 1e-5;
			}
		}
		tap_ok(!bad, "%s trans %d%d sizes 1..37: %d of 74 bad, worst relerr %.2g",
		       isa, ta, tb, bad, worst);
	}
}

static void scalars(void)
{
	static const float ab[][2] = {
		{ 0.5f, -1.5f }, { 2, 1 }, { -1, 0 }, { 0, 0.25f }, { 0, 0 },
	};

	for (size_t i = 0; i < sizeof ab / sizeof *ab; i++) {
		double e = check(i & 1, i >> 1 & 1, 45, 67, 300, ab[i][0], ab[i][1], 3);

		tap_ok(e <= 1e-5, "alpha %g beta %g, 45x67x300: relerr %.2g",
		       ab[i][0], ab[i][1], e);
	}
	tap_ok(check(0, 0, 5, 6, 0, 1, 0.5f, 0) == 0, "k = 0 scales C by beta");
	tap_ok(cnn_sgemm(0, 0, 0, 5, 5, 1, NULL, 5, NULL, 5, 0, NULL, 5) == CNN_OK,
	       "m = 0 does nothing");
}

static void large_sizes(void)
{
	static const int sizes[][3] = {
		{ 200, 300, 517 }, { 513, 129, 1000 }, { 97, 1100, 64 }, { 640, 48, 800 },
	};

	for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
		const int *s = sizes[i];
		double e = check(i & 1, i >> 1 & 1, s[0], s[1], s[2], 1, 0.5f, 1);

		tap_ok(e <= 1e-5, "%dx%dx%d trans %zu%zu: relerr %.2g",
		       s[0], s[1], s[2], i & 1, i >> 1 & 1, e);
	}
}

/* Partitions differ with the thread count; the sums must not. */
static void threads(void)
{
	for (int t = 0; t < 4; t++) {
		int m = 301, n = 517, k = 700, ta = t >> 1, tb = t & 1;
		float *a = random_floats((long)m * k), *b = random_floats((long)k * n);
		float *c1 = random_floats((long)m * n), *c2 = malloc((long)m * n * sizeof *c2);

		memcpy(c2, c1, (long)m * n * sizeof *c2);
		cnn_set_threads(1);
		cnn_sgemm(ta, tb, m, n, k, 1.5f, a, ta ? m : k, b, tb ? k : n, 0.5f, c1, n);
		cnn_set_threads(2);
		cnn_sgemm(ta, tb, m, n, k, 1.5f, a, ta ? m : k, b, tb ? k : n, 0.5f, c2, n);
		tap_ok(!memcmp(c1, c2, (long)m * n * sizeof *c1),
		       "trans %d%d %dx%dx%d: 1 and 2 threads agree bit for bit",
		       ta, tb, m, n, k);
		free(a), free(b), free(c1), free(c2);
	}
}

int main(void)
{
	cnn_set_threads(2);
	for (size_t i = 0; i < sizeof isas / sizeof *isas; i++)
		if (cnn_simd_force(isas[i]) == CNN_OK)
			small_sizes(isas[i]);
	cnn_simd_force(NULL);
	scalars();
	large_sizes();
	threads();
	return tap_done();
}
