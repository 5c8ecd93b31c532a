/*
 * layer_scale_channels.c - [scale_channels] as AlexeyAB's darknet: the
 * output of layer from= (C x H x W), each channel multiplied by a weight
 * that this layer's input (C x 1 x 1) holds, then the activation:
 *
 *   out_{c,y,x} = activation(from_{c,y,x} * in_c)
 *
 * the multiply of squeeze-and-excitation (SENet, MobileNet v3,
 * EfficientNet), whose weights are computed from the features themselves:
 * a global average pool, a small bottleneck of two 1x1 convolutions, a
 * logistic.  With scale_wh=1 the input is 1 x H x W instead, a weight for
 * each pixel shared by all channels (spatial attention).  The gradient
 * goes to both inputs, exactly: darknet divides the weights' by H x W.
 */
#include <stdlib.h>

#include "nn/net.h"

struct scale_state {
	cnn_layer *src;        /* the layer scaled */
	int scale_wh;          /* a weight per pixel, not per channel */
};

static int build(cnn_layer *l, cnn_net *net, cnn_cfg_section *s)
{
	struct scale_state *st = calloc(1, sizeof *st);
	int act;
	cnn_layer *src;

	if (!(l->state = st))
		return cnn_error("out of memory");
	if (!(src = cnn_net_layer_ref(net, l, s, "from")) ||
	    cnn_cfg_int(s, "scale_wh", 0, 0, 1, &st->scale_wh) ||
	    cnn_cfg_choice(s, "activation", cnn_activation_names, ACT_LINEAR, &act))
		return CNN_ERR;
	if (st->scale_wh ? l->c != 1 || l->h != src->out_h || l->w != src->out_w
			 : l->c != src->out_c || l->h != 1 || l->w != 1)
		return cnn_cfg_error(s, "the input is %dx%dx%d: layer %d (%dx%dx%d) wants %dx%dx%d, "
				     "a weight for each %s", l->c, l->h, l->w, src->index,
				     src->out_c, src->out_h, src->out_w,
				     st->scale_wh ? 1 : src->out_c, st->scale_wh ? src->out_h : 1,
				     st->scale_wh ? src->out_w : 1, st->scale_wh ? "pixel" : "channel");
	st->src = src;
	l->activation = act;
	l->out_c = src->out_c;
	l->out_h = src->out_h;
	l->out_w = src->out_w;
	l->rf = src->rf > l->rf ? src->rf : l->rf;
	l->jump = src->jump;
	l->flops = (double)src->outputs;
	return CNN_OK;
}

/* The weight of output value i of an example: its channel's, or with
 * scale_wh its pixel's. */
static long weight_of(const cnn_layer *l, long i)
{
	const struct scale_state *st = l->state;
	long plane = (long)l->out_h * l->out_w;

	return st->scale_wh ? i % plane : i / plane;
}

static int forward(cnn_layer *l, cnn_net *net)
{
	const float *from = ((struct scale_state *)l->state)->src->output;

	for (int b = 0; b < net->n; b++) {
		long out = (long)b * l->outputs, in = (long)b * l->inputs;
		for (long i = 0; i < l->outputs; i++)
			l->output[out + i] = from[out + i] * l->input[in + weight_of(l, i)];
	}
	cnn_activate(l->activation, l->output, l->pre, (long)net->n * l->outputs);
	return CNN_OK;
}

static int backward(cnn_layer *l, cnn_net *net)
{
	const cnn_layer *src = ((struct scale_state *)l->state)->src;

	cnn_activate_grad(l->activation, l->output, l->pre, l->delta, (long)net->n * l->outputs);
	for (int b = 0; b < net->n; b++) {
		long out = (long)b * l->outputs, in = (long)b * l->inputs;
		for (long i = 0; i < l->outputs; i++) {
			long w = in + weight_of(l, i);
			src->delta[out + i] += l->delta[out + i] * l->input[w];
			if (l->input_delta)
				l->input_delta[w] += l->delta[out + i] * src->output[out + i];
		}
	}
	return CNN_OK;
}

static void free_state(cnn_layer *l)
{
	free(l->state);
}

const cnn_layer_type cnn_layer_scale_channels = {
	.name = "scale_channels", .build = build, .forward = forward,
	.backward = backward, .free = free_state,
};
