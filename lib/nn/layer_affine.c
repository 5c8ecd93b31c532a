/*
 * layer_affine.c - [affine] (ours): each channel times its own scale plus
 * its own bias, y = x * scale[c] + bias[c], both trained: a batch
 * normalisation folded into constants, as face-api's face_recognition (a
 * port of dlib's ResNet) keeps it after every convolution.  The scale
 * starts at 1, the bias at 0; activation= (default linear) follows.
 */
#include <stdlib.h>
#include <string.h>

#include "core/threads.h"
#include "nn/net.h"
#include "simd/simd.h"

struct affine {
	cnn_param *scale, *bias;
};

static int build(cnn_layer *l, cnn_net *net, cnn_cfg_section *s)
{
	struct affine *a = calloc(1, sizeof *a);
	int64_t dim[1] = {l->c};

	(void)net;
	if (!(l->state = a))
		return cnn_error("out of memory");
	if (cnn_cfg_choice(s, "activation", cnn_activation_names, ACT_LINEAR, &l->activation))
		return CNN_ERR;
	if (!(a->scale = cnn_layer_add_param(l, "scale", 1, 0, 1, dim)) ||
	    !(a->bias = cnn_layer_add_param(l, "bias", 1, 0, 1, dim)))
		return CNN_ERR;
	for (int c = 0; c < l->c; c++)
		a->scale->value[c] = 1;
	l->flops = (double)l->inputs;
	return CNN_OK;
}

/* Planes [p0, p1) (image by channel): y = x k + b, as batch norm's
 * vectorised inference with mean 0 and 1 / std 1 computes it (exactly
 * that: x - 0 and its product by 1 are exact), then activated while in
 * cache (face_recognition has 29 of these layers, serial they took 5% of
 * its time). */
static void planes(void *ctx, long p0, long p1, int t)
{
	const cnn_layer *l = ctx;
	const struct affine *a = l->state;
	long plane = (long)l->h * l->w;

	(void)t;
	for (long p = p0; p < p1; p++) {
		float *y = l->output + p * plane;
		cnn_simd_pixels()->normalise(y, l->input + p * plane, plane, 0, 1,
					     a->scale->value[p % l->c], a->bias->value[p % l->c]);
		cnn_activate(l->activation, y, l->pre ? l->pre + p * plane : NULL, plane);
	}
}

/* Planes are shared between the threads when there are values enough to
 * be worth waking a second (as [shortcut]'s). */
enum { AFFINE_SHARE = 1 << 15 };

static int forward(cnn_layer *l, cnn_net *net)
{
	long n = (long)net->n * l->outputs;

	cnn_parallel_for(n < AFFINE_SHARE ? 1 : cnn_threads(), (long)net->n * l->c, planes, l);
	return CNN_OK;
}

static int backward(cnn_layer *l, cnn_net *net)
{
	struct affine *a = l->state;
	long plane = (long)l->h * l->w;

	cnn_activate_grad(l->activation, l->output, l->pre, l->delta, (long)net->n * l->outputs);
	for (long p = 0; p < (long)net->n * l->c; p++) {
		int c = (int)(p % l->c);
		const float *x = l->input + p * plane, *d = l->delta + p * plane;
		double dk = 0, db = 0;
		for (long j = 0; j < plane; j++) {
			dk += (double)d[j] * x[j];
			db += d[j];
			if (l->input_delta)
				l->input_delta[p * plane + j] += d[j] * a->scale->value[c];
		}
		if (!net->no_param_grads) {
			a->scale->grad[c] += (float)dk;
			a->bias->grad[c] += (float)db;
		}
	}
	return CNN_OK;
}

static void free_state(cnn_layer *l)
{
	free(l->state);
}

const cnn_layer_type cnn_layer_affine = {
	.name = "affine", .build = build, .forward = forward, .backward = backward,
	.free = free_state,
};
