/*
 * layer_lrn.c - local response normalisation across channels: [lrn] as
 * AlexNet, Caffe and PyTorch's LocalResponseNorm have it, and darknet's
 * [normalization].  Each value is divided by the energy of the channels
 * around it at the same pixel,
 *
 *   b_c = a_c / (kappa + s * sum_{c' = c - before .. c + after} a_c'^2)^beta
 *
 * over size channels, those past the edges counting as 0: a strong
 * response damps its neighbours' (AlexNet's "lateral inhibition").  [lrn]
 * takes s = alpha / size and, for an even size, the extra channel before
 * c, as PyTorch, with AlexNet's kappa 2 by default (PyTorch's is 1);
 * darknet's [normalization] takes s = alpha, kappa 1 by default
 * and the extra channel after c, so that darknet's files keep darknet's
 * numbers.  No parameters.
 */
#include <math.h>
#include <stdlib.h>

#include "nn/net.h"

struct lrn_state {
	int before, after;     /* the window: channels c - before .. c + after */
	float scale;           /* of the sum of squares */
	float beta, kappa;
	float *den;            /* batch x outputs: kappa + scale * the sum */
};

static int build(cnn_layer *l, cnn_net *net, cnn_cfg_section *s, int darknet)
{
	struct lrn_state *st = calloc(1, sizeof *st);
	int size;
	float alpha;

	if (!(l->state = st))
		return cnn_error("out of memory");
	if (cnn_cfg_int(s, "size", 5, 1, 1 << 16, &size) ||
	    cnn_cfg_float(s, "alpha", 1e-4f, 0, 1e6f, &alpha) ||
	    cnn_cfg_float(s, "beta", 0.75f, 0, 100, &st->beta) ||
	    cnn_cfg_float(s, "kappa", darknet ? 1 : 2, 1e-6f, 1e6f, &st->kappa) ||
	    cnn_net_claim(net, 1, 2, (int64_t[]){net->batch, l->inputs}, "denominators"))
		return CNN_ERR;
	st->scale = darknet ? alpha : alpha / size;
	st->before = darknet ? (size - 1) / 2 : size / 2;
	st->after = size - 1 - st->before;
	if (!(st->den = malloc(sizeof(float) * net->batch * l->inputs)))
		return cnn_error("out of memory");
	l->flops = (double)l->inputs * size;
	return CNN_OK;
}

static int build_lrn(cnn_layer *l, cnn_net *net, cnn_cfg_section *s)
{
	return build(l, net, s, 0);
}

static int build_normalization(cnn_layer *l, cnn_net *net, cnn_cfg_section *s)
{
	return build(l, net, s, 1);
}

/* Channels c - back .. c + ahead, inside 0 .. channels - 1. */
static void span(int c, int back, int ahead, int channels, int *lo, int *hi)
{
	*lo = c - back > 0 ? c - back : 0;
	*hi = c + ahead < channels - 1 ? c + ahead : channels - 1;
}

static int forward(cnn_layer *l, cnn_net *net)
{
	struct lrn_state *st = l->state;
	long plane = (long)l->h * l->w;

	for (int b = 0; b < net->n; b++) {
		const float *a = l->input + (long)b * l->inputs;
		float *den = st->den + (long)b * l->inputs, *out = l->output + (long)b * l->outputs;
		for (int c = 0; c < l->c; c++) {
			int lo, hi;
			span(c, st->before, st->after, l->c, &lo, &hi);
			for (long p = 0, i = c * plane; p < plane; p++, i++) {
				double sum = 0;
				for (int k = lo; k <= hi; k++)
					sum += (double)a[k * plane + p] * a[k * plane + p];
				den[i] = st->kappa + st->scale * (float)sum;
				out[i] = a[i] * powf(den[i], -st->beta);
			}
		}
	}
	return CNN_OK;
}

/* With g the delta and D the denominators,
 *   dL/da_j = g_j D_j^-beta - 2 s beta a_j sum_c g_c b_c / D_c
 * over the channels c whose window holds j: j - after .. j + before. */
static int backward(cnn_layer *l, cnn_net *net)
{
	struct lrn_state *st = l->state;
	long plane = (long)l->h * l->w;
	float twice = 2 * st->scale * st->beta;

	if (!l->input_delta)
		return CNN_OK;
	for (int b = 0; b < net->n; b++) {
		long at = (long)b * l->inputs;
		const float *a = l->input + at, *g = l->delta + at, *out = l->output + at;
		const float *den = st->den + at;
		float *da = l->input_delta + at;
		for (int j = 0; j < l->c; j++) {
			int lo, hi;
			span(j, st->after, st->before, l->c, &lo, &hi);
			for (long p = 0, i = j * plane; p < plane; p++, i++) {
				double sum = 0;
				for (int k = lo; k <= hi; k++) {
					long ki = k * plane + p;
					sum += (double)g[ki] * out[ki] / den[ki];
				}
				da[i] += g[i] * powf(den[i], -st->beta) - twice * a[i] * (float)sum;
			}
		}
	}
	return CNN_OK;
}

static void free_state(cnn_layer *l)
{
	struct lrn_state *st = l->state;

	if (st)
		free(st->den);
	free(st);
}

const cnn_layer_type cnn_layer_lrn = {
	.name = "lrn", .build = build_lrn, .forward = forward, .backward = backward,
	.free = free_state,
};

const cnn_layer_type cnn_layer_normalization = {
	.name = "normalization", .build = build_normalization, .forward = forward,
	.backward = backward, .free = free_state,
};
