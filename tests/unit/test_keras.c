/*
 * test_keras.c - cnn_keras_import() on small TF.js layers models written
 * here: a Sequential one (conv same, depthwise valid, BN, ReLU6, Flatten,
 * Dense with softmax) and a Functional one (a shared input, conv valid and
 * same, BN, ReLU6, Add, Concatenate, squeeze-and-excitation's Multiply,
 * GAP, Dense with softmax), checked by the shapes of the sections the
 * generated cfg builds and their names; and the errors for a class and an
 * option we do not have.  nsfwjs's real models are test_nsfwjs.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cnn.h"
#include "tap.h"

struct weight {
	const char *name;
	int ndim, dim[4];
};

static char dir[] = "/tmp/test-keras-XXXXXX";

/* dir/NAME.json: the layers model of topology, with weights of w (values
 * 0.5 + (i % 7) / 100: positive, for the variances) in dir/NAME.bin. */
static const char *write_model(const char *name, const char *topology, const struct weight *w,
			       int nw)
{
	static char path[512];
	char bin[512];
	long total = 0;
	FILE *f;

	snprintf(path, sizeof path, "%s/%s.json", dir, name);
	snprintf(bin, sizeof bin, "%s/%s.bin", dir, name);
	if (!(f = fopen(path, "w")))
		return path;
	fprintf(f, "{\"format\": \"layers-model\", \"modelTopology\": %s,\n"
		"\"weightsManifest\": [{\"paths\": [\"%s.bin\"], \"weights\": [", topology, name);
	for (int i = 0; i < nw; i++) {
		long n = 1;
		fprintf(f, "%s\n {\"name\": \"%s\", \"dtype\": \"float32\", \"shape\": [", i ? "," : "",
			w[i].name);
		for (int d = 0; d < w[i].ndim; d++) {
			fprintf(f, "%s%d", d ? ", " : "", w[i].dim[d]);
			n *= w[i].dim[d];
		}
		fprintf(f, "]}");
		total += n;
	}
	fprintf(f, "]}]}\n");
	fclose(f);
	if (!(f = fopen(bin, "wb")))
		return path;
	for (long i = 0; i < total; i++) {
		float v = 0.5f + (float)(i % 7) / 100;
		fwrite(&v, sizeof v, 1, f);
	}
	fclose(f);
	return path;
}

/* Forward zeros: the layers' outputs then have their shapes. */
static void forward_zeros(cnn_net *net)
{
	int c, h, w;
	float *x;

	cnn_net_input_shape(net, &c, &h, &w);
	x = calloc((size_t)c * h * w, sizeof *x);
	tap_ok(x && cnn_net_forward(net, x, 1, 0), "it runs: %s", x ? cnn_errmsg() : "calloc");
	free(x);
}

/* Layer name's output is c x h x w. */
static void shape_is(cnn_net *net, const char *model, const char *name, int c, int h, int w)
{
	int i = net ? cnn_net_layer_find(net, name) : -1, gc = 0, gh = 0, gw = 0;

	if (i >= 0)
		cnn_net_layer_output(net, i, &gc, &gh, &gw);
	tap_ok(i >= 0 && gc == c && gh == h && gw == w, "%s: %s is %dx%dx%d (%dx%dx%d)", model,
	       name, c, h, w, gc, gh, gw);
}

#define IN(name) "\"inbound_nodes\": [[[\"" name "\", 0, 0, {}]]]"

static const char sequential[] =
	"{\"class_name\": \"Sequential\", \"config\": {\"name\": \"s\", \"layers\": [\n"
	"{\"class_name\": \"InputLayer\", \"config\": {\"name\": \"in\", \"batch_input_shape\": "
	"[null, 8, 8, 3]}},\n"
	"{\"class_name\": \"Conv2D\", \"config\": {\"name\": \"conv\", \"filters\": 4, "
	"\"kernel_size\": [3, 3], \"strides\": [2, 2], \"padding\": \"same\", \"activation\": "
	"\"relu\", \"use_bias\": true}},\n"
	"{\"class_name\": \"DepthwiseConv2D\", \"config\": {\"name\": \"dw\", \"kernel_size\": 3, "
	"\"strides\": 1, \"padding\": \"valid\", \"depth_multiplier\": 2, \"use_bias\": false}},\n"
	"{\"class_name\": \"BatchNormalization\", \"config\": {\"name\": \"bn\", \"axis\": -1, "
	"\"epsilon\": 0.001, \"scale\": false}},\n"
	"{\"class_name\": \"ReLU\", \"config\": {\"name\": \"relu6\", \"max_value\": 6}},\n"
	"{\"class_name\": \"Flatten\", \"config\": {\"name\": \"flat\"}},\n"
	"{\"class_name\": \"Dense\", \"config\": {\"name\": \"fc\", \"units\": 3, \"activation\": "
	"\"softmax\"}}]}}";

