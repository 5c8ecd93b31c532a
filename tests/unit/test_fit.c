/*
 * test_fit.c - the input's own rule of imported networks: TensorFlow's
 * SAME padding in convolutions and pools, [net] mean= and std=, and
 * cnn_image_fit's padding to a square and TensorFlow's two bilinear
 * resizes, on values worked out by hand.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cnn.h"
#include "tap.h"

static cnn_net *make(const char *text)
{
	cnn_cfg *cfg = cnn_cfg_parse(text, "t.cfg");
	cnn_net *net = cfg ? cnn_net_new(cfg, 1, 1) : NULL;

	if (!net)
		tap_ok(0, "build: %s", cnn_errmsg());
	return net;
}

static void test_same_shapes(void)
{
	static const struct {
		const char *layer;
		int in, out;
	} cases[] = {
		{"[convolutional]\nfilters=1\nsize=3\nstride=2\nsame=1\n", 7, 4},
		{"[convolutional]\nfilters=1\nsize=3\nstride=2\nsame=1\n", 112, 56},
		{"[convolutional]\nfilters=1\nsize=5\nstride=1\nsame=1\n", 9, 9},
		{"[maxpool]\nsize=2\nstride=2\nsame=1\n", 207, 104},
		{"[maxpool]\nsize=2\nstride=1\nsame=1\n", 13, 13},
		{"[maxpool]\nsize=3\nstride=2\nsame=1\n", 8, 4},
		{"[avgpool]\nsize=3\nstride=2\nsame=1\n", 9, 5},
	};

	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char text[256];
		cnn_layer_info info;
		cnn_net *net;
		snprintf(text, sizeof text, "[net]\nchannels=1\nheight=%d\nwidth=%d\n%s",
			 cases[i].in, cases[i].in, cases[i].layer);
		if (!(net = make(text)))
			continue;
		cnn_net_layer_info(net, 0, &info);
		tap_ok(info.out_h == cases[i].out && info.out_w == cases[i].out,
		       "same=1 [%s] %d -> %d (%d)", info.type, cases[i].in, cases[i].out,
		       info.out_h);
		cnn_net_free(net);
	}
}

/* A 2x2 stride 1 SAME max pool at the bottom right edge takes only the
 * real cells, and an average divides by them: on -1 everywhere, -1. */
static void test_same_padding_never_counts(void)
{
	const char *ops[] = {"maxpool", "avgpool"};

	for (int k = 0; k < 2; k++) {
		char text[256];
		float x[9];
		const float *y;
		int ok = 1;
		cnn_net *net;
		snprintf(text, sizeof text, "[net]\nchannels=1\nheight=3\nwidth=3\n[%s]\nsize=2\n"
			 "stride=1\nsame=1\n", ops[k]);
		if (!(net = make(text)))
			continue;
		for (int i = 0; i < 9; i++)
			x[i] = -1;
		y = cnn_net_forward(net, x, 1, 0);
		for (int i = 0; y && i < 9; i++)
			ok &= y[i] == -1;
		tap_ok(y && ok, "[%s] same=1: the padding beyond the edge never counts", ops[k]);
		cnn_net_free(net);
	}
}

/* Weights 1, biases 0. */
static int ones(void *ctx, const char *name, float *values, int ndim, const int64_t *dim,
		int trained)
{
	int64_t n = 1;

	(void)ctx;
	(void)trained;
	for (int i = 0; i < ndim; i++)
		n *= dim[i];
	for (int64_t i = 0; i < n; i++)
		values[i] = strstr(name, "weight") ? 1 : 0;
	return CNN_OK;
}

static void test_conv_same_offsets(void)
{
	/* A 4 x 1 column 1 2 3 4, an all-ones 3x3 kernel at stride 2: SAME
	 * pads the height 0 before and 1 after (and the width 1 each side), so
	 * the outputs are 1+2+3 and 3+4, where pad=1 would give 0+1+2 first. */
	cnn_net *net = make("[net]\nchannels=1\nheight=4\nwidth=1\n[convolutional]\nfilters=1\n"
			    "size=3\nstride=2\nsame=1\nactivation=linear\n");
	float x[4] = {1, 2, 3, 4};
	const float *y;

	if (!net)
		return;
	cnn_net_visit_params(net, ones, NULL);
	y = cnn_net_forward(net, x, 1, 0);
	tap_ok(y && y[0] == 6 && y[1] == 7, "same=1 convolution: the odd pixel of padding after "
	       "(%g %g)", y ? y[0] : NAN, y ? y[1] : NAN);
	cnn_net_free(net);
}

