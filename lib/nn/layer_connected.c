/*
 * layer_connected.c - [connected]: every output a weighted sum of every
 * input (the input flattened C x H x W), then batch_normalize, activation.
 */
#include <math.h>
#include <stdlib.h>

#include "nn/batchnorm.h"
#include "nn/net.h"

struct fc_state {
	cnn_param *weight, *bias;   /* outputs x inputs, outputs */
	int bn_on;
	cnn_bn bn;
};

static int build(cnn_layer *l, cnn_net *net, cnn_cfg_section *s)
{
	struct fc_state *st = calloc(1, sizeof *st);
	int outputs, act;

	if (!(l->state = st))
		return cnn_error("out of memory");
	if (cnn_cfg_int(s, "output", 1, 1, 1 << 24, &outputs) ||
	    cnn_cfg_int(s, "batch_normalize", 0, 0, 1, &st->bn_on) ||
	    cnn_cfg_choice(s, "activation", cnn_activation_names, ACT_LOGISTIC, &act))
		return CNN_ERR;
	l->activation = act;
	l->out_c = outputs;
	l->out_h = l->out_w = 1;
	int64_t wdim[2] = {outputs, l->inputs}, bdim[1] = {outputs};
	int64_t out[2] = {net->batch, outputs};
	if (cnn_net_claim(net, 2, 2, wdim, "weight") ||
	    (st->bn_on && cnn_net_claim(net, 1, 2, out, "batch_normalize")))
		return CNN_ERR;
	if (!(st->weight = cnn_layer_add_param(l, "weight", 1, 1, 2, wdim)) ||
	    !(st->bias = cnn_layer_add_param(l, "bias", 1, 0, 1, bdim)))
		return CNN_ERR;
	if (st->bn_on && (cnn_bn_add_params(l, &st->bn, outputs) ||
			  cnn_bn_alloc(&st->bn, (long)net->batch * outputs)))
		return CNN_ERR;
	l->flops = (double)outputs * l->inputs;
	l->rf += (l->h > l->w ? l->h - 1 : l->w - 1) * l->jump;
	return CNN_OK;
}

static void init(cnn_layer *l, cnn_rng *rng)
{
	struct fc_state *st = l->state;
	int rect = l->activation == ACT_RELU || l->activation == ACT_LEAKY ||
		   l->activation == ACT_RELU6 || l->activation == ACT_SWISH;
	float std = sqrtf(2.0f / l->inputs), lim = sqrtf(6.0f / (l->inputs + l->outputs));

	for (long i = 0; i < st->weight->count; i++)
		st->weight->value[i] = rect ? std * (float)cnn_rng_normal01(rng)
					    : lim * (2 * (float)cnn_rng_uniform(rng) - 1);
}

static int forward(cnn_layer *l, cnn_net *net)
{
	struct fc_state *st = l->state;
	int n = net->n, out = (int)l->outputs, in = (int)l->inputs;

	for (int i = 0; i < n; i++)
		for (int o = 0; o < out; o++)
			l->output[(long)i * out + o] = st->bn_on ? 0 : st->bias->value[o];
	if (cnn_sgemm(0, 1, n, out, in, 1, l->input, in, st->weight->value, in, 1,
		      l->output, out))
		return CNN_ERR;
	if (st->bn_on)
		cnn_bn_forward(&st->bn, st->bias, l->output, n, 1, net->train);
	cnn_activate(l->activation, l->output, l->pre, (long)n * out);
	return CNN_OK;
}

static int backward(cnn_layer *l, cnn_net *net)
{
	struct fc_state *st = l->state;
	int n = net->n, out = (int)l->outputs, in = (int)l->inputs, grads = !net->no_param_grads;

	cnn_activate_grad(l->activation, l->output, l->pre, l->delta, (long)n * out);
	if (st->bn_on) {
		cnn_bn_backward(&st->bn, st->bias, l->delta, n, 1, grads);
	} else if (grads) {
		for (int i = 0; i < n; i++)
			for (int o = 0; o < out; o++)
				st->bias->grad[o] += l->delta[(long)i * out + o];
	}
	if (grads && cnn_sgemm(1, 0, out, in, n, 1, l->delta, out, l->input, in, 1,
			       st->weight->grad, in))
		return CNN_ERR;
	if (l->input_delta)
		return cnn_sgemm(0, 0, n, in, out, 1, l->delta, out, st->weight->value, in, 1,
				 l->input_delta, in);
	return CNN_OK;
}

static void free_state(cnn_layer *l)
{
	struct fc_state *st = l->state;

	if (st && st->bn_on)
		cnn_bn_free(&st->bn);
	free(st);
}

const cnn_layer_type cnn_layer_connected = {
	.name = "connected", .build = build, .forward = forward, .backward = backward,
	.init = init, .free = free_state,
};
