/*
 * test_inputgrad.c - cnn_net_input_gradient: dLoss/dinput of a loss on two
 * taps agrees with central differences through convolution, batch
 * normalisation (running statistics), ReLU, max pooling, a shortcut and a
 * route, and through every layer type with parameters; no parameter
 * gradient is written; the layers after the deepest tap do not run.  Also the layer names and taps it relies on:
 * cnn_net_layer_find, cnn_net_forward_to against a cfg cut at that layer.
 */
#include <stdlib.h>
#include <string.h>

#include "nn/net.h"
#include "tap.h"

#define N 2
#define LAYERS \
	"[convolutional]\nname=c1\nfilters=3\nsize=3\npad=1\nbatch_normalize=1\nactivation=relu\n" \
	"[maxpool]\nsize=2\nstride=2\n" \
	"[convolutional]\nname=c2\nfilters=3\nsize=3\npad=1\nactivation=tanh\n" \
	"[shortcut]\nname=sum\nfrom=-2\n" \
	"[route]\nlayers=-1,c2\n" \
	"[convolutional]\nname=mix\nfilters=4\nsize=1\nactivation=leaky\n"
#define NET "[net]\nbatch=2\nchannels=2\nheight=6\nwidth=6\n"
#define CFG NET LAYERS "[connected]\noutput=5\nactivation=linear\n[softmax]\n"

static cnn_rng rng;

static cnn_net *make(const char *text)
{
	cnn_cfg *cfg = cnn_cfg_parse(text, "t.cfg");
	cnn_net *net = cfg ? cnn_net_new(cfg, 0, 7) : NULL;

	if (!net)
		tap_ok(0, "build: %s", cnn_errmsg());
	return net;
}

/* Batch normalisation away from the identity: running statistics and a
 * scale and shift that the inference pass must use. */
static int perturb(void *ctx, const char *name, float *v, int ndim, const int64_t *dim,
		   int trained)
{
	const char *dot = strchr(name, '.');
	long count = 1;

	(void)ctx;
	(void)trained;
	for (int i = 0; i < ndim; i++)
		count *= dim[i];
	for (long i = 0; dot && strcmp(dot, ".weight") && i < count; i++)
		v[i] = (float)(strcmp(dot, ".variance") && strcmp(dot, ".scale")
			       ? cnn_rng_uniform(&rng) - 0.5 : 0.5 + cnn_rng_uniform(&rng));
	return CNN_OK;
}

/* The loss on the taps: the sum of the squares of the first (size[0]
 * values an example) and, with two taps, each example's squared distance
 * of the second's Gram matrix G = F F^T / M (F: c x m) from a target T. */
struct taps {
	long size[2];
	int c;
	long m;
	float target[16];
};

static double sum_squares(const float *v, float *grad, long n)
{
	double loss = 0;

	for (long i = 0; i < n; i++) {
		loss += (double)v[i] * v[i];
		grad[i] = 2 * v[i];
	}
	return loss;
}

static double gram_loss(const struct taps *t, const float *f, float *g)
{
	double d[16], loss = 0;
	int c = t->c;
	long m = t->m;

	for (int i = 0; i < c; i++)
		for (int j = 0; j < c; j++) {
			double gram = 0;
			for (long p = 0; p < m; p++)
				gram += (double)f[i * m + p] * f[j * m + p];
			d[i * c + j] = gram / m - t->target[i * c + j];
			loss += d[i * c + j] * d[i * c + j];
		}
	/* dL/dF = 4 / M (G - T) F, G and T symmetric */
	for (int i = 0; i < c; i++)
		for (long p = 0; p < m; p++) {
			double s = 0;
			for (int j = 0; j < c; j++)
				s += d[i * c + j] * f[j * m + p];
			g[i * m + p] = (float)(4 * s / m);
		}
	return loss;
}

static double tap_loss(void *ctx, int ntaps, const int *taps, const float *const *out,
		       float *const *grads, int n)
{
	const struct taps *t = ctx;
	double loss = sum_squares(out[0], grads[0], n * t->size[0]);

	(void)taps;
	for (int b = 0; ntaps == 2 && b < n; b++)
		loss += gram_loss(t, out[1] + b * t->size[1], grads[1] + b * t->size[1]);
	return loss;
}

struct check {
	cnn_net *net;
	float *x, *scratch[2];
	int ntaps, taps[2];
	struct taps t;
};

/* The same loss from a plain forward to the deepest tap, for the
 * differences. */
static double numeric_loss(void *ctx)
{
	struct check *k = ctx;
	const float *out[2];

	if (!cnn_net_forward_to(k->net, k->x, N, k->taps[k->ntaps - 1]))
		return NAN;
	for (int i = 0; i < k->ntaps; i++)
		out[i] = cnn_net_layer_output(k->net, k->taps[i], NULL, NULL, NULL);
	return tap_loss(&k->t, k->ntaps, k->taps, out, k->scratch, N);
}

