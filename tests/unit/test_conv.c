/*
 * test_conv.c - convolution against PyTorch's reference vectors (see
 * tests/vectors/make-vectors.py), a naive loop, and the course notes;
 * every case under every instruction set this processor runs.
 */
#include <stdlib.h>
#include <string.h>

#include "cnn.h"
#include "simd/simd.h"
#include "tap.h"
#include "vectors.h"

static const char *const isas[] = { "avx512", "avx2", "generic" };

static long count(int nd, const int *v)
{
	long n = 1;

	for (int d = 0; d < nd; d++)
		n *= v[d];
	return n;
}

/* "30x30": a static buffer, for one message at a time. */
static const char *dims(int nd, const int *v)
{
	static char buf[64];
	int n = 0;

	for (int d = 0; d < nd; d++)
		n += snprintf(buf + n, sizeof buf - n, "%s%d", d ? "x" : "", v[d]);
	return buf;
}

static void vector_cases(void)
{
	struct vec_file f;
	char line[512];
	int cases = 0;

	if (vec_open(&f, "conv.vec")) {
		tap_ok(0, "read conv.vec: %s", cnn_errmsg());
		return;
	}
	while (vec_header(&f, line, sizeof line)) {
		cnn_conv cv = { 0 };
		int bias = 0, out[3];
		long nx, nw, ny;
		float *x, *w, *b = NULL, *want, *got;

		vec_ints(&f, line, "nd", &cv.nd, 1);
		vec_ints(&f, line, "n", &cv.n, 1);
		vec_ints(&f, line, "c", &cv.c, 1);
		vec_ints(&f, line, "k", &cv.k, 1);
		vec_ints(&f, line, "groups", &cv.groups, 1);
		vec_ints(&f, line, "in", cv.in, cv.nd);
		vec_ints(&f, line, "ker", cv.ker, cv.nd);
		vec_ints(&f, line, "stride", cv.stride, cv.nd);
		vec_ints(&f, line, "dil", cv.dil, cv.nd);
		vec_ints(&f, line, "pad_lo", cv.pad_lo, cv.nd);
		vec_ints(&f, line, "pad_hi", cv.pad_hi, cv.nd);
		vec_ints(&f, line, "bias", &bias, 1);
		vec_ints(&f, line, "out", out, cv.nd);
		cases++;
		if (!tap_ok(cnn_conv_setup(&cv) == CNN_OK &&
			    !memcmp(out, cv.out, cv.nd * sizeof *out),
			    "setup %s", line))
			break;
		nx = (long)cv.n * cv.c * count(cv.nd, cv.in);
		nw = (long)cv.k * cv.c / cv.groups * count(cv.nd, cv.ker);
		ny = (long)cv.n * cv.k * count(cv.nd, cv.out);
		x = vec_floats(&f, nx);
		w = vec_floats(&f, nw);
		if (bias)
			b = vec_floats(&f, cv.k);
		want = vec_floats(&f, ny);
		got = malloc(ny * sizeof *got);
		for (size_t i = 0; i < sizeof isas / sizeof *isas; i++) {
			if (cnn_simd_force(isas[i]))
				continue;
			memset(got, 0xff, ny * sizeof *got); /* NaN: unwritten */
			double err = cnn_conv_forward(&cv, x, w, b, got) ? INFINITY :
				     tap_relerr(got, want, ny);
			tap_ok(err <= 1e-4, "%s %s: relerr %.2g", isas[i], line, err);
		}
		free(x), free(w), free(b), free(want), free(got);
	}
	tap_ok(cases >= 40 && !f.bad, "conv.vec: %d cases, format %s", cases,
	       f.bad ? "broken" : "fine");
	vec_close(&f);
	cnn_simd_force(NULL);
}

