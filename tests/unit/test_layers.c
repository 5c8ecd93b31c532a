/*
 * test_layers.c - every layer type and loss passes a numeric gradient check
 * inside a small network, and the network engine builds what darknet's cfg
 * dialect describes (shapes, parameter counts, errors with file and line).
 *
 * Each network starts with a convolution, so that the gradient a layer
 * sends to its input is checked too, through that convolution's weights.
 */
#include <stdlib.h>
#include <string.h>

#include "nn/net.h"
#include "tap.h"

#define NET "[net]\nbatch=3\nchannels=2\nheight=6\nwidth=6\n"
#define CONV(f, act) "[convolutional]\nfilters=" #f "\nsize=3\npad=1\nactivation=" #act "\n"

static cnn_net *make(const char *cfg_text, const char *name)
{
	cnn_cfg *cfg = cnn_cfg_parse(cfg_text, name);
	cnn_net *net = cfg ? cnn_net_new(cfg, 0, 1) : NULL;

	if (!net)
		tap_ok(0, "%s: %s", name, cnn_errmsg());
	return net;
}

static void check(const char *name, const char *cfg_text, int softmax_truth)
{
	const int n = 3;
	cnn_net *net;
	cnn_rng rng;
	int ch, h, w;
	long in, out;
	float *x, *truth;
	double worst;

	if (!(net = make(cfg_text, name)))
		return;
	cnn_net_input_shape(net, &ch, &h, &w);
	in = (long)ch * h * w;
	out = cnn_net_outputs(net);
	x = malloc(sizeof *x * n * in);
	truth = calloc(n * out, sizeof *truth);
	cnn_rng_seed(&rng, 3);
	for (long i = 0; i < n * in; i++)
		x[i] = (float)(cnn_rng_uniform(&rng) * 2 - 1);
	/* One-hot labels, or soft labels that sum to 1 (targets for a cost). */
	for (int i = 0; i < n; i++) {
		double sum = 0;
		for (long j = 0; j < out; j++)
			sum += truth[i * out + j] = softmax_truth ? (j == (i * 7) % out)
								  : (float)cnn_rng_uniform(&rng);
		for (long j = 0; j < out && !softmax_truth; j++)
			truth[i * out + j] /= (float)sum;
	}
	worst = cnn_net_gradcheck(net, x, truth, n, 0, 1e-3, NULL, NULL);
	tap_ok(worst >= 0 && worst < 2e-3, "gradient check: %s (worst %.1e)", name, worst);
	free(x);
	free(truth);
	cnn_net_free(net);
}

static void expect_error(const char *cfg_text, const char *want, const char *what)
{
	cnn_cfg *cfg = cnn_cfg_parse(cfg_text, "t.cfg");
	cnn_net *net = cfg ? cnn_net_new(cfg, 0, 1) : NULL;

	tap_ok(!net && strstr(cnn_errmsg(), want), "%s: \"%s\"", what, cnn_errmsg());
	cnn_net_free(net);
}

