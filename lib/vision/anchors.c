/*
 * anchors.c - anchors from data, as darknet's calc_anchors makes them:
 * k-means of the boxes' sizes with 1 - IoU as the distance (two boxes put
 * at one corner: IoU = min(w) min(h) / (w1 h1 + w2 h2 - min(w) min(h))),
 * from k distinct boxes drawn at random, Lloyd's iterations (each box to
 * the nearest centre, each centre the mean of its boxes; an empty one
 * keeps its place) until nothing moves or 1000 of them.  Of several
 * restarts, the one whose boxes overlap their nearest centre most.
 */
#include <stdlib.h>
#include <string.h>

#include "cnn.h"

#define MAX_ITERATIONS 1000

static double corner_iou(const float *a, const float *b)
{
	double w = a[0] < b[0] ? a[0] : b[0], h = a[1] < b[1] ? a[1] : b[1], inter = w * h;
	double uni = (double)a[0] * a[1] + (double)b[0] * b[1] - inter;

	return uni > 0 ? inter / uni : 0;
}

/* The centre nearest box wh (the largest IoU), and that IoU. */
static int nearest(const float *wh, const float *centre, int k, double *iou)
{
	int best = 0;

	*iou = -1;
	for (int c = 0; c < k; c++) {
		double v = corner_iou(wh, centre + 2 * c);
		if (v > *iou) {
			*iou = v;
			best = c;
		}
	}
	return best;
}

/* k distinct boxes as the centres: the first k of a partial shuffle of
 * index (a permutation of 0..n-1). */
static void pick(const float *wh, int64_t n, int k, cnn_rng *rng, int64_t *index, float *centre)
{
	for (int c = 0; c < k; c++) {
		int64_t j = c + (int64_t)cnn_rng_below(rng, (uint64_t)(n - c)), t = index[c];
		index[c] = index[j];
		index[j] = t;
		memcpy(centre + 2 * c, wh + 2 * index[c], 2 * sizeof *centre);
	}
}

/* Lloyd's iterations from the centres: the mean IoU they reach.  sum and
 * count are room for k. */
static double lloyd(const float *wh, int64_t n, int k, float *centre, double *sum, int64_t *count)
{
	double total = 0, iou;

	for (int it = 0, moved = 1; moved && it < MAX_ITERATIONS; it++) {
		moved = 0;
		memset(sum, 0, sizeof *sum * 2 * k);
		memset(count, 0, sizeof *count * k);
		for (int64_t i = 0; i < n; i++) {
			int c = nearest(wh + 2 * i, centre, k, &iou);
			sum[2 * c] += wh[2 * i];
			sum[2 * c + 1] += wh[2 * i + 1];
			count[c]++;
		}
		for (int c = 0; c < k; c++) {
			float w, h;
			if (!count[c])
				continue;
			w = (float)(sum[2 * c] / count[c]);
			h = (float)(sum[2 * c + 1] / count[c]);
			moved |= w != centre[2 * c] || h != centre[2 * c + 1];
			centre[2 * c] = w;
			centre[2 * c + 1] = h;
		}
	}
	for (int64_t i = 0; i < n; i++) {
		nearest(wh + 2 * i, centre, k, &iou);
		total += iou;
	}
	return total / n;
}

static int by_area(const void *a, const void *b)
{
	const float *x = a, *y = b;
	double p = (double)x[0] * x[1], q = (double)y[0] * y[1];

	return (p > q) - (p < q);
}

int cnn_anchors_kmeans(const float *wh, int64_t n, int k, int restarts, uint64_t seed,
		       float *anchors, double *mean_iou)
{
	float *centre = NULL;
	double *sum = NULL;
	int64_t *count = NULL, *index = NULL;
	int ret = CNN_OK;
	cnn_rng rng;

	if (k < 1 || restarts < 1 || n < k)
		return cnn_error("%lld boxes for %d anchors: want at least as many boxes",
				 (long long)n, k);
	centre = malloc(sizeof *centre * 2 * (size_t)k);
	sum = malloc(sizeof *sum * 2 * (size_t)k);
	count = malloc(sizeof *count * (size_t)k);
	index = malloc(sizeof *index * (size_t)n);
	if (!centre || !sum || !count || !index) {
		ret = cnn_error("out of memory");
	} else {
		for (int64_t i = 0; i < n; i++)
			index[i] = i;
		cnn_rng_seed(&rng, seed);
		*mean_iou = -1;
		for (int r = 0; r < restarts; r++) {
			double iou;
			pick(wh, n, k, &rng, index, centre);
			if ((iou = lloyd(wh, n, k, centre, sum, count)) > *mean_iou) {
				*mean_iou = iou;
				memcpy(anchors, centre, sizeof *centre * 2 * k);
			}
		}
		qsort(anchors, (size_t)k, 2 * sizeof *anchors, by_area);
	}
	free(centre);
	free(sum);
	free(count);
	free(index);
	return ret;
}
