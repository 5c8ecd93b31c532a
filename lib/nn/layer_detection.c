/*
 * layer_detection.c - [detection], YOLOv1's head, as darknet's
 * detection_layer.c.  Its input is a flat vector (a [connected] layer's)
 * of side x side cells, not planes:
 *
 *   [ side^2 x classes probabilities | side^2 x num confidences |
 *     side^2 x num x 4 boxes ]
 *
 * cell i's class k at i classes + k, its predictor n's confidence at
 * side^2 classes + i num + n, and its box at side^2 (classes + num) +
 * (i num + n) 4: x, y (the centre's place in the cell), w, h (of the
 * input; with sqrt=1 their square roots).  The output is the input, with
 * each cell's classes through a softmax when softmax=1.
 *
 * Predictor n of cell i finds a box of each class k scoring confidence x
 * p_k above the threshold (darknet's get_detection_detections; a negative
 * w or h makes an empty box).
 *
 * As a loss it reads boxes_true (pixels of the input) as darknet's
 * fill_truth_region makes its grid: a box (w and h at least 0.005 of the
 * input) belongs to the cell its centre is in, the first box of a cell
 * only.  Then, as forward_detection_layer: every confidence has target 0
 * (weight noobject_scale); in a cell with a box, the classes are its
 * one-hot (class_scale), and of its num predictors the one whose box
 * overlaps it most (when none does, the nearest; forced=1: the first for
 * boxes over a tenth of the input, else the second) has confidence 1 (or,
 * rescore=1, the IoU of its box, held fixed; object_scale) and the box as
 * its target (coord_scale; sqrt=1: the roots of w and h).  Every term is
 * half the weighted squared error of the output, summed, the mean over the
 * batch: darknet's deltas, except that with softmax=1 the gradient goes
 * through the softmax (darknet's skips it).
 *
 * Keys: classes, coords (4), side, num, sqrt, softmax, rescore, forced,
 * object_scale, noobject_scale, class_scale, coord_scale, nms= (ours, as
 * [region]'s); jitter and max are read; random=1 (a random predictor for
 * the first 64,000 images) is refused.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/head.h"

struct detection {
	int classes, side, num, sqrt, softmax, rescore, forced;
	float object_scale, noobject_scale, class_scale, coord_scale, nms;
	int fused;
};

static int build(cnn_layer *l, cnn_net *net, cnn_cfg_section *s)
{
	struct detection *d = calloc(1, sizeof *d);
	float unused;
	int coords, random, ignored;
	long want;

	(void)net;
	if (!(l->state = d))
		return cnn_error("out of memory");
	l->truth = (cnn_truth_field){"boxes_true", CNN_TRUTH_BOXES, CNN_BOX_FIELDS};
	if (cnn_cfg_int(s, "classes", 1, 1, CNN_BOX_MAX_CLASS, &d->classes) ||
	    cnn_cfg_int(s, "coords", 4, 4, 4, &coords) ||
	    cnn_cfg_int(s, "side", 7, 1, 1024, &d->side) ||
	    cnn_cfg_int(s, "num", 1, 1, 64, &d->num) ||
	    cnn_cfg_int(s, "sqrt", 0, 0, 1, &d->sqrt) ||
	    cnn_cfg_int(s, "softmax", 0, 0, 1, &d->softmax) ||
	    cnn_cfg_int(s, "rescore", 0, 0, 1, &d->rescore) ||
	    cnn_cfg_int(s, "forced", 0, 0, 1, &d->forced) ||
	    cnn_cfg_int(s, "random", 0, 0, 1, &random) ||
	    cnn_cfg_float(s, "object_scale", 1, 0, 1e6f, &d->object_scale) ||
	    cnn_cfg_float(s, "noobject_scale", 1, 0, 1e6f, &d->noobject_scale) ||
	    cnn_cfg_float(s, "class_scale", 1, 0, 1e6f, &d->class_scale) ||
	    cnn_cfg_float(s, "coord_scale", 1, 0, 1e6f, &d->coord_scale) ||
	    cnn_cfg_float(s, "nms", 0.45f, 0, 1, &d->nms) ||
	    cnn_cfg_float(s, "jitter", 0.2f, 0, 1, &unused) ||
	    cnn_cfg_int(s, "max", 90, 1, 1 << 20, &ignored))
		return CNN_ERR;
	if (random)
		return cnn_cfg_error(s, "random=1 (a random predictor early in training) is not "
				     "supported");
	if (d->forced && d->num < 2)
		return cnn_cfg_error(s, "forced=1 picks between two predictors: num=%d", d->num);
	want = (long)d->side * d->side * (d->classes + d->num * 5);
	if (l->inputs != want)
		return cnn_cfg_error(s, "its input has %ld values; side=%d, num=%d, classes=%d "
				     "want %ld (output=%ld in the layer before it)", l->inputs,
				     d->side, d->num, d->classes, want, want);
	l->flops = (double)l->inputs;
	return CNN_OK;
}

/* Where cell i's classes, predictor n's confidence and box start. */
static long class_at(const struct detection *d, long i)
{
	return i * d->classes;
}

