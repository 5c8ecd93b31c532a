/*
 * layer_affine.c - [affine] (ours): each channel times its own scale plus
 * its own bias, y = x * scale[c] + bias[c], both trained: a batch
 * normalisation folded into constants, as face-api's face_recognition (a
 * port of dlib's ResNet) keeps it after every convolution.  The scale
 * starts at 1, the bias at 0; activation= (default linear) follows.
 */
#include <stdlib.h>
#include <string.h>

#include "nn/net.h"

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

static int forward(cnn_layer *l, cnn_net *net)
{
	const struct affine *a = l->state;
	long plane = (long)l->h * l->w;

	for (long p = 0; p < (long)net->n * l->c; p++) {
		float k = a->scale->value[p % l->c], b = a->bias->value[p % l->c];
		const float *x = l->input + p * plane;
		float *y = l->output + p * plane;
		for (long j = 0; j < plane; j++)
			y[j] = x[j] * k + b;
	}
	cnn_activate(l->activation, l->output, l->pre, (long)net->n * l->outputs);
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
