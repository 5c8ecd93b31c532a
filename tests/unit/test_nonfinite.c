/*
 * test_nonfinite.c - finding the first NaN or infinity (cnn_floats_nonfinite
 * and cnn_tensor_nonfinite), on both sides of the blocks the search reads
 * at a time, and the words that name one.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cnn.h"
#include "tap.h"

static void at_each_place(void)
{
	static const int64_t places[] = {0, 1, 1023, 1024, 1025, 4999};
	const int64_t n = 5000;
	float *v = calloc(n, sizeof *v);
	int all = 1;

	tap_ok(cnn_floats_nonfinite(v, n) == -1 && cnn_floats_nonfinite(v, 0) == -1,
	       "all finite: -1");
	for (size_t k = 0; k < sizeof places / sizeof *places; k++) {
		int64_t i = places[k];
		v[i] = k % 2 ? INFINITY : NAN;
		all &= cnn_floats_nonfinite(v, n) == i;
		/* The first wins when there are more. */
		v[n - 1] = -INFINITY;
		all &= cnn_floats_nonfinite(v, n) == i;
		v[n - 1] = 0;
		v[i] = 0;
	}
	tap_ok(all, "NaN, inf and -inf found at 0, 1, 1023, 1024, 1025 and 4999 of 5000");
	v[3] = 3.4e38f;
	v[4] = -0.0f;
	v[5] = 1e-45f;
	tap_ok(cnn_floats_nonfinite(v, n) == -1, "FLT_MAX, -0 and the smallest subnormal are finite");
	free(v);
}

static void tensors(void)
{
	int64_t dim[1] = {3};
	cnn_tensor *d = cnn_tensor_new("score", CNN_F64, 1, dim);
	cnn_tensor *u = cnn_tensor_new("label", CNN_U8, 1, dim);
	char buf[128];

	((double *)d->data)[2] = -INFINITY;
	tap_ok(cnn_tensor_nonfinite(d) == 2, "f64: found at 2");
	tap_ok(strcmp(cnn_nonfinite_describe(d, 2, buf, sizeof buf),
		      "tensor \"score\" holds -inf at index 2") == 0, "described: %s", buf);
	tap_ok(cnn_tensor_nonfinite(u) == -1, "integers are always finite");
	cnn_tensor_free(d);
	cnn_tensor_free(u);
}

int main(void)
{
	at_each_place();
	tensors();
	return tap_done();
}
