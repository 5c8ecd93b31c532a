/*
 * test_batchnorm.c - a training step of batch normalisation by each of its
 * two rules (batchnorm.h) against the rule written out in double: darknet's
 * (its forward_batchnorm_layer on the CPU: variance_cpu's unbiased variance,
 * normalize_cpu's sqrt(var) + 1e-6, rolling statistics moved by 0.01) and
 * PyTorch's (BatchNorm2d: the biased variance plus epsilon under the root,
 * the unbiased one into running_var, momentum 0.1).  A constant channel
 * comes out as the shift, not a NaN.  Then dL/dx of each rule against
 * central differences on a batch of six values a channel, where the
 * unbiased variance's m / (m - 1) is 1.2 (test_layers' whole-net checks
 * cannot see that factor under their absolute tolerance).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/net.h"
#include "tap.h"

enum { N = 3, C = 3, H = 4, W = 5, PLANE = H * W };

static float *param(cnn_layer *l, const char *name)
{
	for (int i = 0; i < l->nparam; i++)
		if (!strcmp(l->param[i].name, name))
			return l->param[i].value;
	return NULL;
}

/* One training forward of [batchnorm] with the given keys; eps 0 is
 * darknet's rule. */
static void step(const char *keys, double eps, const char *rule)
{
	char text[256];
	cnn_cfg *cfg;
	cnn_net *net;
	float x[N * C * PLANE];
	cnn_rng rng;
	double worst = 0, worst_stat = 0;
	int finite = 1;

	snprintf(text, sizeof text,
		 "[net]\nbatch=%d\nchannels=%d\nheight=%d\nwidth=%d\n[batchnorm]\n%s", N, C, H,
		 W, keys);
	cfg = cnn_cfg_parse(text, "t.cfg");
	net = cfg ? cnn_net_new(cfg, 0, 1) : NULL;
	if (!net) {
		tap_ok(0, "%s: a network: %s", rule, cnn_errmsg());
		return;
	}
	cnn_rng_seed(&rng, 5);
	for (int i = 0; i < N * C * PLANE; i++) {
		int c = i / PLANE % C;
		x[i] = c == 2 ? 0.25f : (float)(cnn_rng_uniform(&rng) * (c + 1) - 0.3);
	}
	cnn_layer *l = &net->layer[0];
	float *scale = param(l, "scale"), *bias = param(l, "bias");
	for (int c = 0; c < C; c++) {
		scale[c] = 0.5f + c;
		bias[c] = 0.1f * c;
	}
	tap_ok(cnn_net_forward(net, x, N, 1) != NULL, "%s: a training forward", rule);
	for (int c = 0; c < C; c++) {
		double s = 0, ss = 0, m = N * PLANE, mean, var, div;
		for (int b = 0; b < N; b++)
			for (int j = 0; j < PLANE; j++)
				s += x[(b * C + c) * PLANE + j];
		mean = s / m;
		for (int b = 0; b < N; b++)
			for (int j = 0; j < PLANE; j++) {
				double d = x[(b * C + c) * PLANE + j] - mean;
				ss += d * d;
			}
		var = ss / (m - 1);
		div = eps ? sqrt(ss / m + eps) : sqrt(var) + 1e-6;
		for (int b = 0; b < N; b++)
			for (int j = 0; j < PLANE; j++) {
				int i = (b * C + c) * PLANE + j;
				double want = scale[c] * (x[i] - mean) / div + bias[c];
				finite &= isfinite(l->output[i]);
				worst = fmax(worst, fabs(l->output[i] - want));
			}
		double momentum = eps ? 0.1 : 0.01;
		worst_stat = fmax(worst_stat, fabs(param(l, "mean")[c] - momentum * mean));
		worst_stat = fmax(worst_stat,
				  fabs(param(l, "variance")[c] - (1 - momentum + momentum * var)));
	}
	tap_ok(finite && worst < 2e-6, "%s: the output as the rule says, the constant channel its shift (worst %.1e)",
	       rule, worst);
	tap_ok(worst_stat < 1e-7, "%s: the running statistics moved as the rule says (worst %.1e)",
	       rule, worst_stat);
	cnn_net_free(net);
}

/* sum(g y) of a training forward of x. */
static double weighted_output(cnn_net *net, const float *x, const float *g, long count)
{
	const float *y = cnn_net_forward(net, x, 3, 1);
	double sum = 0;

	for (long i = 0; y && i < count; i++)
		sum += (double)g[i] * y[i];
	return y ? sum : NAN;
}

static void input_gradient(const char *keys, const char *rule)
{
	enum { B = 3, CH = 2, S = 2, COUNT = B * CH * S };
	char text[256];
	float x[COUNT], g[COUNT], dx[COUNT];
	double worst = 0, largest = 0;
	cnn_rng rng;
	cnn_cfg *cfg;
	cnn_net *net;

	snprintf(text, sizeof text,
		 "[net]\nbatch=%d\nchannels=%d\nheight=1\nwidth=%d\n[batchnorm]\n%s", B, CH, S,
		 keys);
	cfg = cnn_cfg_parse(text, "t.cfg");
	if (!(net = cfg ? cnn_net_new(cfg, 0, 1) : NULL)) {
		tap_ok(0, "%s: a network: %s", rule, cnn_errmsg());
		return;
	}
	cnn_rng_seed(&rng, 9);
	for (int i = 0; i < COUNT; i++) {
		x[i] = (float)(cnn_rng_uniform(&rng) * 2 - 1);
		g[i] = (float)(cnn_rng_uniform(&rng) * 2 - 1);
	}
	cnn_layer *l = &net->layer[0];
	param(l, "scale")[1] = 1.7f;
	weighted_output(net, x, g, COUNT);
	memcpy(l->delta, g, sizeof g);
	memset(dx, 0, sizeof dx);
	l->input_delta = dx;
	int failed = l->type->backward(l, net);
	l->input_delta = NULL;
	for (int i = 0; i < COUNT && !failed; i++) {
		float keep = x[i];
		double h = 1e-3, up, down;
		x[i] = keep + (float)h;
		up = weighted_output(net, x, g, COUNT);
		x[i] = keep - (float)h;
		down = weighted_output(net, x, g, COUNT);
		x[i] = keep;
		worst = fmax(worst, fabs((up - down) / (2 * h) - dx[i]));
		largest = fmax(largest, fabs(dx[i]));
	}
	tap_ok(!failed && worst <= 1e-3 * largest,
	       "%s: dL/dx agrees with central differences, m = 6 (worst %.1e of %.2f)", rule,
	       worst, largest);
	cnn_net_free(net);
}

int main(void)
{
	step("", 0, "darknet's rule");
	step("epsilon=0.001\n", 1e-3, "PyTorch's rule (epsilon=0.001)");
	input_gradient("", "darknet's rule");
	input_gradient("epsilon=0.001\n", "PyTorch's rule (epsilon=0.001)");
	return tap_done();
}
