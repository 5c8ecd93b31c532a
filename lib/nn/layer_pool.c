/*
 * layer_pool.c - [maxpool] (size, stride, padding: darknet's total padding,
 * default size - 1, half of it before) and [avgpool] (darknet: global; with
 * size=, a local average pool of that window).  same=1 (ours) pads as
 * TensorFlow's SAME instead: the output ceil(in / stride), the odd pixel
 * after; padding never counts (a max ignores it, an average divides by the
 * cells inside the input), as in TensorFlow.
 */
#include <stdlib.h>

#include "nn/net.h"
#include "simd/simd.h"
#include "core/threads.h"

struct pool_state {
	cnn_pool p;
	int max2;	/* 2x2 max at stride 2 inside the input: our own kernel */
};

/* padding < 0: TensorFlow's SAME. */
static int build_pool(cnn_layer *l, cnn_net *net, cnn_pool_op op, int size_h, int size_w,
		      int stride, int padding, cnn_cfg_section *s)
{
	struct pool_state *st = calloc(1, sizeof *st);
	cnn_pool *p = &st->p;

	if (!(l->state = st))
		return cnn_error("out of memory");
	*p = (cnn_pool){.op = op, .n = net->batch, .c = l->c, .nd = 2, .in = {l->h, l->w},
			.win = {size_h, size_w}, .stride = {stride, stride},
			.pad_lo = {padding / 2, padding / 2},
			.pad_hi = {padding - padding / 2, padding - padding / 2}};
	if (padding < 0) {
		cnn_same_padding(l->h, size_h, stride, &p->pad_lo[0], &p->pad_hi[0]);
		cnn_same_padding(l->w, size_w, stride, &p->pad_lo[1], &p->pad_hi[1]);
	}
	if (cnn_pool_setup(p))
		return cnn_cfg_error(s, "input %dx%dx%d: %s", l->c, l->h, l->w, cnn_errmsg());
	l->out_h = p->out[0];
	l->out_w = p->out[1];
	st->max2 = op == CNN_POOL_MAX && size_h == 2 && size_w == 2 && stride == 2 &&
		   p->pad_lo[0] == 0 && p->pad_lo[1] == 0 && 2 * l->out_h <= l->h &&
		   2 * l->out_w <= l->w;
	l->flops = (double)l->c * l->out_h * l->out_w * size_h * size_w;
	l->rf += ((size_h > size_w ? size_h : size_w) - 1) * l->jump;
	l->jump *= stride;
	return CNN_OK;
}

/* padding=, or same=1 (-1 to build_pool); not both. */
static int pool_padding(cnn_cfg_section *s, int dflt, int *padding)
{
	int same;

	if (cnn_cfg_int(s, "padding", dflt, 0, 1 << 12, padding) ||
	    cnn_cfg_int(s, "same", 0, 0, 1, &same))
		return CNN_ERR;
	if (same && cnn_cfg_has(s, "padding"))
		return cnn_cfg_error(s, "same=1 and padding= together");
	if (same)
		*padding = -1;
	return CNN_OK;
}

static int build_max(cnn_layer *l, cnn_net *net, cnn_cfg_section *s)
{
	int size, stride, padding;

	if (cnn_cfg_int(s, "size", 1, 1, 1 << 12, &size) ||
	    cnn_cfg_int(s, "stride", 1, 1, 1 << 12, &stride) ||
	    pool_padding(s, size - 1, &padding))
		return CNN_ERR;
	return build_pool(l, net, CNN_POOL_MAX, size, size, stride, padding, s);
}

static int build_avg(cnn_layer *l, cnn_net *net, cnn_cfg_section *s)
{
	int size, stride, padding;

	if (!cnn_cfg_has(s, "size"))
		return build_pool(l, net, CNN_POOL_AVG, l->h, l->w, 1, 0, s);
	if (cnn_cfg_int(s, "size", 1, 1, 1 << 12, &size) ||
	    cnn_cfg_int(s, "stride", size, 1, 1 << 12, &stride) ||
	    pool_padding(s, 0, &padding))
		return CNN_ERR;
	return build_pool(l, net, CNN_POOL_AVG, size, size, stride, padding, s);
}

/* Planes [i0, i1) of a 2x2 max at stride 2. */
static void max2_planes(void *ctx, long i0, long i1, int t)
{
	const cnn_layer *l = ctx;
	const struct cnn_simd_grad *sg = cnn_simd_grad();
	long xs = (long)l->h * l->w, ys = (long)l->out_h * l->out_w;

	(void)t;
	for (long i = i0; i < i1; i++)
		sg->max2(l->output + i * ys, l->input + i * xs, l->w, l->out_h, l->out_w);
}

static int forward(cnn_layer *l, cnn_net *net)
{
	struct pool_state *st = l->state;
	cnn_pool p = st->p;

	p.n = net->n;
	if (st->max2) {
		long planes = (long)net->n * l->c, xs = (long)l->h * l->w;

		cnn_parallel_for(planes * xs < (1 << 16) ? 1 : cnn_threads(), planes,
				 max2_planes, l);
		return CNN_OK;
	}
	return cnn_pool_forward(&p, l->input, l->output);
}

static int backward(cnn_layer *l, cnn_net *net)
{
	cnn_pool p = ((struct pool_state *)l->state)->p;

	p.n = net->n;
	return l->input_delta ? cnn_pool_backward(&p, l->input, l->delta, l->input_delta)
			      : CNN_OK;
}

static void free_state(cnn_layer *l)
{
	free(l->state);
}

const cnn_layer_type cnn_layer_maxpool = {
	.name = "maxpool", .build = build_max, .forward = forward, .backward = backward,
	.free = free_state,
};

const cnn_layer_type cnn_layer_avgpool = {
	.name = "avgpool", .build = build_avg, .forward = forward, .backward = backward,
	.free = free_state,
};
