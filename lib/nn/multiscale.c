/*
 * multiscale.c - darknet's multi-scale training (random= in the last
 * [yolo] or [region]): every 10 batches the network takes another input
 * size, so that one set of weights learns objects at many scales.
 *
 * The sizes are AlexeyAB's darknet's, which at 416 x 416 are pjreddie's
 * 320 to 608.  A factor f is drawn uniformly from 1 to x (random=; 1 means
 * 1.4), then taken or inverted at even odds, and each side becomes
 * round(f side / step + 1) step, step being [net] resize_step= (32): the
 * + 1 is darknet's and leans the sizes large.  A shrinking factor never
 * gives more than the cfg's size, and no side is below one step.  The
 * first 10 batches, and those after the run's last 100 when its length is
 * known, take the largest, round(x side / step + 1) step: at the start to
 * claim the most memory the run will need, at the end (darknet says) for
 * the batch norm's running statistics.
 *
 * pjreddie's darknet (Debian's) draws (rand() % 10 + 10) x 32 whatever the
 * cfg's size, 608 in the last 200 batches.  AlexeyAB's can change the
 * batch size with the input too ([net] dynamic_minibatch=1, for GPU
 * memory); the batch stays here.  The draws come
 * from the seed and the step, so a resumed run takes the sizes an unbroken
 * one would.
 */
#include <math.h>

#include "nn/example.h"

#define WINDOW 10          /* batches at one size */
#define LAST_AT_LARGEST 100

static int side(double f, int size, int step)
{
	int s = (int)lround(f * size / step + 1) * step;

	return s < step ? step : s;
}

void cnn_multi_scale_size(const cnn_train_params *hp, uint64_t seed, int h0, int w0,
			  int64_t step, int64_t last, int *h, int *w)
{
	double x = hp->multi_scale, f;
	int64_t start = step / WINDOW * WINDOW;
	cnn_rng rng;

	if (x <= 0) {
		*h = h0;
		*w = w0;
		return;
	}
	if (start == 0 || (last >= 0 && start > last - LAST_AT_LARGEST)) {
		*h = side(x, h0, hp->resize_step);
		*w = side(x, w0, hp->resize_step);
		return;
	}
	cnn_rng_seed(&rng, seed ^ (0x2545f4914f6cdd1du * (uint64_t)(start / WINDOW)));
	f = 1 + (x - 1) * cnn_rng_uniform(&rng);
	if (cnn_rng_below(&rng, 2))
		f = 1 / f;
	*h = side(f, h0, hp->resize_step);
	*w = side(f, w0, hp->resize_step);
	if (f < 1 && (*h > h0 || *w > w0)) {
		*h = h0;
		*w = w0;
	}
}
