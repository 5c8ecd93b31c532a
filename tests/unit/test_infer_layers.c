/*
 * test_infer_layers.c - the inference passes of the layers that share
 * their values between threads ([batchnorm], [activation], [route],
 * [shortcut], the poolings): on maps large enough to be shared, every
 * layer's output is bit for bit the same on one thread and two, and those
 * of the first four are their definitions' scalar arithmetic.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/batchnorm.h"
#include "tap.h"

enum { N = 2, C = 8, H = 96, W = 96, PLANE = H * W };

/* 8 x 96 x 96 = 73,728 values per image, over every threshold. */
static const char cfg_text[] =
	"[net]\nbatch=2\nchannels=4\nheight=96\nwidth=96\n"
	"[convolutional]\nfilters=8\nsize=3\npad=1\nactivation=linear\n"	/* 0 */
	"[batchnorm]\n"								/* 1 */
	"[activation]\nactivation=leaky\n"					/* 2 */
	"[route]\nlayers=-1,-3\n"						/* 3: 2 then 0 */
	"[route]\nlayers=-1\ngroups=2\ngroup_id=1\n"				/* 4: = 0 */
	"[shortcut]\nfrom=-3\nactivation=relu\n"				/* 5: 4 + 2 */
	"[avgpool]\nsize=3\nstride=1\nsame=1\n"
	"[maxpool]\nsize=3\nstride=2\n";

static float *param(cnn_layer *l, const char *name)
{
	for (int i = 0; i < l->nparam; i++)
		if (!strcmp(l->param[i].name, name))
			return l->param[i].value;
	return NULL;
}

/* The batch normalisation's statistics, scale and shift, made up. */
static void fill_bn(cnn_layer *l, cnn_rng *rng)
{
	static const char *const names[] = { "scale", "bias", "mean", "variance" };

	for (int i = 0; i < 4; i++)
		for (int c = 0; c < C; c++)
			param(l, names[i])[c] = (float)cnn_rng_uniform(rng) * 2 - (i < 3);
}

static int same(const float *a, const float *b, long n)
{
	return !memcmp(a, b, sizeof *a * n);
}

/* Layers 1 to 5 from their inputs, as their definitions say. */
static void definitions(cnn_net *net)
{
	cnn_layer *L = net->layer, *bn = &L[1];
	float *want = malloc(sizeof *want * N * 2 * C * PLANE);
	int ok[5] = { 1, 1, 1, 1, 1 };

	for (long p = 0; want && p < N * C; p++) {
		int c = (int)(p % C);
		float invstd = 1 / (sqrtf(param(bn, "variance")[c]) + 1e-6f);

		for (long j = 0; j < PLANE; j++) {
			long i = p * PLANE + j;
			float x = L[0].output[i], y = L[1].output[i];

			ok[0] &= y == param(bn, "scale")[c] * ((x - param(bn, "mean")[c]) * invstd) +
				     param(bn, "bias")[c];
			ok[1] &= L[2].output[i] == (y > 0 ? y : 0.1f * y);
			ok[3] &= L[4].output[i] == x;
			ok[4] &= L[5].output[i] == fmaxf(x + L[2].output[i], 0);
		}
	}
	for (int b = 0; want && b < N; b++) {
		memcpy(want + (b * 2) * C * PLANE, L[2].output + b * C * PLANE,
		       sizeof *want * C * PLANE);
		memcpy(want + (b * 2 + 1) * C * PLANE, L[0].output + b * C * PLANE,
		       sizeof *want * C * PLANE);
	}
	ok[2] = want && same(L[3].output, want, N * 2 * C * PLANE);
	tap_ok(ok[0], "[batchnorm] inference: scale ((x - mean) / (sqrt(var) + 1e-6)) + shift, darknet's");
	tap_ok(ok[1], "[activation] leaky");
	tap_ok(ok[2], "[route] of two layers: the channels of each in turn");
	tap_ok(ok[3], "[route] groups=2 group_id=1: the second half of each image");
	tap_ok(ok[4], "[shortcut] with relu");
	free(want);
}

int main(void)
{
	cnn_cfg *cfg = cnn_cfg_parse(cfg_text, "t.cfg");
	cnn_net *net = cfg ? cnn_net_new(cfg, 0, 1) : NULL;
	long in = 4L * PLANE, total = 0;
	float *x = malloc(sizeof *x * N * in), *one;
	cnn_rng rng;

	if (!net || !x)
		return tap_ok(0, "a network: %s", cnn_errmsg()), tap_done();
	cnn_rng_seed(&rng, 3);
	for (long i = 0; i < N * in; i++)
		x[i] = (float)cnn_rng_uniform(&rng) * 2 - 1;
	fill_bn(&net->layer[1], &rng);
	for (int i = 0; i < net->nlayers; i++)
		total += net->layer[i].outputs * N;
	one = malloc(sizeof *one * total);
	cnn_set_threads(1);
	tap_ok(one && cnn_net_forward(net, x, N, 0) != NULL, "a forward pass on one thread");
	for (long i = 0, at = 0; one && i < net->nlayers; at += net->layer[i++].outputs * N)
		memcpy(one + at, net->layer[i].output, sizeof *one * net->layer[i].outputs * N);
	definitions(net);
	cnn_set_threads(2);
	tap_ok(cnn_net_forward(net, x, N, 0) != NULL, "a forward pass on two threads");
	for (long i = 0, at = 0; one && i < net->nlayers; at += net->layer[i++].outputs * N)
		tap_ok(same(one + at, net->layer[i].output, net->layer[i].outputs * N),
		       "layer %ld [%s]: the same on two threads as on one", i,
		       net->layer[i].type->name);
	free(one);
	free(x);
	cnn_net_free(net);
	return tap_done();
}
