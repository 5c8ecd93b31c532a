/*
 * gemm.c - single-precision GEMM.
 *
 * The Goto/BLIS scheme: C is cut into NC-column and MC-row blocks and K
 * into KC steps; per step a KC x NC panel of B and an MC x KC block of A
 * are packed so that the micro-kernel (lib/simd/gemm.c) streams them
 * contiguously: one nr-column sliver of B stays in L1 while the mr-row
 * panels of A go by from L2.  Threads own disjoint blocks of C and pack
 * for themselves, so every element of C sees the same operations in the
 * same order whatever the number of threads.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cnn.h"
#include "simd/simd.h"
#include "core/threads.h"

enum {
	KC = 256,	/* a 256 x nr sliver of B fills about half of L1 */
	MC = 192,	/* the MC x KC block of A sits in L2 */
	NC = 4032,	/* the KC x NC panel of B, in L3 */
	MIN_PARALLEL = 1 << 21, /* multiply-adds worth waking a second thread */
	PIECES = 2,	/* blocks of C per thread, for a thread held up to hold up less */
};

static pthread_mutex_t scratch_lock = PTHREAD_MUTEX_INITIALIZER;
static float *scratch_block;	/* kept for the next caller */
static size_t scratch_floats;

float *cnn_scratch(size_t floats)
{
	float *p = NULL;

	pthread_mutex_lock(&scratch_lock);
	if (scratch_block && scratch_floats >= floats) {
		p = scratch_block;
		scratch_block = NULL;
	}
	pthread_mutex_unlock(&scratch_lock);
	if (!p && posix_memalign((void **)&p, 64, floats * sizeof(float)))
		return NULL;
	return p;
}

void cnn_scratch_done(float *p, size_t floats)
{
	pthread_mutex_lock(&scratch_lock);
	if (!scratch_block || scratch_floats < floats) {
		float *old = scratch_block;

		scratch_block = p, scratch_floats = floats;
		p = old;
	}
	pthread_mutex_unlock(&scratch_lock);
	free(p);
}

static inline int min(int a, int b)
{
	return a < b ? a : b;
}

/* A tile cut by the right edge of C goes through a scratch tile, made by
 * the narrowest kernel that covers it (one cut by the bottom edge only is
 * made in place, by a kernel of its rows): every element still gets
 * exactly the arithmetic of a whole tile.  Only the mr x nr floats that
 * the kernel reads back are cleared, and only when it reads them (beta not
 * 0): t is 8 KiB, and the small maps make an edge tile of many of their
 * tiles. */
static void edge_tile(const struct cnn_simd *s, int mm, int nn, int kc,
		      const float *a, const float *b, const ptrdiff_t *boff,
		      float *c, ptrdiff_t ldc, const struct cnn_epilogue *e)
{
	float t[32 * 64], bias[32] = { 0 };
	struct cnn_epilogue et = *e;

	if (e->beta != 0)
		memset(t, 0, (size_t)s->mr * s->nr * sizeof(float));
	for (int i = 0; e->beta != 0 && i < mm; i++)
		memcpy(t + i * s->nr, c + i * ldc, nn * sizeof(float));
	if (e->bias)
		et.bias = memcpy(bias, e->bias, mm * sizeof(float));
	s->kernel[(nn - 1) / s->vl](kc, a, b, boff, t, s->nr, &et);
	for (int i = 0; i < mm; i++)
		memcpy(c + i * ldc, t + i * s->nr, nn * sizeof(float));
}

void cnn_gemm_block(const struct cnn_simd *s, int m, int n, int kc,
		    const float *a, const float *b, ptrdiff_t bstep,
		    const ptrdiff_t *boff, float *c, ptrdiff_t ldc,
		    const struct cnn_epilogue *e)
{
	for (int j = 0; j < n; j += s->nr, b += bstep) {
		for (int i = 0; i < m; i += s->mr) {
			struct cnn_epilogue ei = *e;
			const float *ai = a + (ptrdiff_t)i * kc;
			float *ci = c + i * ldc + j;

			if (e->bias)
				ei.bias += i;
			if (i + s->mr <= m && j + s->nr <= n)
				s->kernel[s->nr / s->vl - 1](kc, ai, b, boff, ci, ldc, &ei);
			else if (j + s->nr <= n) /* without the padding of A's last panel:
						    a ninth of 32 rows of 6-row panels */
				s->rows[m - i - 1](kc, ai, b, boff, ci, ldc, &ei);
			else
				edge_tile(s, min(s->mr, m - i), min(s->nr, n - j),
					  kc, ai, b, boff, ci, ldc, &ei);
		}
	}
}

