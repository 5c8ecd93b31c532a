/*
 * pool.c - max, min and average pooling, 1-D to 3-D.
 *
 * Each plane is laid out in stride phases (see simd.h) with padding that
 * never wins (-inf for max, +inf for min, 0 for sums), so that every tap of
 * a row of outputs is one contiguous vector load; averages then divide by
 * per-dimension counts of the cells that count.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "cnn.h"
#include "simd/simd.h"
#include "core/threads.h"

enum { SLACK = 64 }; /* floats after a plane (or the divisors) for the vector tails */

static const char *dims(int nd, const int *v, char *buf, size_t size)
{
	int n = 0;

	for (int d = 0; d < nd; d++)
		n += snprintf(buf + n, size - n, "%s%d", d ? "x" : "", v[d]);
	return buf;
}

int cnn_pool_setup(cnn_pool *p)
{
	char b1[64], b2[64];
	int padded[CNN_MAX_SPATIAL];
	int64_t plane = 1;

	if (p->op != CNN_POOL_MAX && p->op != CNN_POOL_AVG && p->op != CNN_POOL_MIN)
		return cnn_error("unknown pooling operation %d", (int)p->op);
	if (p->nd < 1 || p->nd > CNN_MAX_SPATIAL)
		return cnn_error("pooling must have 1 to %d spatial dimensions, not %d",
				 CNN_MAX_SPATIAL, p->nd);
	if (p->n < 1 || p->c < 1)
		return cnn_error("batch %d and channels %d must be positive", p->n, p->c);
	for (int d = 0; d < p->nd; d++) {
		if (p->in[d] < 1 || p->win[d] < 1)
			return cnn_error("input %s and window %s must be positive",
					 dims(p->nd, p->in, b1, sizeof b1),
					 dims(p->nd, p->win, b2, sizeof b2));
		if (p->stride[d] == 0)
			p->stride[d] = p->win[d];
		if (p->stride[d] < 0)
			return cnn_error("stride must be positive");
		if (p->pad_lo[d] < 0 || p->pad_hi[d] < 0)
			return cnn_error("padding must not be negative");
		/* so that every window holds at least one input cell */
		if (p->pad_lo[d] >= p->win[d] || p->pad_hi[d] >= p->win[d])
			return cnn_error("padding %d+%d must be smaller than the window %d",
					 p->pad_lo[d], p->pad_hi[d], p->win[d]);
		if ((int64_t)p->in[d] + 2 * p->win[d] > INT32_MAX / 2)
			return cnn_error("pooling too large");
		padded[d] = p->in[d] + p->pad_lo[d] + p->pad_hi[d];
	}
	for (int d = 0; d < p->nd; d++) {
		int span = padded[d] - p->win[d], s = p->stride[d];

		if (span < 0)
			return cnn_error("window %s is larger than the padded input %s",
					 dims(p->nd, p->win, b1, sizeof b1),
					 dims(p->nd, padded, b2, sizeof b2));
		p->out[d] = (span + (p->ceil_mode ? s - 1 : 0)) / s + 1;
		/* PyTorch: the last window starts in the input or left padding */
		if (p->ceil_mode && (p->out[d] - 1) * s >= p->in[d] + p->pad_lo[d])
			p->out[d]--;
		plane *= ((int64_t)p->out[d] - 1) * s + p->win[d];
	}
	if (plane + SLACK > INT32_MAX)
		return cnn_error("pooling too large");
	return CNN_OK;
}

struct plan {
	const cnn_pool *p;
	const struct cnn_simd *s;
	struct cnn_phases ph;
	int out[3];
	ptrdiff_t xsize, ysize;
	struct cnn_window win;
	float *dh;		/* divisors of averages per output row (of every d) */
	float *dw;		/* and per output column */
};

/* Cells of window o along one dimension that the average counts. */
static int cells(const cnn_pool *p, int d, int o)
{
	int start = o * p->stride[d] - p->pad_lo[d], end = start + p->win[d];

	if (p->count_pad)
		return (end < p->in[d] + p->pad_hi[d] ? end : p->in[d] + p->pad_hi[d]) - start;
	return (end < p->in[d] ? end : p->in[d]) - (start > 0 ? start : 0);
}

