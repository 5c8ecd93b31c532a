/*
 * keras.c - a TensorFlow.js layers model (model.json: a Keras
 * "modelTopology", Sequential or Functional, and its "weightsManifest")
 * as a network of ours: the topology becomes cfg text and a name map, and
 * the weights go in through cnn_tfjs_place(), the path of cnn_tfjs_import()
 * and its map files, with its layout conversions (HWIO, depthwise, NHWC
 * flattening before a Dense).
 *
 * The layers are taken in the topology's order, which Keras keeps
 * topological.  Each Keras layer's output is a node: the section of ours
 * that computes it (named as the Keras layer, so that --features finds it),
 * its shape C x H x W, and whether it is flattened (after a Flatten, TF's
 * order is H x W x C, which only a Dense may then read).  A section reads
 * the section before it, so where a layer reads another node a [route]
 * goes back to it first.  Layers that compute nothing of ours (Flatten, a
 * no-op Reshape) are the node they read.
 *
 * A model.json does not say how its images were made: the caller's
 * net_keys ([net] lines such as "resize=align_corners") say it.  Anything
 * the converter does not do is one error naming the layer and what it is.
 */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/grow.h"
#include "io/json.h"
#include "nn/net.h"
#include "nn/tfjs_map.h"

/* A Keras layer's output. */
struct node {
	const char *keras;          /* its Keras name */
	char name[CNN_MAX_NAME + 1]; /* the name of its section, "" the input */
	int section;                /* the layer of ours, -1 the input */
	int c, h, w;
	int flat;                   /* flattened H x W x C, H x W > 1 */
};

struct text {
	char *s;
	size_t len, cap;
};

struct gen {
	const char *path, *net_keys;
	struct text cfg, map;
	const struct json *layers; /* the topology's */
	struct node *node;
	int n, sections;            /* nodes so far, sections after [net] */
	const char *layer, *cls;    /* the layer being converted, for messages */
};

/* A window: a kernel or a pool, its strides, dilation and padding. */
struct window {
	int kh, kw, sh, sw, dh, dw, same;
};

