/*
 * test_grad.c - the gradients of convolution and pooling against numeric
 * differentiation of L = sum(r * y) for a fixed random r.
 */
#include <stdlib.h>
#include <string.h>

#include "cnn.h"
#include "tap.h"

static float *randoms(long n, cnn_rng *rng)
{
	float *v = malloc(sizeof *v * (size_t)(n > 0 ? n : 1));
	for (long i = 0; i < n; i++)
		v[i] = (float)(cnn_rng_uniform(rng) * 2 - 1);
	return v;
}

struct conv_case {
	cnn_conv cv;
	float *x, *w, *b, *r, *y;
	long xn, wn, yn;
};

static double conv_loss(void *ctx)
{
	struct conv_case *c = ctx;
	double s = 0;
	cnn_conv_forward(&c->cv, c->x, c->w, c->b, c->y);
	for (long i = 0; i < c->yn; i++)
		s += (double)c->r[i] * c->y[i];
	return s;
}

static void check_conv(cnn_conv cv, const char *what)
{
	struct conv_case c = {.cv = cv};
	cnn_rng rng;
	long spatial = 1, out = 1, ker = 1;

	if (cnn_conv_setup(&c.cv)) {
		tap_ok(0, "%s: setup: %s", what, cnn_errmsg());
		return;
	}
	for (int i = 0; i < cv.nd; i++) {
		spatial *= c.cv.in[i];
		out *= c.cv.out[i];
		ker *= c.cv.ker[i];
	}
	c.xn = (long)cv.n * cv.c * spatial;
	c.wn = (long)cv.k * (cv.c / c.cv.groups) * ker;
	c.yn = (long)cv.n * cv.k * out;
	cnn_rng_seed(&rng, 42);
	c.x = randoms(c.xn, &rng);
	c.w = randoms(c.wn, &rng);
	c.b = randoms(cv.k, &rng);
	c.r = randoms(c.yn, &rng);
	c.y = malloc(sizeof *c.y * c.yn);
	float *dx = calloc(c.xn, sizeof *dx), *dw = calloc(c.wn, sizeof *dw),
	      *db = calloc(cv.k, sizeof *db);
	int ok = cnn_conv_backward(&c.cv, c.x, c.w, c.r, dx, dw, db) == CNN_OK;
	double ex = cnn_gradcheck(c.x, dx, c.xn, 1, conv_loss, &c, 1e-2);
	double ew = cnn_gradcheck(c.w, dw, c.wn, 1, conv_loss, &c, 1e-2);
	double eb = cnn_gradcheck(c.b, db, cv.k, 1, conv_loss, &c, 1e-2);
	tap_ok(ok && ex < 1e-3 && ew < 1e-3 && eb < 1e-3,
	       "conv gradient %s: dx %.1e dw %.1e db %.1e", what, ex, ew, eb);
	free(c.x), free(c.w), free(c.b), free(c.r), free(c.y), free(dx), free(dw), free(db);
}

struct pool_case {
	cnn_pool p;
	float *x, *r, *y;
	long xn, yn;
};

static double pool_loss(void *ctx)
{
	struct pool_case *c = ctx;
	double s = 0;
	cnn_pool_forward(&c->p, c->x, c->y);
	for (long i = 0; i < c->yn; i++)
		s += (double)c->r[i] * c->y[i];
	return s;
}

static void check_pool(cnn_pool p, const char *what)
{
	struct pool_case c = {.p = p};
	cnn_rng rng;
	long in = 1, out = 1;

	if (cnn_pool_setup(&c.p)) {
		tap_ok(0, "%s: setup: %s", what, cnn_errmsg());
		return;
	}
	for (int i = 0; i < p.nd; i++) {
		in *= c.p.in[i];
		out *= c.p.out[i];
	}
	c.xn = (long)p.n * p.c * in;
	c.yn = (long)p.n * p.c * out;
	cnn_rng_seed(&rng, 7);
	/* Distinct values far apart, so that no step of h changes a winner. */
	c.x = malloc(sizeof *c.x * c.xn);
	for (long i = 0; i < c.xn; i++)
		c.x[i] = (float)((i * 7919) % c.xn) * 0.1f;
	c.r = randoms(c.yn, &rng);
	c.y = malloc(sizeof *c.y * c.yn);
	float *dx = calloc(c.xn, sizeof *dx);
	int ok = cnn_pool_backward(&c.p, c.x, c.r, dx) == CNN_OK;
	double ex = cnn_gradcheck(c.x, dx, c.xn, 1, pool_loss, &c, 1e-2);
	tap_ok(ok && ex < 1e-3, "pool gradient %s: dx %.1e", what, ex);
	free(c.x), free(c.r), free(c.y), free(dx);
}

