/*
 * conv.c - forward convolution, 1-D to 3-D.
 *
 * Both paths read the input through stride-phase planes (see simd.h), in
 * which every tap of a run of outputs is a run of contiguous floats:
 *
 *   - in general a GEMM per group, C (k/g x outputs) = W (k/g x c/g*taps)
 *     times an implicit im2col matrix B whose row for tap (ci, t) is the
 *     phase plane of ci shifted by the tap's offset.  When outputs are
 *     contiguous in the phase planes (1x1 kernels, 1-D, ...) the
 *     micro-kernel reads B in place, from x itself when it is unpadded at
 *     stride 1; otherwise each nr-column tile of B is gathered from runs of
 *     output rows just before the micro-kernel uses it.  Either way no
 *     column matrix is built, and C is y itself;
 *   - when each output channel sees one input channel (depthwise), a
 *     vectorised weighted sum along output rows.
 *
 * Work is cut into (image, group, run of outputs, rows of C) items that
 * threads take whole, so the sums never depend on the thread count.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cnn.h"
#include "simd/simd.h"
#include "core/threads.h"

enum {
	KC = 256,		/* taps per pass of the micro-kernel */
	C_FLOATS = 1 << 16,	/* a chunk of C: 256 KiB, half of L2 */
	SLACK = 64,		/* floats after a phase buffer for vector tails */
	MIN_PARALLEL = 1 << 21,	/* multiply-adds worth waking a second thread */
	MIN_SPLIT_W = 1 << 18,	/* weights (1 MiB) that two cores fetch faster */
	/* Runs of outputs per thread when threads share one image's: a
	 * thread that starts late (woken from sleep, its core busy) leaves
	 * some of its share to the others.  With one run each, the caller of
	 * face_recognition waited for the other thread a tenth of its time on
	 * two.  Shorter runs cost nothing, the weights go by once per tile
	 * anyway. */
	RUNS_PER_THREAD = 4,
};

static inline int min(int a, int b)
{
	return a < b ? a : b;
}

static inline int max(int a, int b)
{
	return a > b ? a : b;
}

static inline int ceil_div(int a, int b)
{
	return (a + b - 1) / b;
}

/* Workspace pieces start on cache lines. */
static inline size_t lines(size_t floats)
{
	return (floats + 15) & ~(size_t)15;
}

/* ------------------------------------------------------- phase planes */

void cnn_phases_init(struct cnn_phases *ph, const int in[3], const int pad_lo[3],
		     const int span[3], const int reach[3], const int stride[3],
		     float fill)
{
	ph->plane = 1;
	ph->chan = 1;
	for (int d = 0; d < 3; d++) {
		ph->in[d] = in[d];
		ph->pad_lo[d] = pad_lo[d];
		ph->stride[d] = stride[d];
		ph->q[d] = ceil_div(span[d], stride[d]);
		/* taps are t < reach, so only phases t % stride occur */
		ph->phases[d] = min(stride[d], reach[d]);
		ph->plane *= ph->q[d];
		ph->chan *= ph->phases[d];
	}
	ph->chan *= ph->plane;
	ph->fill = fill;
}

/* Row of phase p: dst[j] = src[j * s + p - pad] inside the input, else fill. */
static void phase_row(const struct cnn_phases *ph, float *dst, const float *src,
		      int p)
{
	int s = ph->stride[2], n = ph->q[2], w = ph->in[2];
	int first = p - ph->pad_lo[2];	/* source index of dst[0] */
	int lo = first >= 0 ? 0 : ceil_div(-first, s);
	int hi = w - first <= 0 ? 0 : min(n, ceil_div(w - first, s));
	int j;

	lo = min(lo, hi);
	for (j = 0; j < lo; j++)
		dst[j] = ph->fill;
	if (s == 1 && hi > lo) {
		memcpy(dst + lo, src + first + lo, (size_t)(hi - lo) * sizeof(float));
	} else if (s == 2 && hi > lo) {
		/* vectorised: the strided loop was most of the time of
		 * Inception v3's 3x3 stride-2 max pooling */
		cnn_simd_pixels()->evens(dst + lo, src + first + 2 * lo, hi - lo);
	} else {
		for (j = lo; j < hi; j++)
			dst[j] = src[first + j * s];
	}
	for (j = hi; j < n; j++)
		dst[j] = ph->fill;
}

