/*
 * layer_misc.c - the layers without weights that reshape or combine:
 * [dropout], [shortcut] (residual add), [crop], [route] (concatenation of
 * earlier layers, or a slice of one: groups=, group_id=), [upsample]
 * (nearest).
 */
#include <stdlib.h>
#include <string.h>

#include "nn/net.h"
#include "core/threads.h"

/* ------------------------------------------------------------- dropout */

struct dropout_state {
	float probability;
	float *mask;          /* batch x outputs: 0, or the inverse keep rate */
};

static int build_dropout(cnn_layer *l, cnn_net *net, cnn_cfg_section *s)
{
	struct dropout_state *st = calloc(1, sizeof *st);

	if (!(l->state = st))
		return cnn_error("out of memory");
	if (cnn_cfg_float(s, "probability", 0.5f, 0, 0.999f, &st->probability) ||
	    cnn_net_claim(net, 1, 2, (int64_t[]){net->batch, l->inputs}, "dropout mask"))
		return CNN_ERR;
	if (!(st->mask = malloc(sizeof(float) * net->batch * l->inputs)))
		return cnn_error("out of memory");
	return CNN_OK;
}

/* Inverted dropout: survivors are scaled up in training, so inference is
 * the identity. */
static int forward_dropout(cnn_layer *l, cnn_net *net)
{
	struct dropout_state *st = l->state;
	long n = (long)net->n * l->outputs;
	float keep = 1 / (1 - st->probability);

	for (long i = 0; i < n; i++) {
		st->mask[i] = !net->train ? 1
			      : cnn_rng_uniform(&net->rng) < st->probability ? 0 : keep;
		l->output[i] = l->input[i] * st->mask[i];
	}
	return CNN_OK;
}

static int backward_dropout(cnn_layer *l, cnn_net *net)
{
	struct dropout_state *st = l->state;

	if (l->input_delta)
		for (long i = 0; i < (long)net->n * l->outputs; i++)
			l->input_delta[i] += l->delta[i] * st->mask[i];
	return CNN_OK;
}

static void free_dropout(cnn_layer *l)
{
	struct dropout_state *st = l->state;

	if (st)
		free(st->mask);
	free(st);
}

/* ------------------------------------------------------------ shortcut */

/* out = activation(input + from), as darknet: when the shapes differ, the
 * common channels add, the larger map sampled at the ratio of the sizes
 * (a projection-free ResNet downsampling). */
struct shortcut_state {
	cnn_layer *src;
	int stride, sample;    /* steps through src and through the output */
	int w, h, c;           /* the common extent */
};

static int build_shortcut(cnn_layer *l, cnn_net *net, cnn_cfg_section *s)
{
	struct shortcut_state *st = calloc(1, sizeof *st);
	int act;
	cnn_layer *src;

	if (!(l->state = st))
		return cnn_error("out of memory");
	if (!(src = cnn_net_layer_ref(net, l, s, "from")) ||
	    cnn_cfg_choice(s, "activation", cnn_activation_names, ACT_LINEAR, &act))
		return CNN_ERR;
	if (src->out_w % l->w && l->w % src->out_w)
		return cnn_cfg_error(s, "layer %d is %dx%dx%d and the input %dx%dx%d: the sizes "
				     "are not multiples", src->index, src->out_c, src->out_h,
				     src->out_w, l->c, l->h, l->w);
	st->src = src;
	st->stride = src->out_w > l->w ? src->out_w / l->w : 1;
	st->sample = l->w > src->out_w ? l->w / src->out_w : 1;
	st->w = l->w < src->out_w ? l->w : src->out_w;
	st->h = l->h < src->out_h ? l->h : src->out_h;
	st->c = l->c < src->out_c ? l->c : src->out_c;
	l->activation = act;
	l->flops = (double)l->inputs;
	return CNN_OK;
}

/* Add channel k of image b of the source into the output, or with back
 * its share of the gradient into the source's delta. */