int main(void)
{
	check_conv((cnn_conv){.n = 2, .c = 3, .k = 4, .nd = 2, .in = {5, 6}, .ker = {3, 3}},
		   "2-D 3->4 k3");
	check_conv((cnn_conv){.n = 3, .c = 2, .k = 3, .nd = 2, .in = {7, 7}, .ker = {3, 2},
			      .stride = {2, 1}, .pad_lo = {1, 0}, .pad_hi = {2, 1}},
		   "2-D stride 2x1, asymmetric padding");
	check_conv((cnn_conv){.n = 2, .c = 4, .k = 6, .groups = 2, .nd = 2, .in = {6, 6},
			      .ker = {3, 3}, .dil = {2, 2}, .pad_lo = {2, 2}, .pad_hi = {2, 2}},
		   "2-D groups 2, dilation 2");
	check_conv((cnn_conv){.n = 2, .c = 3, .k = 3, .groups = 3, .nd = 2, .in = {5, 5},
			      .ker = {3, 3}, .pad_lo = {1, 1}, .pad_hi = {1, 1}},
		   "depthwise 3 channels");
	check_conv((cnn_conv){.n = 2, .c = 5, .k = 3, .nd = 2, .in = {4, 4}, .ker = {1, 1}},
		   "1x1");
	check_conv((cnn_conv){.n = 2, .c = 2, .k = 3, .nd = 1, .in = {9}, .ker = {4},
			      .stride = {2}, .pad_lo = {1}, .pad_hi = {1}},
		   "1-D");
	check_conv((cnn_conv){.n = 1, .c = 2, .k = 2, .nd = 3, .in = {4, 4, 5},
			      .ker = {2, 3, 3}, .pad_lo = {0, 1, 1}, .pad_hi = {0, 1, 1}},
		   "3-D");

	check_pool((cnn_pool){.op = CNN_POOL_MAX, .n = 2, .c = 2, .nd = 2, .in = {6, 6},
			      .win = {2, 2}}, "max 2x2 s2");
	check_pool((cnn_pool){.op = CNN_POOL_MAX, .n = 1, .c = 2, .nd = 2, .in = {7, 7},
			      .win = {3, 3}, .stride = {2, 2}, .pad_lo = {1, 1}, .pad_hi = {1, 1}},
		   "max 3x3 s2 overlapping, padded");
	check_pool((cnn_pool){.op = CNN_POOL_MIN, .n = 1, .c = 2, .nd = 2, .in = {5, 5},
			      .win = {2, 2}, .stride = {1, 1}}, "min 2x2 s1");
	check_pool((cnn_pool){.op = CNN_POOL_AVG, .n = 2, .c = 2, .nd = 2, .in = {6, 5},
			      .win = {3, 3}, .stride = {2, 2}, .pad_lo = {1, 1}, .pad_hi = {1, 1},
			      .ceil_mode = 1}, "avg 3x3 s2 padded ceil");
	check_pool((cnn_pool){.op = CNN_POOL_AVG, .n = 1, .c = 3, .nd = 2, .in = {5, 5},
			      .win = {3, 3}, .stride = {2, 2}, .pad_lo = {1, 1}, .pad_hi = {1, 1},
			      .count_pad = 1}, "avg count_pad");
	check_pool((cnn_pool){.op = CNN_POOL_AVG, .n = 2, .c = 3, .nd = 2, .in = {4, 5},
			      .win = {4, 5}}, "global avg");
	check_pool((cnn_pool){.op = CNN_POOL_MAX, .n = 1, .c = 2, .nd = 3, .in = {4, 4, 4},
			      .win = {2, 2, 2}}, "3-D max");
	check_pool((cnn_pool){.op = CNN_POOL_AVG, .n = 1, .c = 2, .nd = 1, .in = {9},
			      .win = {3}, .stride = {2}}, "1-D avg");

	/* The course notes' pooling backprop: 2 8 / 4 6 routed to the maxima. */
	{
		float x[16] = {0, 9, 0, 0, 0, 0, 9, 0, 0, 9, 0, 9, 0, 0, 0, 0};
		float dy[4] = {2, 8, 4, 6}, dx[16] = {0};
		float want[16] = {0, 2, 0, 0, 0, 0, 8, 0, 0, 4, 0, 6, 0, 0, 0, 0};
		cnn_pool p = {.op = CNN_POOL_MAX, .n = 1, .c = 1, .nd = 2, .in = {4, 4}, .win = {2, 2}};
		cnn_pool_backward(&p, x, dy, dx);
		tap_ok(memcmp(dx, want, sizeof dx) == 0, "notes: max pooling backprop puts 2 8 4 6 at the maxima");
		float avg[16] = {0.5, 0.5, 2, 2, 0.5, 0.5, 2, 2, 1, 1, 1.5, 1.5, 1, 1, 1.5, 1.5};
		p.op = CNN_POOL_AVG;
		memset(dx, 0, sizeof dx);
		cnn_pool_backward(&p, x, dy, dx);
		tap_ok(memcmp(dx, avg, sizeof dx) == 0, "notes: average pooling backprop spreads each over 4");
	}
	return tap_done();
}