static long conf_at(const struct detection *d, long i, int n)
{
	return (long)d->side * d->side * d->classes + i * d->num + n;
}

static long box_at(const struct detection *d, long i, int n)
{
	return (long)d->side * d->side * (d->classes + d->num) + (i * d->num + n) * 4;
}

static int forward(cnn_layer *l, cnn_net *net)
{
	struct detection *d = l->state;
	long cells = (long)d->side * d->side;

	d->fused = 0;
	memcpy(l->output, l->input, sizeof(float) * (size_t)net->n * l->outputs);
	for (int b = 0; d->softmax && b < net->n; b++)
		for (long i = 0; i < cells; i++) {
			float *p = l->output + (long)b * l->outputs + class_at(d, i), max = p[0], sum = 0;
			for (int k = 1; k < d->classes; k++)
				max = fmaxf(max, p[k]);
			for (int k = 0; k < d->classes; k++)
				sum += p[k] = expf(p[k] - max);
			for (int k = 0; k < d->classes; k++)
				p[k] /= sum;
		}
	return CNN_OK;
}

/* dLoss/doutput in delta: through the softmax, the rest as it is. */
static int backward(cnn_layer *l, cnn_net *net)
{
	const struct detection *d = l->state;
	long cells = (long)d->side * d->side;

	if (!l->input_delta)
		return CNN_OK;
	for (int b = 0; b < net->n; b++) {
		long at = (long)b * l->outputs;
		const float *g = l->delta + at, *y = l->output + at;
		float *dx = l->input_delta + at;
		for (long i = 0; i < l->outputs; i++)
			if (!d->softmax || i >= cells * d->classes)
				dx[i] += g[i];
		for (long i = 0; d->softmax && i < cells; i++) {
			long c = class_at(d, i);
			double dot = 0;
			for (int k = 0; k < d->classes; k++)
				dot += (double)g[c + k] * y[c + k];
			for (int k = 0; k < d->classes; k++)
				dx[c + k] += y[c + k] * (g[c + k] - (float)dot);
		}
	}
	return CNN_OK;
}

/* Predictor n's box in cell i, relative to the input. */
static struct cbox box_of(const struct detection *d, const float *o, long i, int n)
{
	const float *v = o + box_at(d, i, n);
	float w = d->sqrt ? v[2] * v[2] : v[2], h = d->sqrt ? v[3] * v[3] : v[3];

	return (struct cbox){(v[0] + i % d->side) / d->side, (v[1] + i / d->side) / d->side, w, h};
}

/* The predictor responsible for truth t in cell i (darknet's rule). */
static int responsible(const struct detection *d, const float *o, long i, struct cbox t)
{
	float best_iou = 0, best_rmse = 20;
	int best = 0;

	if (d->forced)
		return t.w * t.h < 0.1f ? 1 : 0;
	for (int n = 0; n < d->num; n++) {
		struct cbox p = box_of(d, o, i, n);
		float iou = cbox_iou(p, t);
		float rmse = sqrtf((p.x - t.x) * (p.x - t.x) + (p.y - t.y) * (p.y - t.y) +
				   (p.w - t.w) * (p.w - t.w) + (p.h - t.h) * (p.h - t.h));
		if (best_iou > 0 || iou > 0) {
			if (iou > best_iou) {
				best_iou = iou;
				best = n;
			}
		} else if (rmse < best_rmse) {
			best_rmse = rmse;
			best = n;
		}
	}
	return best;
}

/* Half the weighted squared error of output at: into the sum, and its
 * gradient (the batch's mean) into g. */
