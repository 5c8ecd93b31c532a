/*
 * layer_conv.c - [convolutional] and [deconvolutional] (transposed
 * convolution): filters, size, stride, pad or padding (or same, our key
 * for TensorFlow's SAME: the odd pixel of padding after), dilation,
 * groups, batch_normalize, activation.
 *
 * A transposed convolution is the backward pass of the convolution that
 * maps its output back to its input, so both layers describe that one
 * convolution and swap the roles of forward and backward.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/batchnorm.h"
#include "nn/net.h"
#include "simd/simd.h"

struct conv_state {
	cnn_conv cv;          /* for deconvolution: the convolution it transposes */
	int transposed;
	cnn_param *weight, *bias;
	int bn_on;
	cnn_bn bn;
	float *scratch;       /* deconvolution: one batch of input gradients */
	/* Inference packs the weights once, not in every pass: valid while
	 * the net's parameters are those of packed_gen and the kernels those
	 * cnn_simd() chose then. */
	float *packed;
	uint64_t packed_gen;
	const void *packed_isa;
};

static int build(cnn_layer *l, cnn_net *net, cnn_cfg_section *s, int transposed)
{
	struct conv_state *st = calloc(1, sizeof *st);
	int filters, size, stride, pad, padding, dilation, groups, act, same;
	int size_y, size_x, stride_y, stride_x;
	cnn_conv *cv;

	if (!(l->state = st))
		return cnn_error("out of memory");
	st->transposed = transposed;
	if (cnn_cfg_int(s, "filters", 1, 1, 1 << 16, &filters) ||
	    cnn_cfg_int(s, "size", 1, 1, 1 << 10, &size) ||
	    cnn_cfg_int(s, "stride", 1, 1, 1 << 10, &stride) ||
	    cnn_cfg_int(s, "pad", 0, 0, 1, &pad) ||
	    cnn_cfg_int(s, "padding", 0, 0, 1 << 10, &padding) ||
	    cnn_cfg_int(s, "dilation", 1, 1, 1 << 10, &dilation) ||
	    cnn_cfg_int(s, "groups", 1, 1, 1 << 16, &groups) ||
	    cnn_cfg_int(s, "batch_normalize", 0, 0, 1, &st->bn_on) ||
	    cnn_cfg_int(s, "same", 0, 0, 1, &same) ||
	    cnn_cfg_choice(s, "activation", cnn_activation_names, ACT_LOGISTIC, &act))
		return CNN_ERR;
	/* A kernel or stride of two sides (Inception v3's 1x7 and 7x1):
	 * size_y= and size_x= ours, stride_y= and stride_x= AlexeyAB's. */
	if (cnn_cfg_int(s, "size_y", size, 1, 1 << 10, &size_y) ||
	    cnn_cfg_int(s, "size_x", size, 1, 1 << 10, &size_x) ||
	    cnn_cfg_int(s, "stride_y", stride, 1, 1 << 10, &stride_y) ||
	    cnn_cfg_int(s, "stride_x", stride, 1, 1 << 10, &stride_x))
		return CNN_ERR;
	if (transposed && (cnn_cfg_has(s, "size_y") || cnn_cfg_has(s, "size_x") ||
			   cnn_cfg_has(s, "stride_y") || cnn_cfg_has(s, "stride_x")))
		return cnn_cfg_error(s, "a transposed convolution takes one size= and one stride=");
	if (same && (transposed || pad || padding))
		return cnn_cfg_error(s, "same=1 %s", transposed ? "is for convolutions, not "
				     "transposed ones" : "and pad= or padding= together");
	/* darknet: pad=1 means "half the kernel", and wins over padding=. */
	int pad_y = pad ? size_y / 2 : padding, pad_x = pad ? size_x / 2 : padding;
	if (pad)
		padding = size / 2;
	l->activation = act;
	if (l->c % groups || filters % groups)
		return cnn_cfg_error(s, "%d input channels and %d filters are not divisible "
				     "by groups=%d", l->c, filters, groups);
	cv = &st->cv;
	*cv = (cnn_conv){.n = net->batch, .groups = groups, .nd = 2,
			 .ker = {size_y, size_x}, .stride = {stride_y, stride_x},
			 .dil = {dilation, dilation}, .pad_lo = {pad_y, pad_x},
			 .pad_hi = {pad_y, pad_x}};
	for (int d = 0; same && d < 2; d++)
		cnn_same_padding(d ? l->w : l->h, dilation * (cv->ker[d] - 1) + 1, cv->stride[d],
				 &cv->pad_lo[d], &cv->pad_hi[d]);
	if (transposed) {
		/* darknet: out = (in - 1) * stride + size - 2 * padding */
		int64_t reach = (int64_t)dilation * (size - 1) + 1 - 2 * padding;
		int64_t h = (int64_t)(l->h - 1) * stride + reach, w = (int64_t)(l->w - 1) * stride + reach;
		if (h > INT32_MAX || w > INT32_MAX)
			return cnn_cfg_error(s, "output %lldx%lld is too large", (long long)h,
					     (long long)w);
		l->out_c = filters;
		l->out_h = (int)h;
		l->out_w = (int)w;
		cv->c = filters;
		cv->k = l->c;
		cv->in[0] = l->out_h;
		cv->in[1] = l->out_w;
		if (l->out_h < 1 || l->out_w < 1)
			return cnn_cfg_error(s, "output %dx%d is empty", l->out_h, l->out_w);
	} else {
		cv->c = l->c;
		cv->k = filters;
		cv->in[0] = l->h;
		cv->in[1] = l->w;
	}
	if (cnn_conv_setup(cv))
		return cnn_cfg_error(s, "input %dx%dx%d: %s", l->c, l->h, l->w, cnn_errmsg());
	if (transposed && (cv->out[0] != l->h || cv->out[1] != l->w))
		return cnn_cfg_error(s, "stride %d does not invert to the input %dx%d", stride,
				     l->h, l->w);
	if (!transposed) {
		l->out_c = filters;
		l->out_h = cv->out[0];
		l->out_w = cv->out[1];
	}
	/* Weights are k x c/groups x size x size of the forward convolution:
	 * for a transposed one, in channels first, as darknet and PyTorch. */
	int64_t wdim[4] = {cv->k, cv->c / groups, size_y, size_x}, bdim[1] = {filters};
	int64_t out[4] = {net->batch, filters, l->out_h, l->out_w};
	int64_t in[2] = {net->batch, l->inputs};
	if (cnn_net_claim(net, 2, 4, wdim, "weight") ||
	    (st->bn_on && cnn_net_claim(net, 1, 4, out, "batch_normalize")) ||
	    (transposed && cnn_net_claim(net, 1, 2, in, "input gradients")))
		return CNN_ERR;
	if (!(st->weight = cnn_layer_add_param(l, "weight", 1, 1, 4, wdim)) ||
	    !(st->bias = cnn_layer_add_param(l, "bias", 1, 0, 1, bdim)))
		return CNN_ERR;
	if (st->bn_on && (cnn_bn_add_params(l, &st->bn, filters) ||
			  cnn_bn_alloc(&st->bn, (long)net->batch * filters * l->out_h * l->out_w)))
		return CNN_ERR;
	if (transposed && !(st->scratch = malloc(sizeof(float) * net->batch * l->inputs)))
		return cnn_error("out of memory");
	l->flops = cnn_conv_macs(cv) / net->batch;
	l->rf += (dilation * ((size_y > size_x ? size_y : size_x) - 1)) * l->jump;
	if (!transposed)
		l->jump *= stride_y > stride_x ? stride_y : stride_x;
	return CNN_OK;
}