static void sequential_model(void)
{
	static const struct weight w[] = {
		{"conv/kernel", 4, {3, 3, 3, 4}}, {"conv/bias", 1, {4}},
		{"dw/depthwise_kernel", 4, {3, 3, 4, 2}}, {"bn/beta", 1, {8}},
		{"bn/moving_mean", 1, {8}}, {"bn/moving_variance", 1, {8}},
		{"fc/kernel", 2, {32, 3}}, {"fc/bias", 1, {3}},
	};
	char *cfg = NULL;
	cnn_net *net = cnn_keras_import(write_model("seq", sequential, w, 8), NULL, &cfg);

	tap_ok(net != NULL, "a Sequential model imports: %s", net ? "yes" : cnn_errmsg());
	if (net)
		forward_zeros(net);
	shape_is(net, "Sequential", "conv", 4, 4, 4);
	shape_is(net, "Sequential", "dw", 8, 2, 2);
	shape_is(net, "Sequential", "bn", 8, 2, 2);
	shape_is(net, "Sequential", "relu6", 8, 2, 2);
	shape_is(net, "Sequential", "fc.logits", 3, 1, 1);
	shape_is(net, "Sequential", "fc", 3, 1, 1);
	tap_ok(cfg && strstr(cfg, "same=1\ngroups") == NULL && strstr(cfg, "stride=2\nsame=1") &&
	       strstr(cfg, "filters=8\nsize=3\nstride=1\ngroups=4") &&
	       strstr(cfg, "[activation]\nname=relu6\nactivation=relu6") &&
	       strstr(cfg, "[softmax]\nname=fc"),
	       "Sequential: the cfg has TF's SAME, the depthwise groups, relu6 and the softmax");
	free(cfg);
	cnn_net_free(net);
}

static const char functional[] =
	"{\"model_config\": {\"class_name\": \"Model\", \"config\": {\"name\": \"f\", \"layers\": [\n"
	"{\"name\": \"input_1\", \"class_name\": \"InputLayer\", \"config\": {\"name\": \"input_1\", "
	"\"batch_input_shape\": [null, 8, 8, 3]}, \"inbound_nodes\": []},\n"
	"{\"name\": \"c1\", \"class_name\": \"Conv2D\", \"config\": {\"name\": \"c1\", \"filters\": 8, "
	"\"kernel_size\": [1, 1], \"strides\": [1, 1], \"padding\": \"valid\", \"activation\": "
	"\"linear\", \"use_bias\": false}, " IN("input_1") "},\n"
	"{\"name\": \"bn1\", \"class_name\": \"BatchNormalization\", \"config\": {\"name\": \"bn1\", "
	"\"axis\": 3, \"epsilon\": 0.001}, " IN("c1") "},\n"
	"{\"name\": \"r1\", \"class_name\": \"ReLU\", \"config\": {\"name\": \"r1\", \"max_value\": 6, "
	"\"negative_slope\": 0, \"threshold\": 0}, " IN("bn1") "},\n"
	"{\"name\": \"c2\", \"class_name\": \"Conv2D\", \"config\": {\"name\": \"c2\", \"filters\": 8, "
	"\"kernel_size\": [3, 3], \"strides\": [1, 1], \"padding\": \"same\", \"activation\": "
	"\"relu\", \"use_bias\": true}, " IN("input_1") "},\n"
	"{\"name\": \"add\", \"class_name\": \"Add\", \"config\": {\"name\": \"add\"}, "
	"\"inbound_nodes\": [[[\"r1\", 0, 0, {}], [\"c2\", 0, 0, {}]]]},\n"
	"{\"name\": \"cat\", \"class_name\": \"Concatenate\", \"config\": {\"name\": \"cat\", "
	"\"axis\": -1}, \"inbound_nodes\": [[[\"add\", 0, 0, {}], [\"c1\", 0, 0, {}]]]},\n"
	"{\"name\": \"gap1\", \"class_name\": \"GlobalAveragePooling2D\", \"config\": {\"name\": "
	"\"gap1\"}, " IN("cat") "},\n"
	"{\"name\": \"rs\", \"class_name\": \"Reshape\", \"config\": {\"name\": \"rs\", "
	"\"target_shape\": [1, 1, 16]}, " IN("gap1") "},\n"
	"{\"name\": \"se\", \"class_name\": \"Conv2D\", \"config\": {\"name\": \"se\", \"filters\": 16, "
	"\"kernel_size\": 1, \"strides\": 1, \"padding\": \"valid\", \"activation\": \"sigmoid\", "
	"\"use_bias\": true}, " IN("rs") "},\n"
	"{\"name\": \"mul\", \"class_name\": \"Multiply\", \"config\": {\"name\": \"mul\"}, "
	"\"inbound_nodes\": [[[\"cat\", 0, 0, {}], [\"se\", 0, 0, {}]]]},\n"
	"{\"name\": \"c3\", \"class_name\": \"Conv2D\", \"config\": {\"name\": \"c3\", \"filters\": 4, "
	"\"kernel_size\": [3, 3], \"strides\": [2, 2], \"padding\": \"valid\", \"activation\": "
	"\"linear\", \"use_bias\": true}, " IN("mul") "},\n"
	"{\"name\": \"%s\", \"class_name\": \"%s\", \"config\": {\"name\": \"%s\"%s}, " IN("c3") "},\n"
	"{\"name\": \"fc\", \"class_name\": \"Dense\", \"config\": {\"name\": \"fc\", \"units\": 2, "
	"\"activation\": \"softmax\"}, " IN("%s") "}],\n"
	"\"input_layers\": [[\"input_1\", 0, 0]], \"output_layers\": [[\"fc\", 0, 0]]}}}";

