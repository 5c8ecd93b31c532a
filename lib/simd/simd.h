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

/* A sliding-window job over one plane laid out as cnn_phase_plane() does:
 * output element j of the row is a reduction over in[j + off[t]], t < taps. */
struct cnn_window {
	const float *in;
	const ptrdiff_t *off;
	int taps;
};

struct cnn_simd {
	const char *name;
	int mr, nr; /* micro-tile of C: mr rows by nr columns */
	/* C[mr x nr] from the packed mr x kc panel a (k-major) and rows of B
	 * starting at b + boff[k] (nr floats each, any alignment). */
	void (*kernel)(int kc, const float *a, const float *b,
		       const ptrdiff_t *boff, float *c, ptrdiff_t ldc,
		       const struct cnn_epilogue *e);
	/* dst[k * w + l] = src[l * ls + k * ks] for l < lanes, 0 for
	 * lanes <= l < w, where w is mr or nr. */
	void (*pack_mr)(float *dst, const float *src, ptrdiff_t ls,
			ptrdiff_t ks, int kc, int lanes);
	void (*pack_nr)(float *dst, const float *src, ptrdiff_t ls,
			ptrdiff_t ks, int kc, int lanes);
	/* y[j] = bias + sum_t w[t] * in[j + off[t]], j < n. */
	void (*dot_row)(float *y, int n, const struct cnn_window *win,
			const float *w, float bias);
	/* y[j] = max, min or sum over t of in[j + off[t]], j < n. */
	void (*max_row)(float *y, int n, const struct cnn_window *win);
	void (*min_row)(float *y, int n, const struct cnn_window *win);
	void (*sum_row)(float *y, int n, const struct cnn_window *win);
};

extern const struct cnn_simd cnn_simd_avx512, cnn_simd_avx2, cnn_simd_generic;

/* The table for this processor, or the one named by cnn_simd_force(). */
const struct cnn_simd *cnn_simd(void);
/* Use the named table ("avx512", "avx2", "generic"), or with NULL the best
 * again; CNN_ERR if this processor cannot run it.  For tests and
 * benchmarks of every variant. */
int cnn_simd_force(const char *name);

/* GEMM over prepared operands, used by cnn_sgemm and the convolutions:
 * C[m x n] from a packed in mr-row panels of kc (panel i at a + i*mr*kc)
 * and B tiles of nr columns, tile j at b + j*bstep, rows at boff[]. */
void cnn_gemm_block(const struct cnn_simd *s, int m, int n, int kc,
		    const float *a, const float *b, ptrdiff_t bstep,
		    const ptrdiff_t *boff, float *c, ptrdiff_t ldc,
		    const struct cnn_epilogue *e);

#endif

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
	ptrdiff_t plane;	/* q[0] * q[1] * q[2] */
	ptrdiff_t chan;		/* all phases of one channel */
	float fill;		/* the value of padding */
};

/* Dimensions are D, H, W (pad 1-D and 2-D to 3-D with size-1 dims); span is
 * how much of the padded input the windows reach. */
void cnn_phases_init(struct cnn_phases *ph, const int in[3], const int pad_lo[3],
		     const int span[3], const int stride[3], float fill);
/* Lay out one channel. */
void cnn_phases_fill(const struct cnn_phases *ph, float *dst, const float *src);
/* Where in a channel the tap at padded offset t[] of output 0 is. */
ptrdiff_t cnn_phases_offset(const struct cnn_phases *ph, const int t[3]);
/* Copy flat-grid outputs [q0, q0 + nq) of rows rows (src rows ld apart)
 * to their places in dst, out[] the real output size, rows dst_ld apart. */
void cnn_phases_compact(const struct cnn_phases *ph, const int out[3],
			float *dst, ptrdiff_t dst_ld, const float *src,
			ptrdiff_t ld, int rows, ptrdiff_t q0, ptrdiff_t nq);
