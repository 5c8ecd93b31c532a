/*
 * test_train_kernels.c - the fast paths of the training passes against plain
 * reference loops, with every instruction set this processor runs and with
 * 1 and 2 threads: the convolution's weight, bias and input gradients (the
 * lane-wise dots, the GEMM with packed W^T, the stride-1 column fold, the
 * transposed forward), 2x2 max pooling forward and backward, the
 * rectifiers and momentum SGD.  Repeated runs must agree bit for bit.
 */
#include <stdlib.h>
#include <string.h>

#include "nn/net.h"
#include "simd/simd.h"
#include "tap.h"

static float *randoms(long n, cnn_rng *rng)
{
	float *v = malloc(sizeof *v * (size_t)(n > 0 ? n : 1));
	for (long i = 0; i < n; i++)
		v[i] = (float)(cnn_rng_uniform(rng) * 2 - 1);
	return v;
}

/* dx, dw, db of a 2-D convolution by the definition, in double. */
static void reference(const cnn_conv *cv, const float *x, const float *w, const float *dy,
		      double *dx, double *dw, double *db)
{
	int cg = cv->c / cv->groups, kg = cv->k / cv->groups;

	for (int n = 0; n < cv->n; n++)
	for (int k = 0; k < cv->k; k++)
	for (int oy = 0; oy < cv->out[0]; oy++)
	for (int ox = 0; ox < cv->out[1]; ox++) {
		double g = dy[(((long)n * cv->k + k) * cv->out[0] + oy) * cv->out[1] + ox];
		int grp = k / kg;
		db[k] += g;
		for (int ci = 0; ci < cg; ci++)
		for (int a = 0; a < cv->ker[0]; a++)
		for (int b = 0; b < cv->ker[1]; b++) {
			int iy = oy * cv->stride[0] - cv->pad_lo[0] + a * cv->dil[0];
			int ix = ox * cv->stride[1] - cv->pad_lo[1] + b * cv->dil[1];
			long wi = (((long)k * cg + ci) * cv->ker[0] + a) * cv->ker[1] + b;
			long xi = (((long)n * cv->c + grp * cg + ci) * cv->in[0] + iy) * cv->in[1] + ix;
			if (iy < 0 || iy >= cv->in[0] || ix < 0 || ix >= cv->in[1])
				continue;
			dw[wi] += g * x[xi];
			dx[xi] += g * w[wi];
		}
	}
}

static double worst(const float *got, const double *want, long n)
{
	double big = 1e-6, diff = 0;

	for (long i = 0; i < n; i++) {
		double d = fabs(got[i] - want[i]);
		big = fabs(want[i]) > big ? fabs(want[i]) : big;
		diff = d > diff || d != d ? d : diff;
	}
	return diff / big;
}