static void poison_grads(cnn_net *net)
{
	for (int i = 0; i < net->nlayers; i++)
		for (int p = 0; p < net->layer[i].nparam; p++)
			for (long j = 0; net->layer[i].param[p].grad && j < net->layer[i].param[p].count; j++)
				net->layer[i].param[p].grad[j] = NAN;
}

/* Every parameter gradient still NaN, every running statistic as saved. */
static int untouched(const cnn_net *net, const float *stats)
{
	long at = 0;

	for (int i = 0; i < net->nlayers; i++)
		for (int p = 0; p < net->layer[i].nparam; p++) {
			const cnn_param *par = &net->layer[i].param[p];
			for (long j = 0; j < par->count; j++) {
				if (par->grad && !isnan(par->grad[j]))
					return 0;
				if (!par->grad && par->value[j] != stats[at++])
					return 0;
			}
		}
	return 1;
}

/* The running statistics (the parameters without gradients), in order. */
static float *save_stats(const cnn_net *net)
{
	long count = 0, at = 0;
	float *stats;

	for (int i = 0; i < net->nlayers; i++)
		for (int p = 0; p < net->layer[i].nparam; p++)
			count += net->layer[i].param[p].grad ? 0 : net->layer[i].param[p].count;
	if (!(stats = malloc(sizeof *stats * (count ? count : 1))))
		return NULL;
	for (int i = 0; i < net->nlayers; i++)
		for (int p = 0; p < net->layer[i].nparam; p++)
			for (long j = 0; !net->layer[i].param[p].grad && j < net->layer[i].param[p].count; j++)
				stats[at++] = net->layer[i].param[p].value[j];
	return stats;
}

/* The check's buffers for its taps, and random inputs in -1..1. */
static int prepare(struct check *k)
{
	long in = (long)k->net->c * k->net->h * k->net->w;

	for (int i = 0; i < k->ntaps; i++) {
		cnn_layer_info li;
		cnn_net_layer_info(k->net, k->taps[i], &li);
		k->t.size[i] = (long)li.out_c * li.out_h * li.out_w;
		if (!(k->scratch[i] = malloc(sizeof(float) * N * k->t.size[i])))
			return CNN_ERR;
	}
	if (!(k->x = malloc(sizeof *k->x * N * in)))
		return CNN_ERR;
	for (long i = 0; i < N * in; i++)
		k->x[i] = (float)(2 * cnn_rng_uniform(&rng) - 1);
	return CNN_OK;
}

/* dx against central differences, no parameter gradient written, no
 * running statistic moved, and the layer after the deepest tap left as a
 * full pass left it. */
static void check_gradient(const char *what, struct check *k)
{
	cnn_net *net = k->net;
	int after = k->taps[k->ntaps - 1] + 1;
	long in = (long)net->c * net->h * net->w;
	float *dx = malloc(sizeof *dx * N * in), *stats;
	double value = NAN, worst;
	int ret;

	if (!dx || prepare(k)) {
		tap_ok(0, "%s: out of memory", what);
		return;
	}
	cnn_net_forward(net, k->x, N, 0);
	net->layer[after].output[0] = 12345;
	poison_grads(net);
	stats = save_stats(net);
	ret = cnn_net_input_gradient(net, k->x, N, k->ntaps, k->taps, tap_loss, &k->t, dx, &value);
	tap_ok(ret == CNN_OK && isfinite(value), "%s: the input gradient (loss %g) %s", what,
	       value, ret ? cnn_errmsg() : "");
	tap_ok(stats && untouched(net, stats),
	       "%s: no parameter gradient written, no running statistic moved", what);
	tap_ok(net->layer[after].output[0] == 12345 &&
	       !cnn_net_layer_output(net, after, NULL, NULL, NULL),
	       "%s: layer %d, after the deepest tap, did not run", what, after);
	tap_ok(!net->no_param_grads && !net->layer[0].input_delta,
	       "%s: the net is left for training: gradients on, no input delta", what);
	tap_ok(fabs(numeric_loss(k) - value) < 1e-9 * fmax(1, fabs(value)),
	       "%s: the loss a plain forward gives is the same", what);
	/* A step of 0.01 on inputs in -1..1: at 0.001 the float32 rounding of
	 * a loss of about 65 alone makes differences of 1e-3. */
	worst = cnn_gradcheck(k->x, dx, N * in, 1, numeric_loss, k, 1e-2);
	tap_ok(worst < 1e-3, "%s: dLoss/dx agrees with central differences (worst %.1e)", what,
	       worst);
	free(k->x);
	free(k->scratch[0]);
	free(k->scratch[1]);
	free(dx);
	free(stats);
}

/* Two taps by name through conv + BN + ReLU, max pooling, a shortcut and
 * a route: the sum of squares of "sum" and a Gram loss of "mix". */
