/*
 * batchnorm.c - batch normalisation over the batch and the spatial
 * positions of each channel, used by [batchnorm] and by layers with
 * batch_normalize=1, by darknet's rule or PyTorch's (batchnorm.h).
 *
 * Training normalises with the batch's own statistics and moves the
 * running ones towards them; inference uses the running statistics, and a
 * backward pass after it (cnn_net_input_gradient's) treats them as the
 * constants they then are.  The backward is the exact derivative of the
 * forward under either rule (darknet's own backward puts 1e-5 under the
 * root instead of its forward's 1e-6 beside it, and the biased variance's
 * derivative for the unbiased one's: approximations of its forward).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/batchnorm.h"
#include "core/threads.h"

#define DARKNET_MOMENTUM 0.01f
#define PYTORCH_MOMENTUM 0.1f

float cnn_bn_invstd(const cnn_bn *bn, float var)
{
	return bn->eps ? 1 / sqrtf(var + bn->eps) : 1 / (sqrtf(var) + CNN_BN_DARKNET_EPS);
}

int cnn_bn_add_params(cnn_layer *l, cnn_bn *bn, int channels)
{
	int64_t dim[1] = {channels};

	memset(bn, 0, sizeof *bn);
	bn->c = channels;
	if (!(bn->scale = cnn_layer_add_param(l, "scale", 1, 0, 1, dim)) ||
	    !(bn->mean = cnn_layer_add_param(l, "mean", 0, 0, 1, dim)) ||
	    !(bn->variance = cnn_layer_add_param(l, "variance", 0, 0, 1, dim)))
		return CNN_ERR;
	for (int i = 0; i < channels; i++) {
		bn->scale->value[i] = 1;
		bn->variance->value[i] = 1;
	}
	return CNN_OK;
}

int cnn_bn_alloc(cnn_bn *bn, long values)
{
	bn->xhat = malloc(sizeof *bn->xhat * (values ? values : 1));
	bn->batch_mean = malloc(sizeof(float) * bn->c);
	bn->batch_invstd = malloc(sizeof(float) * bn->c);
	bn->batch_vgain = malloc(sizeof(float) * bn->c);
	if (!bn->xhat || !bn->batch_mean || !bn->batch_invstd || !bn->batch_vgain)
		return cnn_error("out of memory for batch normalisation");
	return CNN_OK;
}

void cnn_bn_free(cnn_bn *bn)
{
	free(bn->xhat);
	free(bn->batch_mean);
	free(bn->batch_invstd);
	free(bn->batch_vgain);
}

/* The arguments of forward and backward, for the threads. */
struct bn_job {
	cnn_bn *bn;
	const float *shift;	/* the forward's bias values */
	float *shift_grad;	/* the backward's bias gradients */
	float *y;
	int n, train;
	int grads;		/* the backward's: the scale's and the shift's too */
	long spatial;
};

/* Channel c's statistics from a training batch of m values, their mean
 * and their sum of squared deviations ss: the divisor, the running
 * statistics' step, and vgain, the variance's term of dL/dx relative to
 * PyTorch's rule, s m / (sigma m') for a divisor s = sigma + 1e-6 of the
 * variance sigma^2 = ss / m' (1 for s = sigma, m' = m). */
static void batch_statistics(cnn_bn *bn, int c, float mean, double ss, double m)
{
	double unbiased = m > 1 ? ss / (m - 1) : 0;
	float momentum = bn->eps ? PYTORCH_MOMENTUM : DARKNET_MOMENTUM;

	if (bn->eps) {
		bn->batch_invstd[c] = 1 / sqrtf((float)(ss / m) + bn->eps);
		bn->batch_vgain[c] = 1;
	} else {
		float sigma = sqrtf((float)unbiased), s = sigma + CNN_BN_DARKNET_EPS;
		bn->batch_invstd[c] = 1 / s;
		bn->batch_vgain[c] = sigma > 0 ? (float)(s * m / (sigma * (m > 1 ? m - 1 : 1))) : 0;
	}
	bn->batch_mean[c] = mean;
	bn->mean->value[c] += momentum * (mean - bn->mean->value[c]);
	bn->variance->value[c] += momentum * ((float)unbiased - bn->variance->value[c]);
}

