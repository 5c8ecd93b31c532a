/*
 * activation.c - the nonlinearities layers apply to their outputs, and
 * their derivatives.
 */
#include <math.h>

#include "net.h"
#include "simd/simd.h"

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
 * in whole vectors when there is enough to share. */
enum { SHARE = 1 << 16, PIECE = 1024 };

static void rect(float *y, long n, float slope)
{
	const struct cnn_simd_grad *sg = cnn_simd_grad();
	long pieces = (n + PIECE - 1) / PIECE;
	int nt = n < SHARE ? 1 : cnn_threads();

#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
	for (long i = 0; i < pieces; i++)
		sg->rect(y + i * PIECE, i == pieces - 1 ? n - i * PIECE : PIECE, slope);
}

static void rect_grad(const float *y, float *d, long n, float slope)
{
	const struct cnn_simd_grad *sg = cnn_simd_grad();
	long pieces = (n + PIECE - 1) / PIECE;
	int nt = n < SHARE ? 1 : cnn_threads();

#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
	for (long i = 0; i < pieces; i++)
		sg->rect_grad(y + i * PIECE, d + i * PIECE,
			      i == pieces - 1 ? n - i * PIECE : PIECE, slope);
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
