/*
 * layer_loss.c - the layers that end a network and score it against the
 * truth: [softmax] (cross-entropy), [cost] (squared or absolute error) and
 * [logistic] (binary cross-entropy).  Each loss is the mean over the batch.
 *
 * Each reads the record's "label": a class index (made one-hot) or a
 * vector of as many values as the layer has outputs (soft labels, targets).
 *
 * For softmax and logistic the gradient with respect to the layer's input
 * is simply (p - t) / n, so their loss writes that into delta and the
 * backward pass hands it on as it is.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/net.h"

struct loss_state {
	int groups;            /* softmax: independent groups of outputs */
	int spatial;           /* softmax: over the channels at each position */
	float temperature;
	int cost;              /* cost: which */
	float scale;
	int fused;             /* delta already holds dLoss/dinput */
};

enum { COST_SSE, COST_L1, COST_SMOOTH };
static const char *const cost_names[] = {"sse", "L1", "smooth", NULL};

/* What every loss here reads: one value per output. */
static void reads_label(cnn_layer *l)
{
	/* build runs before l->outputs is set; a loss keeps its input's shape. */
	l->truth = (cnn_truth_field){"label", CNN_TRUTH_CLASS, l->inputs};
}

static int build_softmax(cnn_layer *l, cnn_net *net, cnn_cfg_section *s)
{
	struct loss_state *st = calloc(1, sizeof *st);

	(void)net;
	reads_label(l);
	if (!(l->state = st))
		return cnn_error("out of memory");
	if (cnn_cfg_int(s, "groups", 1, 1, 1 << 20, &st->groups) ||
	    cnn_cfg_int(s, "spatial", 0, 0, 1, &st->spatial) ||
	    cnn_cfg_float(s, "temperature", 1, 1e-6f, 1e6f, &st->temperature))
		return CNN_ERR;
	if (st->spatial && st->groups > 1)
		return cnn_cfg_error(s, "spatial=1 and groups=%d: one or the other", st->groups);
	if (l->inputs % st->groups)
		return cnn_cfg_error(s, "%ld inputs do not split into %d groups", l->inputs,
				     st->groups);
	return CNN_OK;
}

/* The softmaxes of a batch: rows of size values, value i of row r at
 * base + i * step.  groups=G: G rows an example, of consecutive values;
 * spatial=1 (darknet's, a fully convolutional classifier's): a row for
 * each position of each example, across the channels. */
struct rows {
	long rows, size, step;
};

static struct rows softmax_rows(const cnn_layer *l, const cnn_net *net)
{
	const struct loss_state *st = l->state;
	long plane = (long)l->h * l->w;

	if (st->spatial)
		return (struct rows){(long)net->n * plane, l->c, plane};
	return (struct rows){(long)net->n * st->groups, l->inputs / st->groups, 1};
}

static long row_base(const cnn_layer *l, const struct rows *g, long r)
{
	long plane = g->step;

	return g->step == 1 ? r * g->size : r / plane * l->inputs + r % plane;
}

static int forward_softmax(cnn_layer *l, cnn_net *net)
{
	struct loss_state *st = l->state;
	struct rows g = softmax_rows(l, net);

	st->fused = 0;
	for (long r = 0; r < g.rows; r++) {
		const float *x = l->input + row_base(l, &g, r);
		float *y = l->output + row_base(l, &g, r), max = x[0], sum = 0;
		for (long i = 1; i < g.size; i++)
			max = x[i * g.step] > max ? x[i * g.step] : max;
		for (long i = 0; i < g.size; i++)
			sum += y[i * g.step] = expf((x[i * g.step] - max) / st->temperature);
		for (long i = 0; i < g.size; i++)
			y[i * g.step] /= sum;
	}
	return CNN_OK;
}

static int loss_softmax(cnn_layer *l, cnn_net *net, double *loss)
{
	struct loss_state *st = l->state;
	long n = (long)net->n * l->outputs;
	const float *truth = cnn_layer_truth(l, net, 0, NULL);
	double sum = 0;

	for (long i = 0; i < n; i++) {
		float t = truth[i], p = l->output[i];
		if (t > 0)
			/* Clamped against log(0), but a NaN must come through. */
			sum -= t * log(p > 1e-30f || isnan(p) ? p : 1e-30f);
		l->delta[i] = (p - t) / (st->temperature * net->n);
	}
	st->fused = 1;
	*loss = sum / net->n;
	return CNN_OK;
}