void cnn_phases_fill(const struct cnn_phases *ph, float *dst, const float *src)
{
	const int *s = ph->stride, *q = ph->q, *in = ph->in, *np = ph->phases;

	for (int pd = 0; pd < np[0]; pd++)
	for (int py = 0; py < np[1]; py++)
	for (int px = 0; px < np[2]; px++)
	for (int z = 0; z < q[0]; z++) {
		int iz = z * s[0] + pd - ph->pad_lo[0];

		for (int y = 0; y < q[1]; y++, dst += q[2]) {
			int iy = y * s[1] + py - ph->pad_lo[1];

			if (iz < 0 || iz >= in[0] || iy < 0 || iy >= in[1]) {
				for (int x = 0; x < q[2]; x++)
					dst[x] = ph->fill;
				continue;
			}
			phase_row(ph, dst, src + ((ptrdiff_t)iz * in[1] + iy) * in[2], px);
		}
	}
}

ptrdiff_t cnn_phases_offset(const struct cnn_phases *ph, const int t[3])
{
	const int *s = ph->stride, *q = ph->q;
	int phase = ((t[0] % s[0]) * ph->phases[1] + t[1] % s[1]) * ph->phases[2] +
		    t[2] % s[2];

	return phase * ph->plane +
	       ((ptrdiff_t)(t[0] / s[0]) * q[1] + t[1] / s[1]) * q[2] + t[2] / s[2];
}

/* ------------------------------------------------------------- setup */

/* D, H, W of a 1-, 2- or 3-D geometry field, 1 for the missing ones. */
static void to3(int nd, const int *v, int one, int r[3])
{
	for (int d = 0; d < 3; d++)
		r[d] = d < 3 - nd ? one : v[d - (3 - nd)];
}

static const char *dims(int nd, const int *v, char *buf, size_t size)
{
	int n = 0;

	for (int d = 0; d < nd; d++)
		n += snprintf(buf + n, size - n, "%s%d", d ? "x" : "", v[d]);
	return buf;
}

