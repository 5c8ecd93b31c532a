/*
 * conv_grad.c - the gradients of a convolution, for training.
 *
 * Input gradient.  At stride 1 it is itself a convolution: dY, padded by
 * the kernel's reach less the forward padding, convolved with the filters
 * flipped in space and with the roles of channels and filters swapped.  So
 * it goes through the fast forward (conv.c) into a scratch batch that is
 * then added to dx.  Other strides take dcol = W^T dY (a GEMM) per image,
 * folded back onto the image through the stride-phase planes.
 *
 * Weight gradient.  Both x and dY are laid out as the forward lays them
 * (simd.h): x in stride-phase planes, dY on the "flat grid" of those
 * planes, its garbage columns zero.  Then, with off[ct] where tap ct of
 * output 0 lies in the planes,
 *   dW[k][ct] = sum over flat positions f of dYflat[k][f] * xphase[off[ct] + f]
 * and db[k] is the same with a row of ones for xphase.  When the filters
 * times the taps are few (LeNet's 6 and 16 filters of 25 and 150 taps) the
 * dot products are accumulated lane-wise in vectors across all the images
 * a thread has, and summed once at the end: no packing, no im2col.  Large
 * layers (ResNet) unroll each image into columns and take a GEMM.
 *
 * The images are cut into as many fixed contiguous ranges as there are
 * threads, each with its own share of dW and db, summed in order: the
 * result depends on the thread count but never on timing, nor on which
 * thread takes which range.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "cnn.h"
#include "simd/simd.h"
#include "core/threads.h"

enum {
	SLACK = 64,			/* floats after phase planes for vector tails */
	DOT_MAX_ACC = 1 << 15,		/* filters x taps for the lane-wise dots */
	CHUNK_BYTES = 512 << 10,	/* a thread's images per pass over the blocks */
};

static inline size_t lines(size_t floats)
{
	return (floats + 15) & ~(size_t)15;
}

static inline int min(int a, int b)
{
	return a < b ? a : b;
}

/* ------------------------------------------------------------- scratch */

/* One block kept for the next call (cnn_scratch's is the forward's). */
static pthread_mutex_t keep_lock = PTHREAD_MUTEX_INITIALIZER;
static float *kept;
static size_t kept_floats;

static float *scratch(size_t floats)
{
	float *p = NULL;

	pthread_mutex_lock(&keep_lock);
	if (kept && kept_floats >= floats) {
		p = kept;
		kept = NULL;
	}
	pthread_mutex_unlock(&keep_lock);
	if (!p && posix_memalign((void **)&p, 64, (floats ? floats : 1) * sizeof(float)))
		return NULL;
	return p;
}

static void scratch_done(float *p, size_t floats)
{
	pthread_mutex_lock(&keep_lock);
	if (!kept || kept_floats < floats) {
		float *old = kept;
		kept = p, kept_floats = floats;
		p = old;
	}
	pthread_mutex_unlock(&keep_lock);
	free(p);
}

/* ------------------------------------------------------------ geometry */

/* The convolution in three dimensions (D, H, W), unused leading ones 1,
 * with the forward's stride-phase layout. */
struct geom {
	int n, c, k, groups, cg, kg, taps;
	int in[3], ker[3], stride[3], dil[3], lo[3], hi[3], out[3];
	long insize, ysize, rows;	/* rows: cg * taps */
	struct cnn_phases ph;
	long flat;			/* positions of the flat grid */
	int vl;
};