/* The convolution of the definition, in double. */
static void naive(const cnn_conv *cv, const float *x, const float *w,
		  const float *b, float *y)
{
	int cg = cv->c / cv->groups, mg = cv->k / cv->groups;
	int I[3] = { 1, 1, 1 }, K[3] = { 1, 1, 1 }, O[3] = { 1, 1, 1 };
	int S[3] = { 1, 1, 1 }, D[3] = { 1, 1, 1 }, P[3] = { 0, 0, 0 };

	for (int d = 0; d < cv->nd; d++) {
		int e = 3 - cv->nd + d;

		I[e] = cv->in[d], K[e] = cv->ker[d], O[e] = cv->out[d];
		S[e] = cv->stride[d], D[e] = cv->dil[d], P[e] = cv->pad_lo[d];
	}
	for (int n = 0; n < cv->n; n++)
	for (int k = 0; k < cv->k; k++)
	for (int o0 = 0; o0 < O[0]; o0++)
	for (int o1 = 0; o1 < O[1]; o1++)
	for (int o2 = 0; o2 < O[2]; o2++) {
		double s = b ? b[k] : 0;

		for (int c = 0; c < cg; c++)
		for (int k0 = 0; k0 < K[0]; k0++)
		for (int k1 = 0; k1 < K[1]; k1++)
		for (int k2 = 0; k2 < K[2]; k2++) {
			int i0 = o0 * S[0] + k0 * D[0] - P[0];
			int i1 = o1 * S[1] + k1 * D[1] - P[1];
			int i2 = o2 * S[2] + k2 * D[2] - P[2];
			int ci = k / mg * cg + c;

			if (i0 < 0 || i0 >= I[0] || i1 < 0 || i1 >= I[1] ||
			    i2 < 0 || i2 >= I[2])
				continue;
			s += (double)x[(((long)n * cv->c + ci) * I[0] + i0) * I[1] * I[2] +
				       (long)i1 * I[2] + i2] *
			     w[((((long)k * cg + c) * K[0] + k0) * K[1] + k1) * K[2] + k2];
		}
		y[((((long)n * cv->k + k) * O[0] + o0) * O[1] + o1) * O[2] + o2] = (float)s;
	}
}

static float *random_floats(long n, unsigned *seed)
{
	float *v = malloc(n * sizeof *v);

	for (long i = 0; i < n; i++)
		v[i] = rand_r(seed) / (RAND_MAX / 2.0f) - 1;
	return v;
}

/* Shapes big enough for the threaded paths, chunks of outputs, several
 * passes over K and tails; and 1 against 2 threads, bit for bit. */
static void larger_cases(void)
{
	static const cnn_conv cases[] = {
		{ .nd = 2, .n = 1, .c = 64, .k = 64, .in = { 30, 30 }, .ker = { 3, 3 }, .pad_lo = { 1, 1 }, .pad_hi = { 1, 1 } },
		{ .nd = 2, .n = 3, .c = 32, .k = 40, .in = { 23, 19 }, .ker = { 3, 3 }, .pad_lo = { 1, 1 }, .pad_hi = { 1, 1 } },
		{ .nd = 2, .n = 1, .c = 3, .k = 24, .in = { 96, 96 }, .ker = { 7, 7 }, .stride = { 2, 2 }, .pad_lo = { 3, 3 }, .pad_hi = { 3, 3 } },
		{ .nd = 2, .n = 2, .c = 100, .k = 130, .in = { 9, 9 }, .ker = { 3, 3 }, .pad_lo = { 1, 1 }, .pad_hi = { 1, 1 } },
		{ .nd = 2, .n = 1, .c = 64, .k = 100, .in = { 9, 9 }, .ker = { 3, 3 }, .pad_lo = { 1, 1 }, .pad_hi = { 1, 1 } },
		{ .nd = 2, .n = 1, .c = 32, .k = 32, .in = { 60, 60 }, .ker = { 3, 3 }, .pad_lo = { 1, 1 }, .pad_hi = { 1, 1 } },
		{ .nd = 2, .n = 3, .c = 16, .k = 20, .in = { 50, 47 }, .ker = { 3, 3 }, .pad_lo = { 1, 0 }, .pad_hi = { 0, 1 } },
		{ .nd = 2, .n = 1, .c = 256, .k = 72, .in = { 28, 14 }, .ker = { 1, 1 } },
		{ .nd = 2, .n = 1, .c = 64, .k = 64, .in = { 100, 100 }, .ker = { 3, 3 }, .pad_lo = { 1, 1 }, .pad_hi = { 1, 1 }, .groups = 64 },
		{ .nd = 2, .n = 1, .c = 48, .k = 64, .in = { 65, 61 }, .ker = { 3, 3 }, .stride = { 2, 2 }, .pad_lo = { 1, 1 }, .pad_hi = { 1, 1 }, .groups = 4 },
		{ .nd = 3, .n = 1, .c = 8, .k = 16, .in = { 10, 12, 14 }, .ker = { 3, 3, 3 }, .pad_lo = { 1, 1, 1 }, .pad_hi = { 1, 1, 1 } },
		{ .nd = 1, .n = 2, .c = 32, .k = 48, .in = { 1000 }, .ker = { 5 }, .dil = { 2 }, .pad_lo = { 4 }, .pad_hi = { 4 } },
	};
	unsigned seed = 7;

	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		cnn_conv cv = cases[i];
		long nx, nw, ny;
		float *x, *w, *b, *want, *got1, *got2;
		double err;

		cnn_conv_setup(&cv);
		nx = (long)cv.n * cv.c * count(cv.nd, cv.in);
		nw = (long)cv.k * (cv.c / cv.groups) * count(cv.nd, cv.ker);
		ny = (long)cv.n * cv.k * count(cv.nd, cv.out);
		x = random_floats(nx, &seed);
		w = random_floats(nw, &seed);
		b = random_floats(cv.k, &seed);
		want = malloc(ny * sizeof *want);
		got1 = malloc(ny * sizeof *got1);
		got2 = malloc(ny * sizeof *got2);
		naive(&cv, x, w, b, want);
		cnn_set_threads(1);
		cnn_conv_forward(&cv, x, w, b, got1);
		cnn_set_threads(2);
		cnn_conv_forward(&cv, x, w, b, got2);
		err = tap_relerr(got2, want, ny);
		tap_ok(err <= 1e-4, "naive %dd n%d c%d k%d groups %d in %s ker %d stride %d: relerr %.2g",
		       cv.nd, cv.n, cv.c, cv.k, cv.groups, dims(cv.nd, cv.in),
		       cv.ker[0], cv.stride[0], err);
		tap_ok(!memcmp(got1, got2, ny * sizeof *got1),
		       "1 and 2 threads agree bit for bit");
		free(x), free(w), free(b), free(want), free(got1), free(got2);
	}
}