int cnn_conv_setup(cnn_conv *cv)
{
	int64_t in = 1, out = 1, taps = 1, flat;
	char b1[64], b2[64], b3[64];
	int padded[CNN_MAX_SPATIAL];

	if (cv->nd < 1 || cv->nd > CNN_MAX_SPATIAL)
		return cnn_error("convolution must have 1 to %d spatial dimensions, not %d",
				 CNN_MAX_SPATIAL, cv->nd);
	if (cv->n < 1 || cv->c < 1 || cv->k < 1)
		return cnn_error("batch %d, channels %d and filters %d must be positive",
				 cv->n, cv->c, cv->k);
	if (cv->groups == 0)
		cv->groups = 1;
	if (cv->groups < 0)
		return cnn_error("groups must be positive");
	if (cv->c % cv->groups)
		return cnn_error("channels %d not divisible by groups %d",
				 cv->c, cv->groups);
	if (cv->k % cv->groups)
		return cnn_error("filters %d not divisible by groups %d",
				 cv->k, cv->groups);
	for (int d = 0; d < cv->nd; d++) {
		if (cv->stride[d] == 0)
			cv->stride[d] = 1;
		if (cv->dil[d] == 0)
			cv->dil[d] = 1;
		if (cv->stride[d] < 0)
			return cnn_error("stride must be positive");
		if (cv->dil[d] < 0)
			return cnn_error("dilation must be positive");
		if (cv->in[d] < 1 || cv->ker[d] < 1)
			return cnn_error("input %s and kernel %s must be positive",
					 dims(cv->nd, cv->in, b1, sizeof b1),
					 dims(cv->nd, cv->ker, b2, sizeof b2));
		if (cv->pad_lo[d] < 0 || cv->pad_hi[d] < 0)
			return cnn_error("padding must not be negative");
		if ((int64_t)cv->in[d] + cv->pad_lo[d] + cv->pad_hi[d] > INT32_MAX / 2 ||
		    (int64_t)cv->dil[d] * (cv->ker[d] - 1) > INT32_MAX / 2)
			return cnn_error("convolution too large");
		padded[d] = cv->in[d] + cv->pad_lo[d] + cv->pad_hi[d];
	}
	for (int d = 0; d < cv->nd; d++) {
		int span = cv->dil[d] * (cv->ker[d] - 1) + 1;

		if (span > padded[d])
			return cnn_error("kernel %s (dilation %s) is larger than the padded input %s",
					 dims(cv->nd, cv->ker, b1, sizeof b1),
					 dims(cv->nd, cv->dil, b2, sizeof b2),
					 dims(cv->nd, padded, b3, sizeof b3));
		cv->out[d] = (padded[d] - span) / cv->stride[d] + 1;
		in *= padded[d];
		out *= cv->out[d];
		taps *= cv->ker[d];
	}
	/* The kernels index one image's planes and weights with int. */
	flat = in + SLACK;
	if ((int64_t)cv->c * flat > INT32_MAX || (int64_t)cv->k * out > INT32_MAX ||
	    (int64_t)cv->c / cv->groups * taps > INT32_MAX / cv->k)
		return cnn_error("convolution too large");
	return CNN_OK;
}

double cnn_conv_macs(const cnn_conv *cv)
{
	double m = (double)cv->n * cv->k * (cv->c / (cv->groups ? cv->groups : 1));

	for (int d = 0; d < cv->nd; d++)
		m *= (double)cv->out[d] * cv->ker[d];
	return m;
}

/* ------------------------------------------------------------ forward */

/* Rows of a gathered tile of B, with room for the spill of the gather. */
static inline int tile_ld(const struct cnn_simd *s)
{
	return s->nr + s->vl;
}

/* One convolution, brought to three dimensions and planned. */
struct plan {
	const struct cnn_simd *s;
	int n, c, k, groups, cg, mg, taps, kg;
	int out[3];
	struct cnn_phases ph;
	int copy;		/* x must be laid out as phase planes */
	enum { DIRECT, FLAT, GATHER } mode; /* how B and C meet x and y */
	ptrdiff_t xsize;	/* inputs per channel */
	ptrdiff_t ysize;	/* outputs per channel */
	ptrdiff_t npos;		/* columns of C: ysize, or the flat grid's */
	ptrdiff_t *off;		/* kg tap offsets from channel 0 of a group, then
				   KC of a packed tile */
	const float *w, *b;
	float *a;		/* packed weights, for the GEMM path */
	int chunk, chunks, parts; /* outputs per item, items per image & group */
	int per_image;		/* threads take whole images */
	int nt;
};