static int fail(const struct gen *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(const struct gen *g, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (g->layer)
		return cnn_error("%s: layer %s (%s): %s", g->path, g->layer, g->cls, msg);
	return cnn_error("%s: %s", g->path, msg);
}

static int add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (t->len + n + 1 > t->cap) {
		size_t cap = 2 * (t->len + n + 1) + 4096;
		char *grown = realloc(t->s, cap);
		if (!grown)
			return cnn_error("out of memory");
		t->s = grown;
		t->cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
	va_end(ap);
	t->len += n;
	return CNN_OK;
}

/* ------------------------------------------------------------- JSON */

static const struct json *get(const struct json *obj, const char *key)
{
	return obj && obj->type == JSON_OBJECT ? cnn_json_get(obj, key) : NULL;
}

static const char *str(const struct json *obj, const char *key)
{
	const struct json *v = get(obj, key);

	return v && v->type == JSON_STRING ? v->string : NULL;
}

/* A boolean option, dflt when absent. */
static int flag(const struct json *obj, const char *key, int dflt)
{
	const struct json *v = get(obj, key);

	return !v || (v->type != JSON_TRUE && v->type != JSON_FALSE) ? dflt : v->type == JSON_TRUE;
}

static int whole(const struct json *v, int min, int max, int *out)
{
	if (!v || v->type != JSON_NUMBER || v->number != floor(v->number) || v->number < min ||
	    v->number > max)
		return CNN_ERR;
	*out = (int)v->number;
	return CNN_OK;
}

/* key: N or [A, B] (Keras's ints or tuples of two), each min to 65536. */
static int pair(const struct gen *g, const struct json *cfg, const char *key, int min, int v[2])
{
	const struct json *p = get(cfg, key);

	if (p && p->type == JSON_NUMBER && !whole(p, min, 65536, &v[0])) {
		v[1] = v[0];
		return CNN_OK;
	}
	if (p && p->type == JSON_ARRAY && p->n == 2 && !whole(&p->item[0], min, 65536, &v[0]) &&
	    !whole(&p->item[1], min, 65536, &v[1]))
		return CNN_OK;
	return fail(g, "%s: want a whole number or two, %d to 65536", key, min);
}

/* ------------------------------------------------------------ options */

static int channels_last(const struct gen *g, const struct json *cfg)
{
	const char *f = str(cfg, "data_format");

	if (f && strcmp(f, "channels_last"))
		return fail(g, "data_format '%s' is not supported (channels_last only)", f);
	return CNN_OK;
}

/* Keras's activation names as ours ("softmax" only where allowed). */
static int activation(const struct gen *g, const char *keras, int softmax, const char **ours)
{
	static const char *const names[][2] = {
		{"linear", "linear"}, {"relu", "relu"}, {"relu6", "relu6"},
		{"sigmoid", "logistic"}, {"tanh", "tanh"}, {"swish", "swish"}, {"silu", "swish"},
	};

	if (!keras)
		keras = "linear";
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		if (!strcmp(keras, names[i][0])) {
			*ours = names[i][1];
			return CNN_OK;
		}
	if (softmax && !strcmp(keras, "softmax")) {
		*ours = "softmax";
		return CNN_OK;
	}
	return fail(g, "activation '%s' is not supported (linear, relu, relu6, sigmoid, tanh, "
		    "swish%s)", keras, softmax ? ", softmax" : "");
}

static int parse_window(const struct gen *g, const struct json *cfg, const char *size_key,
			int dilation, struct window *win)
{
	const char *padding = str(cfg, "padding");
	int k[2], s[2], d[2] = {1, 1};

	if (pair(g, cfg, size_key, 1, k))
		return CNN_ERR;
	s[0] = k[0], s[1] = k[1];
	if (!dilation) {
		/* Pooling: strides null means the pool's size. */
		const struct json *st = get(cfg, "strides");
		if (st && st->type != JSON_NULL && pair(g, cfg, "strides", 1, s))
			return CNN_ERR;
	} else if (pair(g, cfg, "strides", 1, s) ||
		   (get(cfg, "dilation_rate") && pair(g, cfg, "dilation_rate", 1, d))) {
		return CNN_ERR;
	}
	if (d[0] != d[1])
		return fail(g, "dilation_rate %dx%d is not supported (the same both ways only)",
			    d[0], d[1]);
	if (!padding || (strcmp(padding, "valid") && strcmp(padding, "same")))
		return fail(g, "padding '%s' is not supported (valid or same)",
			    padding ? padding : "?");
	*win = (struct window){k[0], k[1], s[0], s[1], d[0], d[1], !strcmp(padding, "same")};
	return channels_last(g, cfg);
}

/* One side of a window's output. */
static int window_out(const struct gen *g, int in, int k, int s, int d, int same, int *out)
{
	int reach = d * (k - 1) + 1;

	if (same) {
		*out = (in + s - 1) / s;
		return CNN_OK;
	}
	if (in < reach)
		return fail(g, "an input of %d is smaller than its window of %d", in, reach);
	*out = (in - reach) / s + 1;
	return CNN_OK;
}

static int window_shape(const struct gen *g, const struct window *win, const struct node *in,
			struct node *out)
{
	return window_out(g, in->h, win->kh, win->sh, win->dh, win->same, &out->h) ||
	       window_out(g, in->w, win->kw, win->sw, win->dw, win->same, &out->w);
}

/* ----------------------------------------------------------- sections */

/* Our name for a Keras name: [A-Za-z_][A-Za-z0-9_.-]*, others become _. */
static int our_name(const struct gen *g, const char *keras, const char *suffix, char *out)
{
	size_t n = strlen(keras), i;

	if (n + strlen(suffix) + 1 > CNN_MAX_NAME)
		return fail(g, "the name is too long (%d characters at most)",
			    CNN_MAX_NAME - (int)strlen(suffix));
	for (i = 0; i < n; i++) {
		char ch = keras[i];
		int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' ||
			 (i && ((ch >= '0' && ch <= '9') || ch == '.' || ch == '-'));
		out[i] = ok ? ch : '_';
	}
	strcpy(out + i, suffix);
	return CNN_OK;
}

/* A section of ours; the node it computes (if any) then has it. */
static int section(struct gen *g, const char *type, const char *name, struct node *out)
{
	if (add(&g->cfg, "\n[%s]\n", type) || (name && add(&g->cfg, "name=%s\n", name)))
		return CNN_ERR;
	if (out) {
		out->section = g->sections;
		snprintf(out->name, sizeof out->name, "%s", name);
	}
	g->sections++;
	return CNN_OK;
}

/* The section that computes the node, then the next one: node's output is
 * the next section's input. */
static int take(struct gen *g, const struct node *in)
{
	if (in->section == g->sections - 1)
		return CNN_OK;
	if (in->section < 0)
		return fail(g, "it reads the model's input after other layers have: not supported");
	return section(g, "route", NULL, NULL) || add(&g->cfg, "layers=%s\n", in->name);
}

static int map_tensor(struct gen *g, const char *weight, const char *section, const char *param)
{
	return add(&g->map, "%s/%s %s.%s\n", g->layer, weight, section, param);
}

static int map_value(struct gen *g, const char *value, const char *section, const char *param)
{
	return add(&g->map, "= %s %s.%s\n", value, section, param);
}

/* A node spread over H x W as TF has it: what spatial layers read. */
static int spatial(const struct gen *g, const struct node *in)
{
	if (in->flat)
		return fail(g, "its input is flattened (%d values): it needs H x W x C",
			    in->c * in->h * in->w);
	return CNN_OK;
}

static int emit_window(struct gen *g, const struct window *win, int pool)
{
	int ret = win->kh == win->kw ? add(&g->cfg, "size=%d\n", win->kh)
				      : add(&g->cfg, "size_y=%d\nsize_x=%d\n", win->kh, win->kw);

	ret = ret || (win->sh == win->sw ? add(&g->cfg, "stride=%d\n", win->sh)
					  : add(&g->cfg, "stride_y=%d\nstride_x=%d\n", win->sh,
						win->sw));
	if (win->dh > 1)
		ret = ret || add(&g->cfg, "dilation=%d\n", win->dh);
	if (win->same)
		ret = ret || add(&g->cfg, "same=1\n");
	else if (pool)
		ret = ret || add(&g->cfg, "padding=0\n");
	return ret;
}

/* ------------------------------------------------------- the layers */

typedef int (*convert_fn)(struct gen *g, const struct json *cfg, struct node **in, int nin,
			  struct node *out);

static int input_shape(struct gen *g, const struct json *shape, struct node *out)
{
	int d[3] = {1, 1, 1}, rank = shape && shape->type == JSON_ARRAY ? shape->n - 1 : 0;

	if ((rank != 3 && rank != 1) || shape->item[0].type != JSON_NULL)
		return fail(g, "batch_input_shape: want [null, H, W, C] or [null, N]");
	for (int i = 0; i < rank; i++)
		if (whole(&shape->item[i + 1], 1, 65536, &d[3 - rank + i]))
			return fail(g, "batch_input_shape: the input's sizes must be fixed, 1 to "
				    "65536");
	*out = (struct node){.section = -1, .h = d[0], .w = d[1], .c = d[2]};
	if (add(&g->cfg, "[net]\nchannels=%d\nheight=%d\nwidth=%d\n", out->c, out->h, out->w) ||
	    (g->net_keys && add(&g->cfg, "%s%s", g->net_keys,
				strchr(g->net_keys, 0)[-1] == '\n' ? "" : "\n")))
		return CNN_ERR;
	return CNN_OK;
}

/* How many inputs of the layers are the layer called name. */
static int uses(const struct gen *g, const char *name)
{
	int n = 0;

	for (int i = 0; i < g->layers->n; i++) {
		const struct json *nodes = get(&g->layers->item[i], "inbound_nodes");
		for (int k = 0; nodes && nodes->type == JSON_ARRAY && k < nodes->n; k++)
			for (int a = 0; nodes->item[k].type == JSON_ARRAY && a < nodes->item[k].n;
			     a++) {
				const struct json *arg = &nodes->item[k].item[a];
				n += arg->type == JSON_ARRAY && arg->n && arg->item[0].type ==
					JSON_STRING && !strcmp(arg->item[0].string, name);
			}
	}
	return n;
}

/* The input read by more than one layer is a section of its own (the
 * identity), which [route]s can go back to. */
static int input_layer(struct gen *g, const struct json *cfg, struct node **in, int nin,
		       struct node *out)
{
	char name[CNN_MAX_NAME + 1];

	(void)in, (void)nin;
	if (g->cfg.len)
		return fail(g, "a model of more than one input is not supported");
	if (input_shape(g, get(cfg, "batch_input_shape"), out))
		return CNN_ERR;
	if (uses(g, g->layer) < 2)
		return CNN_OK;
	return our_name(g, g->layer, "", name) || section(g, "activation", name, out) ||
	       add(&g->cfg, "activation=linear\n");
}

/* The bias of a convolution or a Dense: its tensor, or 0. */
static int map_bias(struct gen *g, const struct json *cfg, const char *name)
{
	return flag(cfg, "use_bias", 1) ? map_tensor(g, "bias", name, "bias")
					: map_value(g, "0", name, "bias");
}

/* A convolution of in, out->c filters in groups, to out's shape. */
static int conv_section(struct gen *g, const struct window *win, int groups, const char *act,
			const char *name, const struct node *in, struct node *out)
{
	if (take(g, in) || section(g, "convolutional", name, out) ||
	    add(&g->cfg, "filters=%d\n", out->c) || emit_window(g, win, 0) ||
	    (groups > 1 && add(&g->cfg, "groups=%d\n", groups)) ||
	    add(&g->cfg, "activation=%s\n", act))
		return CNN_ERR;
	return window_shape(g, win, in, out);
}

static int conv2d(struct gen *g, const struct json *cfg, struct node **in, int nin,
		  struct node *out)
{
	struct window win;
	const char *act;
	char name[CNN_MAX_NAME + 1];
	int groups = 1;

	(void)nin;
	if (spatial(g, in[0]) || parse_window(g, cfg, "kernel_size", 1, &win) ||
	    activation(g, str(cfg, "activation"), 0, &act) || our_name(g, g->layer, "", name))
		return CNN_ERR;
	if (whole(get(cfg, "filters"), 1, 65536, &out->c))
		return fail(g, "filters: want a whole number, 1 to 65536");
	if (get(cfg, "groups") && (whole(get(cfg, "groups"), 1, 65536, &groups) ||
				   in[0]->c % groups || out->c % groups))
		return fail(g, "groups must divide the %d input channels and the %d filters",
			    in[0]->c, out->c);
	return conv_section(g, &win, groups, act, name, in[0], out) ||
	       map_tensor(g, "kernel", name, "weight") || map_bias(g, cfg, name);
}

/* The depthwise part of DepthwiseConv2D and SeparableConv2D. */
static int depthwise_section(struct gen *g, const struct json *cfg, const char *act,
			     const char *name, const struct node *in, struct node *out)
{
	struct window win;
	int m = 1;

	if (spatial(g, in) || parse_window(g, cfg, "kernel_size", 1, &win))
		return CNN_ERR;
	if (get(cfg, "depth_multiplier") && whole(get(cfg, "depth_multiplier"), 1, 65536, &m))
		return fail(g, "depth_multiplier: want a whole number, 1 to 65536");
	out->c = in->c * m;
	return conv_section(g, &win, in->c, act, name, in, out) ||
	       map_tensor(g, "depthwise_kernel", name, "weight");
}

static int depthwise2d(struct gen *g, const struct json *cfg, struct node **in, int nin,
		       struct node *out)
{
	char name[CNN_MAX_NAME + 1];
	const char *act;

	(void)nin;
	return activation(g, str(cfg, "activation"), 0, &act) || our_name(g, g->layer, "", name) ||
	       depthwise_section(g, cfg, act, name, in[0], out) || map_bias(g, cfg, name);
}

/* Depthwise (NAME.depthwise, no bias), then pointwise 1x1 (NAME). */
static int separable2d(struct gen *g, const struct json *cfg, struct node **in, int nin,
		       struct node *out)
{
	static const struct window one = {1, 1, 1, 1, 1, 1, 0};
	char dw[CNN_MAX_NAME + 1], name[CNN_MAX_NAME + 1];
	struct node mid;
	const char *act;

	(void)nin;
	if (activation(g, str(cfg, "activation"), 0, &act) ||
	    our_name(g, g->layer, ".depthwise", dw) || our_name(g, g->layer, "", name) ||
	    depthwise_section(g, cfg, "linear", dw, in[0], &mid) ||
	    map_value(g, "0", dw, "bias"))
		return CNN_ERR;
	if (whole(get(cfg, "filters"), 1, 65536, &out->c))
		return fail(g, "filters: want a whole number, 1 to 65536");
	return conv_section(g, &one, 1, act, name, &mid, out) ||
	       map_tensor(g, "pointwise_kernel", name, "weight") || map_bias(g, cfg, name);
}

/* The channel axis of a layer's config: 3 or -1 (1 for a vector). */
static int channel_axis(const struct gen *g, const struct json *cfg, const struct node *in)
{
	const struct json *a = get(cfg, "axis");
	int axis = -1, last = in->h * in->w == 1 || in->flat ? 1 : 3;

	if (a && a->type == JSON_ARRAY && a->n == 1)
		a = &a->item[0];
	if (a && whole(a, -1, 3, &axis))
		axis = 0;
	if (axis != -1 && axis != last && !(axis == 3 && in->h * in->w == 1 && !in->flat))
		return fail(g, "axis: only the channels' (-1) is supported");
	return CNN_OK;
}

static int batchnorm(struct gen *g, const struct json *cfg, struct node **in, int nin,
		     struct node *out)
{
	const struct json *eps = get(cfg, "epsilon");
	char name[CNN_MAX_NAME + 1];

	(void)nin;
	if (our_name(g, g->layer, "", name) || spatial(g, in[0]) || channel_axis(g, cfg, in[0]))
		return CNN_ERR;
	if (eps && (eps->type != JSON_NUMBER || !(eps->number > 0)))
		return fail(g, "epsilon: want a positive number");
	*out = *in[0];
	return take(g, in[0]) || section(g, "batchnorm", name, out) ||
	       add(&g->cfg, "epsilon=%.17g\n", eps ? eps->number : 1e-3) ||
	       (flag(cfg, "scale", 1) ? map_tensor(g, "gamma", name, "scale")
				      : map_value(g, "1", name, "scale")) ||
	       (flag(cfg, "center", 1) ? map_tensor(g, "beta", name, "bias")
				       : map_value(g, "0", name, "bias")) ||
	       map_tensor(g, "moving_mean", name, "mean") ||
	       map_tensor(g, "moving_variance", name, "variance");
}

/* A softmax over the channels: ours is over all C x H x W. */
static int softmax_section(struct gen *g, const char *name, const struct node *in,
			   struct node *out)
{
	if (in->h * in->w > 1)
		return fail(g, "a softmax over each pixel's channels (H x W %d x %d) is not "
			    "supported: the input must be a vector", in->h, in->w);
	*out = *in;
	return take(g, in) || section(g, "softmax", name, out);
}

/* An activation of ours as a section of its own. */
static int activation_section(struct gen *g, const char *act, const struct node *in,
			      struct node *out)
{
	char name[CNN_MAX_NAME + 1];

	if (our_name(g, g->layer, "", name))
		return CNN_ERR;
	if (!strcmp(act, "softmax"))
		return softmax_section(g, name, in, out);
	*out = *in;
	return take(g, in) || section(g, "activation", name, out) ||
	       add(&g->cfg, "activation=%s\n", act);
}

static int activation_layer(struct gen *g, const struct json *cfg, struct node **in, int nin,
			    struct node *out)
{
	const char *act;

	(void)nin;
	return activation(g, str(cfg, "activation"), 1, &act) ||
	       activation_section(g, act, in[0], out);
}

/* An option that must be a number (or null) of one value. */
static int option_is(const struct gen *g, const struct json *cfg, const char *key, double want,
		     int null_ok)
{
	const struct json *v = get(cfg, key);

	if (!v || (null_ok && v->type == JSON_NULL) ||
	    (v->type == JSON_NUMBER && v->number == want))
		return CNN_OK;
	if (v->type == JSON_NUMBER)
		return fail(g, "%s=%g is not supported (%g only)", key, v->number, want);
	return fail(g, "%s: want a number", key);
}

static int relu_layer(struct gen *g, const struct json *cfg, struct node **in, int nin,
		      struct node *out)
{
	const struct json *max = get(cfg, "max_value");

	(void)nin;
	if (option_is(g, cfg, "max_value", 6, 1) || option_is(g, cfg, "negative_slope", 0, 0) ||
	    option_is(g, cfg, "threshold", 0, 0))
		return CNN_ERR;
	return activation_section(g, max && max->type == JSON_NUMBER ? "relu6" : "relu", in[0],
				  out);
}

static int leaky_layer(struct gen *g, const struct json *cfg, struct node **in, int nin,
		       struct node *out)
{
	const struct json *a = get(cfg, "alpha") ? get(cfg, "alpha") : get(cfg, "negative_slope");
	double alpha = a && a->type == JSON_NUMBER ? a->number : 0.3;

	(void)nin;
	if (fabs(alpha - 0.1) > 1e-7)
		return fail(g, "alpha=%g is not supported (0.1 only, darknet's leaky)", alpha);
	return activation_section(g, "leaky", in[0], out);
}

static int softmax_layer(struct gen *g, const struct json *cfg, struct node **in, int nin,
			 struct node *out)
{
	char name[CNN_MAX_NAME + 1];

	(void)nin;
	return channel_axis(g, cfg, in[0]) || our_name(g, g->layer, "", name) ||
	       softmax_section(g, name, in[0], out);
}

/* ZeroPadding2D's padding: N, [H, W] or [[top, bottom], [left, right]]. */
static int zeropad_layer(struct gen *g, const struct json *cfg, struct node **in, int nin,
			 struct node *out)
{
	const struct json *p = get(cfg, "padding");
	char name[CNN_MAX_NAME + 1];
	int v[4], hw[2];

	(void)nin;
	if (spatial(g, in[0]) || channels_last(g, cfg) || our_name(g, g->layer, "", name))
		return CNN_ERR;
	if (p && p->type == JSON_ARRAY && p->n == 2 && p->item[0].type == JSON_ARRAY) {
		for (int d = 0; d < 2; d++) {
			const struct json *side = &p->item[d];
			if (side->type != JSON_ARRAY || side->n != 2 ||
			    whole(&side->item[0], 0, 65536, &v[2 * d]) ||
			    whole(&side->item[1], 0, 65536, &v[2 * d + 1]))
				return fail(g, "padding: want [[top, bottom], [left, right]]");
		}
	} else {
		if (pair(g, cfg, "padding", 0, hw))
			return CNN_ERR;
		v[0] = v[1] = hw[0];
		v[2] = v[3] = hw[1];
	}
	*out = *in[0];
	out->h += v[0] + v[1];
	out->w += v[2] + v[3];
	return take(g, in[0]) || section(g, "zeropad", name, out) ||
	       add(&g->cfg, "top=%d\nbottom=%d\nleft=%d\nright=%d\n", v[0], v[1], v[2], v[3]);
}

static int pool_layer(struct gen *g, const struct json *cfg, const struct node *in,
		      struct node *out, const char *type)
{
	char name[CNN_MAX_NAME + 1];
	struct window win;

	if (spatial(g, in) || parse_window(g, cfg, "pool_size", 0, &win) ||
	    our_name(g, g->layer, "", name))
		return CNN_ERR;
	if (win.kh != win.kw || win.sh != win.sw)
		return fail(g, "a pool of %dx%d, strides %dx%d: only square ones are supported",
			    win.kh, win.kw, win.sh, win.sw);
	*out = *in;
	return take(g, in) || section(g, type, name, out) || emit_window(g, &win, 1) ||
	       window_shape(g, &win, in, out);
}

static int maxpool_layer(struct gen *g, const struct json *cfg, struct node **in, int nin,
			 struct node *out)
{
	(void)nin;
	return pool_layer(g, cfg, in[0], out, "maxpool");
}

static int avgpool_layer(struct gen *g, const struct json *cfg, struct node **in, int nin,
			 struct node *out)
{
	(void)nin;
	return pool_layer(g, cfg, in[0], out, "avgpool");
}

static int global_pool(struct gen *g, const struct json *cfg, const struct node *in,
		       struct node *out, int max)
{
	char name[CNN_MAX_NAME + 1];

	if (spatial(g, in) || channels_last(g, cfg) || our_name(g, g->layer, "", name))
		return CNN_ERR;
	if (max && in->h != in->w)
		return fail(g, "a global max pool of a %d x %d input: only square ones are "
			    "supported", in->h, in->w);
	*out = *in;
	out->h = out->w = 1;
	if (take(g, in) || section(g, max ? "maxpool" : "avgpool", name, out))
		return CNN_ERR;
	return max ? add(&g->cfg, "size=%d\nstride=%d\npadding=0\n", in->h, in->h) : CNN_OK;
}

static int gap_layer(struct gen *g, const struct json *cfg, struct node **in, int nin,
		     struct node *out)
{
	(void)nin;
	return global_pool(g, cfg, in[0], out, 0);
}

static int gmp_layer(struct gen *g, const struct json *cfg, struct node **in, int nin,
		     struct node *out)
{
	(void)nin;
	return global_pool(g, cfg, in[0], out, 1);
}

static int concatenate(struct gen *g, const struct json *cfg, struct node **in, int nin,
		       struct node *out)
{
	char name[CNN_MAX_NAME + 1];

	if (nin > 16)
		return fail(g, "%d inputs: at most 16 are supported", nin);
	if (our_name(g, g->layer, "", name) || channel_axis(g, cfg, in[0]))
		return CNN_ERR;
	*out = *in[0];
	out->c = 0;
	for (int i = 0; i < nin; i++) {
		if (spatial(g, in[i]))
			return CNN_ERR;
		if (in[i]->section < 0)
			return fail(g, "it concatenates the model's input: not supported");
		if (in[i]->h != in[0]->h || in[i]->w != in[0]->w)
			return fail(g, "its inputs differ in H x W (%s %d x %d, %s %d x %d)",
				    in[0]->keras, in[0]->h, in[0]->w, in[i]->keras, in[i]->h,
				    in[i]->w);
		out->c += in[i]->c;
	}
	if (section(g, "route", name, out) || add(&g->cfg, "layers="))
		return CNN_ERR;
	for (int i = 0; i < nin; i++)
		if (add(&g->cfg, "%s%s", i ? "," : "", in[i]->name))
			return CNN_ERR;
	return add(&g->cfg, "\n");
}

static int same_shape(const struct gen *g, const struct node *a, const struct node *b)
{
	if (a->c != b->c || a->h != b->h || a->w != b->w || a->flat != b->flat)
		return fail(g, "its inputs differ in shape (%s %dx%dx%d, %s %dx%dx%d, H x W x C)",
			    a->keras, a->h, a->w, a->c, b->keras, b->h, b->w, b->c);
	return CNN_OK;
}

/* Add: the input already before (or the first) plus each other one, a
 * [shortcut] each, the last named. */
static int add_layer(struct gen *g, const struct json *cfg, struct node **in, int nin,
		     struct node *out)
{
	char name[CNN_MAX_NAME + 1];
	int first = 0;

	(void)cfg;
	if (nin < 2)
		return fail(g, "it has %d input: Add takes two or more", nin);
	if (our_name(g, g->layer, "", name))
		return CNN_ERR;
	for (int i = 0; i < nin; i++) {
		if (same_shape(g, in[0], in[i]))
			return CNN_ERR;
		if (in[i]->section < 0)
			return fail(g, "it adds the model's input: not supported");
		if (in[i]->section == g->sections - 1)
			first = i;
	}
	*out = *in[0];
	if (take(g, in[first]))
		return CNN_ERR;
	for (int i = 0, left = nin - 1; i < nin; i++) {
		if (i == first)
			continue;
		left--;
		if (section(g, "shortcut", left ? NULL : name, left ? NULL : out) ||
		    add(&g->cfg, "from=%s\nactivation=linear\n", in[i]->name))
			return CNN_ERR;
	}
	return CNN_OK;
}

/* Multiply as squeeze-and-excitation: a C x 1 x 1 input scales the other's
 * channels ([scale_channels]: the weights before, from= the features). */
static int multiply(struct gen *g, const struct json *cfg, struct node **in, int nin,
		    struct node *out)
{
	char name[CNN_MAX_NAME + 1];
	int s;

	(void)cfg;
	if (nin != 2)
		return fail(g, "it has %d inputs: Multiply of two is supported", nin);
	s = in[1]->h * in[1]->w == 1 && !(in[0]->h * in[0]->w == 1 && in[0]->section ==
						  g->sections - 1);
	if (in[s]->h * in[s]->w != 1 || in[s]->c != in[!s]->c || in[!s]->flat)
		return fail(g, "only a C x 1 x 1 input times a H x W x C one (squeeze-and-"
			    "excitation) is supported, not %dx%dx%d times %dx%dx%d", in[0]->h,
			    in[0]->w, in[0]->c, in[1]->h, in[1]->w, in[1]->c);
	if (in[0]->section < 0 || in[1]->section < 0)
		return fail(g, "it multiplies the model's input: not supported");
	*out = *in[!s];
	return our_name(g, g->layer, "", name) || take(g, in[s]) ||
	       section(g, "scale_channels", name, out) ||
	       add(&g->cfg, "from=%s\n", in[!s]->name);
}

/* Dense of a vector or a Flatten (tfjs_load.c reorders TF's H x W x C). */
static int dense(struct gen *g, const struct json *cfg, struct node **in, int nin,
		 struct node *out)
{
	char name[CNN_MAX_NAME + 1], logits[CNN_MAX_NAME + 1];
	const char *act;
	int units, soft;

	(void)nin;
	if (whole(get(cfg, "units"), 1, 16777216, &units))
		return fail(g, "units: want a whole number, 1 to 16777216");
	if (in[0]->h * in[0]->w > 1 && !in[0]->flat)
		return fail(g, "a Dense of each pixel of a %d x %d x %d input is not supported "
			    "(Flatten it first)", in[0]->h, in[0]->w, in[0]->c);
	if (activation(g, str(cfg, "activation"), 1, &act) || our_name(g, g->layer, "", name) ||
	    our_name(g, g->layer, ".logits", logits))
		return CNN_ERR;
	soft = !strcmp(act, "softmax");
	*out = (struct node){.c = units, .h = 1, .w = 1};
	if (take(g, in[0]) || section(g, "connected", soft ? logits : name, out) ||
	    add(&g->cfg, "output=%d\nactivation=%s\n", units, soft ? "linear" : act) ||
	    map_tensor(g, "kernel", soft ? logits : name, "weight") ||
	    map_bias(g, cfg, soft ? logits : name))
		return CNN_ERR;
	return soft ? softmax_section(g, name, out, out) : CNN_OK;
}

static int dropout(struct gen *g, const struct json *cfg, struct node **in, int nin,
		   struct node *out)
{
	const struct json *rate = get(cfg, "rate");
	char name[CNN_MAX_NAME + 1];

	(void)nin;
	if (!rate || rate->type != JSON_NUMBER || !(rate->number >= 0 && rate->number <= 0.999))
		return fail(g, "rate: want a number from 0 to 0.999");
	*out = *in[0];
	return our_name(g, g->layer, "", name) || take(g, in[0]) ||
	       section(g, "dropout", name, out) ||
	       add(&g->cfg, "probability=%.17g\n", rate->number);
}

static int flatten(struct gen *g, const struct json *cfg, struct node **in, int nin,
		   struct node *out)
{
	(void)nin;
	if (channels_last(g, cfg))
		return CNN_ERR;
	*out = *in[0];
	out->flat = in[0]->h * in[0]->w > 1;
	return CNN_OK;
}

/* Reshape where it changes nothing of ours: a vector to [N] or [1, 1, N],
 * a map to its own shape. */
static int reshape(struct gen *g, const struct json *cfg, struct node **in, int nin,
		   struct node *out)
{
	const struct json *t = get(cfg, "target_shape");
	int d[3] = {1, 1, 1}, n = t && t->type == JSON_ARRAY ? t->n : 0, vector;

	(void)nin;
	for (int i = 0; i < n && i < 3; i++)
		if (whole(&t->item[i], 1, 1 << 30, &d[3 - n + i]))
			n = 0;
	if (n != 1 && n != 3)
		return fail(g, "target_shape: want [N] or [H, W, C] of whole numbers");
	vector = in[0]->h * in[0]->w == 1 || in[0]->flat;
	*out = *in[0];
	if (vector && d[0] * d[1] == 1 && d[2] == in[0]->c * in[0]->h * in[0]->w)
		return CNN_OK;
	if (!in[0]->flat && n == 3 && d[0] == in[0]->h && d[1] == in[0]->w && d[2] == in[0]->c)
		return CNN_OK;
	return fail(g, "a reshape to [%d, %d, %d] of %s (%dx%dx%d, H x W x C) is not supported: "
		    "only one that changes nothing", d[0], d[1], d[2], in[0]->flat ? "a flattened "
		    "map" : "a map", in[0]->h, in[0]->w, in[0]->c);
}

static const struct {
	const char *cls;
	convert_fn fn;
	int inputs; /* 0, 1, or -1: several */
} classes[] = {
	{"InputLayer", input_layer, 0},
	{"Conv2D", conv2d, 1},
	{"DepthwiseConv2D", depthwise2d, 1},
	{"SeparableConv2D", separable2d, 1},
	{"BatchNormalization", batchnorm, 1},
	{"Activation", activation_layer, 1},
	{"ReLU", relu_layer, 1},
	{"LeakyReLU", leaky_layer, 1},
	{"Softmax", softmax_layer, 1},
	{"ZeroPadding2D", zeropad_layer, 1},
	{"MaxPooling2D", maxpool_layer, 1},
	{"AveragePooling2D", avgpool_layer, 1},
	{"GlobalAveragePooling2D", gap_layer, 1},
	{"GlobalMaxPooling2D", gmp_layer, 1},
	{"Concatenate", concatenate, -1},
	{"Add", add_layer, -1},
	{"Multiply", multiply, -1},
	{"Dense", dense, 1},
	{"Dropout", dropout, 1},
	{"Flatten", flatten, 1},
	{"Reshape", reshape, 1},
};

/* ------------------------------------------------------- the topology */

static struct node *find_node(struct gen *g, const char *keras)
{
	for (int i = g->n - 1; i >= 0; i--)
		if (!strcmp(g->node[i].keras, keras))
			return &g->node[i];
	return NULL;
}

/* A Functional layer's inputs by its inbound_nodes, [[[NAME, 0, 0, {}],
 * ..]]; a Sequential layer's, the layer before. */
static int inputs_of(struct gen *g, const struct json *layer, int sequential,
		     struct node **in, int max)
{
	const struct json *nodes = get(layer, "inbound_nodes"), *args;
	int n = 0;

	if (sequential)
		return g->n ? (in[0] = &g->node[g->n - 1], 1) : 0;
	if (!nodes || nodes->type != JSON_ARRAY)
		return fail(g, "no inbound_nodes");
	if (nodes->n == 0)
		return 0;
	if (nodes->n > 1)
		return fail(g, "a layer called %d times (a shared layer) is not supported",
			    nodes->n);
	if ((args = &nodes->item[0])->type != JSON_ARRAY)
		return fail(g, "inbound_nodes: want [[[NAME, 0, 0, {}], ..]]");
	for (int i = 0; i < args->n; i++) {
		const struct json *a = &args->item[i];
		int node_index, tensor_index;
		if (a->type != JSON_ARRAY || a->n < 3 || a->item[0].type != JSON_STRING ||
		    whole(&a->item[1], 0, 1 << 30, &node_index) ||
		    whole(&a->item[2], 0, 1 << 30, &tensor_index))
			return fail(g, "inbound_nodes: want [[[NAME, 0, 0, {}], ..]]");
		if (node_index || tensor_index)
			return fail(g, "input %s's node %d, tensor %d: shared layers and layers of "
				    "several outputs are not supported", a->item[0].string,
				    node_index, tensor_index);
		if (n == max)
			return fail(g, "more than %d inputs", max);
		if (!(in[n++] = find_node(g, a->item[0].string)))
			return fail(g, "its input %s is not an earlier layer", a->item[0].string);
	}
	return n;
}

static int convert_layer(struct gen *g, const struct json *layer, int sequential)
{
	const struct json *cfg = get(layer, "config");
	struct node *in[64], *out;
	size_t k = 0;
	int nin;

	g->cls = str(layer, "class_name");
	g->layer = str(layer, "name") ? str(layer, "name") : str(cfg, "name");
	if (!g->cls || !g->layer || !cfg)
		return fail(g, "layer %d: want {\"class_name\", \"name\", \"config\"}", g->n);
	while (k < sizeof classes / sizeof *classes && strcmp(classes[k].cls, g->cls))
		k++;
	if (k == sizeof classes / sizeof *classes)
		return fail(g, "class %s is not supported", g->cls);
	if (find_node(g, g->layer))
		return fail(g, "the name is taken by an earlier layer");
	if (!g->cfg.len && classes[k].inputs) {
		/* A Sequential's first layer may carry the input's shape. */
		if (input_shape(g, get(cfg, "batch_input_shape"), &g->node[g->n]))
			return CNN_ERR;
		g->node[g->n++].keras = "";
	}
	out = &g->node[g->n];
	if ((nin = inputs_of(g, layer, sequential, in, 64)) < 0)
		return CNN_ERR;
	if (classes[k].inputs == 1 && nin != 1)
		return fail(g, "it has %d inputs, and takes one", nin);
	if (classes[k].inputs == 0 && nin)
		return fail(g, "an InputLayer with inputs");
	memset(out, 0, sizeof *out);
	if (classes[k].fn(g, cfg, in, nin, out))
		return CNN_ERR;
	out->keras = g->layer;
	g->n++;
	return CNN_OK;
}

/* The model's one output: the last section. */
static int finish(struct gen *g, const struct json *config, int sequential)
{
	const struct json *outs = get(config, "output_layers");
	const struct node *last = g->n ? &g->node[g->n - 1] : NULL;

	g->layer = NULL;
	if (!sequential) {
		if (!outs || outs->type != JSON_ARRAY || outs->n != 1 ||
		    outs->item[0].type != JSON_ARRAY || outs->item[0].n < 1 ||
		    outs->item[0].item[0].type != JSON_STRING)
			return fail(g, "output_layers: a model of one output is supported");
		last = find_node(g, outs->item[0].item[0].string);
	}
	if (!last || last->section < 0)
		return fail(g, "the model's output is not a layer of it");
	return take(g, last);
}

static int count_layers(const struct json *layers)
{
	return layers && layers->type == JSON_ARRAY ? layers->n : -1;
}

/* modelTopology: {"model_config": {"class_name", "config"}} or the model
 * itself; a Sequential's config is {"layers": [..]} or the array. */
static int generate(struct gen *g, const struct json *root)
{
	const struct json *top = get(root, "modelTopology"), *model, *config, *layers;
	const char *cls;
	int sequential;

	model = get(top, "model_config") ? get(top, "model_config") : top;
	cls = str(model, "class_name");
	config = get(model, "config");
	if (!cls || !config)
		return fail(g, "no Keras modelTopology (a TF.js layers model's model.json has "
			    "one; a graph model's does not)");
	sequential = !strcmp(cls, "Sequential");
	if (!sequential && strcmp(cls, "Model") && strcmp(cls, "Functional"))
		return fail(g, "a model of class %s: Sequential, Model or Functional only", cls);
	layers = config->type == JSON_ARRAY ? config : get(config, "layers");
	if (count_layers(layers) < 1)
		return fail(g, "the model has no layers");
	g->layers = layers;
	if (!(g->node = calloc(layers->n + 1, sizeof *g->node)))
		return cnn_error("out of memory");
	for (int i = 0; i < layers->n; i++)
		if (convert_layer(g, &layers->item[i], sequential))
			return CNN_ERR;
	return finish(g, config, sequential);
}

/* ------------------------------------------------------------ the whole */

static int parse_file(const char *path, struct json *root)
{
	size_t len, pos = 0;
	char *text = cnn_read_text(path, &len);
	int line = 1, ret;

	if (!text)
		return cnn_error_context("%s", path);
	ret = cnn_json_parse(text, len, &pos, &line, root);
	if (ret) {
		char msg[1024];
		snprintf(msg, sizeof msg, "%s", ret == CNN_END ? "empty" : cnn_errmsg());
		ret = cnn_error("%s: %s", path, msg);
	}
	free(text);
	return ret;
}

/* Our shapes, the engine's: a difference would be a converter's mistake,
 * better said than computed. */
static int check_shapes(const struct gen *g, const cnn_net *net)
{
	for (int i = 0; i < g->n; i++) {
		const struct node *nd = &g->node[i];
		const cnn_layer *l = nd->section >= 0 ? &net->layer[nd->section] : NULL;
		if (l && (l->out_c != nd->c || l->out_h != nd->h || l->out_w != nd->w))
			return cnn_error("%s: layer %s: Keras's output is %dx%dx%d (C x H x W), "
					 "ours %dx%dx%d", g->path, nd->keras, nd->c, nd->h, nd->w,
					 l->out_c, l->out_h, l->out_w);
	}
	return CNN_OK;
}

static cnn_net *build(const struct gen *g)
{
	char cfg_name[4096], map_name[4096];
	cnn_tfjs *w = NULL;
	cnn_net *net = NULL;
	cnn_cfg *cfg;

	snprintf(cfg_name, sizeof cfg_name, "%s (cfg)", g->path);
	snprintf(map_name, sizeof map_name, "%s (map)", g->path);
	if (!(cfg = cnn_cfg_parse(g->cfg.s, cfg_name)) || !(net = cnn_net_build(cfg, 1)) ||
	    check_shapes(g, net) || !(w = cnn_tfjs_open(g->path)) ||
	    cnn_tfjs_place(net, w, map_name, g->map.s ? g->map.s : "")) {
		cnn_net_free(net);
		net = NULL;
	}
	cnn_tfjs_close(w);
	return net;
}

cnn_net *cnn_keras_import(const char *model_json, const char *net_keys, char **cfg_text)
{
	struct gen g = {.path = model_json, .net_keys = net_keys && *net_keys ? net_keys : NULL};
	struct json root = {0};
	cnn_net *net = NULL;

	if (cfg_text)
		*cfg_text = NULL;
	if (!parse_file(model_json, &root) && !generate(&g, &root)) {
		if (cfg_text && !(*cfg_text = strdup(g.cfg.s)))
			cnn_error("out of memory");
		else
			net = build(&g);
	}
	cnn_json_free(&root);
	free(g.node);
	free(g.cfg.s);
	free(g.map.s);
	return net;
}
