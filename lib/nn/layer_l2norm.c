/*
 * layer_l2norm.c - [l2norm] as darknet: at each pixel, the vector across
 * the channels divided by its length,
 *
 *   y_c = x_c / n,  n = sqrt(sum_c x_c^2 + 1e-12)
 *
 * so that a C x 1 x 1 embedding lies on the unit sphere (FaceNet's
 * normalisation before its triplet loss; ParseNet's features).  The 1e-12
 * inside the root keeps a zero vector at zero (darknet's CPU code divides
 * by 0 there, its GPU code by 1) and leaves the gradient exact:
 *
 *   dL/dx_c = (g_c - y_c sum_c' g_c' y_c') / n
 *
 * (darknet's backward passes the delta through unchanged).  No keys, no
 * parameters.
 */
#include <math.h>
#include <stdlib.h>

#include "nn/net.h"

#define L2NORM_EPS 1e-12

static int build(cnn_layer *l, cnn_net *net, cnn_cfg_section *s)
{
	int64_t dim[2] = {net->batch, (long)l->h * l->w};

	(void)s;
	if (cnn_net_claim(net, 1, 2, dim, "norms"))
		return CNN_ERR;
	if (!(l->state = malloc(sizeof(float) * dim[0] * dim[1])))
		return cnn_error("out of memory");
	l->flops = (double)l->inputs;
	return CNN_OK;
}

static int forward(cnn_layer *l, cnn_net *net)
{
	float *norm = l->state;
	long plane = (long)l->h * l->w;

	for (int b = 0; b < net->n; b++)
		for (long p = 0; p < plane; p++) {
			long at = (long)b * l->inputs + p;
			double sum = 0;
			for (int c = 0; c < l->c; c++)
				sum += (double)l->input[at + c * plane] * l->input[at + c * plane];
			norm[b * plane + p] = (float)sqrt(sum + L2NORM_EPS);
			for (int c = 0; c < l->c; c++)
				l->output[at + c * plane] = l->input[at + c * plane] / norm[b * plane + p];
		}
	return CNN_OK;
}

static int backward(cnn_layer *l, cnn_net *net)
{
	const float *norm = l->state;
	long plane = (long)l->h * l->w;

	if (!l->input_delta)
		return CNN_OK;
	for (int b = 0; b < net->n; b++)
		for (long p = 0; p < plane; p++) {
			long at = (long)b * l->inputs + p;
			double dot = 0;
			for (int c = 0; c < l->c; c++)
				dot += (double)l->delta[at + c * plane] * l->output[at + c * plane];
			for (int c = 0; c < l->c; c++) {
				long i = at + c * plane;
				l->input_delta[i] += (l->delta[i] - l->output[i] * (float)dot) /
						     norm[b * plane + p];
			}
		}
	return CNN_OK;
}

static void free_state(cnn_layer *l)
{
	free(l->state);
}

const cnn_layer_type cnn_layer_l2norm = {
	.name = "l2norm", .build = build, .forward = forward, .backward = backward,
	.free = free_state,
};
