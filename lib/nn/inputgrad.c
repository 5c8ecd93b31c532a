/*
 * inputgrad.c - the gradient of a caller's loss on some layers' outputs
 * (the taps) with respect to the input image, every weight frozen: what
 * feature visualisation, style transfer and adversarial examples ascend or
 * descend.
 *
 * The pass is the training engine's backward with two differences: it
 * starts from the caller's gradients at the taps instead of a loss layer,
 * and the net's no_param_grads flag tells the layers with parameters to
 * skip their gradients' work, so that a pass through VGG costs about two
 * forwards and not three.  The forward is inference's (running batch
 * statistics, no dropout): the image changes, the network does not.
 */
#include <stdlib.h>
#include <string.h>

#include "nn/net.h"

/* The deepest tap, or CNN_ERR for a tap that is not a layer or taken twice. */
static int deepest_tap(const cnn_net *net, int ntaps, const int *taps)
{
	int last = -1;

	if (ntaps < 1)
		return cnn_error("no taps: the loss needs at least one layer");
	for (int k = 0; k < ntaps; k++) {
		if (taps[k] < 0 || taps[k] >= net->nlayers)
			return cnn_error("tap %d: the network has layers 0 to %d", taps[k],
					 net->nlayers - 1);
		for (int j = 0; j < k; j++)
			if (taps[j] == taps[k])
				return cnn_error("layer %d is tapped twice", taps[k]);
		last = taps[k] > last ? taps[k] : last;
	}
	return last;
}

/* Layers last..0 backward from the deltas, the first layer's input
 * gradient into dx. */
static int backward_frozen(cnn_net *net, int last, float *dx)
{
	cnn_layer *first = &net->layer[0];
	float *keep = first->input_delta;
	int ret = CNN_OK;

	memset(dx, 0, sizeof *dx * (size_t)net->n * net->c * net->h * net->w);
	first->input_delta = dx;
	net->no_param_grads = 1;
	for (int i = last; i >= 0 && ret == CNN_OK; i--) {
		cnn_layer *l = &net->layer[i];
		if (l->type->backward(l, net))
			ret = cnn_error_context("layer %d [%s] backward", i, l->type->name);
	}
	net->no_param_grads = 0;
	first->input_delta = keep;
	cnn_net_unnormalise_grad(net, dx, net->n);
	return ret;
}

int cnn_net_input_gradient(cnn_net *net, const float *x, int n, int ntaps, const int *taps,
			   cnn_tap_loss loss, void *ctx, float *dx, double *value)
{
	int last = deepest_tap(net, ntaps, taps), ret;
	const float **outputs;
	float **grads;
	double v;

	if (last < 0 || !cnn_net_forward_to(net, x, n, last))
		return CNN_ERR;
	outputs = malloc(sizeof *outputs * ntaps);
	grads = malloc(sizeof *grads * ntaps);
	if (!outputs || !grads) {
		free(outputs);
		free(grads);
		return cnn_error("out of memory");
	}
	for (int i = 0; i <= last; i++)
		memset(net->layer[i].delta, 0, sizeof(float) * n * net->layer[i].outputs);
	for (int k = 0; k < ntaps; k++) {
		outputs[k] = net->layer[taps[k]].output;
		grads[k] = net->layer[taps[k]].delta;
	}
	v = loss(ctx, ntaps, taps, outputs, grads, n);
	free(outputs);
	free(grads);
	ret = backward_frozen(net, last, dx);
	if (value)
		*value = v;
	return ret;
}