static void plan_geometry(struct plan *p, const cnn_conv *cv)
{
	int in[3], ker[3], dil[3], stride[3], lo[3], span[3], reach[3], t[3], i = 0;
	ptrdiff_t flat;

	to3(cv->nd, cv->in, 1, in);
	to3(cv->nd, cv->ker, 1, ker);
	to3(cv->nd, cv->dil, 1, dil);
	to3(cv->nd, cv->stride, 1, stride);
	to3(cv->nd, cv->pad_lo, 0, lo);
	to3(cv->nd, cv->out, 1, p->out);
	p->copy = 0;
	for (int d = 0; d < 3; d++) {
		reach[d] = dil[d] * (ker[d] - 1) + 1;
		span[d] = (p->out[d] - 1) * stride[d] + reach[d];
		p->copy |= stride[d] != 1 || lo[d] != 0 || span[d] != in[d];
	}
	cnn_phases_init(&p->ph, in, lo, span, reach, stride, 0);
	p->n = cv->n, p->c = cv->c, p->k = cv->k, p->groups = cv->groups;
	p->cg = cv->c / cv->groups, p->mg = cv->k / cv->groups;
	p->taps = ker[0] * ker[1] * ker[2];
	p->kg = p->cg * p->taps;
	p->xsize = (ptrdiff_t)in[0] * in[1] * in[2];
	p->ysize = (ptrdiff_t)p->out[0] * p->out[1] * p->out[2];
	flat = ((p->out[0] - 1) * (ptrdiff_t)p->ph.q[1] + p->out[1] - 1) * p->ph.q[2] +
	       p->out[2];
	/* B is read in place when its columns are the outputs (DIRECT) or,
	 * when few columns of the flat grid are garbage and compacting C costs
	 * less than gathering B would (K >= M), the flat grid's (FLAT); else
	 * tiles of B are gathered from the outputs' rows, reading past them:
	 * that needs the slack of a copy. */
	p->mode = flat == p->ysize ? DIRECT :
		  flat <= p->ysize + p->ysize / 20 && p->kg >= p->mg ? FLAT : GATHER;
	p->npos = p->mode == FLAT ? flat : p->ysize;
	p->copy |= p->mode == GATHER;
	/* The taps of channel 0, then the others' a channel apart: the
	 * divisions of cnn_phases_offset() once per tap, not per row of B. */
	for (t[0] = 0; t[0] < ker[0] * dil[0]; t[0] += dil[0])
	for (t[1] = 0; t[1] < ker[1] * dil[1]; t[1] += dil[1])
	for (t[2] = 0; t[2] < ker[2] * dil[2]; t[2] += dil[2])
		p->off[i++] = cnn_phases_offset(&p->ph, t);
	for (; i < p->kg; i++)
		p->off[i] = p->off[i - p->taps] + p->ph.chan;
	for (int k = 0; k < KC; k++)
		p->off[p->kg + k] = (ptrdiff_t)k * tile_ld(p->s);
}

/* Whole images per thread when they share out evenly; else the outputs
 * of one image, in runs of whole tiles or, when there are few tiles,
 * rows of C. */
static void plan_work(struct plan *p, double macs)
{
	const struct cnn_simd *s = p->s;
	int tiles = ceil_div(p->npos, s->nr);
	int fit = max(1, C_FLOATS / p->mg / s->nr); /* tiles in a chunk of C */

	/* Few outputs and many weights: the time goes in reading them from
	 * memory, which each core does at its own pace. */
	p->nt = macs < MIN_PARALLEL && (double)p->mg * p->kg * p->groups < MIN_SPLIT_W ?
		1 : cnn_threads();
	p->per_image = p->n % p->nt == 0 || p->n >= 4 * p->nt;
	p->chunks = ceil_div(tiles, fit);
	p->parts = 1;
	if (!p->per_image && tiles >= RUNS_PER_THREAD * p->nt)
		p->chunks = max(ceil_div(p->chunks, p->nt), RUNS_PER_THREAD) * p->nt;
	else if (!p->per_image)
		p->parts = min(p->nt, ceil_div(p->mg, s->mr));
	p->chunk = ceil_div(tiles, p->chunks) * s->nr;
	p->chunks = ceil_div(p->npos, p->chunk);
}

/* Weights of group g, in mr-row panels per pass of KC taps. */
static float *group_weights(const struct plan *p, int g)
{
	return p->a + (ptrdiff_t)g * p->kg * ceil_div(p->mg, p->s->mr) * p->s->mr;
}

