/*
 * layer_localization.c - [localization], classification with localisation
 * (the course notes' detector of one object per image): its input is the
 * notes' vector y = (p_c, b_x, b_y, b_h, b_w, c_1 .. c_n), as a
 * [connected] layer of 5 + classes outputs gives it, and its output
 *
 *   p_c        the logistic of the first: is there an object
 *   b_x, b_y   the box's centre, relative to the image (0..1), as they are
 *   b_h, b_w   its height and width, relative to the image, as they are
 *   c_k        a softmax over the classes
 *
 * As a loss it reads boxes_true, none or one box: with a box, the
 * logistic loss of p_c against 1, half the squared error of the four box
 * values (times coord_scale=, 1 as in the notes; YOLOv1 weighs its boxes
 * by 5) and the cross-entropy of the classes; without, only p_c's
 * against 0 (the notes: when there is no object the rest is "don't
 * care").  The mean over the batch.  Its detection is the box (a negative
 * height or width made 0), scored p_c times the best class's probability.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/head.h"

struct localization {
	int classes;
	float coord_scale;     /* the box term's weight: 1 in the notes, YOLOv1's 5 */
	int fused;             /* delta holds dLoss/dinput */
};

static int build(cnn_layer *l, cnn_net *net, cnn_cfg_section *s)
{
	struct localization *st = calloc(1, sizeof *st);

	(void)net;
	if (!(l->state = st))
		return cnn_error("out of memory");
	l->truth = (cnn_truth_field){"boxes_true", CNN_TRUTH_BOXES, CNN_BOX_FIELDS};
	if (cnn_cfg_int(s, "classes", 1, 1, CNN_BOX_MAX_CLASS, &st->classes) ||
	    cnn_cfg_float(s, "coord_scale", 1, 0, 1e6f, &st->coord_scale))
		return CNN_ERR;
	if (l->inputs != 5 + st->classes)
		return cnn_cfg_error(s, "its input has %ld values; classes=%d wants %d (p_c, b_x, "
				     "b_y, b_h, b_w and the classes: output=%d in the [connected] "
				     "before it)", l->inputs, st->classes, 5 + st->classes,
				     5 + st->classes);
	l->flops = (double)l->inputs;
	return CNN_OK;
}

static int forward(cnn_layer *l, cnn_net *net)
{
	struct localization *st = l->state;
	long n = l->inputs;

	st->fused = 0;
	for (int b = 0; b < net->n; b++) {
		const float *x = l->input + b * n;
		float *y = l->output + b * n, top = x[5], sum = 0;
		y[0] = cnn_logistic(x[0]);
		memcpy(y + 1, x + 1, 4 * sizeof *y);
		for (int k = 1; k < st->classes; k++)
			top = fmaxf(top, x[5 + k]);
		for (int k = 0; k < st->classes; k++)
			sum += y[5 + k] = expf(x[5 + k] - top);
		for (int k = 0; k < st->classes; k++)
			y[5 + k] /= sum;
	}
	return CNN_OK;
}

/* Example b's truth, relative to the input, in the output's order (b_x,
 * b_y, b_h, b_w) and its class; 0 without a box, -1 with an error. */
static int truth_of(const cnn_layer *l, const cnn_net *net, const struct localization *st,
		    int b, float box[4], int *cls)
{
	int64_t n;
	const float *t = cnn_layer_truth(l, net, b, &n);

	if (n == 0)
		return 0;
	if (n > 1)
		return cnn_error("example %d has %lld boxes; [localization] finds one object an "
				 "image", b + 1, (long long)n), -1;
	if (!(t[5] >= 0 && t[5] < st->classes))
		return cnn_error("example %d's box is of class %g; [localization] has classes=%d",
				 b + 1, t[5], st->classes), -1;
	box[0] = (t[0] + t[2]) / 2 / net->w;
	box[1] = (t[1] + t[3]) / 2 / net->h;
	box[2] = (t[3] - t[1]) / net->h;
	box[3] = (t[2] - t[0]) / net->w;
	*cls = (int)t[5];
	return 1;
}

static int loss(cnn_layer *l, cnn_net *net, double *loss)
{
	struct localization *st = l->state;
	long n = l->inputs;
	double sum = 0;

	for (int b = 0; b < net->n; b++) {
		const float *z = l->input + b * n, *y = l->output + b * n;
		float *d = l->delta + b * n, box[4];
		int cls, object = truth_of(l, net, st, b, box, &cls);
		if (object < 0)
			return CNN_ERR;
		memset(d, 0, sizeof *d * n);
		sum += softplus(z[0]) - object * z[0];
		d[0] = (y[0] - object) / net->n;
		if (!object)
			continue;
		for (int k = 0; k < 4; k++) {
			double e = y[1 + k] - box[k];
			sum += st->coord_scale * e * e / 2;
			d[1 + k] = (float)(st->coord_scale * e / net->n);
		}
		sum -= log(y[5 + cls] > 1e-30f || isnan(y[5 + cls]) ? y[5 + cls] : 1e-30f);
		for (int k = 0; k < st->classes; k++)
			d[5 + k] = (y[5 + k] - (k == cls)) / net->n;
	}
	st->fused = 1;
	*loss = sum / net->n;
	return CNN_OK;
}

/* After the loss its delta is dLoss/dinput; else through the logistic and
 * the softmax. */
static int backward(cnn_layer *l, cnn_net *net)
{
	struct localization *st = l->state;
	long n = l->inputs;

	if (!l->input_delta)
		return CNN_OK;
	for (int b = 0; b < net->n; b++) {
		const float *y = l->output + b * n, *g = l->delta + b * n;
		float *dx = l->input_delta + b * n, dot = 0;
		if (st->fused) {
			for (long i = 0; i < n; i++)
				dx[i] += g[i];
			continue;
		}
		dx[0] += g[0] * y[0] * (1 - y[0]);
		for (int k = 1; k < 5; k++)
			dx[k] += g[k];
		for (int k = 0; k < st->classes; k++)
			dot += g[5 + k] * y[5 + k];
		for (int k = 0; k < st->classes; k++)
			dx[5 + k] += y[5 + k] * (g[5 + k] - dot);
	}
	return CNN_OK;
}

static int detect(const cnn_layer *l, const cnn_net *net, int b, double thresh,
		  cnn_box_rows *out, double *nms)
{
	const struct localization *st = l->state;
	const float *y = l->output + (long)b * l->inputs;
	int best = 0;

	*nms = 0.45;
	for (int k = 1; k < st->classes; k++)
		if (y[5 + k] > y[5 + best])
			best = k;
	double score = (double)y[0] * y[5 + best];
	/* A negative size (early in training) is an empty box, as [detection]'s. */
	double cx = y[1] * net->w, cy = y[2] * net->h, h = fmax(y[3], 0) * net->h,
	       w = fmax(y[4], 0) * net->w;
	if (!(score > thresh))
		return CNN_OK;
	return cnn_box_rows_add(out, cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2, score, best);
}

static void free_state(cnn_layer *l)
{
	free(l->state);
}

const cnn_layer_type cnn_layer_localization = {
	.name = "localization", .build = build, .forward = forward, .backward = backward,
	.loss = loss, .detect = detect, .free = free_state,
};
