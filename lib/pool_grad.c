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

	/* 2x2 windows at stride 2 that stay inside the input: vectorised. */
	if (p.op == CNN_POOL_MAX && a[0].win == 1 && a[0].stride == 1 && a[0].lo == 0 &&
	    a[1].win == 2 && a[1].stride == 2 && a[1].lo == 0 && 2 * a[1].out <= a[1].in &&
	    a[2].win == 2 && a[2].stride == 2 && a[2].lo == 0 && 2 * a[2].out <= a[2].in) {
		const struct cnn_simd_grad *sg = cnn_simd_grad();
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
		for (long plane = 0; plane < (long)p.n * p.c * a[0].out; plane++)
			sg->max2_grad(dx + plane * a[1].in * a[2].in, x + plane * a[1].in * a[2].in,
				      dy + plane * a[1].out * a[2].out, a[2].in, a[1].out,
				      a[2].out);
		return CNN_OK;
	}

#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
	for (long plane = 0; plane < (long)p.n * p.c; plane++) {
		const float *xp = x + plane * xsize, *g = dy + plane * ysize;
		float *dxp = dx + plane * xsize;
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
	return CNN_OK;
}