/* Panel i (rows i * mr ...) of group g's weights, for every pass over K. */
static void pack_weights(const struct plan *p, int g, int i)
{
	const struct cnn_simd *s = p->s;
	int mgr = ceil_div(p->mg, s->mr) * s->mr;
	float *a = group_weights(p, g);

	i *= s->mr;
	for (int pc = 0; pc < p->kg; pc += KC) {
		int kc = min(KC, p->kg - pc);

		s->pack_mr(a + (ptrdiff_t)pc * mgr + (ptrdiff_t)i * kc,
			   p->w + ((ptrdiff_t)g * p->mg + i) * p->kg + pc,
			   p->kg, 1, kc, min(s->mr, p->mg - i));
	}
}

/* The vectors of flat positions that make outputs [o, o + n): each run of
 * outputs along a row is copied in whole vectors, in order, so that the
 * spill of a run's last vector is overwritten by the next run. */
static int tile_runs(const struct plan *p, ptrdiff_t o, int n, struct cnn_run *run)
{
	const int *out = p->out, *q = p->ph.q, vl = p->s->vl;
	int runs = 0;

	for (int at = 0; at < n;) {
		ptrdiff_t w = o % out[2], h = o / out[2] % out[1], d = o / out[2] / out[1];
		ptrdiff_t from = (d * q[1] + h) * q[2] + w;
		int len = min(out[2] - w, n - at);

		for (int i = 0; i < len; i += vl)
			run[runs++] = (struct cnn_run){ from + i, at + i };
		at += len, o += len;
	}
	return runs;
}

/* Flat-grid columns [q0, q0 + nq) of rows of C (ld apart) to their places
 * in y (rows ysize apart), leaving out the garbage. */
static void compact(const struct plan *p, float *y, const float *c, ptrdiff_t ld,
		    int rows, ptrdiff_t q0, ptrdiff_t nq)
{
	ptrdiff_t row = p->ph.q[2], slab = row * p->ph.q[1];

	for (ptrdiff_t q = q0; q < q0 + nq; q += row - q % row) {
		ptrdiff_t d = q / slab, h = q % slab / row, w = q % row;
		ptrdiff_t run = min(p->out[2] - w, q0 + nq - q);
		float *o = y + (d * p->out[1] + h) * p->out[2] + w;

		for (int r = 0; h < p->out[1] && run > 0 && r < rows; r++)
			memcpy(o + r * p->ysize, c + r * ld + (q - q0),
			       (size_t)run * sizeof(float));
	}
}

/* Rows [i0, i1) of group g's C for columns [o0, o0 + chunk) of one image:
 * xp is its phase planes, y its output; ctmp holds C in FLAT mode. */
static void gemm_item(const struct plan *p, const float *xp, float *y, int g,
		      int i0, int i1, ptrdiff_t o0, float *tile,
		      struct cnn_run *run, float *ctmp)
{
	const struct cnn_simd *s = p->s;
	int mgr = ceil_div(p->mg, s->mr) * s->mr, nr = s->nr;
	int no = min(p->chunk, p->npos - o0);
	const float *b = xp + (ptrdiff_t)g * p->cg * p->ph.chan;
	float *yg = y + (g * p->mg + i0) * p->ysize;
	float *c = p->mode == FLAT ? ctmp : yg + o0;
	ptrdiff_t ldc = p->mode == FLAT ? p->chunk : p->ysize;