/* op(A) is m x k and op(B) k x n; element (i, j) of each at i * rs + j * cs. */
struct operands {
	int m, n, k;
	const float *a, *b;
	ptrdiff_t rsa, csa, rsb, csb;
	float alpha, beta;
	float *c;
	ptrdiff_t ldc;
};

static void gemm_part(const struct cnn_simd *s, const struct operands *g,
		      int m0, int m1, int n0, int n1, float *abuf, float *bbuf)
{
	ptrdiff_t boff[KC];

	for (int k = 0; k < KC; k++)
		boff[k] = (ptrdiff_t)k * s->nr;
	for (int jc = n0; jc < n1; jc += NC) {
		int nc = min(NC, n1 - jc);

		for (int pc = 0; pc < g->k; pc += KC) {
			int kc = min(KC, g->k - pc);
			struct cnn_epilogue e = { g->alpha, pc ? 1 : g->beta, NULL };

			for (int j = 0; j < nc; j += s->nr)
				s->pack_nr(bbuf + (ptrdiff_t)j * kc,
					   g->b + pc * g->rsb + (jc + j) * g->csb,
					   g->csb, g->rsb, kc, min(s->nr, nc - j));
			for (int ic = m0; ic < m1; ic += MC) {
				int mc = min(MC, m1 - ic);

				for (int i = 0; i < mc; i += s->mr)
					s->pack_mr(abuf + (ptrdiff_t)i * kc,
						   g->a + (ic + i) * g->rsa + pc * g->csa,
						   g->rsa, g->csa, kc, min(s->mr, mc - i));
				cnn_gemm_block(s, mc, nc, kc, abuf, bbuf,
					       (ptrdiff_t)kc * s->nr, boff,
					       g->c + ic * g->ldc + jc, g->ldc, &e);
			}
		}
	}
}

/* C = beta * C, where beta 0 clears C without reading it (it may be NaN). */
static void scale(int m, int n, float beta, float *c, int ldc)
{
	for (int i = 0; i < m; i++, c += ldc)
		for (int j = 0; j < n; j++)
			c[j] = beta == 0 ? 0 : beta * c[j];
}

/* Block t of nt of C: its longer side cut in whole micro-tiles. */
static void share(int t, int nt, int m, int n, int mr, int nr,
		  int *m0, int *m1, int *n0, int *n1)
{
	int split_n = n >= m, unit = split_n ? nr : mr;
	int len = split_n ? n : m, tiles = (len + unit - 1) / unit;
	int lo = (int)((long)tiles * t / nt) * unit;
	int hi = min(len, (int)((long)tiles * (t + 1) / nt) * unit);

	*m0 = 0, *m1 = m, *n0 = 0, *n1 = n;
	if (split_n)
		*n0 = lo, *n1 = hi;
	else
		*m0 = lo, *m1 = hi;
}

struct gemm_job {
	const struct cnn_simd *s;
	const struct operands *g;
	float *buf;		/* packing space: per floats for each thread */
	size_t per;
	int mcap;		/* rows of A packed at a time, rounded up */
	int pieces;
};

/* Block i of C, on thread t's packing space. */
static void gemm_piece(void *ctx, long i, int t)
{
	const struct gemm_job *j = ctx;
	const struct operands *g = j->g;
	float *abuf = j->buf + t * j->per;
	int m0, m1, n0, n1;

	share((int)i, j->pieces, g->m, g->n, j->s->mr, j->s->nr, &m0, &m1, &n0, &n1);
	if (m0 < m1 && n0 < n1)
		gemm_part(j->s, g, m0, m1, n0, n1, abuf, abuf + (size_t)KC * j->mcap);
}

int cnn_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha,
	      const float *a, int lda, const float *b, int ldb, float beta,
	      float *c, int ldc)
{
	const struct cnn_simd *s = cnn_simd();
	struct operands g = {
		m, n, k, a, b,
		trans_a ? 1 : lda, trans_a ? lda : 1,
		trans_b ? 1 : ldb, trans_b ? ldb : 1,
		alpha, beta, c, ldc
	};
	int nt = (double)m * n * k < MIN_PARALLEL ? 1 : cnn_threads();
	int mcap = min(m, MC) + s->mr, ncap = min(n, NC) + s->nr;
	size_t per = (size_t)KC * (mcap + ncap);
	float *buf;

	if (m <= 0 || n <= 0)
		return CNN_OK;
	if (k <= 0 || alpha == 0) {
		scale(m, n, beta, c, ldc);
		return CNN_OK;
	}
	buf = cnn_scratch(nt * per);
	if (!buf)
		return cnn_error("out of memory for a %dx%dx%d GEMM", m, n, k);
	cnn_parallel_pieces(nt, PIECES * nt, gemm_piece,
			    &(struct gemm_job){ s, &g, buf, per, mcap, PIECES * nt });
	cnn_scratch_done(buf, nt * per);
	return CNN_OK;
}