static void course_notes(void)
{
	static const float img[36] = {
		3, 0, 1, 2, 7, 4,
		1, 5, 8, 9, 3, 1,
		2, 7, 2, 5, 1, 3,
		0, 1, 3, 1, 7, 8,
		4, 2, 1, 6, 2, 8,
		2, 4, 5, 2, 3, 9,
	};
	static const float ker[9] = { 1, 0, -1, 1, 0, -1, 1, 0, -1 };
	static const float want[16] = {
		-5, -4, 0, 8,
		-10, -2, 2, 3,
		0, -2, -4, -7,
		-3, -2, -3, -16,
	};
	cnn_conv cv = { .nd = 2, .n = 1, .c = 1, .k = 1, .in = { 6, 6 }, .ker = { 3, 3 } };
	float y[16];

	tap_ok(cnn_conv_setup(&cv) == CNN_OK && cv.out[0] == 4 && cv.out[1] == 4,
	       "course notes: 6x6 image, 3x3 kernel gives 4x4");
	tap_ok(cnn_conv_forward(&cv, img, ker, NULL, y) == CNN_OK &&
	       !memcmp(y, want, sizeof y), "course notes: vertical edge detector");
}

static void setup_errors(void)
{
	static const struct {
		cnn_conv cv;
		const char *msg;
	} bad[] = {
		{ { .nd = 2, .n = 1, .c = 1, .k = 1, .in = { 3, 3 }, .ker = { 5, 5 } },
		  "kernel 5x5 (dilation 1x1) is larger than the padded input 3x3" },
		{ { .nd = 2, .n = 1, .c = 3, .k = 4, .groups = 2, .in = { 8, 8 }, .ker = { 3, 3 } },
		  "channels 3 not divisible by groups 2" },
		{ { .nd = 2, .n = 1, .c = 4, .k = 3, .groups = 2, .in = { 8, 8 }, .ker = { 3, 3 } },
		  "filters 3 not divisible by groups 2" },
		{ { .nd = 2, .n = 1, .c = 1, .k = 1, .in = { 8, 8 }, .ker = { 3, 3 }, .stride = { -1, 1 } },
		  "stride must be positive" },
		{ { .nd = 1, .n = 1, .c = 1, .k = 1, .in = { 8 }, .ker = { 3 }, .pad_lo = { -1 } },
		  "padding must not be negative" },
		{ { .nd = 4, .n = 1, .c = 1, .k = 1 },
		  "convolution must have 1 to 3 spatial dimensions, not 4" },
		{ { .nd = 1, .n = 1, .c = 1, .k = 1, .in = { 9 }, .ker = { 4 }, .dil = { 3 } },
		  "kernel 4 (dilation 3) is larger than the padded input 9" },
		{ { .nd = 2, .n = 0, .c = 1, .k = 1, .in = { 8, 8 }, .ker = { 3, 3 } },
		  "batch 0, channels 1 and filters 1 must be positive" },
	};

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		cnn_conv cv = bad[i].cv;
		int r = cnn_conv_setup(&cv);

		tap_ok(r == CNN_ERR && !strcmp(cnn_errmsg(), bad[i].msg),
		       "setup error: %s (got \"%s\")", bad[i].msg, cnn_errmsg());
	}
}