	for (int pc = 0; pc < p->kg; pc += KC) {
		int kc = min(KC, p->kg - pc);
		const float *a = group_weights(p, g) + (ptrdiff_t)pc * mgr +
				 (ptrdiff_t)i0 * kc;
		const ptrdiff_t *off = p->off + pc;
		struct cnn_epilogue e = { 1, pc ? 1 : 0, NULL };
		int j = 0;

		if (!pc && p->b)
			e.bias = p->b + g * p->mg + i0;
		if (p->mode != GATHER) {
			/* A last tile cut short would read past x: copy it. */
			j = p->copy ? no : no / nr * nr;
			cnn_gemm_block(s, i1 - i0, j, kc, a, b + o0, nr, off, c,
				       ldc, &e);
		}
		for (; j < no; j += nr) {
			int nn = min(nr, no - j);

			/* lanes past the end of the outputs are computed, not used */
			for (int k = 0; nn < nr && k < kc; k++)
				memset(tile + k * tile_ld(s) + nn, 0, (nr - nn) * sizeof(float));
			if (p->mode != GATHER) {
				for (int k = 0; k < kc; k++)
					memcpy(tile + k * tile_ld(s), b + off[k] + o0 + j,
					       nn * sizeof(float));
			} else {
				s->gather(tile, tile_ld(s), b, off, kc, run,
					  tile_runs(p, o0 + j, nn, run));
			}
			cnn_gemm_block(s, i1 - i0, nn, kc, a, tile, 0,
				       p->off + p->kg, c + j, ldc, &e);
		}
	}
	if (p->mode == FLAT)
		compact(p, yg, ctmp, p->chunk, i1 - i0, o0, no);
}

/* The arguments of a convolution, for the threads. */
struct conv_job {
	const struct plan *p;
	const float *x;
	float *y, *ws;
	int img;		/* the image whose outputs are shared, if one */
};

/* The GEMM path's workspace, laid out for p->nt threads: phase planes
 * (one per thread when they take whole images), then per thread a tile
 * of B, its runs and, in FLAT mode, a chunk of C. */
struct gemm_space {
	float *xp, *tile, *ctmp;
	struct cnn_run *run;
};

static size_t planes_size(const struct plan *p)
{
	return p->copy ? lines(p->c * p->ph.chan + SLACK) : 0;
}

static size_t tile_size(const struct plan *p)
{
	return lines((size_t)KC * tile_ld(p->s));
}

static size_t runs_size(const struct plan *p)
{
	return lines(p->s->nr * sizeof(struct cnn_run) / sizeof(float));
}

static size_t thread_size(const struct plan *p)
{
	return tile_size(p) + runs_size(p) +
	       (p->mode == FLAT ? lines((size_t)p->mg * p->chunk) : 0);
}

static struct gemm_space gemm_space(const struct plan *p, float *ws, int t)
{
	float *tile = ws + (p->per_image ? p->nt : 1) * planes_size(p) + t * thread_size(p);
	float *run = tile + tile_size(p);

	return (struct gemm_space){ ws + (p->per_image ? t * planes_size(p) : 0), tile,
				    run + runs_size(p), (struct cnn_run *)run };
}

/* Channels [c0, c1) of one image's phase planes. */
static void fill_image(const struct plan *p, float *xp, const float *xi, long c0, long c1)
{
	for (long c = c0; c < c1; c++)
		cnn_phases_fill(&p->ph, xp + c * p->ph.chan, xi + c * p->xsize);
}

static void pack_panels(void *ctx, long i0, long i1, int t)
{
	const struct plan *p = ((const struct conv_job *)ctx)->p;
	int panels = ceil_div(p->mg, p->s->mr);

	(void)t;
	for (long it = i0; it < i1; it++)
		pack_weights(p, it / panels, it % panels);
}

/* Whole images [i0, i1), each in thread t's own phase planes. */
static void gemm_images(void *ctx, long i0, long i1, int t)
{
	const struct conv_job *j = ctx;
	const struct plan *p = j->p;
	struct gemm_space w = gemm_space(p, j->ws, t);

	for (long img = i0; img < i1; img++) {
		const float *xi = j->x + img * p->c * p->xsize;
		float *y = j->y + img * p->k * p->ysize;

		if (p->copy)
			fill_image(p, w.xp, xi, 0, p->c);
		for (int g = 0; g < p->groups; g++)
		for (ptrdiff_t o = 0; o < p->npos; o += p->chunk)
			gemm_item(p, p->copy ? w.xp : xi, y, g, 0, p->mg, o, w.tile, w.run,
				  w.ctmp);
	}
}