static void make_geom(const cnn_conv *cv, struct geom *g)
{
	int skip = 3 - cv->nd, reach[3], span[3];

	g->n = cv->n, g->c = cv->c, g->k = cv->k, g->groups = cv->groups;
	g->cg = cv->c / cv->groups, g->kg = cv->k / cv->groups;
	for (int i = 0; i < 3; i++) {
		int j = i - skip, on = j >= 0;
		g->in[i] = on ? cv->in[j] : 1;
		g->ker[i] = on ? cv->ker[j] : 1;
		g->stride[i] = on ? cv->stride[j] : 1;
		g->dil[i] = on ? cv->dil[j] : 1;
		g->lo[i] = on ? cv->pad_lo[j] : 0;
		g->hi[i] = on ? cv->pad_hi[j] : 0;
		g->out[i] = on ? cv->out[j] : 1;
		reach[i] = g->dil[i] * (g->ker[i] - 1) + 1;
		span[i] = (g->out[i] - 1) * g->stride[i] + reach[i];
	}
	g->taps = g->ker[0] * g->ker[1] * g->ker[2];
	g->rows = (long)g->cg * g->taps;
	g->insize = (long)g->in[0] * g->in[1] * g->in[2];
	g->ysize = (long)g->out[0] * g->out[1] * g->out[2];
	cnn_phases_init(&g->ph, g->in, g->lo, span, reach, g->stride, 0);
	g->flat = ((long)(g->out[0] - 1) * g->ph.q[1] + g->out[1] - 1) * g->ph.q[2] + g->out[2];
	g->vl = cnn_simd()->vl;
}

/* Where tap (ci, t) of output 0 lies in an image's phase planes, for the
 * rows ci * taps + t of one group. */
static void tap_offsets(const struct geom *g, ptrdiff_t *off)
{
	int t[3], i = 0;

	for (int ci = 0; ci < g->cg; ci++)
	for (int a = 0; a < g->ker[0]; a++)
	for (int b = 0; b < g->ker[1]; b++)
	for (int e = 0; e < g->ker[2]; e++) {
		t[0] = a * g->dil[0], t[1] = b * g->dil[1], t[2] = e * g->dil[2];
		off[i++] = ci * g->ph.chan + cnn_phases_offset(&g->ph, t);
	}
}

/* Copy one channel's outputs (ysize) onto the flat grid (row q[2] long),
 * or with add, the reverse: add rows of the flat grid to the outputs. */
static void to_flat(const struct geom *g, float *flat, const float *y)
{
	const int *q = g->ph.q;

	for (int d = 0; d < g->out[0]; d++)
		for (int h = 0; h < g->out[1]; h++, y += g->out[2])
			memcpy(flat + ((long)d * q[1] + h) * q[2], y, sizeof(float) * g->out[2]);
}

/* The reverse of cnn_phases_fill: add one channel's phase planes back onto
 * the channel, leaving out the padding. */
static void phases_unfill_add(const struct cnn_phases *ph, float *dst, const float *src)
{
	const int *s = ph->stride, *q = ph->q, *in = ph->in, *np = ph->phases;

	for (int pd = 0; pd < np[0]; pd++)
	for (int py = 0; py < np[1]; py++)
	for (int px = 0; px < np[2]; px++)
	for (int z = 0; z < q[0]; z++) {
		int iz = z * s[0] + pd - ph->pad_lo[0];

		for (int y = 0; y < q[1]; y++, src += q[2]) {
			int iy = y * s[1] + py - ph->pad_lo[1];
			float *row = dst + ((ptrdiff_t)iz * in[1] + iy) * in[2];

			if (iz < 0 || iz >= in[0] || iy < 0 || iy >= in[1])
				continue;
			for (int x = 0; x < q[2]; x++) {
				int ix = x * s[2] + px - ph->pad_lo[2];
				if (ix >= 0 && ix < in[2])
					row[ix] += src[x];
			}
		}
	}
}

/* An image's channels [c0, c0 + nc) as phase planes, chan apart. */
static void fill_phases(const struct geom *g, float *xp, const float *x, int c0, int nc)
{
	for (int c = c0; c < c0 + nc; c++)
		cnn_phases_fill(&g->ph, xp + (long)(c - c0) * g->ph.chan, x + (long)c * g->insize);
}

/* ------------------------------------------------ weight gradient: dots */

/* Per thread: the partial dW (k x rows) and db (k) at part, from images
 * [first, last). */
struct dot_plan {
	const struct geom *g;
	const struct cnn_simd_grad *sg;
	long fpad;		/* flat positions rounded up to vectors */
	long nv;
	long cols;		/* per group: rows, then the row of ones */
	size_t ximg;		/* floats per image: phase planes, slack, ones */
	size_t yimg;		/* floats per image: dY on the flat grid */
	ptrdiff_t ones;		/* where the ones are in an image's block */
	int chunk;		/* images per pass */
	ptrdiff_t *off;		/* groups x cols offsets from the group's planes */
};

