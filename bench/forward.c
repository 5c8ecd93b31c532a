/*
 * forward.c - inference speed of a model file: the median milliseconds of
 * one forward pass of a batch of one, over a few seconds, on a fixed random
 * input (bench/run-pretrained runs it beside TensorFlow.js).
 *
 *   bench-forward MODEL [SECONDS [ISA]]
 *
 * ISA (avx512, avx2, generic) forces those kernels, to time a machine of
 * the other kind on this one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cnn.h"
#include "simd/simd.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	double seconds = argc > 2 ? atof(argv[2]) : 3, t[4096], start;
	cnn_net *net;
	float *x;
	int c, h, w, runs = 0;
	cnn_rng rng;

	if (argc < 2) {
		fprintf(stderr, "usage: bench-forward MODEL [SECONDS [ISA]]\n");
		return 2;
	}
	if (argc > 3 && cnn_simd_force(argv[3])) {
		fprintf(stderr, "bench-forward: %s\n", cnn_errmsg());
		return 1;
	}
	if (!(net = cnn_net_load(argv[1], 1, NULL))) {
		fprintf(stderr, "bench-forward: %s\n", cnn_errmsg());
		return 1;
	}
	cnn_net_input_shape(net, &c, &h, &w);
	x = malloc(sizeof *x * c * h * w);
	cnn_rng_seed(&rng, 7);
	for (long i = 0; i < (long)c * h * w; i++)
		x[i] = (float)cnn_rng_uniform(&rng);
	cnn_net_forward(net, x, 1, 0);
	for (start = now(); runs < 4096 && (runs < 5 || now() - start < seconds); runs++) {
		double t0 = now();
		if (!cnn_net_forward(net, x, 1, 0)) {
			fprintf(stderr, "bench-forward: %s\n", cnn_errmsg());
			return 1;
		}
		t[runs] = now() - t0;
	}
	qsort(t, runs, sizeof *t, cmp);
	printf("ms %.3f fastest %.3f runs %d threads %d\n", t[runs / 2] * 1e3, t[0] * 1e3, runs,
	       cnn_threads());
	free(x);
	cnn_net_free(net);
	return 0;
}
