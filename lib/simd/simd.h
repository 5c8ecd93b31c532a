/*
 * simd.h - the kernels that exist once per instruction set.
 *
 * Each lib/simd/NAME.c is compiled three times (CNN_ISA_avx512, _avx2,
 * _generic); every build exports one table, and cnn_simd() hands out the
 * best one this processor runs.  Callers outside lib/simd see only this.
 */
#ifndef CNN_SIMD_H
#define CNN_SIMD_H

#include <stddef.h>

/* What the GEMM micro-kernel does with its accumulators: the first pass
 * over K stores alpha * acc + beta * C + bias[row] (C is not read when beta
 * is 0; bias may be NULL), later passes pass beta 1 and no bias. */
struct cnn_epilogue {
	float alpha, beta;
	const float *bias;
};

/* A sliding-window job over rows of a plane laid out as cnn_phases_fill()
 * does: output j of row r is a reduction over in[r * step + j + off[t]],
 * t < taps; the rows of outputs are contiguous. */
struct cnn_window {
	const float *in;
	const ptrdiff_t *off;
	int taps, rows;
	ptrdiff_t step;
};

/* A vector from src + boff[k] + from to row k of a tile, at at. */
struct cnn_run {
	ptrdiff_t from;
	int at;
};

struct cnn_simd {
	const char *name;
	int mr, nr; /* micro-tile of C: mr rows by nr columns */
	int vl;	    /* floats in a vector; nr is a multiple */
	/* C[mr x (v + 1) * vl] from the packed mr x kc panel a (k-major) and
	 * rows of B starting at b + boff[k] (any alignment): kernel[nr/vl - 1]
	 * makes whole tiles, the narrower ones the ends of rows. */
	void (*kernel[3])(int kc, const float *a, const float *b,
			  const ptrdiff_t *boff, float *c, ptrdiff_t ldc,
			  const struct cnn_epilogue *e);
	/* The same for the first r < mr rows of a whole tile, rows[r - 1]
	 * (r < 8, the largest mr): the last panel of an A whose rows are
	 * not a multiple of mr, without the rows of padding. */
	void (*rows[7])(int kc, const float *a, const float *b,
			const ptrdiff_t *boff, float *c, ptrdiff_t ldc,
			const struct cnn_epilogue *e);
	/* dst[k * w + l] = src[l * ls + k * ks] for l < lanes, 0 for
	 * lanes <= l < w, where w is mr or nr. */
	void (*pack_mr)(float *dst, const float *src, ptrdiff_t ls,
			ptrdiff_t ks, int kc, int lanes);
	void (*pack_nr)(float *dst, const float *src, ptrdiff_t ls,
			ptrdiff_t ks, int kc, int lanes);
	/* Rows k < kc (ldd apart) of a tile of B from vectors of src.  The
	 * vector that ends a run of outputs reads and writes up to vl - 1
	 * floats past it: later runs write over those, and rows need vl
	 * floats of room after nr. */
	void (*gather)(float *dst, ptrdiff_t ldd, const float *src,
		       const ptrdiff_t *boff, int kc, const struct cnn_run *run,
		       int runs);
	/* y[r * n + j] = bias + sum_t w[t] * in[r * step + j + off[t]]. */
	void (*dot_rows)(float *y, int n, const struct cnn_window *win,
			 const float *w, float bias);
	/* y[r * n + j] = max or min over t of in[r * step + j + off[t]]. */
	void (*max_rows)(float *y, int n, const struct cnn_window *win);
	void (*min_rows)(float *y, int n, const struct cnn_window *win);
	/* y[r * n + j] = the sum over t of in[r * step + j + off[t]], divided
	 * by dh[r] * dw[j]; dw has room for vl - 1 floats after n. */
	void (*avg_rows)(float *y, int n, const struct cnn_window *win, const float *dh,
			 const float *dw);
};

extern const struct cnn_simd cnn_simd_avx512, cnn_simd_avx2, cnn_simd_generic;

/* The kernels of the training passes (lib/simd/grad.c). */
struct cnn_simd_grad {
	int dot_mb, dot_nb;	/* the largest block of dot_acc */
	/* For rows i < m (at most dot_mb) and columns j < n (at most dot_nb):
	 * the vector acc + i * ldacc + j * vl += the sum over images q < images
	 * and vectors v < nv of a[q] + i * lda + v * vl times
	 * b[q] + boff[j] + v * vl (elementwise; the caller sums the lanes). */
	void (*dot_acc)(int m, int n, float *acc, ptrdiff_t ldacc, int nv,
			const float *const *a, ptrdiff_t lda, const float *const *b,
			const ptrdiff_t *boff, int images);
	/* One plane of 2x2 stride-2 max pooling, out_h x out_w from in_w wide
	 * rows: y = the maximum of each window (NaN wins, as cnn_pool_forward);
	 * and its gradient: dx += dy at the first maximum in scan order. */
	void (*max2)(float *y, const float *x, int in_w, int out_h, int out_w);
	void (*max2_grad)(float *dx, const float *x, const float *dy, int in_w,
			  int out_h, int out_w);
	/* y = y > 0 ? y : slope * y, and its derivative: d *= y > 0 ? 1 : slope. */
	void (*rect)(float *y, long n, float slope);
	void (*rect_grad)(const float *y, float *d, long n, float slope);
	/* Momentum SGD over n parameters: grad += decay * w; m = momentum * m
	 * + grad; w -= lr * m (grad itself is not written). */
	void (*sgd)(float *w, float *m, const float *grad, long n, float lr, float momentum,
		    float decay);
	/* y += x over n floats. */
	void (*add)(float *y, const float *x, long n);
	/* One channel of the columns of a stride-1, undilated 2-D convolution
	 * (row a * kw + b for tap (a, b), ld apart, out_h x out_w each) added
	 * onto the padded plane qh x qw (qw <= vl, qw >= out_w + kw - 1). */
	void (*col2im_s1)(float *plane, int qh, int qw, const float *col, ptrdiff_t ld,
			  int kh, int kw, int out_h, int out_w);
};

