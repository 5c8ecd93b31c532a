/*
 * yolo_loss.c - [yolo]'s loss, with the targets pjreddie's darknet sets in
 * forward_yolo_layer, each example's boxes_true (pixels of the input) as
 * darknet's truths (centre and size, relative to the input):
 *
 *   1. Every cell and anchor of the layer is a negative: objectness target
 *      0.  Unless its predicted box overlaps a truth by more than
 *      ignore_thresh, when its objectness has no loss at all; and by more
 *      than truth_thresh (1: never), when it is a positive of that truth.
 *   2. Each truth is a positive of the cell its centre falls in and of the
 *      anchor of all num (not only this layer's mask) whose shape fits it
 *      best (IoU of the two sizes at one centre), if that anchor is one of
 *      this layer's: targets for x, y (the centre's place in the cell), w,
 *      h (log of the size over the anchor's), objectness 1, and 1 for its
 *      class, 0 for the others (a second truth of the cell and anchor adds
 *      its class and takes over the box, as darknet's does).
 *
 * darknet writes its deltas straight into the gradient of the layer's
 * input; here they are the gradient of a loss, so that it can be checked
 * and reported: with z an input and t its target,
 *
 *   x, y         w_box (s softplus(z) + (shift - t) z), less its minimum:
 *                gradient w_box (output - t), darknet's delta (for s = 1,
 *                the cross-entropy of the logistic with t; t kept within
 *                what the output can reach, which only a truth_thresh
 *                positive of another cell's truth can leave)
 *   w, h         w_box (z - t)^2 / 2
 *   objectness   w_obj BCE(z, t); classes w_cls BCE(z, t)
 *
 * with w_box = (2 - w h) iou_normalizer (small boxes count up to twice),
 * w_obj = obj_normalizer, w_cls = cls_normalizer, each 1 unless the cfg
 * says (pjreddie's darknet has none).  With iou_loss=iou, giou, diou or
 * ciou (AlexeyAB's) the four box terms of a positive are instead one,
 * iou_normalizer (1 - IoU) or its variant of the predicted box against the
 * truth's, relative to the input (yolo_iou.c), its gradient taken through
 * the logistic and the exponential.  The loss is the sum over the
 * outputs, the mean over the batch.
 */
#include <math.h>

#include "nn/yolo.h"

/* The box mask entry n predicts at cell p of example b. */
static struct cbox predicted(const cnn_layer *l, const cnn_net *net, const struct yolo *y, int b,
			     int n, long p)
{
	long plane = (long)l->h * l->w;
	const float *o = l->output + yolo_entry(l, y, b, n, 0) + p;

	return (struct cbox){(p % l->w + o[0]) / l->w, (p / l->w + o[plane]) / l->h,
			     expf(o[2 * plane]) * y->anchor[2 * y->mask[n]] / net->w,
			     expf(o[3 * plane]) * y->anchor[2 * y->mask[n] + 1] / net->h};
}

/* Mask entry n at cell p of example b is a positive of truth t. */
static void positive(const cnn_layer *l, const cnn_net *net, struct yolo *y, int b, int n,
		     long p, struct cbox t, int cls)
{
	long plane = (long)l->h * l->w, at = yolo_entry(l, y, b, n, 0) + p;
	float box = (y->iou_loss == YOLO_MSE ? 2 - t.w * t.h : 1) * y->iou_normalizer;

	cnn_head_set(&y->ht, at, t.x * l->w - p % l->w, box);
	cnn_head_set(&y->ht, at + plane, t.y * l->h - p / l->w, box);
	cnn_head_set(&y->ht, at + 2 * plane, logf(t.w * net->w / y->anchor[2 * y->mask[n]]), box);
	cnn_head_set(&y->ht, at + 3 * plane, logf(t.h * net->h / y->anchor[2 * y->mask[n] + 1]), box);
	cnn_head_set(&y->ht, at + 4 * plane, 1, y->obj_normalizer);
	/* A second truth here keeps the first's classes. */
	if (y->ht.weight[at + 5 * plane] == 0)
		for (int k = 0; k < y->classes; k++)
			cnn_head_set(&y->ht, at + (5 + k) * plane, 0, y->cls_normalizer);
	cnn_head_set(&y->ht, at + (5 + cls) * plane, 1, y->cls_normalizer);
}

/* The mask entry of the anchor that fits t's shape best of all num, or -1
 * when that anchor is another layer's. */
static int best_anchor(const cnn_net *net, const struct yolo *y, struct cbox t)
{
	struct cbox shape = {0, 0, t.w, t.h};
	float best = 0;
	int bn = 0;

	for (int a = 0; a < y->total; a++) {
		struct cbox anchor = {0, 0, y->anchor[2 * a] / net->w, y->anchor[2 * a + 1] / net->h};
		float iou = cbox_iou(anchor, shape);
		if (iou > best) {
			best = iou;
			bn = a;
		}
	}
	for (int n = 0; n < y->n; n++)
		if (y->mask[n] == bn)
			return n;
	return -1;
}

/* The targets of example b's outputs, from its nt truths t (steps 1 and 2
 * above). */