static void shortcut_pairs(cnn_layer *l, int b, int k, int back)
{
	const struct shortcut_state *st = l->state;
	const cnn_layer *src = st->src;

	for (int j = 0; j < st->h; j++)
		for (int i = 0; i < st->w; i++) {
			long out = (((long)b * l->c + k) * l->h + j * st->sample) * l->w +
				   i * st->sample;
			long add = (((long)b * src->out_c + k) * src->out_h + j * st->stride) *
					   src->out_w + i * st->stride;
			if (back)
				src->delta[add] += l->delta[out];
			else
				l->output[out] += src->output[add];
		}
}

/* Planes [p0, p1) of the batch (image by channel), each copied, added to
 * and activated while it is in cache. */
static void shortcut_planes(void *ctx, long p0, long p1, int t)
{
	cnn_layer *l = ctx;
	const struct shortcut_state *st = l->state;
	long plane = (long)l->h * l->w;

	(void)t;
	for (long p = p0; p < p1; p++) {
		float *y = l->output + p * plane;

		memcpy(y, l->input + p * plane, sizeof(float) * plane);
		if (p % l->c < st->c)
			shortcut_pairs(l, (int)(p / l->c), (int)(p % l->c), 0);
		cnn_activate(l->activation, y, l->pre ? l->pre + p * plane : NULL, plane);
	}
}

/* Planes are shared between the threads when there are values enough to
 * be worth waking a second (face_recognition's 32x35x35 and up). */
enum { SHORTCUT_SHARE = 1 << 15 };

static int forward_shortcut(cnn_layer *l, cnn_net *net)
{
	long n = (long)net->n * l->outputs;

	cnn_parallel_for(n < SHORTCUT_SHARE ? 1 : cnn_threads(), (long)net->n * l->c,
			 shortcut_planes, l);
	return CNN_OK;
}

static int backward_shortcut(cnn_layer *l, cnn_net *net)
{
	const struct shortcut_state *st = l->state;
	long n = (long)net->n * l->outputs;

	cnn_activate_grad(l->activation, l->output, l->pre, l->delta, n);
	if (l->input_delta)
		for (long i = 0; i < n; i++)
			l->input_delta[i] += l->delta[i];
	for (int b = 0; b < net->n; b++)
		for (int k = 0; k < st->c; k++)
			shortcut_pairs(l, b, k, 1);
	return CNN_OK;
}

/* ---------------------------------------------------------------- crop */

/* darknet's [crop]: a crop_height x crop_width window, random (and maybe
 * mirrored) in training, central otherwise, mapping 0..1 to -1..1 unless
 * noadjust=1.  Its other keys are augmentation, cnn-augment's work. */
struct crop_state {
	int flip, noadjust;
	int dy, dx, mirror;    /* this pass's window */
};

static int build_crop(cnn_layer *l, cnn_net *net, cnn_cfg_section *s)
{
	struct crop_state *st = calloc(1, sizeof *st);
	float unused;

	(void)net;
	if (!(l->state = st))
		return cnn_error("out of memory");
	if (cnn_cfg_int(s, "crop_height", 1, 1, l->h, &l->out_h) ||
	    cnn_cfg_int(s, "crop_width", 1, 1, l->w, &l->out_w) ||
	    cnn_cfg_int(s, "flip", 0, 0, 1, &st->flip) ||
	    cnn_cfg_int(s, "noadjust", 0, 0, 1, &st->noadjust) ||
	    cnn_cfg_float(s, "angle", 0, -360, 360, &unused) ||
	    cnn_cfg_float(s, "saturation", 1, 0, 100, &unused) ||
	    cnn_cfg_float(s, "exposure", 1, 0, 100, &unused) ||
	    cnn_cfg_float(s, "shift", 0, 0, 100, &unused))
		return CNN_ERR;
	return CNN_OK;
}