static void test_taps(void)
{
	struct check k = {.ntaps = 2};

	if (!(k.net = make(CFG)))
		return;
	cnn_net_visit_params(k.net, perturb, NULL);
	k.taps[0] = cnn_net_layer_find(k.net, "sum");
	k.taps[1] = cnn_net_layer_find(k.net, "mix");
	tap_ok(k.taps[0] == 3 && k.taps[1] == 5, "the taps by name: sum is 3 (%d), mix is 5 (%d)",
	       k.taps[0], k.taps[1]);
	k.t.c = 4;
	k.t.m = 9;
	for (int i = 0; i < 4; i++)
		for (int j = 0; j <= i; j++)
			k.t.target[i * 4 + j] = k.t.target[j * 4 + i] = (float)cnn_rng_uniform(&rng);
	check_gradient("two taps", &k);
	cnn_net_free(k.net);
}

/* Every layer type with parameters skips its gradients: [batchnorm],
 * [deconvolutional] and [connected], with and without batch_normalize;
 * one tap, at the end. */
static void test_param_layers(void)
{
	struct check k = {.ntaps = 1, .taps = {5}};

	if (!(k.net = make(NET "[convolutional]\nfilters=2\nsize=3\nactivation=tanh\n[batchnorm]\n"
			   "[deconvolutional]\nfilters=2\nsize=3\nstride=2\nactivation=tanh\n"
			   "[deconvolutional]\nbatch_normalize=1\nfilters=2\nsize=3\npad=1\n"
			   "activation=linear\n[connected]\noutput=6\nactivation=tanh\n"
			   "[connected]\nbatch_normalize=1\noutput=3\nactivation=swish\n[softmax]\n")))
		return;
	cnn_net_visit_params(k.net, perturb, NULL);
	check_gradient("layers with parameters", &k);
	cnn_net_free(k.net);
}

/* Refuse taps that are not layers, or the same layer twice. */
static void test_bad_taps(void)
{
	cnn_net *net = make(CFG);
	float x[N * 72] = {0}, dx[N * 72];
	int twice[2] = {3, 3}, beyond[1] = {8};
	struct taps t = {{27, 27}, 3, 9, {0}};

	if (!net)
		return;
	tap_ok(cnn_net_input_gradient(net, x, N, 2, twice, tap_loss, &t, dx, NULL) &&
	       strstr(cnn_errmsg(), "layer 3 is tapped twice"), "a layer tapped twice: %s",
	       cnn_errmsg());
	tap_ok(cnn_net_input_gradient(net, x, N, 1, beyond, tap_loss, &t, dx, NULL) &&
	       strstr(cnn_errmsg(), "tap 8: the network has layers 0 to 7"), "a tap beyond: %s",
	       cnn_errmsg());
	cnn_net_free(net);
}

static void test_find(void)
{
	cnn_net *net = make(CFG);

	if (!net)
		return;
	tap_ok(cnn_net_layer_find(net, "c2") == 2 && cnn_net_layer_find(net, " 4 ") == 4 &&
	       cnn_net_layer_find(net, "-1") == 7 && cnn_net_layer_find(net, "-8") == 0,
	       "cnn_net_layer_find: names, indices, from the end");
	tap_ok(cnn_net_layer_find(net, "c3") == CNN_ERR &&
	       !strcmp(cnn_errmsg(), "no layer is named c3"), "an unknown name: %s", cnn_errmsg());
	tap_ok(cnn_net_layer_find(net, "-9") == CNN_ERR &&
	       strstr(cnn_errmsg(), "no layer -9: the network has layers 0 to 7"),
	       "a number beyond: %s", cnn_errmsg());
	tap_ok(cnn_net_layer_find(net, "4x") == CNN_ERR &&
	       strstr(cnn_errmsg(), "neither a number nor a name"), "neither: %s", cnn_errmsg());
	cnn_net_free(net);
}

/* forward_to a layer computes what the network cut after it computes. */
static void test_forward_to(void)
{
	cnn_net *full = make(CFG), *cut = make(NET LAYERS);
	float x[N * 72];
	const float *a, *b, *out;
	int c = 0, h = 0, w = 0;

	if (!full || !cut)
		return;
	for (int i = 0; i < N * 72; i++)
		x[i] = (float)cnn_rng_uniform(&rng);
	cnn_net_visit_params(full, perturb, NULL);
	cnn_net_copy_params(cut, full, -1);
	a = cnn_net_forward_to(full, x, N, cnn_net_layer_find(full, "mix"));
	b = cnn_net_forward(cut, x, N, 0);
	out = cnn_net_layer_output(full, 5, &c, &h, &w);
	tap_ok(a && b && out == a && c == 4 && h == 3 && w == 3 && !memcmp(a, b, sizeof *a * N * 36),
	       "forward_to \"mix\" equals the network cut there (4x3x3: %dx%dx%d)", c, h, w);
	cnn_net_free(full);
	cnn_net_free(cut);
}

int main(void)
{
	cnn_set_threads(1);
	cnn_rng_seed(&rng, 5);
	test_taps();
	test_param_layers();
	test_bad_taps();
	test_find();
	test_forward_to();
	return tap_done();
}
