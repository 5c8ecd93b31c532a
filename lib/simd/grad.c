/*
 * grad.c - kernels of the training passes: the dot-product blocks of a
 * convolution's weight gradient, 2x2 max pooling's gradient, and the
 * rectifiers and their derivatives.
 */
#include "vec.h"

/* ------------------------------------------------ weight gradient dots */

/* acc row i (ldacc apart), vector j: += sum over images q and vectors v of
 * a[q] + i * lda + v * VL times b[q] + boff[j] + v * VL.  m and n are
 * constants after inlining, so that acc lives in registers. */
static inline __attribute__((always_inline)) void
dot_block(int m, int n, float *acc, ptrdiff_t ldacc, int nv, const float *const *a,
	  ptrdiff_t lda, const float *const *b, const ptrdiff_t *boff, int images)
{
	vf c[DOT_MB][DOT_NB];

#pragma GCC unroll 8
	for (int i = 0; i < m; i++)
#pragma GCC unroll 8
		for (int j = 0; j < n; j++)
			c[i][j] = vload(acc + i * ldacc + j * VL);
	for (int q = 0; q < images; q++) {
		const float *aq = a[q], *bq[DOT_NB];

#pragma GCC unroll 8
		for (int j = 0; j < n; j++)
			bq[j] = b[q] + boff[j];
		for (int v = 0; v < nv; v++) {
			vf av[DOT_MB];

#pragma GCC unroll 8
			for (int i = 0; i < m; i++)
				av[i] = vload(aq + i * lda + v * VL);
#pragma GCC unroll 8
			for (int j = 0; j < n; j++) {
				vf bv = vload(bq[j] + v * VL);
#pragma GCC unroll 8
				for (int i = 0; i < m; i++)
					c[i][j] += av[i] * bv;
			}
		}
	}
#pragma GCC unroll 8
	for (int i = 0; i < m; i++)
#pragma GCC unroll 8
		for (int j = 0; j < n; j++)
			vstore(acc + i * ldacc + j * VL, c[i][j]);
}

#define DOT_ARGS float *acc, ptrdiff_t ldacc, int nv, const float *const *a, \
	ptrdiff_t lda, const float *const *b, const ptrdiff_t *boff, int images
#define DOT_PASS acc, ldacc, nv, a, lda, b, boff, images

/* Rows m (1 to DOT_MB) of n columns (1 to DOT_NB). */
#define DOT_ROWS(m)							\
static void dot_rows##m(int n, DOT_ARGS)				\
{									\
	switch (n) {							\
	case 1: dot_block(m, 1, DOT_PASS); break;			\
	case 2: dot_block(m, 2, DOT_PASS); break;			\
	case 3: dot_block(m, 3, DOT_PASS); break;			\
	default: dot_block(m, DOT_NB, DOT_PASS); break;			\
	}								\
}
DOT_ROWS(1)
DOT_ROWS(2)
DOT_ROWS(3)
#if DOT_MB > 3
DOT_ROWS(4)
DOT_ROWS(5)
DOT_ROWS(6)
#endif

static void dot_acc(int m, int n, DOT_ARGS)
{
	switch (m) {
	case 1: dot_rows1(n, DOT_PASS); break;
	case 2: dot_rows2(n, DOT_PASS); break;
#if DOT_MB > 3
	case 3: dot_rows3(n, DOT_PASS); break;
	case 4: dot_rows4(n, DOT_PASS); break;
	case 5: dot_rows5(n, DOT_PASS); break;
	default: dot_rows6(n, DOT_PASS); break;
#else
	default: dot_rows3(n, DOT_PASS); break;
#endif
	}
}

/* ------------------------------------------------- 2x2 max pool gradient */

/* The first n (0 < n <= VL) floats at p; the rest 0.  And back. */
static inline vf load_n(const float *p, int n)
{
#if defined(CNN_ISA_avx512)
	return (vf)_mm512_maskz_loadu_ps((__mmask16)((1u << n) - 1), p);
#else
	float t[VL] = { 0 };
	memcpy(t, p, n * sizeof(float));
	return vload(t);
#endif
}

static inline void store_n(float *p, vf v, int n)
{
#if defined(CNN_ISA_avx512)
	_mm512_mask_storeu_ps(p, (__mmask16)((1u << n) - 1), (__m512)v);
#else
	float t[VL];
	vstore(t, v);
	memcpy(p, t, n * sizeof(float));
#endif
}