/* The functional model, with layer 13 (after c3) of class cls, name. */
static cnn_net *import_functional(const char *name, const char *cls, const char *options,
				  char **cfg)
{
	static const struct weight w[] = {
		{"c1/kernel", 4, {1, 1, 3, 8}}, {"bn1/gamma", 1, {8}}, {"bn1/beta", 1, {8}},
		{"bn1/moving_mean", 1, {8}}, {"bn1/moving_variance", 1, {8}},
		{"c2/kernel", 4, {3, 3, 3, 8}}, {"c2/bias", 1, {8}},
		{"se/kernel", 4, {1, 1, 16, 16}}, {"se/bias", 1, {16}},
		{"c3/kernel", 4, {3, 3, 16, 4}}, {"c3/bias", 1, {4}},
		{"fc/kernel", 2, {4, 2}}, {"fc/bias", 1, {2}},
	};
	char topology[sizeof functional + 256];

	snprintf(topology, sizeof topology, functional, name, cls, name, options, name);
	return cnn_keras_import(write_model("fun", topology, w, 13), "resize=align_corners", cfg);
}

static void functional_model(void)
{
	char *cfg = NULL;
	cnn_net *net = import_functional("gap", "GlobalAveragePooling2D", "", &cfg);
	cnn_input_rule rule = {0};

	tap_ok(net != NULL, "a Functional model imports: %s", net ? "yes" : cnn_errmsg());
	if (net)
		forward_zeros(net);
	shape_is(net, "Functional", "input_1", 3, 8, 8);
	shape_is(net, "Functional", "c1", 8, 8, 8);
	shape_is(net, "Functional", "r1", 8, 8, 8);
	shape_is(net, "Functional", "c2", 8, 8, 8);
	shape_is(net, "Functional", "add", 8, 8, 8);
	shape_is(net, "Functional", "cat", 16, 8, 8);
	shape_is(net, "Functional", "se", 16, 1, 1);
	shape_is(net, "Functional", "mul", 16, 8, 8);
	shape_is(net, "Functional", "c3", 4, 3, 3);
	shape_is(net, "Functional", "gap", 4, 1, 1);
	shape_is(net, "Functional", "fc", 2, 1, 1);
	if (net)
		cnn_net_input_rule(net, &rule);
	tap_ok(rule.resize == CNN_RESIZE_ALIGN_CORNERS, "Functional: the caller's [net] keys "
	       "(resize=align_corners) are the model's input rule");
	tap_ok(cfg && strstr(cfg, "[route]\nlayers=input_1\n\n[convolutional]\nname=c2") &&
	       strstr(cfg, "[shortcut]\nname=add\nfrom=r1") &&
	       strstr(cfg, "[route]\nname=cat\nlayers=add,c1") &&
	       strstr(cfg, "[scale_channels]\nname=mul\nfrom=cat"),
	       "Functional: routes back to the shared input, [shortcut], [route] and "
	       "[scale_channels] as the graph says");
	free(cfg);
	cnn_net_free(net);
}

static void error_is(cnn_net *net, const char *want, const char *what)
{
	const char *msg = net ? "(imported)" : cnn_errmsg();

	tap_ok(!net && strstr(msg, want), "%s: \"%s\" (%s)", what, want, msg);
	cnn_net_free(net);
}

static void errors(void)
{
	error_is(import_functional("lam", "Lambda", "", NULL),
		 "fun.json: layer lam (Lambda): class Lambda is not supported",
		 "a class we lack is one error naming the layer and the class");
	error_is(import_functional("gap", "GlobalAveragePooling2D",
				   ", \"data_format\": \"channels_first\"", NULL),
		 "layer gap (GlobalAveragePooling2D): data_format 'channels_first' is not supported",
		 "an option we lack is one error naming the layer and the option");
	error_is(import_functional("lr", "LeakyReLU", ", \"alpha\": 0.3", NULL),
		 "layer lr (LeakyReLU): alpha=0.3 is not supported (0.1 only",
		 "LeakyReLU's alpha other than 0.1 is an error naming it");
	error_is(import_functional("rl", "ReLU", ", \"max_value\": 4", NULL),
		 "layer rl (ReLU): max_value=4 is not supported (6 only)",
		 "ReLU's max_value other than 6 is an error naming it");
}

int main(void)
{
	char cmd[64];

	if (!mkdtemp(dir)) {
		tap_ok(0, "mkdtemp");
		return tap_done();
	}
	sequential_model();
	functional_model();
	errors();
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd))
		tap_ok(0, "%s", cmd);
	return tap_done();
}
