/*
 * conv.c - forward convolution and SGEMM speed of libcnn, one case per
 * line of bench/cases.txt: prints "name GFLOP/s" from the median of
 * several timed runs after warm-up.  bench/run-conv runs it beside
 * bench/conv_torch.py.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cnn.h"

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

static float *random_floats(size_t n)
{
	float *v = malloc(n * sizeof *v);

	for (size_t i = 0; v && i < n; i++)
		v[i] = rand() / (RAND_MAX / 2.0f) - 1;
	return v;
}

struct job {
	int gemm;
	cnn_conv cv;
	int m, n, k;
	float *a, *b, *c, *d;
};

static int run(struct job *j)
{
	if (j->gemm)
		return cnn_sgemm(0, 0, j->m, j->n, j->k, 1, j->a, j->k, j->b, j->n,
				 0, j->c, j->n);
	return cnn_conv_forward(&j->cv, j->a, j->b, j->c, j->d);
}

/* Median seconds of one run: warm up, then at least 5 runs and 1 s. */
static double time_job(struct job *j)
{
	double t[1000], start;
	int n = 0;

	run(j), run(j);
	for (start = now(); n < 1000 && (n < 5 || now() - start < 1.0); n++) {
		double t0 = now();

		if (run(j)) {
			fprintf(stderr, "bench: %s\n", cnn_errmsg());
			exit(1);
		}
		t[n] = now() - t0;
	}
	qsort(t, n, sizeof *t, cmp);
	return t[n / 2];
}

int main(int argc, char **argv)
{
	char line[256];
	FILE *f = fopen(argc > 1 ? argv[1] : "bench/cases.txt", "r");

	if (!f) {
		perror(argc > 1 ? argv[1] : "bench/cases.txt");
		return 1;
	}
	while (fgets(line, sizeof line, f)) {
		char name[64];
		int v[8];
		int got = sscanf(line, "%63s %d %d %d %d %d %d %d %d", name,
				 &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
		struct job j = { 0 };
		double flops;

		if (name[0] == '#' || got < 4)
			continue;
		if (got == 4) {
			j.gemm = 1, j.m = v[0], j.n = v[1], j.k = v[2];
			j.a = random_floats((size_t)j.m * j.k);
			j.b = random_floats((size_t)j.k * j.n);
			j.c = random_floats((size_t)j.m * j.n);
			flops = 2.0 * j.m * j.n * j.k;
		} else {
			cnn_conv *cv = &j.cv;

			*cv = (cnn_conv){ .nd = 2, .n = v[0], .c = v[1], .k = v[4],
					  .groups = v[7], .in = { v[2], v[3] },
					  .ker = { v[5], v[5] }, .pad_lo = { v[6], v[6] },
					  .pad_hi = { v[6], v[6] } };
			if (cnn_conv_setup(cv)) {
				fprintf(stderr, "bench: %s: %s\n", name, cnn_errmsg());
				return 1;
			}
			j.a = random_floats((size_t)cv->n * cv->c * cv->in[0] * cv->in[1]);
			j.b = random_floats((size_t)cv->k * cv->c / cv->groups * v[5] * v[5]);
			j.c = random_floats(cv->k);
			j.d = random_floats((size_t)cv->n * cv->k * cv->out[0] * cv->out[1]);
			flops = 2 * cnn_conv_macs(cv);
		}
		if (!j.a || !j.b || !j.c || (!j.gemm && !j.d)) {
			fprintf(stderr, "bench: %s: out of memory\n", name);
			return 1;
		}
		printf("%s %.1f\n", name, flops / time_job(&j) * 1e-9);
		fflush(stdout);
		free(j.a), free(j.b), free(j.c), free(j.d);
	}
	fclose(f);
	return 0;
}