/* Channels [c0, c1) of the forward; each channel's sums in one thread. */
static void forward_channels(void *ctx, long c0, long c1, int t)
{
	const struct bn_job *job = ctx;
	cnn_bn *bn = job->bn;
	const float *shift = job->shift;
	float *y = job->y;
	int n = job->n, train = job->train;
	long spatial = job->spatial;

	(void)t;
	for (int c = (int)c0; c < c1; c++) {
		float mean, invstd, g = bn->scale->value[c], b = shift[c];
		if (train) {
			double s = 0, ss = 0, m = (double)n * spatial;
			for (int i = 0; i < n; i++) {
				const float *p = y + ((long)i * bn->c + c) * spatial;
				for (long j = 0; j < spatial; j++)
					s += p[j];
			}
			mean = (float)(s / m);
			for (int i = 0; i < n; i++) {
				const float *p = y + ((long)i * bn->c + c) * spatial;
				for (long j = 0; j < spatial; j++)
					ss += (double)(p[j] - mean) * (p[j] - mean);
			}
			batch_statistics(bn, c, mean, ss, m);
			invstd = bn->batch_invstd[c];
		} else {
			mean = bn->mean->value[c];
			invstd = cnn_bn_invstd(bn, bn->variance->value[c]);
		}
		for (int i = 0; i < n; i++) {
			long at = ((long)i * bn->c + c) * spatial;
			float *p = y + at, *xh = bn->xhat + at;
			for (long j = 0; j < spatial; j++) {
				float x = (p[j] - mean) * invstd;
				if (train)
					xh[j] = x;
				p[j] = g * x + b;
			}
		}
	}
}

void cnn_bn_forward(cnn_bn *bn, const cnn_param *bias, float *y, int n, long spatial,
		    int train)
{
	struct bn_job job = { bn, bias->value, NULL, y, n, train, 0, spatial };

	bn->batch_stats = train;
	cnn_parallel_for(cnn_threads(), bn->c, forward_channels, &job);
}

/* Channels [c0, c1) of the backward; y holds the deltas. */
static void backward_channels(void *ctx, long c0, long c1, int t)
{
	const struct bn_job *job = ctx;
	cnn_bn *bn = job->bn;
	float *shift_grad = job->shift_grad;
	float *delta = job->y;
	int n = job->n;
	long spatial = job->spatial;
	float m = (float)n * spatial;

	(void)t;
	for (int c = (int)c0; c < c1; c++) {
		double sd = 0, sdx = 0;
		float g = bn->scale->value[c], k = g * bn->batch_invstd[c] / m;
		float vgain = bn->batch_vgain[c];
		for (int i = 0; i < n; i++) {
			long at = ((long)i * bn->c + c) * spatial;
			for (long j = 0; j < spatial; j++) {
				sd += delta[at + j];
				sdx += (double)delta[at + j] * bn->xhat[at + j];
			}
		}
		if (job->grads) {
			shift_grad[c] += (float)sd;
			bn->scale->grad[c] += (float)sdx;
		}
		/* dx = g/std/m * (m dy - sum dy - vgain xhat sum(dy xhat)) */
		for (int i = 0; i < n; i++) {
			long at = ((long)i * bn->c + c) * spatial;
			for (long j = 0; j < spatial; j++)
				delta[at + j] = k * (m * delta[at + j] - (float)sd -
						     vgain * bn->xhat[at + j] * (float)sdx);
		}
	}
}

/* Channels [c0, c1) after an inference forward: dx = scale / std dy. */
static void affine_channels(void *ctx, long c0, long c1, int t)
{
	const struct bn_job *job = ctx;
	cnn_bn *bn = job->bn;
	long spatial = job->spatial;

	(void)t;
	for (int c = (int)c0; c < c1; c++) {
		float k = bn->scale->value[c] * cnn_bn_invstd(bn, bn->variance->value[c]);
		for (int i = 0; i < job->n; i++) {
			float *d = job->y + ((long)i * bn->c + c) * spatial;
			for (long j = 0; j < spatial; j++)
				d[j] *= k;
		}
	}
}

void cnn_bn_backward(cnn_bn *bn, cnn_param *bias, float *delta, int n, long spatial,
		     int grads)
{
	struct bn_job job = { bn, NULL, bias->grad, delta, n, 0, grads, spatial };

	cnn_parallel_for(cnn_threads(), bn->c,
			 bn->batch_stats ? backward_channels : affine_channels, &job);
}
