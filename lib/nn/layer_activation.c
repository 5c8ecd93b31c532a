/*
 * layer_activation.c - [activation] (darknet's): an activation function on
 * its own, for graphs that keep it apart from the layer before (Keras's
 * Activation and ReLU layers, a ReLU after a residual add).
 */
#include <string.h>

#include "nn/net.h"

static int build(cnn_layer *l, cnn_net *net, cnn_cfg_section *s)
{
	(void)net;
	return cnn_cfg_choice(s, "activation", cnn_activation_names, ACT_LINEAR, &l->activation);
}

static int forward(cnn_layer *l, cnn_net *net)
{
	memcpy(l->output, l->input, sizeof(float) * net->n * l->outputs);
	cnn_activate(l->activation, l->output, l->pre, (long)net->n * l->outputs);
	return CNN_OK;
}

static int backward(cnn_layer *l, cnn_net *net)
{
	long n = (long)net->n * l->outputs;

	cnn_activate_grad(l->activation, l->output, l->pre, l->delta, n);
	for (long i = 0; l->input_delta && i < n; i++)
		l->input_delta[i] += l->delta[i];
	return CNN_OK;
}

const cnn_layer_type cnn_layer_activation = {
	.name = "activation", .build = build, .forward = forward, .backward = backward,
};