static void term(double *sum, float *g, const float *o, long at, double target, double w, int n)
{
	double e = o[at] - target;

	*sum += w * e * e / 2;
	g[at] = (float)(w * e / n);
}

/* Example b's terms: adds its loss, writes dLoss/doutput into g. */
static int example_loss(const cnn_layer *l, const cnn_net *net, const struct detection *d, int b,
			double *sum)
{
	long cells = (long)d->side * d->side;
	const float *o = l->output + (long)b * l->outputs;
	float *g = l->delta + (long)b * l->outputs;
	struct cbox *t = NULL;
	int *cls = NULL, ret;
	int64_t nt;
	char *taken = calloc((size_t)cells, 1);

	ret = taken ? cnn_head_truths(l, net, b, d->classes, &t, &cls, &nt)
		    : cnn_error("out of memory");
	memset(g, 0, sizeof *g * (size_t)l->outputs);
	for (long i = 0; !ret && i < cells; i++)
		for (int n = 0; n < d->num; n++)
			term(sum, g, o, conf_at(d, i, n), 0, d->noobject_scale, net->n);
	for (int64_t k = 0; !ret && k < nt; k++) {
		int col = (int)fminf(t[k].x * d->side, (float)(d->side - 1));
		int row = (int)fminf(t[k].y * d->side, (float)(d->side - 1));
		long i = (long)row * d->side + col;
		int n;
		struct cbox p;
		if (t[k].w < 0.005f || t[k].h < 0.005f || taken[i])
			continue;
		taken[i] = 1;
		for (int c = 0; c < d->classes; c++)
			term(sum, g, o, class_at(d, i) + c, c == cls[k], d->class_scale, net->n);
		n = responsible(d, o, i, t[k]);
		p = box_of(d, o, i, n);
		/* Its confidence is no negative: the term above is taken back. */
		*sum -= d->noobject_scale * o[conf_at(d, i, n)] * o[conf_at(d, i, n)] / 2;
		term(sum, g, o, conf_at(d, i, n), d->rescore ? cbox_iou(p, t[k]) : 1, d->object_scale,
		     net->n);
		term(sum, g, o, box_at(d, i, n), t[k].x * d->side - col, d->coord_scale, net->n);
		term(sum, g, o, box_at(d, i, n) + 1, t[k].y * d->side - row, d->coord_scale, net->n);
		term(sum, g, o, box_at(d, i, n) + 2, d->sqrt ? sqrtf(t[k].w) : t[k].w, d->coord_scale,
		     net->n);
		term(sum, g, o, box_at(d, i, n) + 3, d->sqrt ? sqrtf(t[k].h) : t[k].h, d->coord_scale,
		     net->n);
	}
	free(taken);
	free(t);
	free(cls);
	return ret;
}

static int loss(cnn_layer *l, cnn_net *net, double *value)
{
	const struct detection *d = l->state;
	double sum = 0;

	for (int b = 0; b < net->n; b++)
		if (example_loss(l, net, d, b, &sum))
			return cnn_error_context("example %d of the batch", b + 1);
	*value = sum / net->n;
	return CNN_OK;
}

static int detect(const cnn_layer *l, const cnn_net *net, int b, double thresh,
		  cnn_box_rows *out, double *nms)
{
	const struct detection *d = l->state;
	const float *o = l->output + (long)b * l->outputs;
	long cells = (long)d->side * d->side;

	*nms = d->nms;
	for (long i = 0; i < cells; i++)
		for (int n = 0; n < d->num; n++) {
			struct cbox p = box_of(d, o, i, n);
			double conf = o[conf_at(d, i, n)];
			/* A negative size (only without sqrt=1) is an empty box. */
			p.w = fmaxf(p.w, 0);
			p.h = fmaxf(p.h, 0);
			for (int k = 0; k < d->classes; k++) {
				double score = conf * o[class_at(d, i) + k];
				if (score > thresh &&
				    cnn_box_rows_add(out, (p.x - p.w / 2) * net->w, (p.y - p.h / 2) * net->h,
						     (p.x + p.w / 2) * net->w, (p.y + p.h / 2) * net->h,
						     score, k))
					return CNN_ERR;
			}
		}
	return CNN_OK;
}

static void free_state(cnn_layer *l)
{
	free(l->state);
}

const cnn_layer_type cnn_layer_detection = {
	.name = "detection", .build = build, .forward = forward, .backward = backward,
	.loss = loss, .detect = detect, .free = free_state,
};