static void pool_plane(const struct plan *pl, float *buf, const float *x, float *y)
{
	const int *q = pl->ph.q, *out = pl->out;
	struct cnn_window win = pl->win;
	enum cnn_pool_op op = pl->p->op;

	cnn_phases_fill(&pl->ph, buf, x);
	for (int d = 0; d < out[0]; d++, y += out[1] * out[2]) {
		win.in = buf + (ptrdiff_t)d * q[1] * q[2];
		if (op == CNN_POOL_MAX)
			pl->s->max_rows(y, out[2], &win);
		else if (op == CNN_POOL_MIN)
			pl->s->min_rows(y, out[2], &win);
		else
			pl->s->avg_rows(y, out[2], &win, pl->dh + d * out[1], pl->dw);
	}
}

struct planes_job {
	const struct plan *pl;
	float *ws;		/* a phase plane per thread */
	const float *x;
	float *y;
};

static void pool_planes(void *ctx, long i0, long i1, int t)
{
	const struct planes_job *j = ctx;
	float *buf = j->ws + t * (j->pl->ph.chan + SLACK);

	for (long i = i0; i < i1; i++)
		pool_plane(j->pl, buf, j->x + i * j->pl->xsize, j->y + i * j->pl->ysize);
}

int cnn_pool_forward(const cnn_pool *pool, const float *x, float *y)
{
	cnn_pool g = *pool;
	struct plan pl = { .p = &g };
	int in[3], win[3], stride[3], lo[3], span[3], t[3], taps, nt;
	ptrdiff_t *off;
	float *ws, *count[3];

	if (cnn_pool_setup(&g))
		return CNN_ERR;
	if (!x || !y)
		return cnn_error("pooling needs an input and an output");
	for (int d = 0; d < 3; d++) {
		int i = d - (3 - g.nd), real = i >= 0;

		in[d] = real ? g.in[i] : 1;
		win[d] = real ? g.win[i] : 1;
		stride[d] = real ? g.stride[i] : 1;
		lo[d] = real ? g.pad_lo[i] : 0;
		pl.out[d] = real ? g.out[i] : 1;
		span[d] = (pl.out[d] - 1) * stride[d] + win[d];
	}
	cnn_phases_init(&pl.ph, in, lo, span, win, stride,
			g.op == CNN_POOL_MAX ? -INFINITY : g.op == CNN_POOL_MIN ? INFINITY : 0);
	pl.s = cnn_simd();
	pl.xsize = (ptrdiff_t)in[0] * in[1] * in[2];
	pl.ysize = (ptrdiff_t)pl.out[0] * pl.out[1] * pl.out[2];
	taps = win[0] * win[1] * win[2];
	/* Values read worth a second thread: face_recognition's 2x2 averages
	 * of 32x35x35 (76k) took 25 us on one, of 128x8x8 (16k) 13. */
	nt = (double)g.n * g.c * (pl.xsize + pl.ysize * taps) < (1 << 14) ? 1 : cnn_threads();
	if (nt > g.n * g.c)
		nt = g.n * g.c;
	off = malloc(taps * sizeof *off + ((size_t)pl.out[0] * pl.out[1] + pl.out[0] +
					    pl.out[1] + pl.out[2] + SLACK) * sizeof(float));
	ws = off ? cnn_scratch(nt * (pl.ph.chan + SLACK)) : NULL;
	if (!ws) {
		free(off);
		return cnn_error("out of memory for pooling");
	}
	taps = 0;
	for (t[0] = 0; t[0] < win[0]; t[0]++)
	for (t[1] = 0; t[1] < win[1]; t[1]++)
	for (t[2] = 0; t[2] < win[2]; t[2]++)
		off[taps++] = cnn_phases_offset(&pl.ph, t);
	pl.win = (struct cnn_window){ NULL, off, taps, pl.out[1], pl.ph.q[2] };
	count[0] = (float *)(off + taps);
	count[1] = count[0] + pl.out[0];
	count[2] = pl.dw = count[1] + pl.out[1];
	pl.dh = pl.dw + pl.out[2] + SLACK;
	for (int d = 0; d < 3; d++)
		for (int o = 0; o < pl.out[d]; o++)
			count[d][o] = d < 3 - g.nd ? 1 : cells(&g, d - (3 - g.nd), o);
	for (int o = pl.out[2]; o < pl.out[2] + SLACK; o++)
		pl.dw[o] = 1;
	for (int d = 0; d < pl.out[0]; d++)
		for (int h = 0; h < pl.out[1]; h++)
			pl.dh[d * pl.out[1] + h] = count[0][d] * count[1][h];

	cnn_parallel_for(nt, (long)g.n * g.c, pool_planes,
			 &(struct planes_job){ &pl, ws, x, y });
	cnn_scratch_done(ws, nt * (pl.ph.chan + SLACK));
	free(off);
	return CNN_OK;
}
