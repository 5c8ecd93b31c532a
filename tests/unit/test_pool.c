/*
 * test_pool.c - pooling against PyTorch's reference vectors (see
 * tests/vectors/make-vectors.py) under every instruction set this
 * processor runs, the course notes, and the errors of setup.
 */
#include <stdlib.h>
#include <string.h>

#include "cnn.h"
#include "simd/simd.h"
#include "tap.h"
#include "vectors.h"

static const char *const isas[] = { "avx512", "avx2", "generic" };

static long count(int nd, const int *v)
{
	long n = 1;

	for (int d = 0; d < nd; d++)
		n *= v[d];
	return n;
}

static cnn_pool_op parse_op(const char *line)
{
	return strstr(line, "op=max") ? CNN_POOL_MAX :
	       strstr(line, "op=min") ? CNN_POOL_MIN : CNN_POOL_AVG;
}

static void vector_cases(void)
{
	struct vec_file f;
	char line[512];
	int cases = 0;

	if (vec_open(&f, "pool.vec")) {
		tap_ok(0, "read pool.vec: %s", cnn_errmsg());
		return;
	}
	while (vec_header(&f, line, sizeof line)) {
		cnn_pool p = { .op = parse_op(line) };
		int out[3];
		long nx, ny;
		float *x, *want, *got;

		vec_ints(&f, line, "nd", &p.nd, 1);
		vec_ints(&f, line, "n", &p.n, 1);
		vec_ints(&f, line, "c", &p.c, 1);
		vec_ints(&f, line, "in", p.in, p.nd);
		vec_ints(&f, line, "win", p.win, p.nd);
		vec_ints(&f, line, "stride", p.stride, p.nd);
		vec_ints(&f, line, "pad_lo", p.pad_lo, p.nd);
		vec_ints(&f, line, "pad_hi", p.pad_hi, p.nd);
		vec_ints(&f, line, "ceil", &p.ceil_mode, 1);
		vec_ints(&f, line, "count_pad", &p.count_pad, 1);
		vec_ints(&f, line, "out", out, p.nd);
		cases++;
		if (!tap_ok(cnn_pool_setup(&p) == CNN_OK &&
			    !memcmp(out, p.out, p.nd * sizeof *out),
			    "setup %s", line))
			break;
		nx = (long)p.n * p.c * count(p.nd, p.in);
		ny = (long)p.n * p.c * count(p.nd, p.out);
		x = vec_floats(&f, nx);
		want = vec_floats(&f, ny);
		got = malloc(ny * sizeof *got);
		for (size_t i = 0; i < sizeof isas / sizeof *isas; i++) {
			if (cnn_simd_force(isas[i]))
				continue;
			memset(got, 0xff, ny * sizeof *got);
			double err = cnn_pool_forward(&p, x, got) ? INFINITY :
				     tap_relerr(got, want, ny);
			tap_ok(err <= 1e-4, "%s %s: relerr %.2g", isas[i], line, err);
		}
		free(x), free(want), free(got);
	}
	tap_ok(cases >= 50 && !f.bad, "pool.vec: %d cases, format %s", cases,
	       f.bad ? "broken" : "fine");
	vec_close(&f);
	cnn_simd_force(NULL);
}

static void course_notes(void)
{
	static const float x[16] = {
		1, 3, 2, 4,
		5, 6, 1, 2,
		7, 8, 9, 0,
		4, 3, 2, 1,
	};
	static const float max[4] = { 6, 4, 8, 9 }, avg[4] = { 3.75, 2.25, 5.5, 3 };
	cnn_pool p = { .op = CNN_POOL_MAX, .nd = 2, .n = 1, .c = 1,
		       .in = { 4, 4 }, .win = { 2, 2 }, .stride = { 2, 2 } };
	float y[4];

	tap_ok(cnn_pool_setup(&p) == CNN_OK && p.out[0] == 2 && p.out[1] == 2 &&
	       cnn_pool_forward(&p, x, y) == CNN_OK && !memcmp(y, max, sizeof y),
	       "course notes: max pool f=2 s=2");
	p.op = CNN_POOL_AVG;
	tap_ok(cnn_pool_forward(&p, x, y) == CNN_OK && !memcmp(y, avg, sizeof y),
	       "course notes: average pool f=2 s=2");
}

/* A big batch of 3x3 stride-2 max pooling takes the threaded path; it
 * must match the single-threaded one. */
static void threads(void)
{
	cnn_pool p = { .op = CNN_POOL_MAX, .nd = 2, .n = 4, .c = 16,
		       .in = { 57, 57 }, .win = { 3, 3 }, .stride = { 2, 2 },
		       .pad_lo = { 1, 1 }, .pad_hi = { 1, 1 } };
	long nx, ny;
	float *x, *y1, *y2;
	unsigned seed = 3;

	cnn_pool_setup(&p);
	nx = (long)p.n * p.c * p.in[0] * p.in[1];
	ny = (long)p.n * p.c * p.out[0] * p.out[1];
	x = malloc(nx * sizeof *x);
	y1 = malloc(ny * sizeof *y1);
	y2 = malloc(ny * sizeof *y2);
	for (long i = 0; i < nx; i++)
		x[i] = rand_r(&seed) / (float)RAND_MAX;
	cnn_set_threads(1);
	cnn_pool_forward(&p, x, y1);
	cnn_set_threads(2);
	cnn_pool_forward(&p, x, y2);
	tap_ok(!memcmp(y1, y2, ny * sizeof *y1), "1 and 2 threads agree");
	free(x), free(y1), free(y2);
}

static void setup_errors(void)
{
	static const struct {
		cnn_pool p;
		const char *msg;
	} bad[] = {
		{ { .op = CNN_POOL_MAX, .nd = 2, .n = 1, .c = 1, .in = { 3, 3 }, .win = { 5, 5 } },
		  "window 5x5 is larger than the padded input 3x3" },
		{ { .op = CNN_POOL_MAX, .nd = 2, .n = 1, .c = 1, .in = { 8, 8 }, .win = { 2, 2 }, .pad_lo = { 2, 0 } },
		  "padding 2+0 must be smaller than the window 2" },
		{ { .op = CNN_POOL_AVG, .nd = 1, .n = 1, .c = 1, .in = { 8 }, .win = { 2 }, .stride = { -2 } },
		  "stride must be positive" },
		{ { .op = 9, .nd = 2, .n = 1, .c = 1, .in = { 8, 8 }, .win = { 2, 2 } },
		  "unknown pooling operation 9" },
		{ { .op = CNN_POOL_MIN, .nd = 0, .n = 1, .c = 1 },
		  "pooling must have 1 to 3 spatial dimensions, not 0" },
	};

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		cnn_pool p = bad[i].p;
		int r = cnn_pool_setup(&p);

		tap_ok(r == CNN_ERR && !strcmp(cnn_errmsg(), bad[i].msg),
		       "setup error: %s (got \"%s\")", bad[i].msg, cnn_errmsg());
	}
}

int main(void)
{
	cnn_set_threads(2);
	vector_cases();
	course_notes();
	threads();
	setup_errors();
	return tap_done();
}