extern const struct cnn_simd_grad cnn_simd_grad_avx512, cnn_simd_grad_avx2,
	cnn_simd_grad_generic;

/* The table of the same instruction set as cnn_simd(). */
const struct cnn_simd_grad *cnn_simd_grad(void);

/* The elementwise kernels of images (lib/simd/pixels.c): conversions,
 * the colour operations of augmentation, flips and the rows of resizing. */
struct cnn_simd_pixels {
	/* d = s, and back: clamped to 0..255 and rounded half to even. */
	void (*u8_to_f32)(float *d, const unsigned char *s, long n);
	void (*f32_to_u8)(unsigned char *d, const float *s, long n);
	/* v = a (v - c) + d, then (when lo < hi) clamped to lo..hi, NaN to lo
	 * as fminf(fmaxf(v, lo), hi) does.  The subtraction first keeps
	 * (v - mean) / std exact where v = mean + std. */
	void (*affine)(float *v, long n, float a, float c, float d, float lo, float hi);
	/* y = g ((x - mean) invstd) + b, each step rounded: batch
	 * normalisation's inference. */
	void (*normalise)(float *y, const float *x, long n, float mean, float invstd,
			  float g, float b);
	/* The sum of n floats, the same on every instruction set. */
	double (*sum)(const float *v, long n);
	/* y += a x. */
	void (*axpy)(float *y, const float *x, long n, float a);
	/* The n floats of v in reverse order, in place. */
	void (*reverse)(float *v, long n);
	/* d[j] = s[2 j], j < n, reading no further than s[2 n - 2]: a row of
	 * a stride-2 phase plane. */
	void (*evens)(float *d, const float *s, long n);
	/* y[o] = the sum over t < taps of w[t * n + o] x[first[o] + t], o < n:
	 * the horizontal taps of resizing (x has room for every tap).  A tap
	 * of weight 0 adds nothing, not 0 times an infinity. */
	void (*taps)(float *y, const float *x, const int *first, const float *w, int taps,
		     long n);
};

extern const struct cnn_simd_pixels cnn_simd_pixels_avx512, cnn_simd_pixels_avx2,
	cnn_simd_pixels_generic;

/* The table of the same instruction set as cnn_simd(). */
const struct cnn_simd_pixels *cnn_simd_pixels(void);

/* The table for this processor, or the one named by cnn_simd_force(). */
const struct cnn_simd *cnn_simd(void);
/* Use the named table ("avx512", "avx2", "generic"), or with NULL the best
 * again; CNN_ERR if this processor cannot run it.  For tests and
 * benchmarks of every variant. */
int cnn_simd_force(const char *name);

/* Scratch memory of at least floats floats, 64-byte aligned, or NULL.  The
 * last block handed back is kept for the next call, so that a program
 * convolving record after record does not map and fault in fresh pages
 * each time. */
float *cnn_scratch(size_t floats);
void cnn_scratch_done(float *p, size_t floats);

/* GEMM over prepared operands, used by cnn_sgemm and the convolutions:
 * C[m x n] from a packed in mr-row panels of kc (panel i at a + i*mr*kc)
 * and B tiles of nr columns, tile j at b + j*bstep, rows at boff[]. */
void cnn_gemm_block(const struct cnn_simd *s, int m, int n, int kc,
		    const float *a, const float *b, ptrdiff_t bstep,
		    const ptrdiff_t *boff, float *c, ptrdiff_t ldc,
		    const struct cnn_epilogue *e);


/* Sliding windows made contiguous, shared by conv.c and pool.c.
 *
 * A channel is copied, padding included, into stride-phase planes: with
 * stride s along a dimension, padded index i lands in phase i % s at
 * i / s.  Then the window tap at padded offset t of output o reads phase
 * t % s at o + t / s, so neighbouring outputs read neighbouring floats for
 * any stride, and output (d, h, w) is element (d * q[1] + h) * q[2] + w of
 * a "flat" grid whose rows are q[2] long (the extra columns are garbage). */
struct cnn_phases {
	int in[3], pad_lo[3], stride[3];
	int q[3];		/* each phase plane is q[0] x q[1] x q[2] */
	int phases[3];		/* phases kept: those that taps land on */
	ptrdiff_t plane;	/* q[0] * q[1] * q[2] */
	ptrdiff_t chan;		/* all phases of one channel */
	float fill;		/* the value of padding */
};

/* Dimensions are D, H, W (pad 1-D and 2-D to 3-D with size-1 dims); span is
 * how much of the padded input all windows reach, reach what one does. */
void cnn_phases_init(struct cnn_phases *ph, const int in[3], const int pad_lo[3],
		     const int span[3], const int reach[3], const int stride[3],
		     float fill);
/* Lay out one channel. */
void cnn_phases_fill(const struct cnn_phases *ph, float *dst, const float *src);
/* Where in a channel the tap at padded offset t[] of output 0 is. */
ptrdiff_t cnn_phases_offset(const struct cnn_phases *ph, const int t[3]);

#endif
