/*
 * conv_grad.c - the gradients of a convolution, for training.
 *
 * Per image and group, with col = the image unrolled into a (C/g * K) x OUT
 * matrix (one column per output position):
 *   dW += dY * col^T      db += the row sums of dY      dcol = W^T * dY
 * and dX is dcol folded back onto the image (overlaps add up).  Images are
 * shared out among the threads in fixed contiguous ranges, each with its own
 * dW and db, summed in thread order: the result depends on the thread count
 * but never on timing.
 */
#include <omp.h>
#include <stdlib.h>

#include "cnn.h"

/* The geometry as three dimensions (D, H, W), unused leading ones 1. */
struct geom {
	int in[3], ker[3], stride[3], dil[3], pad[3], out[3];
	int cg, kg;             /* channels and filters per group */
	long rows, cols, insize;
};

static void make_geom(const cnn_conv *cv, struct geom *g)
{
	int skip = 3 - cv->nd;

	for (int i = 0; i < 3; i++) {
		int j = i - skip, on = j >= 0;
		g->in[i] = on ? cv->in[j] : 1;
		g->ker[i] = on ? cv->ker[j] : 1;
		g->stride[i] = on && cv->stride[j] ? cv->stride[j] : 1;
		g->dil[i] = on && cv->dil[j] ? cv->dil[j] : 1;
		g->pad[i] = on ? cv->pad_lo[j] : 0;
		g->out[i] = on ? cv->out[j] : 1;
	}
	g->cg = cv->c / cv->groups;
	g->kg = cv->k / cv->groups;
	g->rows = (long)g->cg * g->ker[0] * g->ker[1] * g->ker[2];
	g->cols = (long)g->out[0] * g->out[1] * g->out[2];
	g->insize = (long)g->in[0] * g->in[1] * g->in[2];
}

/* Unroll x into col, or, when dx is given, fold col back: add each entry
 * to the input cell it came from.  Padding reads as 0 and takes nothing. */
static void unroll(const struct geom *g, const float *x, float *col, float *dx)
{
	long row = 0;

	for (int c = 0; c < g->cg; c++)
		for (int a = 0; a < g->ker[0]; a++)
			for (int b = 0; b < g->ker[1]; b++)
				for (int e = 0; e < g->ker[2]; e++, row++) {
					float *line = col + row * g->cols;
					long j = 0;
					for (int od = 0; od < g->out[0]; od++) {
						int z = od * g->stride[0] - g->pad[0] + a * g->dil[0];
						for (int oh = 0; oh < g->out[1]; oh++) {
							int y = oh * g->stride[1] - g->pad[1] + b * g->dil[1];
							int inside = z >= 0 && z < g->in[0] && y >= 0 && y < g->in[1];
							long base = ((long)c * g->in[0] + z) * g->in[1] + y;
							for (int ow = 0; ow < g->out[2]; ow++, j++) {
								int xx = ow * g->stride[2] - g->pad[2] + e * g->dil[2];
								int ok = inside && xx >= 0 && xx < g->in[2];
								long at = base * g->in[2] + xx;
								if (dx) {
									if (ok)
										dx[at] += line[j];
								} else {
									line[j] = ok ? x[at] : 0;
								}
							}
						}
					}
				}
}

int cnn_conv_backward(const cnn_conv *cv, const float *x, const float *w,
		      const float *dy, float *dx, float *dw, float *db)
{
	struct geom g;
	int threads = cnn_threads(), failed = 0;
	long wsize, per_image_y;
	float *partial;

	make_geom(cv, &g);
	wsize = (long)cv->k * g.rows;
	per_image_y = (long)cv->k * g.cols;
	if (threads > cv->n)
		threads = cv->n > 0 ? cv->n : 1;
	/* Each thread: a column buffer and its share of dW and db. */
	partial = calloc((size_t)threads * (wsize + cv->k), sizeof *partial);
	if (!partial)
		return cnn_error("out of memory for the convolution's gradients");

#pragma omp parallel num_threads(threads) reduction(| : failed)
	{
		int t = omp_get_thread_num();
		int first = (int)((long)cv->n * t / threads), last = (int)((long)cv->n * (t + 1) / threads);
		float *col = malloc(sizeof *col * (size_t)g.rows * g.cols);
		float *dcol = malloc(sizeof *dcol * (size_t)g.rows * g.cols);
		float *my_dw = partial + (size_t)t * (wsize + cv->k), *my_db = my_dw + wsize;

		failed = !col || !dcol;
		for (int n = first; n < last && !failed; n++) {
			for (int grp = 0; grp < cv->groups; grp++) {
				const float *xg = x ? x + ((long)n * cv->c + (long)grp * g.cg) * g.insize : NULL;
				const float *dyg = dy + n * per_image_y + (long)grp * g.kg * g.cols;
				const float *wg = w + (long)grp * g.kg * g.rows;
				if (dw) {
					unroll(&g, xg, col, NULL);
					failed |= cnn_sgemm(0, 1, g.kg, (int)g.rows, (int)g.cols, 1, dyg,
							    (int)g.cols, col, (int)g.cols, 1,
							    my_dw + (long)grp * g.kg * g.rows,
							    (int)g.rows) != CNN_OK;
				}
				if (db)
					for (int k = 0; k < g.kg; k++) {
						float s = 0;
						for (long j = 0; j < g.cols; j++)
							s += dyg[k * g.cols + j];
						my_db[grp * g.kg + k] += s;
					}
				if (dx) {
					failed |= cnn_sgemm(1, 0, (int)g.rows, (int)g.cols, g.kg, 1, wg,
							    (int)g.rows, dyg, (int)g.cols, 0, dcol,
							    (int)g.cols) != CNN_OK;
					unroll(&g, NULL, dcol,
					       dx + ((long)n * cv->c + (long)grp * g.cg) * g.insize);
				}
			}
		}
		free(col);
		free(dcol);
	}
	if (failed) {
		free(partial);
		return cnn_error("out of memory for the convolution's gradients");
	}
	for (int t = 0; t < threads; t++) {
		const float *p = partial + (size_t)t * (wsize + cv->k);
		if (dw)
			for (long i = 0; i < wsize; i++)
				dw[i] += p[i];
		if (db)
			for (int k = 0; k < cv->k; k++)
				db[k] += p[wsize + k];
	}
	free(partial);
	return CNN_OK;
}