int main(void)
{
	cnn_set_threads(1);
	check("convolutional + softmax", NET CONV(4, tanh) "[connected]\noutput=5\nactivation=linear\n[softmax]\n", 1);
	check("convolutional stride 2, groups, dilation", NET CONV(4, logistic)
	      "[convolutional]\nfilters=6\nsize=3\nstride=2\npadding=2\ndilation=2\ngroups=2\nactivation=tanh\n"
	      "[connected]\noutput=3\nactivation=linear\n[softmax]\n", 1);
	check("depthwise convolution", NET CONV(4, tanh)
	      "[convolutional]\nfilters=4\nsize=3\npad=1\ngroups=4\nactivation=linear\n[connected]\noutput=3\nactivation=linear\n[softmax]\n", 1);
	check("batch_normalize=1", NET CONV(4, tanh)
	      "[convolutional]\nbatch_normalize=1\nfilters=3\nsize=3\npad=1\nactivation=tanh\n[connected]\noutput=4\nactivation=linear\n[softmax]\n", 1);
	check("[batchnorm]", NET CONV(4, tanh) "[batchnorm]\n[connected]\noutput=4\nactivation=linear\n[softmax]\n", 1);
	check("connected with batch_normalize", NET CONV(2, tanh)
	      "[connected]\noutput=6\nbatch_normalize=1\nactivation=swish\n[connected]\noutput=3\nactivation=linear\n[softmax]\n", 1);
	check("maxpool", NET CONV(3, tanh) "[maxpool]\nsize=2\nstride=2\n[connected]\noutput=4\nactivation=linear\n[softmax]\n", 1);
	check("maxpool size 3 stride 1 (same size)", NET CONV(3, tanh) "[maxpool]\nsize=3\nstride=1\n[connected]\noutput=4\nactivation=linear\n[softmax]\n", 1);
	check("avgpool (global)", NET CONV(5, tanh) "[avgpool]\n[softmax]\n", 1);
	check("avgpool size 2", NET CONV(3, tanh) "[avgpool]\nsize=2\n[connected]\noutput=3\nactivation=linear\n[softmax]\n", 1);
	check("dropout", NET CONV(3, tanh) "[dropout]\nprobability=0.3\n[connected]\noutput=4\nactivation=linear\n[softmax]\n", 1);
	check("shortcut", NET CONV(2, tanh) CONV(2, tanh) "[shortcut]\nfrom=-2\nactivation=swish\n[connected]\noutput=3\nactivation=linear\n[softmax]\n", 1);
	check("shortcut of other channels and size (darknet's sampling)", NET CONV(3, tanh)
	      "[convolutional]\nfilters=2\nsize=3\nstride=2\npad=1\nactivation=tanh\n"
	      "[shortcut]\nfrom=-2\n[connected]\noutput=3\nactivation=linear\n[softmax]\n", 1);
	check("crop (random window, mirrored, in training)", NET "[crop]\ncrop_height=4\ncrop_width=5\nflip=1\n" CONV(2, tanh)
	      "[crop]\ncrop_height=3\ncrop_width=3\nflip=1\nnoadjust=1\n[connected]\noutput=3\nactivation=linear\n[softmax]\n", 1);
	check("route (concatenation)", NET CONV(2, tanh) CONV(3, logistic) "[route]\nlayers=-1,-2\n[connected]\noutput=3\nactivation=linear\n[softmax]\n", 1);
	check("route groups (a channel slice)", NET CONV(4, tanh) "[route]\nlayers=-1\ngroups=2\ngroup_id=1\n[connected]\noutput=3\nactivation=linear\n[softmax]\n", 1);
	check("upsample", NET CONV(2, tanh) "[upsample]\nstride=2\n[convolutional]\nfilters=2\nsize=3\nstride=2\nactivation=linear\n[connected]\noutput=3\nactivation=linear\n[softmax]\n", 1);
	check("deconvolutional", NET CONV(2, tanh) "[deconvolutional]\nfilters=3\nsize=4\nstride=2\npadding=1\nactivation=tanh\n[connected]\noutput=3\nactivation=linear\n[softmax]\n", 1);
	check("deconvolutional with batch_normalize", NET CONV(2, tanh) "[deconvolutional]\nbatch_normalize=1\nfilters=2\nsize=3\nstride=1\npad=1\nactivation=linear\n[connected]\noutput=3\nactivation=linear\n[softmax]\n", 1);
	check("activations relu, leaky, relu6", NET CONV(3, relu) CONV(3, leaky) CONV(2, relu6) "[connected]\noutput=3\nactivation=linear\n[softmax]\n", 1);
	check("activations ramp, elu, hardtan (darknet's)", NET CONV(3, ramp) CONV(3, elu) CONV(2, hardtan) "[connected]\noutput=3\nactivation=linear\n[softmax]\n", 1);
	check("softmax with soft labels and temperature", NET CONV(2, tanh) "[connected]\noutput=4\nactivation=linear\n[softmax]\ntemperature=2\n", 0);
	check("softmax inside (not last) + cost sse", NET CONV(2, tanh) "[connected]\noutput=4\nactivation=linear\n[softmax]\n[cost]\ntype=sse\n", 0);
	check("cost L1", NET CONV(2, tanh) "[connected]\noutput=4\nactivation=linear\n[cost]\ntype=L1\n", 0);
	check("cost smooth (Huber)", NET CONV(2, tanh) "[connected]\noutput=4\nactivation=tanh\n[cost]\ntype=smooth\nscale=3\n", 0);
	check("logistic (binary cross-entropy)", NET CONV(2, tanh) "[connected]\noutput=4\nactivation=linear\n[logistic]\n", 0);

	/* Errors name the file and line. */
	expect_error("batch=1\n[net]\n", "t.cfg:1: 'batch=1' comes before the first [section]", "a key before any section");
	expect_error(NET "[convolutional]\nfilters=2\nsize=3\nfliters=3\n", "t.cfg:9: unknown key 'fliters' in [convolutional]", "an unknown key");
	expect_error(NET "[convolutional]\nfilters=two\n", "t.cfg:7: [convolutional] filters=two: want a whole number", "a bad value");
	expect_error(NET "[convolutional]\nfilters=2\nactivation=sigmoid\n", "activation=sigmoid: want one of: linear relu", "an unknown activation");
	expect_error(NET "[rnn]\nhidden=4\n", "t.cfg:6: unsupported section [rnn]", "an unsupported section");
	expect_error(NET "[shortcut]\nfrom=-3\n", "t.cfg:6: [shortcut]: from=-3 is not an earlier layer", "a shortcut to nowhere");
	expect_error("[convolutional]\nfilters=2\n", "the first section must be [net]", "no [net]");
	expect_error("<html>\n<body>\n", "t.cfg:1: expected key=value or [section]", "an HTML page");
	expect_error(NET "[convolutional]\nfilters=2\nsize=9\n", "larger than the padded input", "a kernel larger than the input");

	/* Shapes and parameter counts: LeNet-5 as the course notes give it. */
	{
		cnn_net *net = make("[net]\nbatch=1\nchannels=1\nheight=32\nwidth=32\n"
				    "[convolutional]\nfilters=6\nsize=5\nactivation=relu\n"
				    "[maxpool]\nsize=2\nstride=2\n"
				    "[convolutional]\nfilters=16\nsize=5\nactivation=relu\n"
				    "[maxpool]\nsize=2\nstride=2\n"
				    "[connected]\noutput=120\nactivation=relu\n"
				    "[connected]\noutput=84\nactivation=relu\n"
				    "[connected]\noutput=10\nactivation=linear\n[softmax]\n", "lenet");
		long params = 0;
		cnn_layer_info info;
		for (int i = 0; net && i < cnn_net_layers(net); i++) {
			cnn_net_layer_info(net, i, &info);
			params += info.params;
		}
		cnn_net_layer_info(net, 3, &info);
		tap_ok(params == 61706 && info.out_c == 16 && info.out_h == 5 && info.out_w == 5,
		       "LeNet-5: 61706 parameters (%ld), 16x5x5 before the connected layers", params);
		cnn_net_free(net);
	}
	return tap_done();
}
