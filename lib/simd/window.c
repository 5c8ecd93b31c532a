/*
 * window.c - reductions over sliding windows along rows: the depthwise
 * convolution (a weighted sum) and the poolings (max, min, average).
 *
 * The caller lays the plane out so that the taps of output j are
 * in[j + off[t]] (strides turned into phases, see conv.c), which makes
 * every tap one contiguous vector load across outputs.  Loads may reach
 * up to VL - 1 floats past the last output's taps; the caller leaves that
 * much slack after the plane.
 */
#include "vec.h"

enum op { DOT, MAX, MIN, AVG };

static inline __attribute__((always_inline)) vf
combine(enum op op, vf acc, vf v, float w)
{
	switch (op) {
	case DOT:
		return acc + w * v;
	case MAX: /* NaN wins, as in PyTorch */
		return vselect((v > acc) | (v != v), v, acc);
	case MIN:
		return vselect((v < acc) | (v != v), v, acc);
	default:
		return acc + v;
	}
}

/* nr rows of nv vectors at once, so that nr * nv independent chains hide
 * the latency of the operation; the last vector of a row keeps only its
 * first `last` floats.  w is DOT's taps, or AVG's divisors of these
 * columns (dh those of the rows): the sums are divided in registers, not
 * stored and divided by a scalar loop after, which took longer than
 * summing. */
static inline __attribute__((always_inline)) void
block(enum op op, int nr, int nv, int last, float *y, int n, const float *in,
      const struct cnn_window *win, const float *w, float bias, const float *dh)
{
	vf acc[2][4];

#pragma GCC unroll 2
	for (int r = 0; r < nr; r++)
#pragma GCC unroll 4
		for (int v = 0; v < nv; v++)
			acc[r][v] = op == DOT ? vsplat(bias) : op == AVG ? vsplat(0) :
				    vload(in + r * win->step + win->off[0] + v * VL);
	for (int t = op == DOT || op == AVG ? 0 : 1; t < win->taps; t++) {
		const float *p = in + win->off[t];
		float wt = op == DOT ? w[t] : 0;

#pragma GCC unroll 2
		for (int r = 0; r < nr; r++)
#pragma GCC unroll 4
			for (int v = 0; v < nv; v++)
				acc[r][v] = combine(op, acc[r][v],
						    vload(p + r * win->step + v * VL), wt);
	}
#pragma GCC unroll 2
	for (int r = 0; r < nr; r++) {
#pragma GCC unroll 4
		for (int v = 0; op == AVG && v < nv; v++)
			acc[r][v] /= dh[r] * vload(w + v * VL);
#pragma GCC unroll 4
		for (int v = 0; v < nv - 1; v++)
			vstore(y + r * n + v * VL, acc[r][v]);
		vstore_part(y + r * n + (nv - 1) * VL, acc[r][nv - 1], last);
	}
}

/* nr rows: whole blocks of 4 vectors, then the rest in one block. */
static inline __attribute__((always_inline)) void
rows(enum op op, int nr, float *y, int n, const float *in,
     const struct cnn_window *win, const float *w, float bias, const float *dh)
{
	int j, last;

#define BLOCK(nv, last) block(op, nr, nv, last, y + j, n, in + j, win, \
			      op == AVG ? w + j : w, bias, dh)
	for (j = 0; j + 4 * VL <= n; j += 4 * VL)
		BLOCK(4, VL);
	last = (n - j) % VL ? (n - j) % VL : VL;
	switch ((n - j + VL - 1) / VL) {
	case 4:
		BLOCK(4, last);
		break;
	case 3:
		BLOCK(3, last);
		break;
	case 2:
		BLOCK(2, last);
		break;
	case 1:
		BLOCK(1, last);
		break;
	}
#undef BLOCK
}

static inline __attribute__((always_inline)) void
plane(enum op op, float *y, int n, const struct cnn_window *win,
      const float *w, float bias, const float *dh)
{
	const float *in = win->in;
	int r;

	for (r = 0; r + 2 <= win->rows; r += 2, y += 2 * n, in += 2 * win->step)
		rows(op, 2, y, n, in, win, w, bias, dh ? dh + r : NULL);
	if (r < win->rows)
		rows(op, 1, y, n, in, win, w, bias, dh ? dh + r : NULL);
}

void ISA(cnn_dot_rows)(float *y, int n, const struct cnn_window *win,
		       const float *w, float bias)
{
	plane(DOT, y, n, win, w, bias, NULL);
}

void ISA(cnn_max_rows)(float *y, int n, const struct cnn_window *win)
{
	plane(MAX, y, n, win, NULL, 0, NULL);
}

void ISA(cnn_min_rows)(float *y, int n, const struct cnn_window *win)
{
	plane(MIN, y, n, win, NULL, 0, NULL);
}

void ISA(cnn_avg_rows)(float *y, int n, const struct cnn_window *win, const float *dh,
		       const float *dw)
{
	plane(AVG, y, n, win, dw, 0, dh);
}