static void dot_thread(const struct dot_plan *p, const float *x, const float *dy,
		       int first, int last, float *ws, float *part, float *part_b)
{
	const struct geom *g = p->g;
	int vl = g->vl, mb = p->sg->dot_mb, nb = p->sg->dot_nb;
	size_t accn = (size_t)g->k * p->cols * vl;
	float *acc = ws, *xb = acc + lines(accn), *yb = xb + p->chunk * p->ximg;
	const float **a = (const float **)(yb + p->chunk * p->yimg);
	const float **b = a + p->chunk;

	memset(acc, 0, sizeof(float) * accn);
	/* garbage columns and tails stay 0, the slack too, the ones 1 */
	memset(xb, 0, sizeof(float) * p->chunk * (p->ximg + p->yimg));
	for (int i = 0; i < p->chunk; i++)
		for (long f = 0; f < p->fpad; f++)
			xb[i * p->ximg + p->ones + f] = 1;
	for (int n0 = first; n0 < last; n0 += p->chunk) {
		int m = min(p->chunk, last - n0);

		for (int i = 0; i < m; i++) {
			const float *xi = x + (long)(n0 + i) * g->c * g->insize;
			const float *yi = dy + (long)(n0 + i) * g->k * g->ysize;
			fill_phases(g, xb + i * p->ximg, xi, 0, g->c);
			for (int k = 0; k < g->k; k++)
				to_flat(g, yb + i * p->yimg + k * p->fpad, yi + k * g->ysize);
		}
		for (int grp = 0; grp < g->groups; grp++) {
			const ptrdiff_t *off = p->off + grp * p->cols;

			for (int i = 0; i < m; i++)
				b[i] = xb + i * p->ximg + (long)grp * g->cg * g->ph.chan;
			for (int k0 = 0; k0 < g->kg; k0 += mb) {
				int kk = grp * g->kg + k0;

				for (int i = 0; i < m; i++)
					a[i] = yb + i * p->yimg + kk * p->fpad;
				for (long c0 = 0; c0 < p->cols; c0 += nb)
					p->sg->dot_acc(min(mb, g->kg - k0), min(nb, p->cols - c0),
						       acc + (kk * p->cols + c0) * vl,
						       p->cols * vl, p->nv, a, p->fpad, b, off + c0, m);
			}
		}
	}
	/* lanes summed in a fixed order */
	for (int k = 0; k < g->k; k++)
		for (long c = 0; c < p->cols; c++) {
			const float *v = acc + (k * p->cols + c) * vl;
			float s = 0;
			for (int l = 0; l < vl; l++)
				s += v[l];
			if (c < g->rows)
				part[k * g->rows + c] = s;
			else
				part_b[k] = s;
		}
}

/* ------------------------------------------------ weight gradient: GEMM */

/* One image's columns for one group: row ci * taps + t (ld apart), column o. */
static void im2col(const struct geom *g, const float *xp, const ptrdiff_t *off, float *col,
		   long ld)
{
	const int *q = g->ph.q;

	for (long r = 0; r < g->rows; r++, col += ld) {
		float *c = col;
		for (int d = 0; d < g->out[0]; d++)
			for (int h = 0; h < g->out[1]; h++, c += g->out[2])
				memcpy(c, xp + off[r] + ((long)d * q[1] + h) * q[2],
				       sizeof(float) * g->out[2]);
	}
}

/* And back: add the columns (ld apart) into phase planes, or at stride 1
 * without padding, where the planes are the image, into the image. */
