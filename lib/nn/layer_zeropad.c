/*
 * layer_zeropad.c - [zeropad] (ours): zeros around each channel, as many
 * rows above and below and columns left and right as top=, bottom=, left=
 * and right= say (Keras's ZeroPadding2D, whose MobileNet puts one row and
 * column at the bottom right before a stride-2 convolution).  Unlike a
 * convolution's padding it is seen by whatever follows, a pool included.
 */
#include <stdlib.h>
#include <string.h>

#include "nn/net.h"

struct pad {
	int top, bottom, left, right;
};

static int build(cnn_layer *l, cnn_net *net, cnn_cfg_section *s)
{
	struct pad *p = calloc(1, sizeof *p);
	int64_t h, w;

	(void)net;
	if (!(l->state = p))
		return cnn_error("out of memory");
	if (cnn_cfg_int(s, "top", 0, 0, 1 << 16, &p->top) ||
	    cnn_cfg_int(s, "bottom", 0, 0, 1 << 16, &p->bottom) ||
	    cnn_cfg_int(s, "left", 0, 0, 1 << 16, &p->left) ||
	    cnn_cfg_int(s, "right", 0, 0, 1 << 16, &p->right))
		return CNN_ERR;
	h = (int64_t)l->h + p->top + p->bottom;
	w = (int64_t)l->w + p->left + p->right;
	if (h > 1 << 16 || w > 1 << 16)
		return cnn_cfg_error(s, "output %lldx%lld is too large", (long long)h, (long long)w);
	l->out_h = (int)h;
	l->out_w = (int)w;
	return CNN_OK;
}

/* The input's rows into the padded output, or (back) the output's delta of
 * those rows added into the input's. */
static void move(cnn_layer *l, cnn_net *net, int back)
{
	const struct pad *p = l->state;

	for (long plane = 0; plane < (long)net->n * l->c; plane++)
		for (int y = 0; y < l->h; y++) {
			float *in = (back ? l->input_delta : (float *)l->input) +
				    (plane * l->h + y) * l->w;
			float *out = (back ? l->delta : l->output) +
				     (plane * l->out_h + y + p->top) * l->out_w + p->left;
			if (!back) {
				memcpy(out, in, sizeof *out * l->w);
				continue;
			}
			for (int x = 0; x < l->w; x++)
				in[x] += out[x];
		}
}

static int forward(cnn_layer *l, cnn_net *net)
{
	memset(l->output, 0, sizeof(float) * net->n * l->outputs);
	move(l, net, 0);
	return CNN_OK;
}

static int backward(cnn_layer *l, cnn_net *net)
{
	if (l->input_delta)
		move(l, net, 1);
	return CNN_OK;
}

static void free_state(cnn_layer *l)
{
	free(l->state);
}

const cnn_layer_type cnn_layer_zeropad = {
	.name = "zeropad", .build = build, .forward = forward, .backward = backward,
	.free = free_state,
};
