/*
 * layer_batchnorm.c - [batchnorm]: batch normalisation on its own, by
 * darknet's rule, or with epsilon= (Keras's name) by PyTorch's and Keras's,
 * that epsilon under the square root (batchnorm.h).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/batchnorm.h"
#include "core/threads.h"
#include "simd/simd.h"

struct bn_layer {
	cnn_bn bn;
	cnn_param *bias;
};

static int build(cnn_layer *l, cnn_net *net, cnn_cfg_section *s)
{
	struct bn_layer *st = calloc(1, sizeof *st);
	int64_t dim[1] = {l->c}, xhat[2] = {net->batch, l->inputs};

	float eps = 0;

	if (!(l->state = st))
		return cnn_error("out of memory");
	if ((cnn_cfg_has(s, "epsilon") && cnn_cfg_float(s, "epsilon", 0, 1e-12f, 1, &eps)) ||
	    cnn_net_claim(net, 1, 2, xhat, "batch statistics"))
		return CNN_ERR;
	if (!(st->bias = cnn_layer_add_param(l, "bias", 1, 0, 1, dim)))
		return CNN_ERR;
	if (cnn_bn_add_params(l, &st->bn, l->c) ||
	    cnn_bn_alloc(&st->bn, (long)net->batch * l->inputs))
		return CNN_ERR;
	st->bn.eps = eps;
	return CNN_OK;
}

/* Planes [p0, p1) (image by channel) of inference: cnn_bn_forward()'s
 * numbers, from the input in one vectorised pass, not a copy and a scalar
 * pass over it (Inception v3 has 94 of these layers: they took 4% of its
 * time on two threads). */
static void infer_planes(void *ctx, long p0, long p1, int t)
{
	const cnn_layer *l = ctx;
	const struct bn_layer *st = l->state;
	const struct cnn_simd_pixels *px = cnn_simd_pixels();
	long spatial = (long)l->h * l->w;

	(void)t;
	for (long p = p0; p < p1; p++) {
		int c = (int)(p % l->c);

		px->normalise(l->output + p * spatial, l->input + p * spatial, spatial,
			      st->bn.mean->value[c],
			      cnn_bn_invstd(&st->bn, st->bn.variance->value[c]),
			      st->bn.scale->value[c], st->bias->value[c]);
	}
}

static int forward(cnn_layer *l, cnn_net *net)
{
	struct bn_layer *st = l->state;

	if (!net->train) {
		st->bn.batch_stats = 0;
		cnn_parallel_for(cnn_threads(), (long)net->n * l->c, infer_planes, l);
		return CNN_OK;
	}
	memcpy(l->output, l->input, sizeof(float) * net->n * l->outputs);
	cnn_bn_forward(&st->bn, st->bias, l->output, net->n, (long)l->h * l->w, net->train);
	return CNN_OK;
}

static int backward(cnn_layer *l, cnn_net *net)
{
	struct bn_layer *st = l->state;

	cnn_bn_backward(&st->bn, st->bias, l->delta, net->n, (long)l->h * l->w,
			!net->no_param_grads);
	if (l->input_delta)
		for (long i = 0; i < (long)net->n * l->outputs; i++)
			l->input_delta[i] += l->delta[i];
	return CNN_OK;
}

static void free_state(cnn_layer *l)
{
	struct bn_layer *st = l->state;

	if (st)
		cnn_bn_free(&st->bn);
	free(st);
}

const cnn_layer_type cnn_layer_batchnorm = {
	.name = "batchnorm", .build = build, .forward = forward, .backward = backward,
	.free = free_state,
};
