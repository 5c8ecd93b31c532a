/*
 * pool_grad.c - the gradient of pooling, for training.
 *
 * A max (or min) passes each output's gradient to the input cell that won
 * its window, the first in scan order on ties, as PyTorch does; an average
 * spreads it evenly over the cells it divided by.  Windows overlap when the
 * stride is smaller than the window, so gradients add up.
 */
#include "cnn.h"
#include "simd/simd.h"
#include "core/threads.h"

struct axis {
	int in, win, stride, lo, hi, out;
};

/* The input cells [*first, *last) of window o, and the average's divisor. */
static int window(const struct axis *a, int o, int count_pad, int *first, int *last)
{
	int start = o * a->stride - a->lo, end = start + a->win;

	*first = start > 0 ? start : 0;
	*last = end < a->in ? end : a->in;
	if (count_pad)
		return (end < a->in + a->hi ? end : a->in + a->hi) - start;
	return *last - *first;
}

struct grad_job {
	const cnn_pool *p;
	const struct axis *a;
	long xsize, ysize;
	const float *x, *dy;
	float *dx;
};

/* Planes [i0, i1) of 2x2 windows at stride 2, vectorised. */
static void max2_grad_planes(void *ctx, long i0, long i1, int t)
{
	const struct grad_job *j = ctx;
	const struct cnn_simd_grad *sg = cnn_simd_grad();
	const struct axis *a = j->a;

	(void)t;
	for (long plane = i0; plane < i1; plane++)
		sg->max2_grad(j->dx + plane * a[1].in * a[2].in, j->x + plane * a[1].in * a[2].in,
			      j->dy + plane * a[1].out * a[2].out, a[2].in, a[1].out, a[2].out);
}

/* Planes [i0, i1), any window. */
static void grad_planes(void *ctx, long i0, long i1, int t)
{
	const struct grad_job *j = ctx;
	const cnn_pool p = *j->p;
	const struct axis *a = j->a;
	long xsize = j->xsize, ysize = j->ysize;

	(void)t;
	for (long plane = i0; plane < i1; plane++) {
		const float *xp = j->x + plane * xsize, *g = j->dy + plane * ysize;
		float *dxp = j->dx + plane * xsize;
		for (int od = 0; od < a[0].out; od++)
		for (int oh = 0; oh < a[1].out; oh++)
		for (int ow = 0; ow < a[2].out; ow++, g++) {
			int f[3], l[3];
			int cd = window(&a[0], od, p.count_pad, &f[0], &l[0]);
			int ch = window(&a[1], oh, p.count_pad, &f[1], &l[1]);
			int cw = window(&a[2], ow, p.count_pad, &f[2], &l[2]);
			long best = -1;
			for (int z = f[0]; z < l[0]; z++)
			for (int y = f[1]; y < l[1]; y++)
			for (int w = f[2]; w < l[2]; w++) {
				long at = ((long)z * a[1].in + y) * a[2].in + w;
				if (p.op == CNN_POOL_AVG)
					dxp[at] += *g / ((float)cd * ch * cw);
				else if (best < 0 || (p.op == CNN_POOL_MAX ? xp[at] > xp[best]
									 : xp[at] < xp[best]))
					best = at;
			}
			if (best >= 0)
				dxp[best] += *g;
		}
	}
}

int cnn_pool_backward(const cnn_pool *pool, const float *x, const float *dy, float *dx)
{
	cnn_pool p = *pool;
	struct axis a[3];
	long xsize, ysize;

	if (cnn_pool_setup(&p))
		return CNN_ERR;
	for (int d = 0; d < 3; d++) {
		int i = d - (3 - p.nd), on = i >= 0;
		a[d] = (struct axis){on ? p.in[i] : 1, on ? p.win[i] : 1, on ? p.stride[i] : 1,
				     on ? p.pad_lo[i] : 0, on ? p.pad_hi[i] : 0, on ? p.out[i] : 1};
	}
	xsize = (long)a[0].in * a[1].in * a[2].in;
	ysize = (long)a[0].out * a[1].out * a[2].out;
	int nt = (double)p.n * p.c * (xsize + ysize) < (1 << 16) ? 1 : cnn_threads();
	struct grad_job job = { &p, a, xsize, ysize, x, dy, dx };

	/* 2x2 windows at stride 2 that stay inside the input: vectorised. */
	if (p.op == CNN_POOL_MAX && a[0].win == 1 && a[0].stride == 1 && a[0].lo == 0 &&
	    a[1].win == 2 && a[1].stride == 2 && a[1].lo == 0 && 2 * a[1].out <= a[1].in &&
	    a[2].win == 2 && a[2].stride == 2 && a[2].lo == 0 && 2 * a[2].out <= a[2].in) {
		cnn_parallel_for(nt, (long)p.n * p.c * a[0].out, max2_grad_planes, &job);
		return CNN_OK;
	}
	cnn_parallel_for(nt, (long)p.n * p.c, grad_planes, &job);
	return CNN_OK;
}
