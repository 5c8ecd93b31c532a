/*
 * window.c - reductions over sliding windows along a row: the depthwise
 * convolution (a weighted sum) and the poolings (max, min, sum).
 *
 * The caller lays the plane out so that the taps of output j are
 * in[j + off[t]] (strides turned into phases, see conv.c), which makes
 * every tap one contiguous vector load across outputs.  Loads may reach
 * up to VL - 1 floats past the last output's taps; the caller leaves that
 * much slack after the plane.
 */
#include "vec.h"

enum op { DOT, MAX, MIN, SUM };

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

/* nv vectors of outputs at once, so that nv independent chains hide the
 * latency of the operation. */
static inline __attribute__((always_inline)) void
block(enum op op, int nv, float *y, const float *in,
      const struct cnn_window *win, const float *w, float bias)
{
	vf acc[nv];

	for (int v = 0; v < nv; v++)
		acc[v] = op == DOT ? vsplat(bias) : op == SUM ? vsplat(0) :
			 vload(in + win->off[0] + v * VL);
	for (int t = op == DOT || op == SUM ? 0 : 1; t < win->taps; t++) {
		const float *p = in + win->off[t];
		float wt = op == DOT ? w[t] : 0;

		for (int v = 0; v < nv; v++)
			acc[v] = combine(op, acc[v], vload(p + v * VL), wt);
	}
	for (int v = 0; v < nv; v++)
		vstore(y + v * VL, acc[v]);
}

static inline __attribute__((always_inline)) void
row(enum op op, float *y, int n, const struct cnn_window *win,
    const float *w, float bias)
{
	int j = 0;

	for (; j + 4 * VL <= n; j += 4 * VL)
		block(op, 4, y + j, win->in + j, win, w, bias);
	for (; j + VL <= n; j += VL)
		block(op, 1, y + j, win->in + j, win, w, bias);
	if (j < n) {
		float tail[VL];

		block(op, 1, tail, win->in + j, win, w, bias);
		memcpy(y + j, tail, (size_t)(n - j) * sizeof(float));
	}
}

void ISA(cnn_dot_row)(float *y, int n, const struct cnn_window *win,
		      const float *w, float bias)
{
	row(DOT, y, n, win, w, bias);
}

void ISA(cnn_max_row)(float *y, int n, const struct cnn_window *win)
{
	row(MAX, y, n, win, NULL, 0);
}

void ISA(cnn_min_row)(float *y, int n, const struct cnn_window *win)
{
	row(MIN, y, n, win, NULL, 0);
}

void ISA(cnn_sum_row)(float *y, int n, const struct cnn_window *win)
{
	row(SUM, y, n, win, NULL, 0);
}