/* n values from a seed, in -1..1. */
static void fill(float *v, long n, uint64_t seed)
{
	cnn_rng rng;

	cnn_rng_seed(&rng, seed);
	for (long i = 0; i < n; i++)
		v[i] = (float)(cnn_rng_uniform(&rng) * 2 - 1);
}

/* Weights packed once give the same bits as packing them in every call,
 * on each ISA, for a GEMM geometry and for the depthwise window path. */
static void packed_cases(void)
{
	static const cnn_conv cases[] = {
		{.n = 2, .c = 32, .k = 48, .groups = 1, .nd = 2, .in = {9, 7}, .ker = {3, 3},
		 .stride = {2, 1}, .pad_lo = {0, 1}, .pad_hi = {1, 1}},
		{.n = 1, .c = 256, .k = 256, .groups = 1, .nd = 2, .in = {4, 4}, .ker = {3, 3},
		 .pad_lo = {1, 1}, .pad_hi = {1, 1}},
		{.n = 1, .c = 16, .k = 16, .groups = 16, .nd = 2, .in = {8, 8}, .ker = {3, 3},
		 .pad_lo = {1, 1}, .pad_hi = {1, 1}},
	};
	static const char *const isas[] = {"generic", "avx2", "avx512"};

	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
		for (int a = 0; a < 3; a++) {
			cnn_conv cv = cases[i];
			long nx, nw, ny;
			float *x, *w, *b, *y1, *y2, *packed;
			size_t floats;
			int same = 1;
			if (cnn_simd_force(isas[a]) || cnn_conv_setup(&cv))
				continue;
			nx = (long)cv.n * cv.c * cv.in[0] * cv.in[1];
			nw = (long)cv.k * (cv.c / cv.groups) * cv.ker[0] * cv.ker[1];
			ny = (long)cv.n * cv.k * cv.out[0] * cv.out[1];
			x = malloc(sizeof *x * nx), w = malloc(sizeof *w * nw);
			b = malloc(sizeof *b * cv.k), y1 = malloc(sizeof *y1 * ny);
			y2 = malloc(sizeof *y2 * ny);
			floats = cnn_conv_packed_floats(&cv);
			packed = malloc(sizeof *packed * (floats ? floats : 1));
			fill(x, nx, 1), fill(w, nw, 2), fill(b, cv.k, 3);
			same = cnn_conv_forward(&cv, x, w, b, y1) == CNN_OK &&
			       cnn_conv_pack(&cv, w, packed) == CNN_OK &&
			       cnn_conv_forward_packed(&cv, x, w, packed, b, y2) == CNN_OK &&
			       memcmp(y1, y2, sizeof *y1 * ny) == 0;
			tap_ok(same, "packed once (%zu floats), %s, %dx%d -> %d %s: the same bits",
			       floats, isas[a], cv.in[0], cv.in[1], cv.k,
			       floats ? "GEMM" : "window");
			free(x), free(w), free(b), free(y1), free(y2), free(packed);
		}
	cnn_simd_force(NULL);
}

int main(void)
{
	cnn_set_threads(2);
	packed_cases();
	vector_cases();
	larger_cases();
	course_notes();
	setup_errors();
	return tap_done();
}