static int build_conv(cnn_layer *l, cnn_net *net, cnn_cfg_section *s)
{
	return build(l, net, s, 0);
}

static int build_deconv(cnn_layer *l, cnn_net *net, cnn_cfg_section *s)
{
	return build(l, net, s, 1);
}

/* He initialisation (normal, std sqrt(2 / fan_in)) for the rectifiers,
 * Xavier (uniform, +-sqrt(6 / (fan_in + fan_out))) otherwise. */
static void init(cnn_layer *l, cnn_rng *rng)
{
	struct conv_state *st = l->state;
	const cnn_param *w = st->weight;
	long fan_in = w->count / w->dim[0], fan_out = w->count / w->dim[1];
	int rect = l->activation == ACT_RELU || l->activation == ACT_LEAKY ||
		   l->activation == ACT_RELU6 || l->activation == ACT_SWISH;
	float std = sqrtf(2.0f / fan_in), lim = sqrtf(6.0f / (fan_in + fan_out));

	for (long i = 0; i < w->count; i++)
		w->value[i] = rect ? std * (float)cnn_rng_normal01(rng)
				   : lim * (2 * (float)cnn_rng_uniform(rng) - 1);
}

/* The weights packed for the GEMM of an inference pass, packed again only
 * when a parameter or the kernels changed since; NULL when this convolution
 * does not pack (depthwise). */
