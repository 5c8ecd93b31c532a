/*
 * gemm.c - the GEMM micro-kernel and the packing of its operands.
 *
 * The kernel keeps an MR x NR tile of C in registers (NR = NV vectors)
 * and, per step of k, loads NV vectors of B and broadcasts MR values of the
 * packed A: the shape of the Goto/BLIS micro-kernel, for row-major C.
 */
#include "vec.h"

static void kernel(int kc, const float *a, const float *b,
		   const ptrdiff_t *boff, float *c, ptrdiff_t ldc,
		   const struct cnn_epilogue *e)
{
	const float alpha = e->alpha, beta = e->beta, *bias = e->bias;
	vf acc[GEMM_MR][GEMM_NV] = { 0 };

	for (int k = 0; k < kc; k++, a += GEMM_MR) {
		const float *bk = b + boff[k];
		vf bv[GEMM_NV];

#pragma GCC unroll 4
		for (int j = 0; j < GEMM_NV; j++)
			bv[j] = vload(bk + j * VL);
#pragma GCC unroll 16
		for (int i = 0; i < GEMM_MR; i++)
#pragma GCC unroll 4
			for (int j = 0; j < GEMM_NV; j++)
				acc[i][j] += a[i] * bv[j];
	}

#pragma GCC unroll 16
	for (int i = 0; i < GEMM_MR; i++, c += ldc) {
#pragma GCC unroll 4
		for (int j = 0; j < GEMM_NV; j++) {
			vf v = acc[i][j] * alpha;

			if (beta != 0)
				v += beta * vload(c + j * VL);
			if (bias)
				v += bias[i];
			vstore(c + j * VL, v);
		}
	}
}

/* One body for both panel widths; inlined with w constant, so the common
 * whole-row copy becomes a few vector moves. */
static inline __attribute__((always_inline)) void
pack(int w, float *dst, const float *src, ptrdiff_t ls, ptrdiff_t ks,
     int kc, int lanes)
{
	if (ls == 1 && lanes == w) {
		for (int k = 0; k < kc; k++)
			memcpy(dst + (ptrdiff_t)k * w, src + k * ks,
			       w * sizeof(float));
		return;
	}
	for (int k = 0; k < kc; k++) {
		float *d = dst + (ptrdiff_t)k * w;
		const float *s = src + k * ks;
		int l;

		for (l = 0; l < lanes; l++)
			d[l] = s[l * ls];
		for (; l < w; l++)
			d[l] = 0;
	}
}

static void pack_mr(float *dst, const float *src, ptrdiff_t ls, ptrdiff_t ks,
		    int kc, int lanes)
{
	pack(GEMM_MR, dst, src, ls, ks, kc, lanes);
}

static void pack_nr(float *dst, const float *src, ptrdiff_t ls, ptrdiff_t ks,
		    int kc, int lanes)
{
	pack(GEMM_NR, dst, src, ls, ks, kc, lanes);
}

void ISA(cnn_dot_row)(float *y, int n, const struct cnn_window *win,
		      const float *w, float bias);
void ISA(cnn_max_row)(float *y, int n, const struct cnn_window *win);
void ISA(cnn_min_row)(float *y, int n, const struct cnn_window *win);
void ISA(cnn_sum_row)(float *y, int n, const struct cnn_window *win);

const struct cnn_simd ISA(cnn_simd) = {
	.name = ISA_NAME,
	.mr = GEMM_MR,
	.nr = GEMM_NR,
	.kernel = kernel,
	.pack_mr = pack_mr,
	.pack_nr = pack_nr,
	.dot_row = ISA(cnn_dot_row),
	.max_row = ISA(cnn_max_row),
	.min_row = ISA(cnn_min_row),
	.sum_row = ISA(cnn_sum_row),
};
