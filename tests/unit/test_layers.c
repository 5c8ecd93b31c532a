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
#include "vectors.h"

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

/* The gradient check on n examples: inputs x, labels truth (as vectors). */
static double gradcheck(cnn_net *net, const float *x, const float *truth, int n, int ch, int h,
			int w)
{
	cnn_batch *b = cnn_batch_new(net, NULL);
	long in = (long)ch * h * w, out = cnn_net_outputs(net);
	double worst = -1;

	for (int i = 0; b && i < n; i++) {
		cnn_record *r = cnn_record_new();
		cnn_tensor *img = cnn_tensor_new3("image", CNN_F32, ch, h, w);
		cnn_tensor *label = cnn_tensor_new("label", CNN_F32, 1, (int64_t[]){out});
		if (!r || !img || !label)
			return -1;
		memcpy(img->data, x + i * in, sizeof *x * in);
		memcpy(label->data, truth + i * out, sizeof *truth * out);
		cnn_record_put(r, img);
		cnn_record_put(r, label);
		if (cnn_batch_add(b, r))
			tap_ok(0, "a batch: %s", cnn_errmsg());
		cnn_record_free(r);
	}
	if (b && cnn_batch_count(b) == n)
		worst = cnn_net_gradcheck(net, b, 0, 1e-3, NULL, NULL);
	cnn_batch_free(b);
	return worst;
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
	worst = gradcheck(net, x, truth, n, ch, h, w);
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

/* [lrn] and [normalization] against PyTorch (tests/vectors/make-lrn.py):
 * each case's output, and what its backward pass adds to the input's delta
 * for an upstream gradient g. */
static void lrn_vectors(void)
{
	struct vec_file f;
	char line[512], cfg[512];
	int cases = 0;

	if (vec_open(&f, "lrn.vec")) {
		tap_ok(0, "read lrn.vec: %s", cnn_errmsg());
		return;
	}
	while (vec_header(&f, line, sizeof line)) {
		int darknet, n, c, h, w, size;
		vec_ints(&f, line, "darknet", &darknet, 1);
		vec_ints(&f, line, "n", &n, 1);
		vec_ints(&f, line, "c", &c, 1);
		vec_ints(&f, line, "h", &h, 1);
		vec_ints(&f, line, "w", &w, 1);
		vec_ints(&f, line, "size", &size, 1);
		snprintf(cfg, sizeof cfg, "[net]\nbatch=%d\nchannels=%d\nheight=%d\nwidth=%d\n"
			 "[%s]\nsize=%d\nalpha=%.9g\nbeta=%.9g\nkappa=%.9g\n", n, c, h, w,
			 darknet ? "normalization" : "lrn", size, vec_double(&f, line, "alpha"),
			 vec_double(&f, line, "beta"), vec_double(&f, line, "kappa"));
		long count = (long)n * c * h * w;
		float *x = vec_floats(&f, count), *g = vec_floats(&f, count);
		float *y = vec_floats(&f, count), *dx = vec_floats(&f, count);
		float *got_dx = calloc(count, sizeof *got_dx);
		cnn_net *net = make(cfg, line);
		cases++;
		if (net) {
			const float *got = cnn_net_forward(net, x, n, 0);
			cnn_layer *l = &net->layer[0];
			double ey = got ? tap_relerr(got, y, count) : INFINITY, edx;
			memcpy(l->delta, g, sizeof *g * count);
			l->input_delta = got_dx;
			edx = l->type->backward(l, net) ? INFINITY : tap_relerr(got_dx, dx, count);
			l->input_delta = NULL;
			tap_ok(ey <= 1e-5 && edx <= 1e-5, "%s: PyTorch's output (relerr %.1e) and "
			       "gradient (%.1e)", line, ey, edx);
		}
		cnn_net_free(net);
		free(x), free(g), free(y), free(dx), free(got_dx);
	}
	tap_ok(cases >= 8 && !f.bad, "lrn.vec: %d cases, format %s", cases,
	       f.bad ? "broken" : "fine");
	vec_close(&f);
}

/* [reorg] and [reorg3d] on an 8 x 4 x 4 input holding its flat index:
 * darknet's mapping gives 0 2 4 6 16 18 20 22 first, a true space-to-depth
 * 0 2 8 10 16 18 24 26 (../shared/anchors-apps.md 1.5); darknet's
 * reverse=1 is a true depth-to-space, which undoes [reorg3d]. */
static void reorg_values(void)
{
	static const char *const cfgs[] = {
		"[net]\nchannels=8\nheight=4\nwidth=4\n[reorg]\nstride=2\n",
		"[net]\nchannels=8\nheight=4\nwidth=4\n[reorg3d]\nstride=2\n",
		"[net]\nchannels=8\nheight=4\nwidth=4\n[reorg3d]\nstride=2\n[reorg]\nstride=2\nreverse=1\n",
	};
	static const float want[3][8] = {
		{0, 2, 4, 6, 16, 18, 20, 22}, {0, 2, 8, 10, 16, 18, 24, 26}, {0, 1, 2, 3, 4, 5, 6, 7},
	};
	static const char *const what[3] = {"darknet's [reorg]", "[reorg3d], space-to-depth",
					    "[reorg3d] then [reorg] reverse=1: the input again"};
	float x[128];

	for (int i = 0; i < 128; i++)
		x[i] = (float)i;
	for (int k = 0; k < 3; k++) {
		cnn_net *net = make(cfgs[k], what[k]);
		const float *y = net ? cnn_net_forward(net, x, 1, 0) : NULL;
		int same = y != NULL;
		for (int i = 0; same && i < (k == 2 ? 128 : 8); i++)
			same = y[i] == (k == 2 ? x[i] : want[k][i]);
		tap_ok(same, "%s: the first outputs %g %g %g %g %g %g %g %g", what[k], y ? y[0] : -1,
		       y ? y[1] : -1, y ? y[2] : -1, y ? y[3] : -1, y ? y[4] : -1, y ? y[5] : -1,
		       y ? y[6] : -1, y ? y[7] : -1);
		cnn_net_free(net);
	}
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
	check("lrn (alpha large enough to matter)", NET CONV(6, tanh) "[lrn]\nsize=3\nalpha=2\nbeta=0.75\nkappa=1\n[connected]\noutput=3\nactivation=linear\n[softmax]\n", 1);
	check("lrn of even size, wider than the channels", NET CONV(3, tanh) "[lrn]\nsize=4\nalpha=3\nbeta=0.5\n[connected]\noutput=3\nactivation=linear\n[softmax]\n", 1);
	check("normalization (darknet's LRN)", NET CONV(5, tanh) "[normalization]\nsize=4\nalpha=0.5\nbeta=1\n[connected]\noutput=3\nactivation=linear\n[softmax]\n", 1);
	check("scale_channels (squeeze-and-excitation)", NET CONV(4, tanh)
	      "[avgpool]\n[convolutional]\nfilters=4\nsize=1\nactivation=logistic\n[scale_channels]\nfrom=-3\n"
	      "[connected]\noutput=3\nactivation=linear\n[softmax]\n", 1);
	check("scale_channels after a bottleneck, with an activation", NET CONV(4, tanh)
	      "[avgpool]\n[convolutional]\nfilters=2\nsize=1\nactivation=swish\n[convolutional]\nfilters=4\nsize=1\nactivation=logistic\n"
	      "[scale_channels]\nfrom=-4\nactivation=tanh\n[connected]\noutput=3\nactivation=linear\n[softmax]\n", 1);
	check("scale_channels scale_wh=1 (a weight per pixel)", NET CONV(3, tanh)
	      "[convolutional]\nfilters=1\nsize=3\npad=1\nactivation=logistic\n[scale_channels]\nfrom=-2\nscale_wh=1\n"
	      "[connected]\noutput=3\nactivation=linear\n[softmax]\n", 1);
	check("l2norm across the channels of each pixel", NET CONV(4, tanh) "[l2norm]\n[connected]\noutput=3\nactivation=linear\n[softmax]\n", 1);
	check("l2norm of an embedding (FaceNet's)", NET CONV(3, tanh) "[connected]\noutput=5\nactivation=linear\n[l2norm]\n[cost]\ntype=sse\n", 0);
	check("region's activations (logistic, softmax over 2 classes) into a loss", NET CONV(14, tanh)
	      "[region]\nanchors=1,2,3,1\nnum=2\nclasses=2\nsoftmax=1\n[connected]\noutput=3\nactivation=linear\n[softmax]\n", 1);
	check("yolo's activations (scale_x_y 1.1, logistic classes) into a loss", NET CONV(14, tanh)
	      "[yolo]\nmask=0,2\nanchors=4,5,6,7,8,9\nnum=3\nclasses=2\nscale_x_y=1.1\n[connected]\noutput=3\nactivation=linear\n[softmax]\n", 1);
	check("region's logistic classes", NET CONV(12, tanh)
	      "[region]\nnum=2\nclasses=1\n[connected]\noutput=3\nactivation=linear\n[softmax]\n", 1);
	check("reorg (darknet's mapping) and reorg reverse", "[net]\nbatch=3\nchannels=2\nheight=4\nwidth=4\n"
	      CONV(4, tanh) "[reorg]\nstride=2\n[reorg]\nstride=2\nreverse=1\n[reorg]\nstride=2\n"
	      "[connected]\noutput=3\nactivation=linear\n[softmax]\n", 1);
	check("reorg3d", "[net]\nbatch=3\nchannels=2\nheight=4\nwidth=4\n" CONV(3, tanh) "[reorg3d]\nstride=2\n"
	      "[connected]\noutput=3\nactivation=linear\n[softmax]\n", 1);
	reorg_values();
	check("reorg flatten=1 (to H x W x C order) and extra=3", NET CONV(3, tanh)
	      "[reorg]\nstride=1\nflatten=1\n[reorg]\nstride=1\nextra=3\n"
	      "[connected]\noutput=3\nactivation=linear\n[softmax]\n", 1);
	check("local (unshared filters), padded", NET CONV(2, tanh) "[local]\nfilters=3\nsize=3\nstride=1\npad=1\nactivation=leaky\n"
	      "[connected]\noutput=3\nactivation=linear\n[softmax]\n", 1);
	check("local stride 2, no padding", NET CONV(2, tanh) "[local]\nfilters=2\nsize=2\nstride=2\nactivation=linear\n"
	      "[connected]\noutput=3\nactivation=linear\n[softmax]\n", 1);
	check("activation on its own (swish)", NET CONV(3, linear) "[activation]\nactivation=swish\n[connected]\noutput=3\nactivation=linear\n[softmax]\n", 1);
	check("zeropad, then a pool that sees the zeros", NET CONV(2, tanh) "[zeropad]\ntop=1\nleft=2\nbottom=0\nright=1\n[maxpool]\nsize=2\nstride=2\n[connected]\noutput=3\nactivation=linear\n[softmax]\n", 1);
	check("a 1x3 and a 3x1 convolution, stride_x=2", NET CONV(2, tanh) "[convolutional]\nfilters=3\nsize_y=1\nsize_x=3\nstride_x=2\nsame=1\nactivation=tanh\n[convolutional]\nfilters=2\nsize_y=3\nsize_x=1\npad=1\nactivation=tanh\n[connected]\noutput=3\nactivation=linear\n[softmax]\n", 1);
	check("affine: a scale and a bias per channel", NET CONV(3, tanh) "[affine]\nactivation=leaky\n[connected]\noutput=3\nactivation=linear\n[softmax]\n", 1);
	check("batchnorm with Keras's epsilon", NET CONV(3, linear) "[batchnorm]\nepsilon=0.001\n[connected]\noutput=3\nactivation=linear\n[softmax]\n", 1);
	lrn_vectors();

	/* Errors name the file and line. */
	expect_error("batch=1\n[net]\n", "t.cfg:1: 'batch=1' comes before the first [section]", "a key before any section");
	expect_error(NET "[convolutional]\nfilters=2\nsize=3\nfliters=3\n", "t.cfg:9: unknown key 'fliters' in [convolutional]", "an unknown key");
	expect_error(NET "[convolutional]\nfilters=two\n", "t.cfg:7: [convolutional] filters=two: want a whole number", "a bad value");
	expect_error(NET "[convolutional]\nfilters=2\nactivation=sigmoid\n", "activation=sigmoid: want one of: linear relu", "an unknown activation");
	expect_error(NET "[rnn]\nhidden=4\n", "t.cfg:6: unsupported section [rnn]", "an unsupported section");
	expect_error(NET "[deconvolutional]\nfilters=2\nsize_y=4\nsize_x=4\nstride=2\n",
		     "t.cfg:6: [deconvolutional]: a transposed convolution takes one size= and one "
		     "stride=", "a transposed convolution with size_y=");
	expect_error(NET "[shortcut]\nfrom=-3\n", "t.cfg:6: [shortcut]: from=-3 is not an earlier layer", "a shortcut to nowhere");
	expect_error("[convolutional]\nfilters=2\n", "the first section must be [net]", "no [net]");
	expect_error("<html>\n<body>\n", "t.cfg:1: expected key=value or [section]", "an HTML page");
	expect_error(NET "[convolutional]\nfilters=2\nsize=9\n", "larger than the padded input", "a kernel larger than the input");
	expect_error(NET "[lrn]\nkappa=0\n", "t.cfg:7: [lrn] kappa=0: want a number from 1e-06 to 1e+06", "an lrn that could divide by 0");
	expect_error(NET "[l2norm]\nsize=3\n", "t.cfg:7: unknown key 'size' in [l2norm]", "l2norm has no keys");
	expect_error(NET CONV(2, tanh) "[avgpool]\n[scale_channels]\n", "t.cfg:12: [scale_channels]: needs from=", "scale_channels without from=");
	expect_error(NET CONV(2, tanh) "[avgpool]\n[scale_channels]\nfrom=2\n", "t.cfg:12: [scale_channels]: from=2 is not an earlier layer",
		     "scale_channels from itself");
	expect_error(NET CONV(2, tanh) "[avgpool]\n[scale_channels]\nfrom=4\n", "t.cfg:12: [scale_channels]: from=4 is not an earlier layer",
		     "scale_channels from a later layer");
	expect_error(NET CONV(4, tanh) "[avgpool]\n[convolutional]\nfilters=3\nsize=1\nactivation=logistic\n[scale_channels]\nfrom=-3\n",
		     "t.cfg:16: [scale_channels]: the input is 3x1x1: layer 0 (4x6x6) wants 4x1x1, a weight for each channel",
		     "scale_channels with too few weights");
	expect_error(NET CONV(4, tanh) CONV(4, logistic) "[scale_channels]\nfrom=-2\n",
		     "t.cfg:16: [scale_channels]: the input is 4x6x6: layer 0 (4x6x6) wants 4x1x1",
		     "scale_channels of a map by a map");
	expect_error(NET CONV(4, tanh) "[maxpool]\nsize=2\nstride=2\n[convolutional]\nfilters=1\nsize=1\n[scale_channels]\nfrom=-3\nscale_wh=1\n",
		     "the input is 1x3x3: layer 0 (4x6x6) wants 1x6x6, a weight for each pixel",
		     "scale_channels scale_wh=1 of another size");

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