/* Channels [c0, c1) of image j->img's phase planes, shared by the threads. */
static void fill_channels(void *ctx, long c0, long c1, int t)
{
	const struct conv_job *j = ctx;
	const struct plan *p = j->p;

	fill_image(p, gemm_space(p, j->ws, t).xp, j->x + j->img * p->c * p->xsize, c0, c1);
}

/* Items [i0, i1) of image j->img: (group, run of outputs, rows of C). */
static void gemm_items(void *ctx, long i0, long i1, int t)
{
	const struct conv_job *j = ctx;
	const struct plan *p = j->p;
	struct gemm_space w = gemm_space(p, j->ws, t);
	const float *xi = p->copy ? w.xp : j->x + j->img * p->c * p->xsize;
	int panels = ceil_div(p->mg, p->s->mr);

	for (long it = i0; it < i1; it++) {
		int g = it / (p->chunks * p->parts);
		ptrdiff_t o = (ptrdiff_t)(it / p->parts % p->chunks) * p->chunk;
		int part = it % p->parts;
		int r0 = panels * part / p->parts * p->s->mr;
		int r1 = min(p->mg, panels * (part + 1) / p->parts * p->s->mr);

		gemm_item(p, xi, j->y + j->img * p->k * p->ysize, g, r0, r1, o, w.tile,
			  w.run, w.ctmp);
	}
}

/* pack: the weights are not packed in p->a yet. */
static void run_gemm(const struct plan *p, const float *x, float *y, float *ws, int pack)
{
	struct conv_job j = { p, x, y, ws, 0 };

	if (pack)
		cnn_parallel_for(p->nt, p->groups * ceil_div(p->mg, p->s->mr), pack_panels, &j);
	if (p->per_image) {
		cnn_parallel_for(p->nt, p->n, gemm_images, &j);
		return;
	}
	for (j.img = 0; j.img < p->n; j.img++) {
		if (p->copy)
			cnn_parallel_for(p->nt, p->c, fill_channels, &j);
		cnn_parallel_for(p->nt, p->groups * p->chunks * p->parts, gemm_items, &j);
	}
}

/* Group g of one image on the depthwise path: one input channel, mg
 * output channels, each a weighted sum along output rows. */
static void window_item(const struct plan *p, const float *x, float *y, int g,
			float *plane)
{
	const int *q = p->ph.q;
	struct cnn_window win = { plane, p->off, p->taps, p->out[1], q[2] };
	ptrdiff_t slab = (ptrdiff_t)p->out[1] * p->out[2];

	cnn_phases_fill(&p->ph, plane, x + g * p->xsize);
	for (int ko = g * p->mg; ko < (g + 1) * p->mg; ko++) {
		for (int d = 0; d < p->out[0]; d++) {
			win.in = plane + (ptrdiff_t)d * q[1] * q[2];
			p->s->dot_rows(y + ko * p->ysize + d * slab, p->out[2], &win,
				       p->w + (ptrdiff_t)ko * p->taps,
				       p->b ? p->b[ko] : 0);
		}
	}
}

/* Items [i0, i1) of the depthwise path, (image, group) each; thread t
 * fills its own plane of the workspace. */
static void window_items(void *ctx, long i0, long i1, int t)
{
	const struct conv_job *j = ctx;
	const struct plan *p = j->p;
	float *plane = j->ws + t * lines(p->ph.chan + SLACK);

	for (long it = i0; it < i1; it++) {
		int img = it / p->groups, g = it % p->groups;

		window_item(p, j->x + img * p->c * p->xsize,
			    j->y + (ptrdiff_t)img * p->k * p->ysize, g, plane);
	}
}

/* Depthwise, or few filters per channel: a GEMM would mostly multiply the
 * padding of its mr-row panels, so a window slides instead. */