static int backward_softmax(cnn_layer *l, cnn_net *net)
{
	struct loss_state *st = l->state;
	struct rows g = softmax_rows(l, net);

	if (!l->input_delta)
		return CNN_OK;
	if (st->fused) {
		for (long i = 0; i < (long)net->n * l->inputs; i++)
			l->input_delta[i] += l->delta[i];
		return CNN_OK;
	}
	/* dx = p * (dy - sum(dy * p)) / temperature */
	for (long r = 0; r < g.rows; r++) {
		long at = row_base(l, &g, r);
		const float *p = l->output + at, *dy = l->delta + at;
		float *dx = l->input_delta + at, dot = 0;
		for (long i = 0; i < g.size; i++)
			dot += dy[i * g.step] * p[i * g.step];
		for (long i = 0; i < g.size; i++)
			dx[i * g.step] += p[i * g.step] * (dy[i * g.step] - dot) / st->temperature;
	}
	return CNN_OK;
}

static int build_cost(cnn_layer *l, cnn_net *net, cnn_cfg_section *s)
{
	struct loss_state *st = calloc(1, sizeof *st);

	(void)net;
	reads_label(l);
	if (!(l->state = st))
		return cnn_error("out of memory");
	return cnn_cfg_choice(s, "type", cost_names, COST_SSE, &st->cost) ||
	       cnn_cfg_float(s, "scale", 1, 0, 1e6f, &st->scale);
}

static int forward_copy(cnn_layer *l, cnn_net *net)
{
	memcpy(l->output, l->input, sizeof(float) * net->n * l->outputs);
	return CNN_OK;
}

/* sse: sum of squares; L1: sum of absolute values; smooth: Huber with
 * threshold 1 (SSD's smooth L1); each over the outputs, mean over the batch. */
static int loss_cost(cnn_layer *l, cnn_net *net, double *loss)
{
	struct loss_state *st = l->state;
	long n = (long)net->n * l->outputs;
	const float *truth = cnn_layer_truth(l, net, 0, NULL);
	double sum = 0;

	for (long i = 0; i < n; i++) {
		float d = l->output[i] - truth[i], a = fabsf(d), g;
		if (st->cost == COST_SSE) {
			sum += d * d;
			g = 2 * d;
		} else if (st->cost == COST_L1 || a >= 1) {
			sum += st->cost == COST_L1 ? a : a - 0.5f;
			g = d > 0 ? 1 : d < 0 ? -1 : 0;
		} else {
			sum += 0.5f * d * d;
			g = d;
		}
		l->delta[i] = st->scale * g / net->n;
	}
	*loss = st->scale * sum / net->n;
	return CNN_OK;
}

static int backward_copy(cnn_layer *l, cnn_net *net)
{
	if (l->input_delta)
		for (long i = 0; i < (long)net->n * l->outputs; i++)
			l->input_delta[i] += l->delta[i];
	return CNN_OK;
}

static int build_logistic(cnn_layer *l, cnn_net *net, cnn_cfg_section *s)
{
	(void)net;
	(void)s;
	reads_label(l);
	return (l->state = calloc(1, sizeof(struct loss_state))) ? CNN_OK
								: cnn_error("out of memory");
}

static int forward_logistic(cnn_layer *l, cnn_net *net)
{
	struct loss_state *st = l->state;

	st->fused = 0;
	memcpy(l->output, l->input, sizeof(float) * net->n * l->outputs);
	cnn_activate(ACT_LOGISTIC, l->output, NULL, (long)net->n * l->outputs);
	return CNN_OK;
}

static int loss_logistic(cnn_layer *l, cnn_net *net, double *loss)
{
	struct loss_state *st = l->state;
	long n = (long)net->n * l->outputs;
	const float *truth = cnn_layer_truth(l, net, 0, NULL);
	double sum = 0;

	for (long i = 0; i < n; i++) {
		float t = truth[i], p = l->output[i];
		p = p < 1e-7f ? 1e-7f : p > 1 - 1e-7f ? 1 - 1e-7f : p;
		sum -= t * log(p) + (1 - t) * log(1 - p);
		l->delta[i] = (l->output[i] - t) / net->n;
	}
	st->fused = 1;
	*loss = sum / net->n;
	return CNN_OK;
}

static int backward_logistic(cnn_layer *l, cnn_net *net)
{
	struct loss_state *st = l->state;

	if (!st->fused)
		cnn_activate_grad(ACT_LOGISTIC, l->output, NULL, l->delta,
				  (long)net->n * l->outputs);
	return backward_copy(l, net);
}

static void free_state(cnn_layer *l)
{
	free(l->state);
}

const cnn_layer_type cnn_layer_softmax = {
	.name = "softmax", .build = build_softmax, .forward = forward_softmax,
	.backward = backward_softmax, .loss = loss_softmax, .free = free_state,
};

const cnn_layer_type cnn_layer_cost = {
	.name = "cost", .build = build_cost, .forward = forward_copy,
	.backward = backward_copy, .loss = loss_cost, .free = free_state,
};

const cnn_layer_type cnn_layer_logistic = {
	.name = "logistic", .build = build_logistic, .forward = forward_logistic,
	.backward = backward_logistic, .loss = loss_logistic, .free = free_state,
};