static void check_conv(cnn_conv cv, const char *what, const char *isa)
{
	cnn_rng rng;
	long xn, wn, yn;

	if (cnn_conv_setup(&cv)) {
		tap_ok(0, "%s: %s", what, cnn_errmsg());
		return;
	}
	xn = (long)cv.n * cv.c * cv.in[0] * cv.in[1];
	wn = (long)cv.k * (cv.c / cv.groups) * cv.ker[0] * cv.ker[1];
	yn = (long)cv.n * cv.k * cv.out[0] * cv.out[1];
	cnn_rng_seed(&rng, 11);
	float *x = randoms(xn, &rng), *w = randoms(wn, &rng), *dy = randoms(yn, &rng);
	double *rx = calloc(xn, sizeof *rx), *rw = calloc(wn, sizeof *rw),
	       *rb = calloc(cv.k, sizeof *rb);
	reference(&cv, x, w, dy, rx, rw, rb);
	for (int threads = 1; threads <= 2; threads++) {
		float *dx[2], *dw[2], *db[2];
		int ok = 1;
		cnn_set_threads(threads);
		for (int r = 0; r < 2; r++) {
			/* adds to what is there: start from 1 and take it off */
			dx[r] = malloc(sizeof(float) * xn), dw[r] = malloc(sizeof(float) * wn),
			db[r] = malloc(sizeof(float) * cv.k);
			for (long i = 0; i < xn; i++)
				dx[r][i] = 1;
			for (long i = 0; i < wn; i++)
				dw[r][i] = 1;
			for (int i = 0; i < cv.k; i++)
				db[r][i] = 1;
			ok &= cnn_conv_backward(&cv, x, w, dy, dx[r], dw[r], db[r]) == CNN_OK;
			for (long i = 0; i < xn; i++)
				dx[r][i] -= 1;
			for (long i = 0; i < wn; i++)
				dw[r][i] -= 1;
			for (int i = 0; i < cv.k; i++)
				db[r][i] -= 1;
		}
		double ex = worst(dx[0], rx, xn), ew = worst(dw[0], rw, wn),
		       eb = worst(db[0], rb, cv.k);
		int same = !memcmp(dx[0], dx[1], sizeof(float) * xn) &&
			   !memcmp(dw[0], dw[1], sizeof(float) * wn) &&
			   !memcmp(db[0], db[1], sizeof(float) * cv.k);
		tap_ok(ok && same && ex < 1e-5 && ew < 1e-5 && eb < 1e-5,
		       "%s, %s, %d thread%s: dx %.1e dw %.1e db %.1e%s", what, isa, threads,
		       threads > 1 ? "s" : "", ex, ew, eb, same ? "" : ", runs differ");
		for (int r = 0; r < 2; r++)
			free(dx[r]), free(dw[r]), free(db[r]);
	}
	free(x), free(w), free(dy), free(rx), free(rw), free(rb);
}

static void check_max2(int n, int c, int h, int w, const char *isa)
{
	const struct cnn_simd_grad *sg = cnn_simd_grad();
	int oh = h / 2, ow = w / 2;
	long xs = (long)h * w, ys = (long)oh * ow;
	cnn_rng rng;
	int ok = 1;

	cnn_rng_seed(&rng, 5);
	float *x = randoms(n * c * xs, &rng), *dy = randoms(n * c * ys, &rng);
	float *y = malloc(sizeof(float) * n * c * ys), *dx = calloc(n * c * xs, sizeof(float));
	float *want = malloc(sizeof(float) * n * c * ys), *wdx = calloc(n * c * xs, sizeof(float));
	/* ties: a window with equal values takes its first */
	x[0] = x[1] = x[w] = x[w + 1] = 2;
	cnn_pool p = {.op = CNN_POOL_MAX, .n = n, .c = c, .nd = 2, .in = {h, w}, .win = {2, 2},
		      .stride = {2, 2}};
	for (long i = 0; i < (long)n * c; i++) {
		sg->max2(y + i * ys, x + i * xs, w, oh, ow);
		sg->max2_grad(dx + i * xs, x + i * xs, dy + i * ys, w, oh, ow);
	}
	ok &= cnn_pool_forward(&p, x, want) == CNN_OK;
	for (long i = 0; i < (long)n * c; i++)
		for (int a = 0; a < oh; a++)
			for (int b = 0; b < ow; b++) {
				const float *xp = x + i * xs;
				long best = 2 * a * w + 2 * b;
				for (int u = 0; u < 2; u++)
					for (int v = 0; v < 2; v++)
						if (xp[(2 * a + u) * w + 2 * b + v] > xp[best])
							best = (2 * a + u) * w + 2 * b + v;
				wdx[i * xs + best] += dy[i * ys + a * ow + b];
			}
	tap_ok(ok && !memcmp(y, want, sizeof(float) * n * c * ys) &&
	       !memcmp(dx, wdx, sizeof(float) * n * c * xs),
	       "2x2 max pooling %dx%d, %s: forward as cnn_pool_forward, gradient to the "
	       "first maximum", h, w, isa);
	free(x), free(dy), free(y), free(dx), free(want), free(wdx);
}