static void col2im(const struct geom *g, const struct cnn_simd_grad *sg, float *xp,
		   const ptrdiff_t *off, const float *col, long ld)
{
	const int *q = g->ph.q;

	if (g->in[0] == 1 && g->ker[0] == 1 && g->stride[1] == 1 && g->stride[2] == 1 &&
	    g->dil[1] == 1 && g->dil[2] == 1 && q[2] <= g->vl) {
		for (int ci = 0; ci < g->cg; ci++)
			sg->col2im_s1(xp + ci * g->ph.chan, q[1], q[2], col + ci * g->taps * ld,
				      ld, g->ker[1], g->ker[2], g->out[1], g->out[2]);
		return;
	}
	for (long r = 0; r < g->rows; r++, col += ld) {
		const float *c = col;
		for (int d = 0; d < g->out[0]; d++)
			for (int h = 0; h < g->out[1]; h++, c += g->out[2])
				sg->add(xp + off[r] + ((long)d * q[1] + h) * q[2], c, g->out[2]);
	}
}

/* Images per GEMM of the weight gradient: their outputs side by side make
 * its inner dimension, at least GEMM_INNER long. */
enum { GEMM_INNER = 256 };

static int gemm_images(const struct geom *g)
{
	long m = GEMM_INNER / g->ysize;

	return m < 1 ? 1 : m > g->n ? g->n : (int)m;
}

static int gemm_thread(const struct geom *g, const ptrdiff_t *off, const float *x,
		       const float *dy, int first, int last, float *ws, float *part,
		       float *part_b)
{
	int m = gemm_images(g), failed = 0;
	long ld = m * g->ysize;
	float *xp = ws, *col = ws + lines(g->cg * g->ph.chan + SLACK);
	float *a = col + lines((size_t)g->rows * ld);

	memset(part, 0, sizeof(float) * g->k * g->rows);
	memset(part_b, 0, sizeof(float) * g->k);
	for (int n0 = first; n0 < last; n0 += m) {
		int mm = min(m, last - n0);
		for (int grp = 0; grp < g->groups; grp++) {
			for (int i = 0; i < mm; i++) {
				const float *dyg = dy + ((long)(n0 + i) * g->k + (long)grp * g->kg) *
								g->ysize;
				if (x) {
					fill_phases(g, xp, x + (long)(n0 + i) * g->c * g->insize,
						    grp * g->cg, g->cg);
					im2col(g, xp, off, col + i * g->ysize, mm * g->ysize);
					for (int k = 0; k < g->kg; k++)
						memcpy(a + k * mm * g->ysize + i * g->ysize,
						       dyg + k * g->ysize, sizeof(float) * g->ysize);
				}
				for (int k = 0; k < g->kg; k++) {
					float s = 0;
					for (long j = 0; j < g->ysize; j++)
						s += dyg[k * g->ysize + j];
					part_b[grp * g->kg + k] += s;
				}
			}
			if (x)
				failed |= cnn_sgemm(0, 1, g->kg, (int)g->rows, (int)(mm * g->ysize), 1,
						    a, (int)(mm * g->ysize), col, (int)(mm * g->ysize),
						    1, part + (long)grp * g->kg * g->rows,
						    (int)g->rows) != CNN_OK;
		}
	}
	return failed;
}

struct weight_job {
	const struct dot_plan *p;
	const float *x, *dy;
	float *ws;		/* per floats for each of nt threads, then the parts */
	size_t per, parts;
	long wsize;
	int nt, dots;
	atomic_int failed;
};

/* One of nt pieces: its contiguous range of images, into its own part of
 * the workspace, on thread t's scratch. */
static void weight_grad_part(void *ctx, long piece, int t)
{
	struct weight_job *j = ctx;
	const struct geom *g = j->p->g;
	int first = (int)(g->n * piece / j->nt), last = (int)(g->n * (piece + 1) / j->nt);
	float *mine = j->ws + t * j->per, *part = j->ws + j->nt * j->per + piece * j->parts;

	if (j->dots)
		dot_thread(j->p, j->x, j->dy, first, last, mine, part, part + j->wsize);
	else if (gemm_thread(g, j->p->off, j->x, j->dy, first, last, mine, part,
			     part + j->wsize))
		atomic_store(&j->failed, 1);
}

