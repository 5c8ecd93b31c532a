/*
 * layer_reorg.c - YOLOv2's passthrough: each s x s block of pixels into
 * s^2 times the channels at 1/s the size.
 *
 * [reorg] is darknet's own mapping (reorg_layer.c, forward = 0), which is
 * not a space-to-depth of the input: it reads the input's buffer as if it
 * were C/s^2 x Hs x Ws, takes that apart by blocks, and writes a buffer of
 * the input's shape C x H x W, read by the next layer as C s^2 x H/s x W/s.
 * Pretrained YOLOv2 weights (yolov2.cfg, yolov2-voc.cfg) hold only with
 * it.  For k < C, j < H, i < W, with C' = C / s^2 and o = k / C':
 *
 *   out[i + W (j + H k)] = in[(i s + o % s) + W s ((j s + o / s) + H s (k % C'))]
 *
 * reverse=1 is the same formula the other way, with the input as the
 * small side: out[large] = in[small], C x H x W to C / s^2 x Hs x Ws,
 * which is a true depth-to-space (it undoes [reorg3d], not [reorg]).
 *
 * [reorg3d] is AlexeyAB's true space-to-depth (TensorFlow's
 * space_to_depth up to the layout): out[k][j][i] = in[k % C][j s +
 * (k / C) / s][i s + (k / C) % s] for k < C s^2.
 *
 * [reorg]'s other modes, as darknet's: flatten=1 (stride 1) turns C x H x
 * W into H x W x C order, keeping the shape (reverse=1: back); extra=N
 * makes the input a vector of inputs + N values, the last N zero.
 *
 * Key: stride (2).  The channels (for reverse, and darknet's mapping) and
 * the size must divide evenly.  No parameters; the gradient is the same
 * mapping backwards.
 */
#include <stdlib.h>

#include "nn/net.h"

struct reorg {
	int stride, reverse, true_s2d, flatten, extra;
	long *from; /* output element i is input element from[i] (-1: zero),
		     * per example */
};

/* darknet's reorg_cpu: the pair (small side, large side) of element k, j,
 * i of the small side C x H x W. */
static void darknet_pair(int c, int h, int w, int s, long k, long j, long i, long *small,
			 long *large)
{
	long cs = c / (s * s), off = k / cs;

	*small = i + w * (j + h * k);
	*large = (i * s + off % s) + (long)w * s * ((j * s + off / s) + (long)h * s * (k % cs));
}

static void plan(const cnn_layer *l, struct reorg *r)
{
	int s = r->stride;
	long plane = (long)l->h * l->w;

	if (r->extra) {
		for (long i = 0; i < l->inputs + r->extra; i++)
			r->from[i] = i < l->inputs ? i : -1;
		return;
	}
	if (r->flatten) {
		for (long k = 0; k < l->c; k++)
			for (long p = 0; p < plane; p++) {
				if (r->reverse)
					r->from[k * plane + p] = p * l->c + k;
				else
					r->from[p * l->c + k] = k * plane + p;
			}
		return;
	}

	if (r->true_s2d) {
		for (long k = 0; k < l->out_c; k++)
			for (long j = 0; j < l->out_h; j++)
				for (long i = 0; i < l->out_w; i++) {
					long c = k % l->c, block = k / l->c;
					r->from[(k * l->out_h + j) * l->out_w + i] =
						(c * l->h + j * s + block / s) * l->w + i * s + block % s;
				}
		return;
	}
	/* Not reversed, the input is the small side's buffer read as large. */
	for (long k = 0; k < l->c; k++)
		for (long j = 0; j < l->h; j++)
			for (long i = 0; i < l->w; i++) {
				long small, large;
				if (r->reverse) {
					darknet_pair(l->c, l->h, l->w, s, k, j, i, &small, &large);
					r->from[large] = small;
				} else {
					darknet_pair(l->c, l->h, l->w, s, k, j, i, &small, &large);
					r->from[small] = large;
				}
			}
}

static int build_common(cnn_layer *l, cnn_net *net, cnn_cfg_section *s, int true_s2d)
{
	struct reorg *r = calloc(1, sizeof *r);
	int64_t dim[1] = {l->inputs};

	if (!(l->state = r))
		return cnn_error("out of memory");
	r->true_s2d = true_s2d;
	if (cnn_cfg_int(s, "stride", 2, 1, 64, &r->stride) ||
	    (!true_s2d && (cnn_cfg_int(s, "reverse", 0, 0, 1, &r->reverse) ||
			   cnn_cfg_int(s, "flatten", 0, 0, 1, &r->flatten) ||
			   cnn_cfg_int(s, "extra", 0, 0, 1 << 20, &r->extra))))
		return CNN_ERR;
	if ((r->flatten || r->extra) && r->stride != 1)
		return cnn_cfg_error(s, "flatten= and extra= take stride=1");
	if (r->flatten && r->extra)
		return cnn_cfg_error(s, "flatten= or extra=: one of them");
	if (!r->extra && (r->reverse ? l->c % (r->stride * r->stride)
				     : l->h % r->stride || l->w % r->stride ||
					       (!true_s2d && l->c % (r->stride * r->stride))))
		return cnn_cfg_error(s, "a %dx%dx%d input does not reorganise by stride %d", l->c,
				     l->h, l->w, r->stride);
	if (r->extra) {
		l->out_c = (int)(l->inputs + r->extra);
		l->out_h = l->out_w = 1;
	} else if (r->reverse) {
		l->out_c = l->c / (r->stride * r->stride);
		l->out_h = l->h * r->stride;
		l->out_w = l->w * r->stride;
	} else {
		l->out_c = l->c * r->stride * r->stride;
		l->out_h = l->h / r->stride;
		l->out_w = l->w / r->stride;
	}
	dim[0] += r->extra;
	if (cnn_net_claim(net, 1, 1, dim, "mapping"))
		return CNN_ERR;
	if (!(r->from = malloc(sizeof *r->from * (size_t)dim[0])))
		return cnn_error("out of memory");
	plan(l, r);
	return CNN_OK;
}

static int build(cnn_layer *l, cnn_net *net, cnn_cfg_section *s)
{
	return build_common(l, net, s, 0);
}

static int build_3d(cnn_layer *l, cnn_net *net, cnn_cfg_section *s)
{
	return build_common(l, net, s, 1);
}

static int forward(cnn_layer *l, cnn_net *net)
{
	const struct reorg *r = l->state;

	for (int b = 0; b < net->n; b++) {
		const float *in = l->input + (long)b * l->inputs;
		float *out = l->output + (long)b * l->outputs;
		for (long i = 0; i < l->outputs; i++)
			out[i] = r->from[i] < 0 ? 0 : in[r->from[i]];
	}
	return CNN_OK;
}

static int backward(cnn_layer *l, cnn_net *net)
{
	const struct reorg *r = l->state;

	for (int b = 0; l->input_delta && b < net->n; b++) {
		float *din = l->input_delta + (long)b * l->inputs;
		const float *d = l->delta + (long)b * l->outputs;
		for (long i = 0; i < l->outputs; i++)
			if (r->from[i] >= 0)
				din[r->from[i]] += d[i];
	}
	return CNN_OK;
}

static void free_state(cnn_layer *l)
{
	struct reorg *r = l->state;

	if (r)
		free(r->from);
	free(r);
}

const cnn_layer_type cnn_layer_reorg = {
	.name = "reorg", .build = build, .forward = forward, .backward = backward,
	.free = free_state,
};

const cnn_layer_type cnn_layer_reorg3d = {
	.name = "reorg3d", .build = build_3d, .forward = forward, .backward = backward,
	.free = free_state,
};