static void test_normalisation(void)
{
	cnn_net *net = make("[net]\nchannels=2\nheight=1\nwidth=1\nmean=1,2\nstd=2,4\n[cost]\n");
	float x[2] = {3, 10};
	const float *y = net ? cnn_net_forward(net, x, 1, 0) : NULL;

	tap_ok(y && y[0] == 1 && y[1] == 2, "mean= and std=: (3 - 1) / 2 and (10 - 2) / 4 (%g %g)",
	       y ? y[0] : NAN, y ? y[1] : NAN);
	cnn_net_free(net);
	net = make("[net]\nchannels=2\nheight=1\nwidth=1\nmean=0.5\n[cost]\n");
	y = net ? cnn_net_forward(net, x, 1, 0) : NULL;
	tap_ok(y && y[0] == 2.5f && y[1] == 9.5f, "one mean= for all channels");
	cnn_net_free(net);
	cnn_cfg *cfg = cnn_cfg_parse("[net]\nchannels=3\nheight=1\nwidth=1\nmean=1,2\n[cost]\n", "t.cfg");
	net = cfg ? cnn_net_new(cfg, 1, 1) : NULL;
	tap_ok(!net && strstr(cnn_errmsg(), "mean= and std= want 1 or 3 values"),
	       "two means for three channels: %s", cnn_errmsg());
	cnn_net_free(net);
	cfg = cnn_cfg_parse("[net]\nchannels=1\nheight=1\nwidth=1\nstd=0\n[cost]\n", "t.cfg");
	net = cfg ? cnn_net_new(cfg, 1, 1) : NULL;
	tap_ok(!net && strstr(cnn_errmsg(), "std= must be positive"), "std=0: %s", cnn_errmsg());
	cnn_net_free(net);
}

static cnn_tensor *image(int h, int w, const float *v)
{
	cnn_tensor *t = cnn_tensor_new3("image", CNN_F32, 1, h, w);

	if (t)
		memcpy(t->data, v, sizeof *v * h * w);
	return t;
}

static int near_all(const cnn_tensor *t, const float *want, int n)
{
	for (int i = 0; t && i < n; i++)
		if (fabsf(((float *)t->data)[i] - want[i]) > 1e-5f)
			return 0;
	return t != NULL;
}

