/*
 * gemm.c - the GEMM micro-kernel and the packing of its operands.
 *
 * The kernel keeps an MR x NR tile of C in registers (NR = NV vectors)
 * and, per step of k, loads NV vectors of B and broadcasts MR values of the
 * packed A: the shape of the Goto/BLIS micro-kernel, for row-major C.
 */
#include "vec.h"

/* The packed A goes by once per tile of C, and when C has a tile or two
 * (the small maps, whose time is the reading of their weights) once in
 * all, from memory: fetching it this many steps of k ahead keeps the
 * kernel from waiting on it, which the hardware prefetchers do not. */
enum { PREFETCH_K = 64 };

/* The first mr rows (GEMM_MR, or fewer for the last panel of A, whose
 * other rows are padding) and nv vectors (GEMM_NV for whole tiles, fewer
 * for the ends of rows) of a tile. */
static inline __attribute__((always_inline)) void
kernel(int mr, int nv, int kc, const float *a, const float *b, const ptrdiff_t *boff,
       float *c, ptrdiff_t ldc, const struct cnn_epilogue *e)
{
	const float alpha = e->alpha, beta = e->beta, *bias = e->bias;
	vf acc[GEMM_MR][GEMM_NV] = { 0 };

	for (int k = 0; k < kc; k++, a += GEMM_MR) {
		const float *bk = b + boff[k];
		vf bv[GEMM_NV];

		__builtin_prefetch(a + PREFETCH_K * GEMM_MR);
#pragma GCC unroll 4
		for (int j = 0; j < nv; j++)
			bv[j] = vload(bk + j * VL);
#pragma GCC unroll 16
		for (int i = 0; i < mr; i++)
#pragma GCC unroll 4
			for (int j = 0; j < nv; j++)
				acc[i][j] += a[i] * bv[j];
	}

#pragma GCC unroll 16
	for (int i = 0; i < mr; i++, c += ldc) {
#pragma GCC unroll 4
		for (int j = 0; j < nv; j++) {
			vf v = acc[i][j] * alpha;

			if (beta != 0)
				v += beta * vload(c + j * VL);
			if (bias)
				v += bias[i];
			vstore(c + j * VL, v);
		}
	}
}

#define KERNEL(name, mr, nv)						\
static void name(int kc, const float *a, const float *b,		\
		 const ptrdiff_t *boff, float *c, ptrdiff_t ldc,	\
		 const struct cnn_epilogue *e)				\
{									\
	kernel(mr > GEMM_MR ? GEMM_MR : mr, nv > GEMM_NV ? GEMM_NV : nv,	\
	       kc, a, b, boff, c, ldc, e);				\
}
KERNEL(kernel1, GEMM_MR, 1)
KERNEL(kernel2, GEMM_MR, 2)
KERNEL(kernel3, GEMM_MR, 3)
/* Up to 7 rows, for 8-row panels: with fewer, the longer ones are whole
 * panels, never called. */
KERNEL(rows1, 1, GEMM_NV)
KERNEL(rows2, 2, GEMM_NV)
KERNEL(rows3, 3, GEMM_NV)
KERNEL(rows4, 4, GEMM_NV)
KERNEL(rows5, 5, GEMM_NV)
KERNEL(rows6, 6, GEMM_NV)
KERNEL(rows7, 7, GEMM_NV)

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

static void gather(float *dst, ptrdiff_t ldd, const float *src,
		   const ptrdiff_t *boff, int kc, const struct cnn_run *run,
		   int runs)
{
	for (const struct cnn_run *r = run; r < run + runs; r++) {
		const float *s = src + r->from;
		float *d = dst + r->at;

		for (int k = 0; k < kc; k++)
			vstore(d + k * ldd, vload(s + boff[k]));
	}
}

void ISA(cnn_dot_rows)(float *y, int n, const struct cnn_window *win,
		       const float *w, float bias);
void ISA(cnn_max_rows)(float *y, int n, const struct cnn_window *win);
void ISA(cnn_min_rows)(float *y, int n, const struct cnn_window *win);
void ISA(cnn_avg_rows)(float *y, int n, const struct cnn_window *win, const float *dh,
		       const float *dw);

const struct cnn_simd ISA(cnn_simd) = {
	.name = ISA_NAME,
	.mr = GEMM_MR,
	.nr = GEMM_NR,
	.vl = VL,
	.kernel = { kernel1, kernel2, kernel3 },
	.rows = { rows1, rows2, rows3, rows4, rows5, rows6, rows7 },
	.pack_mr = pack_mr,
	.pack_nr = pack_nr,
	.gather = gather,
	.dot_rows = ISA(cnn_dot_rows),
	.max_rows = ISA(cnn_max_rows),
	.min_rows = ISA(cnn_min_rows),
	.avg_rows = ISA(cnn_avg_rows),
};