static void crop_pairs(cnn_layer *l, cnn_net *net, int back)
{
	struct crop_state *st = l->state;
	float scale = st->noadjust ? 1 : 2, shift = st->noadjust ? 0 : -1;

	for (long p = 0; p < (long)net->n * l->c; p++)
		for (int y = 0; y < l->out_h; y++)
			for (int x = 0; x < l->out_w; x++) {
				int sx = st->dx + (st->mirror ? l->out_w - 1 - x : x);
				long in = (p * l->h + st->dy + y) * l->w + sx;
				long out = (p * l->out_h + y) * l->out_w + x;
				if (back)
					l->input_delta[in] += scale * l->delta[out];
				else
					l->output[out] = scale * l->input[in] + shift;
			}
}

static int forward_crop(cnn_layer *l, cnn_net *net)
{
	struct crop_state *st = l->state;

	if (net->train) {
		st->dy = (int)cnn_rng_below(&net->rng, (uint64_t)(l->h - l->out_h + 1));
		st->dx = (int)cnn_rng_below(&net->rng, (uint64_t)(l->w - l->out_w + 1));
		st->mirror = st->flip && cnn_rng_uniform(&net->rng) < 0.5;
	} else {
		st->dy = (l->h - l->out_h) / 2;
		st->dx = (l->w - l->out_w) / 2;
		st->mirror = 0;
	}
	crop_pairs(l, net, 0);
	return CNN_OK;
}

static int backward_crop(cnn_layer *l, cnn_net *net)
{
	if (l->input_delta)
		crop_pairs(l, net, 1);
	return CNN_OK;
}

/* --------------------------------------------------------------- route */

#define MAX_ROUTE 16

struct route_state {
	int n;
	cnn_layer *src[MAX_ROUTE];
	int groups, group_id;  /* take channel slice group_id of groups */
};

static int build_route(cnn_layer *l, cnn_net *net, cnn_cfg_section *s)
{
	struct route_state *st = calloc(1, sizeof *st);
	int64_t out_c = 0;
	int rf = 0;

	if (!(l->state = st))
		return cnn_error("out of memory");
	if (cnn_net_layer_refs(net, l, s, "layers", st->src, MAX_ROUTE, &st->n) ||
	    cnn_cfg_int(s, "groups", 1, 1, 1 << 16, &st->groups) ||
	    cnn_cfg_int(s, "group_id", 0, 0, st->groups - 1, &st->group_id))
		return CNN_ERR;
	if (st->n == 0)
		return cnn_cfg_error(s, "needs layers= (the layers to concatenate)");
	for (int i = 0; i < st->n; i++) {
		cnn_layer *src = st->src[i];
		if (src->out_c % st->groups)
			return cnn_cfg_error(s, "layer %d's %d channels do not split into %d groups",
					     src->index, src->out_c, st->groups);
		if (i > 0 && (src->out_h != l->out_h || src->out_w != l->out_w))
			return cnn_cfg_error(s, "layer %d is %dx%d but layer %d is %dx%d",
					     src->index, src->out_h, src->out_w, st->src[0]->index,
					     l->out_h, l->out_w);
		out_c += src->out_c / st->groups;
		l->out_h = src->out_h;
		l->out_w = src->out_w;
		rf = src->rf > rf ? src->rf : rf;
		l->jump = src->jump;
	}
	if (out_c > INT32_MAX)
		return cnn_cfg_error(s, "%lld channels", (long long)out_c);
	l->out_c = (int)out_c;
	/* The layer before is not necessarily an input: it need not feed us. */
	l->c = l->out_c;
	l->h = l->out_h;
	l->w = l->out_w;
	l->inputs = (long)l->c * l->h * l->w;
	l->input_delta = NULL;
	l->rf = rf;
	return CNN_OK;
}

/* Add each source's slice of the gradient back. */
static void route_back(cnn_layer *l, cnn_net *net)
{
	struct route_state *st = l->state;

	for (int b = 0; b < net->n; b++) {
		float *dst = l->delta + (long)b * l->outputs;
		for (int i = 0; i < st->n; i++) {
			cnn_layer *src = st->src[i];
			long part = src->outputs / st->groups;
			long at = (long)b * src->outputs + st->group_id * part;
			for (long j = 0; j < part; j++)
				src->delta[at + j] += dst[j];
			dst += part;
		}
	}
}