static void place(const cnn_layer *l, const cnn_net *net, void *head, int b,
		  const struct cbox *t, const int *cls, int64_t nt)
{
	struct yolo *y = head;
	long plane = (long)l->h * l->w;

	for (int n = 0; n < y->n; n++)
		for (long p = 0; p < plane; p++) {
			struct cbox pred = predicted(l, net, y, b, n, p);
			float best = 0;
			int64_t bt = 0;
			for (int64_t i = 0; i < nt; i++) {
				float iou = cbox_iou(pred, t[i]);
				if (iou > best) {
					best = iou;
					bt = i;
				}
			}
			cnn_head_set(&y->ht, yolo_entry(l, y, b, n, 4) + p, 0,
			    best > y->ignore_thresh ? 0 : y->obj_normalizer);
			if (best > y->truth_thresh)
				positive(l, net, y, b, n, p, t[bt], cls[bt]);
		}
	for (int64_t i = 0; i < nt; i++) {
		int n = best_anchor(net, y, t[i]);
		/* A centre on the right or bottom edge belongs to the last cell. */
		int col = (int)fminf(t[i].x * l->w, (float)(l->w - 1));
		int row = (int)fminf(t[i].y * l->h, (float)(l->h - 1));
		if (n >= 0)
			positive(l, net, y, b, n, (long)row * l->w + col, t[i], cls[i]);
	}
}

/* The target of an x or y: a place in the cell, 0 <= t < 1, but a
 * positive made by truth_thresh may be another cell's truth; as a loss
 * that has a minimum, it is kept to what the output can reach, shift to
 * s + shift (shift = (1 - s) / 2). */
static double xy_target(double t, double s, double shift)
{
	return fmin(fmax(t, shift), s + shift);
}

/* x and y: s softplus(z) + (shift - t) z, less its minimum, where
 * s logistic(z) + shift = t (0 as z goes to an infinity when t is one of
 * the two ends). */
static double xy_loss(double z, double t, double s, double shift)
{
	double q = (t - shift) / s, at_min = 0;

	if (q > 0 && q < 1) {
		double zmin = log(q / (1 - q));
		at_min = s * softplus(zmin) + (shift - t) * zmin;
	}
	return s * softplus(z) + (shift - t) * z - at_min;
}

/* The IoU loss of the positive whose x entry is output i (weight w): its
 * value, and the gradients of its four inputs into the deltas. */
static double iou_term(cnn_layer *l, const cnn_net *net, const struct yolo *y, long i, double w)
{
	long plane = (long)l->h * l->w, p = i % plane;
	int n = (int)(i % l->outputs / plane / (5 + y->classes));
	float aw = y->anchor[2 * y->mask[n]] / net->w, ah = y->anchor[2 * y->mask[n] + 1] / net->h;
	const float *o = l->output + i, *t = y->ht.target + i;
	double s = y->scale_xy, shift = -0.5 * (s - 1), g[4], value;
	struct cbox pred = {(p % l->w + o[0]) / l->w, (p / l->w + o[plane]) / l->h,
			    expf(o[2 * plane]) * aw, expf(o[3 * plane]) * ah};
	struct cbox truth = {(p % l->w + t[0]) / l->w, (p / l->w + t[plane]) / l->h,
			     expf(t[2 * plane]) * aw, expf(t[3 * plane]) * ah};

	value = cnn_yolo_iou_loss(y->iou_loss, pred, truth, g);
	for (int k = 0; k < 2; k++) {
		double sig = (o[k * plane] - shift) / s;
		l->delta[i + k * plane] = (float)(w * g[k] * s * sig * (1 - sig) /
						  (k ? l->h : l->w) / net->n);
	}
	l->delta[i + 2 * plane] = (float)(w * g[2] * pred.w / net->n);
	l->delta[i + 3 * plane] = (float)(w * g[3] * pred.h / net->n);
	return w * value;
}

int cnn_yolo_loss(cnn_layer *l, cnn_net *net, double *loss)
{
	struct yolo *y = l->state;
	long plane = (long)l->h * l->w, per = 5 + y->classes;
	double s = y->scale_xy, shift = -0.5 * (s - 1), sum = 0;

	if (cnn_head_place_batch(l, net, &y->ht, y->classes, place, y))
		return CNN_ERR;
	for (long i = 0; i < (long)net->n * l->outputs; i++) {
		double z = l->input[i], t = y->ht.target[i], w = y->ht.weight[i], o = l->output[i], g;
		long k = i % l->outputs / plane % per;
		if (w == 0) {
			l->delta[i] = 0;
			continue;
		}
		if (k < 4 && y->iou_loss != YOLO_MSE) {
			/* the four box entries at once, at the first */
			if (k == 0)
				sum += iou_term(l, net, y, i, w);
			continue;
		}
		if (k < 2) {
			t = xy_target(t, s, shift);
			sum += w * xy_loss(z, t, s, shift);
			g = w * (o - t);
		} else if (k < 4) {
			sum += w * (z - t) * (z - t) / 2;
			g = w * (z - t);
		} else {
			sum += w * (softplus(z) - t * z);
			g = w * (o - t);
		}
		l->delta[i] = (float)(g / net->n);
	}
	y->ht.fused = 1;
	*loss = sum / net->n;
	return CNN_OK;
}