static int packed_weights(struct conv_state *st, const cnn_net *net, const float **packed)
{
	size_t floats = cnn_conv_packed_floats(&st->cv);

	*packed = NULL;
	if (floats == 0)
		return CNN_OK;
	if (!st->packed || st->packed_gen != net->param_gen || st->packed_isa != cnn_simd()) {
		float *grown = realloc(st->packed, sizeof(float) * floats);
		if (!grown)
			return cnn_error("out of memory for packed weights");
		st->packed = grown;
		if (cnn_conv_pack(&st->cv, st->weight->value, st->packed))
			return CNN_ERR;
		st->packed_gen = net->param_gen;
		st->packed_isa = cnn_simd();
	}
	*packed = st->packed;
	return CNN_OK;
}

static int forward(cnn_layer *l, cnn_net *net)
{
	struct conv_state *st = l->state;
	cnn_conv cv = st->cv;
	long spatial = (long)l->out_h * l->out_w, n = (long)net->n * l->outputs;
	const float *bias = st->bn_on ? NULL : st->bias->value;

	cv.n = net->n;
	if (st->transposed) {
		memset(l->output, 0, sizeof(float) * n);
		if (cnn_conv_backward(&cv, NULL, st->weight->value, l->input, l->output, NULL, NULL))
			return CNN_ERR;
		if (bias)
			for (long i = 0; i < n; i++)
				l->output[i] += bias[(i / spatial) % l->out_c];
	} else if (!net->train) {
		const float *packed;
		if (packed_weights(st, net, &packed) ||
		    cnn_conv_forward_packed(&cv, l->input, st->weight->value, packed, bias,
					    l->output))
			return CNN_ERR;
	} else if (cnn_conv_forward(&cv, l->input, st->weight->value, bias, l->output)) {
		return CNN_ERR;
	}
	if (st->bn_on)
		cnn_bn_forward(&st->bn, st->bias, l->output, net->n, spatial, net->train);
	cnn_activate(l->activation, l->output, l->pre, n);
	return CNN_OK;
}

static int backward(cnn_layer *l, cnn_net *net)
{
	struct conv_state *st = l->state;
	cnn_conv cv = st->cv;
	long spatial = (long)l->out_h * l->out_w;
	int grads = !net->no_param_grads;
	float *dw = grads ? st->weight->grad : NULL;
	float *db = st->bn_on || !grads ? NULL : st->bias->grad;

	cv.n = net->n;
	cnn_activate_grad(l->activation, l->output, l->pre, l->delta, (long)net->n * l->outputs);
	if (st->bn_on)
		cnn_bn_backward(&st->bn, st->bias, l->delta, net->n, spatial, grads);
	if (!st->transposed)
		return cnn_conv_backward(&cv, l->input, st->weight->value, l->delta,
					 l->input_delta, dw, db);
	/* Transposed: output = conv^T(input), so d input = conv(delta) and the
	 * weights' gradient is that of conv with delta as its input. */
	if (db)
		for (long i = 0; i < (long)net->n * l->outputs; i++)
			db[(i / spatial) % l->out_c] += l->delta[i];
	if (dw && cnn_conv_backward(&cv, l->delta, st->weight->value, l->input, NULL, dw, NULL))
		return CNN_ERR;
	if (!l->input_delta)
		return CNN_OK;
	if (cnn_conv_forward(&cv, l->delta, st->weight->value, NULL, st->scratch))
		return CNN_ERR;
	for (long i = 0; i < (long)net->n * l->inputs; i++)
		l->input_delta[i] += st->scratch[i];
	return CNN_OK;
}

static void free_state(cnn_layer *l)
{
	struct conv_state *st = l->state;

	if (!st)
		return;
	if (st->bn_on)
		cnn_bn_free(&st->bn);
	free(st->scratch);
	free(st->packed);
	free(st);
}

const cnn_layer_type cnn_layer_convolutional = {
	.name = "convolutional", .build = build_conv, .forward = forward,
	.backward = backward, .init = init, .free = free_state,
};

const cnn_layer_type cnn_layer_deconvolutional = {
	.name = "deconvolutional", .build = build_deconv, .forward = forward,
	.backward = backward, .init = init, .free = free_state,
};