/* Outputs [o0, o1) of the batch from the sources' slices that hold them. */
static void route_copy(void *ctx, long o0, long o1, int t)
{
	cnn_layer *l = ctx;
	const struct route_state *st = l->state;

	(void)t;
	while (o0 < o1) {
		long b = o0 / l->outputs, at = o0 % l->outputs, part, len;
		const cnn_layer *src;
		int i = 0;

		while (at >= (part = st->src[i]->outputs / st->groups))
			at -= part, i++;
		src = st->src[i];
		len = part - at < o1 - o0 ? part - at : o1 - o0;
		memcpy(l->output + o0, src->output + b * src->outputs + st->group_id * part + at,
		       sizeof(float) * len);
		o0 += len;
	}
}

/* The copies are shared between the threads when they are worth waking
 * a second: Inception v3's graph, made a chain, has 242 routes. */
enum { ROUTE_SHARE = 1 << 15 };

static int forward_route(cnn_layer *l, cnn_net *net)
{
	long n = (long)net->n * l->outputs;

	cnn_parallel_for(n < ROUTE_SHARE ? 1 : cnn_threads(), n, route_copy, l);
	return CNN_OK;
}

static int backward_route(cnn_layer *l, cnn_net *net)
{
	route_back(l, net);
	return CNN_OK;
}

/* ------------------------------------------------------------ upsample */

static int build_upsample(cnn_layer *l, cnn_net *net, cnn_cfg_section *s)
{
	int stride;

	(void)net;
	if (cnn_cfg_int(s, "stride", 2, 1, 1 << 10, &stride))
		return CNN_ERR;
	if ((int64_t)l->h * stride > INT32_MAX || (int64_t)l->w * stride > INT32_MAX)
		return cnn_cfg_error(s, "%dx%d upsampled %d times is too large", l->h, l->w,
				     stride);
	l->state = (void *)(long)stride;
	l->out_h = l->h * stride;
	l->out_w = l->w * stride;
	return CNN_OK;
}

static int forward_upsample(cnn_layer *l, cnn_net *net)
{
	int s = (int)(long)l->state;

	for (long p = 0; p < (long)net->n * l->c; p++)
		for (int y = 0; y < l->out_h; y++)
			for (int x = 0; x < l->out_w; x++)
				l->output[(p * l->out_h + y) * l->out_w + x] =
					l->input[(p * l->h + y / s) * l->w + x / s];
	return CNN_OK;
}

static int backward_upsample(cnn_layer *l, cnn_net *net)
{
	int s = (int)(long)l->state;

	if (!l->input_delta)
		return CNN_OK;
	for (long p = 0; p < (long)net->n * l->c; p++)
		for (int y = 0; y < l->out_h; y++)
			for (int x = 0; x < l->out_w; x++)
				l->input_delta[(p * l->h + y / s) * l->w + x / s] +=
					l->delta[(p * l->out_h + y) * l->out_w + x];
	return CNN_OK;
}

static void free_state(cnn_layer *l)
{
	free(l->state);
}

const cnn_layer_type cnn_layer_dropout = {
	.name = "dropout", .build = build_dropout, .forward = forward_dropout,
	.backward = backward_dropout, .free = free_dropout,
};

const cnn_layer_type cnn_layer_shortcut = {
	.name = "shortcut", .build = build_shortcut, .forward = forward_shortcut,
	.backward = backward_shortcut, .free = free_state,
};

const cnn_layer_type cnn_layer_crop = {
	.name = "crop", .build = build_crop, .forward = forward_crop,
	.backward = backward_crop, .free = free_state,
};

const cnn_layer_type cnn_layer_route = {
	.name = "route", .build = build_route, .forward = forward_route,
	.backward = backward_route, .free = free_state,
};

const cnn_layer_type cnn_layer_upsample = {
	.name = "upsample", .build = build_upsample, .forward = forward_upsample,
	.backward = backward_upsample,
};