static int weight_grad(const struct geom *g, const float *x, const float *dy, float *dw,
		       float *db)
{
	int nt = min(cnn_threads(), g->n), failed;
	long wsize = (long)g->k * g->rows;
	struct dot_plan p = { .g = g, .sg = cnn_simd_grad() };
	int dots = x && (long)g->k * (g->rows + 1) <= DOT_MAX_ACC;
	size_t per, parts = lines(wsize + g->k);
	float *ws;

	p.fpad = (g->flat + g->vl - 1) / g->vl * g->vl;
	p.nv = p.fpad / g->vl;
	p.cols = g->rows + 1;
	p.ones = (ptrdiff_t)lines((size_t)g->c * g->ph.chan + SLACK);
	p.ximg = lines(p.ones + p.fpad);
	p.yimg = lines((size_t)g->k * p.fpad);
	p.chunk = (int)(CHUNK_BYTES / sizeof(float) / (p.ximg + p.yimg));
	p.chunk = p.chunk < 1 ? 1 : p.chunk > g->n ? g->n : p.chunk;
	if (dots)
		per = lines((size_t)g->k * p.cols * g->vl) + p.chunk * (p.ximg + p.yimg) +
		      lines(2 * p.chunk * sizeof(float *) / sizeof(float) + 1);
	else
		per = lines(g->cg * g->ph.chan + SLACK) +
		      lines((size_t)g->rows * gemm_images(g) * g->ysize) +
		      lines((size_t)g->kg * gemm_images(g) * g->ysize);
	ws = scratch(nt * (per + parts));
	p.off = malloc(sizeof *p.off * g->groups * p.cols);
	if (!ws || !p.off) {
		if (ws)
			scratch_done(ws, nt * (per + parts));
		free(p.off);
		return cnn_error("out of memory for the convolution's gradients");
	}
	for (int grp = 0; grp < g->groups; grp++) {
		tap_offsets(g, p.off + grp * p.cols);
		/* from group grp's planes to the ones of the image */
		p.off[grp * p.cols + g->rows] = p.ones - (ptrdiff_t)grp * g->cg * g->ph.chan;
	}

	/* nt parts, summed in order, whichever threads compute them */
	struct weight_job job = { &p, x, dy, ws, per, parts, wsize, nt, dots, 0 };
	cnn_parallel_pieces(nt, nt, weight_grad_part, &job);
	failed = atomic_load(&job.failed);
	for (int t = 0; t < nt && !failed; t++) {
		const float *part = ws + nt * per + t * parts;
		if (dw && x)
			for (long i = 0; i < wsize; i++)
				dw[i] += part[i];
		if (db)
			for (int k = 0; k < g->k; k++)
				db[k] += part[wsize + k];
	}
	scratch_done(ws, nt * (per + parts));
	free(p.off);
	return failed ? cnn_error("out of memory for the convolution's gradients") : CNN_OK;
}

/* --------------------------------------------------------- input gradient */

struct add_job {
	float *dx;
	const float *y;
};

static void add_range(void *ctx, long i0, long i1, int t)
{
	const struct add_job *j = ctx;

	(void)t;
	for (long i = i0; i < i1; i++)
		j->dx[i] += j->y[i];
}

/* Stride 1 and padding within the kernel's reach: dx += conv(dY, flipped
 * and transposed w).  CNN_OK, CNN_ERR, or 1 when the geometry does not fit. */
