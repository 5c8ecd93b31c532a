/*
 * test_pixel_kernels.c - the image kernels of lib/simd/pixels.c against
 * plain loops, with every instruction set this processor runs, at lengths
 * around the vector widths (the tails): u8 <-> f32 (rounding half to even,
 * clamping, NaN), the affine map with and without clamping, sums, row
 * reversal and resizing's taps; and f32 resizing against the f64 path.
 */
#include <stdlib.h>
#include <string.h>

#include "cnn.h"
#include "simd/simd.h"
#include "tap.h"

static const long lengths[] = {0, 1, 3, 4, 7, 8, 15, 16, 17, 31, 33, 100, 257};
#define NLEN (int)(sizeof lengths / sizeof lengths[0])

/* Values spread over -40..300, with exact halves and a NaN among them. */
static void fill(float *v, long n, cnn_rng *rng)
{
	for (long i = 0; i < n; i++)
		v[i] = i % 5 == 1 ? (float)(cnn_rng_below(rng, 300) + 0.5) :
		       (float)(cnn_rng_uniform(rng) * 340 - 40);
	if (n > 9)
		v[9] = NAN;
}

static void check_conversions(const struct cnn_simd_pixels *px, const char *isa, cnn_rng *rng)
{
	int bad_u8 = 0, bad_f32 = 0;

	for (int l = 0; l < NLEN; l++) {
		long n = lengths[l];
		float s[300], f[300];
		unsigned char b[300], want[300], u[300];
		fill(s, n, rng);
		for (long i = 0; i < n; i++) {
			double v = s[i] != s[i] ? 0 : nearbyint(s[i]);
			want[i] = (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : v);
			u[i] = (unsigned char)cnn_rng_below(rng, 256);
		}
		memset(b, 0xAA, sizeof b);
		px->f32_to_u8(b, s, n);
		bad_u8 += memcmp(b, want, n) != 0 || b[n] != 0xAA;
		px->u8_to_f32(f, u, n);
		for (long i = 0; i < n; i++)
			bad_f32 += f[i] != u[i];
	}
	tap_ok(bad_u8 == 0, "%s f32_to_u8: clamped, half to even, NaN 0, nothing past n", isa);
	tap_ok(bad_f32 == 0, "%s u8_to_f32", isa);
}

static void check_affine(const struct cnn_simd_pixels *px, const char *isa, cnn_rng *rng)
{
	int bad_clamp = 0, bad_plain = 0;

	for (int l = 0; l < NLEN; l++) {
		long n = lengths[l];
		float v[300], w[300];
		fill(v, n, rng);
		memcpy(w, v, sizeof w);
		px->affine(v, n, 1.25f, 8, 0, 0, 255);
		for (long i = 0; i < n; i++) {
			float want = fminf(fmaxf(1.25f * (w[i] - 8), 0), 255);
			bad_clamp += fabsf(v[i] - want) > 1e-4f * 255 || v[i] != v[i];
		}
		memcpy(v, w, sizeof w);
		px->affine(v, n, 0.5f, -2, 3, 0, 0);
		for (long i = 0; i < n; i++) {
			float want = 0.5f * (w[i] + 2) + 3;
			bad_plain += want == want ? fabsf(v[i] - want) > 1e-4f * 255 : v[i] == v[i];
		}
	}
	tap_ok(bad_clamp == 0, "%s affine, clamped (NaN to lo)", isa);
	tap_ok(bad_plain == 0, "%s affine, unclamped (NaN stays)", isa);
}

static void check_rows(const struct cnn_simd_pixels *px, const char *isa, cnn_rng *rng)
{
	int bad_sum = 0, bad_rev = 0, bad_axpy = 0;

	for (int l = 0; l < NLEN; l++) {
		long n = lengths[l];
		float v[300], w[300], y[300];
		double want = 0;
		for (long i = 0; i < n; i++) {
			v[i] = (float)(cnn_rng_uniform(rng) * 255);
			y[i] = (float)i;
			want += v[i];
		}
		bad_sum += fabs(px->sum(v, n) - want) > 1e-6 * (want + 1);
		memcpy(w, v, sizeof w);
		px->reverse(v, n);
		for (long i = 0; i < n; i++)
			bad_rev += v[i] != w[n - 1 - i];
		px->axpy(y, w, n, 0.5f);
		for (long i = 0; i < n; i++)
			bad_axpy += fabsf(y[i] - (i + 0.5f * w[i])) > 1e-4f;
	}
	/* A plane much larger than a block of the sum. */
	{
		long n = 100003;
		float *big = malloc(n * sizeof *big);
		double want = 0;
		for (long i = 0; i < n; i++)
			want += big[i] = (float)(cnn_rng_uniform(rng) * 255);
		bad_sum += fabs(px->sum(big, n) - want) > 1e-6 * want;
		free(big);
	}
	tap_ok(bad_sum == 0, "%s sum", isa);
	tap_ok(bad_rev == 0, "%s reverse, odd and even lengths", isa);
	tap_ok(bad_axpy == 0, "%s axpy", isa);
}