/* 2 * cnt inputs from p as the even and the odd ones. */
static inline void load_pairs(const float *p, int cnt, vf *even, vf *odd)
{
	vf a, b;

	if (cnt == VL) {
		a = vload(p), b = vload(p + VL);
	} else if (2 * cnt <= VL) {
		a = load_n(p, 2 * cnt), b = vsplat(0);
	} else {
		a = vload(p), b = load_n(p + VL, 2 * cnt - VL);
	}
	*even = __builtin_shufflevector(a, b, LANES_EVEN);
	*odd = __builtin_shufflevector(a, b, LANES_ODD);
}

/* p[2i] += u[i], p[2i + 1] += v[i] for i < cnt. */
static inline void add_pairs(float *p, int cnt, vf u, vf v)
{
	vf a = __builtin_shufflevector(u, v, LANES_ZIP_LO);
	vf b = __builtin_shufflevector(u, v, LANES_ZIP_HI);

	if (cnt == VL) {
		vstore(p, vload(p) + a);
		vstore(p + VL, vload(p + VL) + b);
	} else if (2 * cnt <= VL) {
		store_n(p, load_n(p, 2 * cnt) + a, 2 * cnt);
	} else {
		vstore(p, vload(p) + a);
		store_n(p + VL, load_n(p + VL, 2 * cnt - VL) + b, 2 * cnt - VL);
	}
}

/* One plane of 2x2 stride-2 max pooling, out_h x out_w from rows in_w
 * wide: the maximum of each window (NaN wins, as pool.c's). */
static void max2(float *y, const float *x, int in_w, int out_h, int out_w)
{
	for (int oh = 0; oh < out_h; oh++) {
		const float *r0 = x + 2 * oh * in_w, *r1 = r0 + in_w;

		for (int ow = 0; ow < out_w; ow += VL) {
			int cnt = out_w - ow < VL ? out_w - ow : VL;
			vf p, q, r, s, m;

			load_pairs(r0 + 2 * ow, cnt, &p, &q);
			load_pairs(r1 + 2 * ow, cnt, &r, &s);
			m = vselect((q > p) | (q != q), q, p);
			m = vselect((r > m) | (r != r), r, m);
			m = vselect((s > m) | (s != s), s, m);
			if (cnt == VL)
				vstore(y + oh * out_w + ow, m);
			else
				store_n(y + oh * out_w + ow, m, cnt);
		}
	}
}

/* Its gradient: dx (in_w wide) += dy routed to the first maximum of each
 * window in scan order. */
static void max2_grad(float *dx, const float *x, const float *dy, int in_w, int out_h,
		      int out_w)
{
	const vf zero = vsplat(0);

	for (int oh = 0; oh < out_h; oh++) {
		const float *r0 = x + 2 * oh * in_w, *r1 = r0 + in_w, *g = dy + oh * out_w;
		float *d0 = dx + 2 * oh * in_w, *d1 = d0 + in_w;

		for (int ow = 0; ow < out_w; ow += VL) {
			int cnt = out_w - ow < VL ? out_w - ow : VL;
			vf p, q, r, s, gv = cnt == VL ? vload(g + ow) : load_n(g + ow, cnt);

			load_pairs(r0 + 2 * ow, cnt, &p, &q);
			load_pairs(r1 + 2 * ow, cnt, &r, &s);
			vf best = p;
			vi wq = q > best;
			best = vselect(wq, q, best);
			vi wr = r > best;
			best = vselect(wr, r, best);
			vi ws = s > best;
			/* the winner is the last one that beat everything before it */
			vi ss = ws, rr = wr & ~ss, qq = wq & ~wr & ~ss, pp = ~(wq | wr | ws);
			add_pairs(d0 + 2 * ow, cnt, vselect(pp, gv, zero), vselect(qq, gv, zero));
			add_pairs(d1 + 2 * ow, cnt, vselect(rr, gv, zero), vselect(ss, gv, zero));
		}
	}
}

/* ------------------------------------------------------------ rectifiers */

/* y = y > 0 ? y : slope * y */
static void rect(float *y, long n, float slope)
{
	const vf zero = vsplat(0), k = vsplat(slope);
	long i = 0;

	for (; i + VL <= n; i += VL) {
		vf v = vload(y + i);
		vstore(y + i, vselect(v > zero, v, v * k));
	}
	for (; i < n; i++)
		y[i] = y[i] > 0 ? y[i] : slope * y[i];
}

