/*
 * activation.c - the nonlinearities layers apply to their outputs, and
 * their derivatives.
 */
#include <math.h>

#include "ops/activation.h"
#include "simd/simd.h"
#include "core/threads.h"

const char *const cnn_activation_names[] = {
	[ACT_LINEAR] = "linear", [ACT_RELU] = "relu", [ACT_LEAKY] = "leaky",
	[ACT_RELU6] = "relu6", [ACT_LOGISTIC] = "logistic", [ACT_TANH] = "tanh",
	[ACT_SWISH] = "swish", [ACT_RAMP] = "ramp", [ACT_ELU] = "elu",
	[ACT_HARDTAN] = "hardtan", [ACT_COUNT] = NULL,
};

/* darknet's leaky slope. */
#define LEAK 0.1f

static float logistic(float x)
{
	return 1 / (1 + expf(-x));
}

int cnn_activation_needs_pre(int act)
{
	return act == ACT_SWISH;
}

/* Rectifiers over many values: vectorised, and split between the threads
 * in whole vectors when there is enough to share (from 32k values, some
 * microseconds: a call to a thread that is awake costs half of one). */
enum { SHARE = 1 << 15, PIECE = 1024 };

struct rect_job {
	const struct cnn_simd_grad *sg;
	const float *y;		/* rect_grad's outputs */
	float *d;		/* rect's values, in place; rect_grad's deltas */
	long n;
	float slope;
};

/* The values of pieces [i0, i1). */
static void span(const struct rect_job *r, long i0, long i1, long *at, long *len)
{
	*at = i0 * PIECE;
	*len = (i1 * PIECE < r->n ? i1 * PIECE : r->n) - *at;
}

static void rect_pieces(void *ctx, long i0, long i1, int t)
{
	const struct rect_job *r = ctx;
	long at, len;

	(void)t;
	span(r, i0, i1, &at, &len);
	r->sg->rect(r->d + at, len, r->slope);
}

static void rect_grad_pieces(void *ctx, long i0, long i1, int t)
{
	const struct rect_job *r = ctx;
	long at, len;

	(void)t;
	span(r, i0, i1, &at, &len);
	r->sg->rect_grad(r->y + at, r->d + at, len, r->slope);
}

static void rect(float *y, long n, float slope)
{
	struct rect_job r = { cnn_simd_grad(), NULL, y, n, slope };

	cnn_parallel_for(n < SHARE ? 1 : cnn_threads(), (n + PIECE - 1) / PIECE,
			 rect_pieces, &r);
}

static void rect_grad(const float *y, float *d, long n, float slope)
{
	struct rect_job r = { cnn_simd_grad(), y, d, n, slope };

	cnn_parallel_for(n < SHARE ? 1 : cnn_threads(), (n + PIECE - 1) / PIECE,
			 rect_grad_pieces, &r);
}

void cnn_activate(int act, float *y, float *pre, long n)
{
	switch (act) {
	case ACT_LINEAR:
		break;
	case ACT_RELU:
		rect(y, n, 0);
		break;
	case ACT_LEAKY:
		rect(y, n, LEAK);
		break;
	case ACT_RELU6:
		for (long i = 0; i < n; i++)
			y[i] = y[i] < 0 ? 0 : y[i] > 6 ? 6 : y[i];
		break;
	case ACT_LOGISTIC:
		for (long i = 0; i < n; i++)
			y[i] = logistic(y[i]);
		break;
	case ACT_TANH:
		for (long i = 0; i < n; i++)
			y[i] = tanhf(y[i]);
		break;
	case ACT_SWISH:
		for (long i = 0; i < n; i++) {
			if (pre)
				pre[i] = y[i];
			y[i] *= logistic(y[i]);
		}
		break;
	case ACT_RAMP:
		for (long i = 0; i < n; i++)
			y[i] = (y[i] > 0 ? y[i] : 0) + LEAK * y[i];
		break;
	case ACT_ELU:
		for (long i = 0; i < n; i++)
			y[i] = y[i] >= 0 ? y[i] : expm1f(y[i]);
		break;
	case ACT_HARDTAN:
		for (long i = 0; i < n; i++)
			y[i] = y[i] < -1 ? -1 : y[i] > 1 ? 1 : y[i];
		break;
	}
}

/* Derivatives from the output where the output determines them; at the
 * kinks (0 for relu, 0 and 6 for relu6) the derivative of the side the
 * output is on, 0 below, as PyTorch. */
void cnn_activate_grad(int act, const float *y, const float *pre, float *delta, long n)
{
	switch (act) {
	case ACT_LINEAR:
		break;
	case ACT_RELU:
		rect_grad(y, delta, n, 0);
		break;
	case ACT_LEAKY:
		rect_grad(y, delta, n, LEAK);
		break;
	case ACT_RELU6:
		for (long i = 0; i < n; i++)
			delta[i] *= y[i] > 0 && y[i] < 6;
		break;
	case ACT_LOGISTIC:
		for (long i = 0; i < n; i++)
			delta[i] *= y[i] * (1 - y[i]);
		break;
	case ACT_TANH:
		for (long i = 0; i < n; i++)
			delta[i] *= 1 - y[i] * y[i];
		break;
	case ACT_SWISH:
		for (long i = 0; i < n; i++) {
			float s = logistic(pre[i]);
			delta[i] *= s + pre[i] * s * (1 - s);
		}
		break;
	case ACT_RAMP:
		for (long i = 0; i < n; i++)
			delta[i] *= y[i] > 0 ? 1 + LEAK : LEAK;
		break;
	case ACT_ELU:
		for (long i = 0; i < n; i++)
			delta[i] *= y[i] >= 0 ? 1 : y[i] + 1;
		break;
	case ACT_HARDTAN:
		for (long i = 0; i < n; i++)
			delta[i] *= y[i] > -1 && y[i] < 1;
		break;
	}
}