static int input_grad_conv(const cnn_conv *cv, const struct geom *g, const float *w,
			   const float *dy, float *dx)
{
	cnn_conv t = *cv;
	size_t wn = (size_t)g->k * g->rows, xn = (size_t)g->n * g->c * g->insize;
	float *buf;
	int ret;

	for (int d = 0; d < cv->nd; d++) {
		int reach = cv->dil[d] * (cv->ker[d] - 1);
		if (cv->stride[d] != 1 || cv->pad_lo[d] > reach || cv->pad_hi[d] > reach)
			return 1;
		t.in[d] = cv->out[d];
		t.pad_lo[d] = reach - cv->pad_lo[d];
		t.pad_hi[d] = reach - cv->pad_hi[d];
	}
	t.c = cv->k;
	t.k = cv->c;
	if (cnn_conv_setup(&t))
		return CNN_ERR;
	for (int d = 0; d < cv->nd; d++)
		if (t.out[d] != cv->in[d])
			return 1;
	if (!(buf = scratch(lines(wn) + xn)))
		return cnn_error("out of memory for the convolution's gradients");
	/* filter ci of group grp, channel kk: w[grp * kg + kk][ci] flipped */
	for (int grp = 0; grp < g->groups; grp++)
		for (int ci = 0; ci < g->cg; ci++)
			for (int kk = 0; kk < g->kg; kk++) {
				const float *src = w + ((long)(grp * g->kg + kk) * g->cg + ci) * g->taps;
				float *dst = buf + ((long)(grp * g->cg + ci) * g->kg + kk) * g->taps;
				for (int i = 0; i < g->taps; i++)
					dst[i] = src[g->taps - 1 - i];
			}
	ret = cnn_conv_forward(&t, dy, buf, NULL, buf + lines(wn));
	if (ret == CNN_OK) {
		cnn_parallel_for(xn < (1 << 16) ? 1 : cnn_threads(), (long)xn, add_range,
				 &(struct add_job){ dx, buf + lines(wn) });
	}
	scratch_done(buf, lines(wn) + xn);
	return ret;
}

/* Any geometry: dcol = W^T dY for a few images at once (one GEMM whose
 * columns are their outputs side by side), folded back onto each image.
 * W^T is packed once for the micro-kernel; dY is copied into the B panel. */
enum { KC = 256, C_BYTES = 256 << 10 };

/* What the threads of input_grad_gemm share. */
struct dcol_job {
	const struct geom *g;
	const struct cnn_simd *s;
	const struct cnn_simd_grad *sg;
	const float *dy;
	float *dx;
	float *ws;		/* W^T packed (apack floats), then per floats a thread */
	const ptrdiff_t *off;
	size_t apack, per;
	long mgr, ncols, ldb;
	int m, direct, nt;
};

/* One of nt pieces: dx of its contiguous range of images, m at a time, on
 * thread t's scratch. */
static void input_grad_part(void *ctx, long piece, int t)
{
	const struct dcol_job *j = ctx;
	const struct geom *g = j->g;
	const struct cnn_simd *s = j->s;
	const struct cnn_simd_grad *sg = j->sg;
	const float *dy = j->dy;
	float *dx = j->dx, *ws = j->ws;
	const ptrdiff_t *off = j->off;
	long mgr = j->mgr, ldb = j->ldb;
	int m = j->m, nr = s->nr;
	int first = (int)(g->n * piece / j->nt), last = (int)(g->n * (piece + 1) / j->nt);
	float *b = ws + j->apack + t * j->per, *c = b + lines((size_t)g->kg * ldb + nr);
	float *xp = c + lines((size_t)g->rows * j->ncols);

	memset(b, 0, sizeof(float) * (g->kg * ldb + nr));
	for (int n0 = first; n0 < last; n0 += m) {
		int mm = min(m, last - n0);
		long nc = mm * g->ysize;

		for (int grp = 0; grp < g->groups; grp++) {
			for (int i = 0; i < mm; i++)
				for (int kk = 0; kk < g->kg; kk++)
					memcpy(b + kk * ldb + i * g->ysize,
					       dy + ((long)(n0 + i) * g->k + grp * g->kg + kk) *
							    g->ysize,
					       sizeof(float) * g->ysize);
			for (int pc = 0; pc < g->kg; pc += KC) {
				struct cnn_epilogue e = { 1, pc ? 1 : 0, NULL };
				cnn_gemm_block(s, (int)g->rows, (int)nc, min(KC, g->kg - pc),
					       ws + ((long)grp * g->kg + pc) * mgr, b + pc * ldb,
					       nr, off + g->rows, c, nc, &e);
			}
			for (int i = 0; i < mm; i++) {
				float *dxg = dx + ((long)(n0 + i) * g->c + (long)grp * g->cg) *
						      g->insize;
				if (j->direct) {
					col2im(g, sg, dxg, off, c + i * g->ysize, nc);
					continue;
				}
				memset(xp, 0, sizeof(float) * g->cg * g->ph.chan);
				col2im(g, sg, xp, off, c + i * g->ysize, nc);
				for (int ci = 0; ci < g->cg; ci++)
					phases_unfill_add(&g->ph, dxg + ci * g->insize,
							  xp + ci * g->ph.chan);
			}
		}
	}
}

