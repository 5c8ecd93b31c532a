/*
 * nms.c - NMS speed of libcnn.  bench-nms DIR writes the cases' boxes to
 * DIR/NAME.f32 (n x 6 float32: x1 y1 x2 y2 score class) for
 * bench/nms_torch.py to read, then prints "name milliseconds kept" per
 * case: the median of several timed runs after a warm-up.  bench/run-nms
 * runs both.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cnn.h"

struct bench_case {
	const char *name;
	int n, objects, classes; /* objects 0: uniform over the image */
};

static const struct bench_case cases[] = {
	{"uniform-10k", 10000, 0, 1},
	{"clustered-10k", 10000, 100, 1},
	{"per-class-10k", 10000, 100, 80},
	{"uniform-100k", 100000, 0, 1},
	{"clustered-100k", 100000, 1000, 1},
};

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static float uniform(cnn_rng *r, double lo, double hi)
{
	return (float)(lo + cnn_rng_uniform(r) * (hi - lo));
}

/* Boxes over a 1000 x 1000 image: uniform, 5 to 105 pixels wide; or
 * around objects, jittered by up to a tenth of their size, as a detector
 * proposes them before NMS. */
static void make(const struct bench_case *c, float *b)
{
	cnn_rng r;

	cnn_rng_seed(&r, 1);
	for (int i = 0; i < c->n; i++, b += 6) {
		float x = uniform(&r, 0, 1000), y = uniform(&r, 0, 1000);
		float w = uniform(&r, 5, 105), h = uniform(&r, 5, 105);
		if (c->objects) {
			cnn_rng o;
			cnn_rng_seed(&o, 100 + cnn_rng_below(&r, (uint64_t)c->objects));
			x = uniform(&o, 0, 900), y = uniform(&o, 0, 900);
			w = uniform(&o, 20, 200), h = uniform(&o, 20, 200);
			x += uniform(&r, -0.1, 0.1) * w;
			y += uniform(&r, -0.1, 0.1) * h;
			w *= uniform(&r, 0.9, 1.1);
			h *= uniform(&r, 0.9, 1.1);
		}
		b[0] = x, b[1] = y, b[2] = x + w, b[3] = y + h;
		b[4] = (float)cnn_rng_uniform(&r);
		b[5] = (float)cnn_rng_below(&r, (uint64_t)c->classes);
	}
}

/* Median seconds of one run: warm up, then at least 5 runs and 1 s. */
static double time_nms(const float *b, int n, const cnn_nms_opts *o, int64_t *keep,
		       int64_t *kept)
{
	double t[1000], start;
	int runs = 0;

	*kept = cnn_nms(b, n, o, keep, NULL);
	for (start = now(); runs < 1000 && (runs < 5 || now() - start < 1.0); runs++) {
		double t0 = now();
		cnn_nms(b, n, o, keep, NULL);
		t[runs] = now() - t0;
	}
	qsort(t, (size_t)runs, sizeof *t, cmp);
	return t[runs / 2];
}

int main(int argc, char **argv)
{
	cnn_nms_opts o;

	if (argc != 2) {
		fprintf(stderr, "usage: bench-nms DIR\n");
		return 2;
	}
	cnn_nms_defaults(&o);
	o.score = -1; /* as torchvision: no score threshold */
	for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
		const struct bench_case *c = &cases[k];
		float *b = malloc((size_t)c->n * 6 * sizeof *b);
		int64_t *keep = malloc((size_t)c->n * sizeof *keep), kept;
		char path[4096];
		FILE *f;
		double t;

		make(c, b);
		snprintf(path, sizeof path, "%s/%s.f32", argv[1], c->name);
		if (!(f = fopen(path, "wb")) || fwrite(b, sizeof *b, (size_t)c->n * 6, f) !=
		    (size_t)c->n * 6 || fclose(f)) {
			fprintf(stderr, "bench-nms: cannot write %s\n", path);
			return 1;
		}
		o.agnostic = c->classes == 1;
		t = time_nms(b, c->n, &o, keep, &kept);
		printf("%s %.3f %lld\n", c->name, t * 1000, (long long)kept);
		free(b);
		free(keep);
	}
	return 0;
}