static void check_elementwise(const char *isa)
{
	const struct cnn_simd_grad *sg = cnn_simd_grad();
	enum { N = 77 };
	float y[N], d[N], w[N], m[N], g[N], w2[N], m2[N];
	int ok = 1;

	for (int i = 0; i < N; i++) {
		y[i] = (float)(i % 7) - 3;
		d[i] = (float)i;
		w[i] = w2[i] = 0.5f - i * 0.01f;
		m[i] = m2[i] = i * 0.02f;
		g[i] = i % 3 - 1.0f;
	}
	sg->rect(y, N, 0.1f);
	for (int i = 0; i < N; i++)
		ok &= y[i] == ((float)(i % 7) - 3 > 0 ? (float)(i % 7) - 3 : 0.1f * ((float)(i % 7) - 3));
	sg->rect_grad(y, d, N, 0);
	for (int i = 0; i < N; i++)
		ok &= d[i] == (y[i] > 0 ? (float)i : 0);
	sg->sgd(w, m, g, N, 0.01f, 0.9f, 0.001f);
	for (int i = 0; i < N; i++) {
		float gi = g[i] + 0.001f * w2[i];
		m2[i] = 0.9f * m2[i] + gi;
		w2[i] -= 0.01f * m2[i];
		ok &= fabsf(w[i] - w2[i]) < 1e-6f && fabsf(m[i] - m2[i]) < 1e-6f;
	}
	tap_ok(ok, "rectifiers, their gradient and momentum SGD, %s", isa);
}

int main(void)
{
	static const char *const isas[] = {"avx512", "avx2", "generic"};

	for (int i = 0; i < 3; i++) {
		if (cnn_simd_force(isas[i])) {
			printf("# %s: not on this processor\n", isas[i]);
			continue;
		}
		check_conv((cnn_conv){.n = 5, .c = 1, .k = 6, .nd = 2, .in = {28, 28},
				      .ker = {5, 5}, .pad_lo = {2, 2}, .pad_hi = {2, 2}},
			   "LeNet conv 1->6 5x5 pad 2", isas[i]);
		check_conv((cnn_conv){.n = 5, .c = 6, .k = 16, .nd = 2, .in = {14, 14},
				      .ker = {5, 5}}, "LeNet conv 6->16 5x5", isas[i]);
		check_conv((cnn_conv){.n = 3, .c = 8, .k = 12, .nd = 2, .in = {20, 19},
				      .ker = {3, 3}, .pad_lo = {1, 1}, .pad_hi = {1, 1}},
			   "8->12 3x3 pad 1 (rows wider than a vector)", isas[i]);
		check_conv((cnn_conv){.n = 3, .c = 8, .k = 12, .nd = 2, .in = {11, 10},
				      .ker = {3, 3}, .stride = {2, 2}, .pad_lo = {1, 1},
				      .pad_hi = {1, 1}}, "8->12 3x3 stride 2", isas[i]);
		check_conv((cnn_conv){.n = 2, .c = 16, .k = 32, .nd = 2, .in = {12, 12},
				      .ker = {3, 3}, .pad_lo = {1, 1}, .pad_hi = {1, 1}},
			   "16->32 3x3 (transposed forward)", isas[i]);
		check_conv((cnn_conv){.n = 3, .c = 64, .k = 600, .nd = 2, .in = {3, 3},
				      .ker = {1, 1}}, "64->600 1x1 (GEMM weight gradient)", isas[i]);
		check_conv((cnn_conv){.n = 2, .c = 6, .k = 4, .groups = 2, .nd = 2, .in = {7, 8},
				      .ker = {3, 2}, .dil = {2, 1}, .pad_lo = {2, 0},
				      .pad_hi = {1, 1}}, "groups 2, dilation, asymmetric padding",
			   isas[i]);
		check_max2(3, 2, 28, 28, isas[i]);
		check_max2(2, 3, 10, 11, isas[i]);
		check_max2(1, 2, 70, 70, isas[i]);
		check_elementwise(isas[i]);
	}
	cnn_simd_force(NULL);
	return tap_done();
}