static int window_path(const cnn_conv *cv)
{
	int groups = cv->groups ? cv->groups : 1;

	return cv->c / groups == 1 && cv->k / groups <= 8;
}

/* The floats of the weights packed for the GEMM, 0 on the window path. */
static size_t packed_floats(const cnn_conv *cv, const struct cnn_simd *s)
{
	int groups = cv->groups ? cv->groups : 1, taps = 1, mg = cv->k / groups;

	for (int d = 0; d < cv->nd; d++)
		taps *= cv->ker[d] ? cv->ker[d] : 1;
	if (window_path(cv))
		return 0;
	return lines((size_t)groups * (cv->c / groups) * taps * ceil_div(mg, s->mr) * s->mr);
}

size_t cnn_conv_packed_floats(const cnn_conv *cv)
{
	return packed_floats(cv, cnn_simd());
}

int cnn_conv_pack(const cnn_conv *cv, const float *w, float *packed)
{
	cnn_conv g = *cv;
	struct plan p = { .w = w, .a = packed };
	int taps = 1;

	if (cnn_conv_setup(&g))
		return CNN_ERR;
	for (int d = 0; d < g.nd; d++)
		taps *= g.ker[d];
	p.s = cnn_simd();
	p.groups = g.groups;
	p.cg = g.c / g.groups;
	p.mg = g.k / g.groups;
	p.kg = p.cg * taps;
	for (int gi = 0; !window_path(&g) && gi < p.groups; gi++)
		for (int i = 0; i < ceil_div(p.mg, p.s->mr); i++)
			pack_weights(&p, gi, i);
	return CNN_OK;
}

static int forward(const cnn_conv *cv, const float *x, const float *w, const float *packed,
		   const float *b, float *y);

int cnn_conv_forward(const cnn_conv *cv, const float *x, const float *w,
		     const float *b, float *y)
{
	return forward(cv, x, w, NULL, b, y);
}

int cnn_conv_forward_packed(const cnn_conv *cv, const float *x, const float *w,
			    const float *packed, const float *b, float *y)
{
	return forward(cv, x, w, packed, b, y);
}

static int forward(const cnn_conv *cv, const float *x, const float *w, const float *packed,
		   const float *b, float *y)
{
	cnn_conv g = *cv;
	struct plan p = { .w = w, .b = b };
	int taps = 1, window;
	size_t floats, packing;
	float *ws;

	if (cnn_conv_setup(&g))
		return CNN_ERR;
	if (!x || !w || !y)
		return cnn_error("convolution needs an input, weights and an output");
	for (int d = 0; d < g.nd; d++)
		taps *= g.ker[d];
	p.s = cnn_simd();
	p.off = malloc(((size_t)g.c / g.groups * taps + KC) * sizeof *p.off);
	if (!p.off)
		return cnn_error("out of memory for a convolution");
	plan_geometry(&p, &g);
	plan_work(&p, cnn_conv_macs(&g));
	window = window_path(&g);
	/* Weights packed by cnn_conv_pack() need no room of their own. */
	packing = packed ? 0 : packed_floats(&g, p.s);
	if (window) {
		p.nt = min(p.nt, p.n * p.groups);
		floats = p.nt * lines(p.ph.chan + SLACK);
	} else {
		floats = packing + (p.per_image ? p.nt : 1) * planes_size(&p) +
			 p.nt * thread_size(&p);
	}
	ws = cnn_scratch(floats);
	if (!ws) {
		free(p.off);
		return cnn_error("out of memory for a convolution workspace of %zu MiB",
				 floats * sizeof(float) >> 20);
	}
	if (window) {
		cnn_parallel_for(p.nt, (long)p.n * p.groups, window_items,
				 &(struct conv_job){ &p, x, y, ws, 0 });
	} else {
		p.a = packed ? (float *)packed : ws;
		run_gemm(&p, x, y, ws + packing, !packed);
	}
	cnn_scratch_done(ws, floats);
	free(p.off);
	return CNN_OK;
}