static void test_fit(void)
{
	static const float two[4] = {0, 10, 20, 30};
	/* TF legacy, 2 -> 3: sources 0, 2/3, 4/3 (the last clamped to 1). */
	static const float legacy[9] = {0, 20 / 3.0f, 10, 40 / 3.0f, 20, 70 / 3.0f,
					20, 80 / 3.0f, 30};
	/* align_corners, 2 -> 3: sources 0, 1/2, 1. */
	static const float aligned[9] = {0, 5, 10, 10, 15, 20, 20, 25, 30};
	cnn_tensor *img = image(2, 2, two), *out;
	cnn_input_rule rule = {CNN_RESIZE_TF_LEGACY, 0};

	out = cnn_image_fit(img, 3, 3, &rule);
	tap_ok(near_all(out, legacy, 9), "TensorFlow's legacy bilinear, 2x2 to 3x3");
	cnn_tensor_free(out);
	rule.resize = CNN_RESIZE_ALIGN_CORNERS;
	out = cnn_image_fit(img, 3, 3, &rule);
	tap_ok(near_all(out, aligned, 9), "bilinear with the corners aligned, 2x2 to 3x3");
	cnn_tensor_free(out);
	cnn_tensor_free(img);

	/* A 1 x 2 image padded to 2 x 2 (the second row zeros), then the
	 * legacy resize to 2 x 2 is the padded image itself. */
	static const float row[2] = {4, 8}, padded[4] = {4, 8, 0, 0};
	img = image(1, 2, row);
	rule = (cnn_input_rule){CNN_RESIZE_TF_LEGACY, 1};
	out = cnn_image_fit(img, 2, 2, &rule);
	tap_ok(near_all(out, padded, 4), "pad_square=1: zeros at the bottom");
	cnn_tensor_free(out);
	cnn_tensor_free(img);

	/* A 1 x 3 image padded centred to 3 x 3: one row before, one after. */
	static const float three[3] = {1, 2, 3}, centred[9] = {0, 0, 0, 1, 2, 3, 0, 0, 0};
	img = image(1, 3, three);
	rule = (cnn_input_rule){CNN_RESIZE_TF_LEGACY, CNN_PAD_CENTRE};
	out = cnn_image_fit(img, 3, 3, &rule);
	tap_ok(near_all(out, centred, 9), "pad_square=centre: a row of zeros on each side");
	cnn_tensor_free(out);
	cnn_tensor_free(img);
	/* 1 x 2 to 2 x 2 centred: d = 1, round(1/2) = 1 after, 0 before. */
	img = image(1, 2, row);
	out = cnn_image_fit(img, 2, 2, &rule);
	tap_ok(near_all(out, padded, 4), "pad_square=centre: the odd row after, as JavaScript rounds");
	cnn_tensor_free(out);
	cnn_tensor_free(img);

	/* u8 comes out on the network's scale. */
	img = cnn_tensor_new3("image", CNN_U8, 1, 1, 2);
	((uint8_t *)img->data)[0] = 0;
	((uint8_t *)img->data)[1] = 255;
	rule = (cnn_input_rule){CNN_RESIZE_ALIGN_CORNERS, 0};
	out = cnn_image_fit(img, 1, 3, &rule);
	static const float half[3] = {0, 0.5f, 1};
	tap_ok(out && out->dtype == CNN_F32 && near_all(out, half, 3),
	       "u8 0 and 255 to 0, 0.5, 1: f32 on the network's scale");
	cnn_tensor_free(out);
	cnn_tensor_free(img);
}

static void test_rule_keys(void)
{
	cnn_net *net = make("[net]\nchannels=1\nheight=4\nwidth=4\nresize=tf_legacy\npad_square=1\n"
			    "[cost]\n");
	cnn_input_rule rule = {0};

	if (net)
		cnn_net_input_rule(net, &rule);
	tap_ok(net && cnn_net_has_input_rule(net) && rule.resize == CNN_RESIZE_TF_LEGACY &&
	       rule.pad_square == 1, "[net] resize= and pad_square= make the model's rule");
	cnn_net_free(net);
	net = make("[net]\nchannels=1\nheight=4\nwidth=4\n[cost]\n");
	tap_ok(net && !cnn_net_has_input_rule(net), "without them, no rule of its own");
	cnn_net_free(net);
}

/* Constants: kept by name, and never under a parameter's name. */
static void test_constants(void)
{
	cnn_net *net = make("[net]\nchannels=1\nheight=1\nwidth=1\n[cost]\n");
	cnn_tensor *a = cnn_tensor_new3("anchors", CNN_F32, 1, 1, 1);
	cnn_tensor *bad = cnn_tensor_new3("0.weight", CNN_F32, 1, 1, 1);

	tap_ok(net && a && cnn_net_set_constant(net, a) == CNN_OK &&
	       cnn_net_constant(net, "anchors") == a && !cnn_net_constant(net, "other"),
	       "a constant is kept by its name");
	tap_ok(net && bad && cnn_net_set_constant(net, bad) == CNN_ERR &&
	       strstr(cnn_errmsg(), "must not be empty or start with a digit"),
	       "a constant named as a parameter is refused: %s", cnn_errmsg());
	cnn_net_free(net);
}

int main(void)
{
	test_same_shapes();
	test_same_padding_never_counts();
	test_conv_same_offsets();
	test_normalisation();
	test_fit();
	test_rule_keys();
	test_constants();
	return tap_done();
}