static int input_grad_gemm(const struct geom *g, const float *w, const float *dy, float *dx)
{
	const struct cnn_simd *s = cnn_simd();
	const struct cnn_simd_grad *sg = cnn_simd_grad();
	int nt = min(cnn_threads(), g->n), mr = s->mr, nr = s->nr;
	long mgr = (g->rows + mr - 1) / mr * mr;
	/* images per GEMM: at least two tiles of columns, else C in L2 */
	int m = (int)(C_BYTES / sizeof(float) / (g->rows * g->ysize));
	int direct = 1;		/* the phase planes are the image itself */
	for (int d = 0; d < 3; d++)
		direct &= g->stride[d] == 1 && g->lo[d] == 0 && g->ph.q[d] == g->in[d];
	long ncols, ldb;
	size_t apack = lines((size_t)g->groups * g->kg * mgr), per;
	ptrdiff_t *off = malloc(sizeof *off * (g->rows + KC));
	float *ws;

	if (m * g->ysize < 2 * nr)
		m = (int)((2 * nr + g->ysize - 1) / g->ysize);
	m = m < 1 ? 1 : m;
	m = min(m, (g->n + nt - 1) / nt);
	ncols = m * g->ysize;
	ldb = (ncols + nr - 1) / nr * nr;
	per = lines((size_t)g->kg * ldb + nr) + lines((size_t)g->rows * ncols) +
	      (direct ? 0 : lines(g->cg * g->ph.chan + SLACK));
	ws = scratch(apack + nt * per);
	if (!ws || !off) {
		if (ws)
			scratch_done(ws, apack + nt * per);
		free(off);
		return cnn_error("out of memory for the convolution's gradients");
	}
	tap_offsets(g, off);
	for (int k = 0; k < KC; k++)
		off[g->rows + k] = (ptrdiff_t)k * ldb;
	/* W^T of group grp, rows i.. of it, taps pc..: panels as conv.c's */
	for (int grp = 0; grp < g->groups; grp++)
		for (int pc = 0; pc < g->kg; pc += KC) {
			int kc = min(KC, g->kg - pc);
			for (long i = 0; i < g->rows; i += mr)
				s->pack_mr(ws + ((long)grp * g->kg + pc) * mgr + i * kc,
					   w + ((long)grp * g->kg + pc) * g->rows + i, 1, g->rows,
					   kc, (int)(g->rows - i < mr ? g->rows - i : mr));
		}

	cnn_parallel_pieces(nt, nt, input_grad_part,
			    &(struct dcol_job){ g, s, sg, dy, dx, ws, off, apack, per, mgr, ncols,
						ldb, m, direct, nt });
	scratch_done(ws, apack + nt * per);
	free(off);
	return CNN_OK;
}

int cnn_conv_backward(const cnn_conv *cv, const float *x, const float *w,
		      const float *dy, float *dx, float *dw, float *db)
{
	cnn_conv c = *cv;
	struct geom g;

	if (cnn_conv_setup(&c))
		return CNN_ERR;
	if (!dy || (dx && !w) || (dw && !x))
		return cnn_error("convolution gradients need dy, and w for dx, x for dw");
	make_geom(&c, &g);
	if ((dw || db) && weight_grad(&g, dw ? x : NULL, dy, dw, db))
		return CNN_ERR;
	if (dx) {
		/* The forward is fast when the swapped convolution has many
		 * filters (its GEMM rows) and outputs; else a GEMM here. */
		int ret = g.cg >= 16 && g.ysize >= 64 ? input_grad_conv(&c, &g, w, dy, dx) : 1;
		if (ret == 1)
			ret = input_grad_gemm(&g, w, dy, dx);
		return ret;
	}
	return CNN_OK;
}