static void check_taps(const struct cnn_simd_pixels *px, const char *isa, cnn_rng *rng)
{
	int bad = 0;

	for (int l = 0; l < NLEN; l++) {
		long n = lengths[l];
		int first[300], ntaps = 3;
		float x[300 + 3], w[3 * 300], y[300];
		for (long i = 0; i < 300 + 3; i++)
			x[i] = (float)(cnn_rng_uniform(rng) * 255);
		for (long i = 0; i < n; i++) {
			first[i] = (int)cnn_rng_below(rng, 300);
			for (int t = 0; t < ntaps; t++)
				w[t * n + i] = (float)cnn_rng_uniform(rng);
		}
		px->taps(y, x, first, w, ntaps, n);
		for (long i = 0; i < n; i++) {
			double want = 0;
			for (int t = 0; t < ntaps; t++)
				want += (double)w[t * n + i] * x[first[i] + t];
			bad += fabs(y[i] - want) > 1e-4 * (want + 1);
		}
	}
	tap_ok(bad == 0, "%s taps", isa);
	{
		/* Taps of weight 0 past an output's own skip an infinity. */
		float x[40] = {0}, w[2 * 20], y[20];
		int first[20];
		x[11] = INFINITY;
		for (int i = 0; i < 20; i++)
			first[i] = 10, w[i] = 1, w[20 + i] = 0;
		px->taps(y, x, first, w, 2, 20);
		bad = 0;
		for (int i = 0; i < 20; i++)
			bad += y[i] != 0;
		tap_ok(bad == 0, "%s taps: weight 0 times an infinity adds nothing", isa);
	}
}

/* Resizing an f32 image (the vector kernels) agrees with resizing its f64
 * copy (the generic double loops), shrinking and enlarging; an infinity
 * reaches only the outputs it is part of. */
static void check_resize(const char *isa, cnn_rng *rng)
{
	for (int d = 0; d < 2; d++) {
		cnn_tensor *t = cnn_tensor_new3("image", d ? CNN_F64 : CNN_F32, 1, 1, 4), *r;
		cnn_tensor_set(t, 2, INFINITY);
		r = cnn_image_resize(t, 1, 2);
		tap_ok(r && cnn_tensor_get(r, 0) == 0 && isinf(cnn_tensor_get(r, 1)),
		       "%s resize %s [0 0 inf 0] to 2: [%g %g]", isa, d ? "f64" : "f32",
		       r ? cnn_tensor_get(r, 0) : -1, r ? cnn_tensor_get(r, 1) : -1);
		cnn_tensor_free(t);
		cnn_tensor_free(r);
	}

	static const int64_t sizes[][4] = {
		{37, 53, 224, 224}, {256, 256, 224, 224}, {300, 200, 17, 90}, {5, 7, 5, 7},
		{1, 40, 3, 9}, {64, 48, 1, 1},
	};

	for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
		const int64_t *z = sizes[s];
		cnn_tensor *f = cnn_tensor_new3("image", CNN_F32, 3, z[0], z[1]), *d, *rf, *rd;
		double worst = 0;
		for (int64_t i = 0; i < cnn_tensor_count(f); i++)
			((float *)f->data)[i] = (float)(cnn_rng_uniform(rng) * 255);
		d = cnn_tensor_convert(f, CNN_F64);
		rf = cnn_image_resize(f, z[2], z[3]);
		rd = cnn_image_resize(d, z[2], z[3]);
		for (int64_t i = 0; rf && rd && i < cnn_tensor_count(rd); i++)
			worst = fmax(worst, fabs(cnn_tensor_get(rf, i) - cnn_tensor_get(rd, i)));
		tap_ok(rf && rd && rf->dtype == CNN_F32 && rf->dim[1] == z[2] && rf->dim[2] == z[3] &&
		       worst < 1e-3,
		       "%s resize f32 %lldx%lld -> %lldx%lld as f64: worst %.2g of 255", isa,
		       (long long)z[0], (long long)z[1], (long long)z[2], (long long)z[3], worst);
		cnn_tensor_free(f);
		cnn_tensor_free(d);
		cnn_tensor_free(rf);
		cnn_tensor_free(rd);
	}
}

int main(void)
{
	static const char *const isas[] = {"avx512", "avx2", "generic"};

	for (int i = 0; i < 3; i++) {
		cnn_rng rng;
		if (cnn_simd_force(isas[i])) {
			printf("# %s: not on this processor\n", isas[i]);
			continue;
		}
		cnn_rng_seed(&rng, 5);
		check_conversions(cnn_simd_pixels(), isas[i], &rng);
		check_affine(cnn_simd_pixels(), isas[i], &rng);
		check_rows(cnn_simd_pixels(), isas[i], &rng);
		check_taps(cnn_simd_pixels(), isas[i], &rng);
		check_resize(isas[i], &rng);
	}
	cnn_simd_force(NULL);
	return tap_done();
}
