/*
 * layer_local.c - [local], darknet's locally connected layer (YOLOv1): a
 * convolution whose filters are not shared, a set of its own for every
 * output pixel, and a bias for every output.
 *
 *   y[f][p] = b[f][p] + sum_{c, ky, kx} w[p][f][c][ky][kx] x[c][py s + ky - pad][px s + kx - pad]
 *
 * Keys as darknet's: filters, size, stride, pad (its value is the padding,
 * not a flag) and activation.  darknet sizes a padded output as
 * (in - 1) / stride + 1 whatever size is, which is the padding's only for
 * size 3: other sizes with pad are refused.  Parameters "weight"
 * (locations x filters x c*size*size) and "bias" (filters x locations),
 * in the order of darknet's .weights (biases first).
 */
#include <math.h>
#include <stdlib.h>

#include "nn/net.h"

struct local {
	int size, stride, pad;
	cnn_param *weight, *bias;
};

static int build(cnn_layer *l, cnn_net *net, cnn_cfg_section *s)
{
	struct local *lc = calloc(1, sizeof *lc);
	int filters, act;

	if (!(l->state = lc))
		return cnn_error("out of memory");
	if (cnn_cfg_int(s, "filters", 1, 1, 1 << 16, &filters) ||
	    cnn_cfg_int(s, "size", 1, 1, 64, &lc->size) ||
	    cnn_cfg_int(s, "stride", 1, 1, 64, &lc->stride) ||
	    cnn_cfg_int(s, "pad", 0, 0, 64, &lc->pad) ||
	    cnn_cfg_choice(s, "activation", cnn_activation_names, ACT_LOGISTIC, &act))
		return CNN_ERR;
	if (lc->pad && (lc->size != 3 || lc->pad != 1))
		return cnn_cfg_error(s, "darknet sizes a padded [local] as for size=3 pad=1 only");
	if (l->h + 2 * lc->pad < lc->size || l->w + 2 * lc->pad < lc->size)
		return cnn_cfg_error(s, "a %dx%d input is smaller than size=%d", l->h, l->w, lc->size);
	l->activation = act;
	l->out_c = filters;
	l->out_h = (l->h + 2 * lc->pad - lc->size) / lc->stride + 1;
	l->out_w = (l->w + 2 * lc->pad - lc->size) / lc->stride + 1;
	long locations = (long)l->out_h * l->out_w;
	int64_t wdim[3] = {locations, filters, (int64_t)l->c * lc->size * lc->size};
	int64_t bdim[2] = {filters, locations};
	if (cnn_net_claim(net, 2, 3, wdim, "weight") ||
	    !(lc->weight = cnn_layer_add_param(l, "weight", 1, 1, 3, wdim)) ||
	    !(lc->bias = cnn_layer_add_param(l, "bias", 1, 0, 2, bdim)))
		return CNN_ERR;
	l->flops = (double)wdim[0] * wdim[1] * wdim[2];
	l->rf += (lc->size - 1) * l->jump;
	l->jump *= lc->stride;
	return CNN_OK;
}

/* darknet's: uniform within sqrt(2 / fan-in). */
static void init(cnn_layer *l, cnn_rng *rng)
{
	struct local *lc = l->state;
	float scale = sqrtf(2.0f / (l->c * lc->size * lc->size));

	for (long i = 0; i < lc->weight->count; i++)
		lc->weight->value[i] = scale * (2 * (float)cnn_rng_uniform(rng) - 1);
}

/* The input pixel under tap (c, ky, kx) of output pixel p, or -1 in the
 * padding. */
static long tap(const cnn_layer *l, const struct local *lc, long p, int c, int ky, int kx)
{
	int y = (int)(p / l->out_w) * lc->stride + ky - lc->pad;
	int x = (int)(p % l->out_w) * lc->stride + kx - lc->pad;

	return y < 0 || x < 0 || y >= l->h || x >= l->w ? -1 : ((long)c * l->h + y) * l->w + x;
}

static int forward(cnn_layer *l, cnn_net *net)
{
	const struct local *lc = l->state;
	long locations = (long)l->out_h * l->out_w, k = lc->weight->dim[2];

	for (int b = 0; b < net->n; b++) {
		const float *x = l->input + (long)b * l->inputs;
		float *y = l->output + (long)b * l->outputs;
		for (long p = 0; p < locations; p++)
			for (int f = 0; f < l->out_c; f++) {
				const float *w = lc->weight->value + (p * l->out_c + f) * k;
				double sum = lc->bias->value[(long)f * locations + p];
				for (int c = 0, i = 0; c < l->c; c++)
					for (int ky = 0; ky < lc->size; ky++)
						for (int kx = 0; kx < lc->size; kx++, i++) {
							long at = tap(l, lc, p, c, ky, kx);
							sum += at < 0 ? 0 : (double)w[i] * x[at];
						}
				y[(long)f * locations + p] = (float)sum;
			}
	}
	cnn_activate(l->activation, l->output, l->pre, (long)net->n * l->outputs);
	return CNN_OK;
}

static int backward(cnn_layer *l, cnn_net *net)
{
	const struct local *lc = l->state;
	long locations = (long)l->out_h * l->out_w, k = lc->weight->dim[2];
	int grads = !net->no_param_grads;

	cnn_activate_grad(l->activation, l->output, l->pre, l->delta, (long)net->n * l->outputs);
	for (int b = 0; b < net->n; b++) {
		const float *x = l->input + (long)b * l->inputs;
		const float *d = l->delta + (long)b * l->outputs;
		float *dx = l->input_delta ? l->input_delta + (long)b * l->inputs : NULL;
		for (long p = 0; p < locations; p++)
			for (int f = 0; f < l->out_c; f++) {
				long o = (long)f * locations + p, wi = (p * l->out_c + f) * k;
				const float *w = lc->weight->value + wi;
				float *dw = lc->weight->grad + wi;
				if (grads)
					lc->bias->grad[o] += d[o];
				for (int c = 0, i = 0; c < l->c; c++)
					for (int ky = 0; ky < lc->size; ky++)
						for (int kx = 0; kx < lc->size; kx++, i++) {
							long at = tap(l, lc, p, c, ky, kx);
							if (at < 0)
								continue;
							if (grads)
								dw[i] += d[o] * x[at];
							if (dx)
								dx[at] += d[o] * w[i];
						}
			}
	}
	return CNN_OK;
}

static void free_state(cnn_layer *l)
{
	free(l->state);
}

const cnn_layer_type cnn_layer_local = {
	.name = "local", .build = build, .forward = forward, .backward = backward,
	.init = init, .free = free_state,
};