/* d *= y > 0 ? 1 : slope (0 for relu: d = y > 0 ? d : 0) */
static void rect_grad(const float *y, float *d, long n, float slope)
{
	const vf zero = vsplat(0), k = vsplat(slope);
	long i = 0;

	if (slope == 0) {
		for (; i + VL <= n; i += VL)
			vstore(d + i, vselect(vload(y + i) > zero, vload(d + i), zero));
		for (; i < n; i++)
			d[i] = y[i] > 0 ? d[i] : 0;
		return;
	}
	for (; i + VL <= n; i += VL) {
		vf v = vload(d + i);
		vstore(d + i, vselect(vload(y + i) > zero, v, v * k));
	}
	for (; i < n; i++)
		d[i] = y[i] > 0 ? d[i] : slope * d[i];
}

/* ------------------------------------------------------------------ add */

static void add(float *y, const float *x, long n)
{
	long i = 0;

	for (; i + VL <= n; i += VL)
		vstore(y + i, vload(y + i) + vload(x + i));
#if defined(CNN_ISA_avx512)
	if (i < n) {
		__mmask16 m = (__mmask16)((1u << (n - i)) - 1);
		_mm512_mask_storeu_ps(y + i, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, y + i),
							      _mm512_maskz_loadu_ps(m, x + i)));
	}
#else
	for (; i < n; i++)
		y[i] += x[i];
#endif
}

/* ------------------------------------------------------------- col2im */

/* One channel of a stride-1 2-D convolution's columns (row a * kw + b, ld
 * apart, out_h x out_w outputs each) added onto its padded plane (qh x qw,
 * qw <= VL): each plane row is summed in a register from every tap that
 * reaches it, then added once. */
static void col2im_s1(float *plane, int qh, int qw, const float *col, ptrdiff_t ld,
		      int kh, int kw, int out_h, int out_w)
{
	for (int py = 0; py < qh; py++) {
#if defined(CNN_ISA_avx512)
		__m512 acc = _mm512_setzero_ps();
		__mmask16 m = (__mmask16)((1u << out_w) - 1), all = (__mmask16)((1u << qw) - 1);
#else
		float acc[VL] = { 0 };
#endif
		for (int a = 0; a < kh; a++) {
			int oy = py - a;
			if (oy < 0 || oy >= out_h)
				continue;
			for (int b = 0; b < kw; b++) {
				const float *src = col + (a * kw + b) * ld + oy * out_w;
#if defined(CNN_ISA_avx512)
				/* lane b + j is src[j]: a masked load from src - b */
				acc = _mm512_add_ps(acc, _mm512_maskz_loadu_ps((__mmask16)(m << b),
									    src - b));
#else
				for (int j = 0; j < out_w; j++)
					acc[b + j] += src[j];
#endif
			}
		}
#if defined(CNN_ISA_avx512)
		_mm512_mask_storeu_ps(plane + py * qw, all,
				      _mm512_add_ps(acc, _mm512_maskz_loadu_ps(all, plane + py * qw)));
#else
		for (int j = 0; j < qw; j++)
			plane[py * qw + j] += acc[j];
#endif
	}
}

/* ------------------------------------------------------------------ SGD */

/* PyTorch's momentum SGD: g += decay w; m = momentum m + g; w -= lr m. */
static void sgd(float *w, float *m, const float *grad, long n, float lr, float momentum,
		float decay)
{
	const vf vlr = vsplat(lr), vmo = vsplat(momentum), vde = vsplat(decay);
	long i = 0;

	for (; i + VL <= n; i += VL) {
		vf wv = vload(w + i), g = vload(grad + i) + vde * wv;
		vf mv = vmo * vload(m + i) + g;
		vstore(m + i, mv);
		vstore(w + i, wv - vlr * mv);
	}
	for (; i < n; i++) {
		float g = grad[i] + decay * w[i];
		m[i] = momentum * m[i] + g;
		w[i] -= lr * m[i];
	}
}

const struct cnn_simd_grad ISA(cnn_simd_grad) = {
	.sgd = sgd,
	.col2im_s1 = col2im_s1,
	.add = add,
	.dot_mb = DOT_MB,
	.dot_nb = DOT_NB,
	.dot_acc = dot_acc,
	.max2 = max2,
	.max2_grad = max2_grad,
	.rect = rect,
	.rect_grad = rect_grad,
};
