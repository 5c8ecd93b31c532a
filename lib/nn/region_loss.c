/*
 * region_loss.c - [region]'s loss, with the targets darknet's
 * forward_region_layer sets, each example's boxes_true (pixels of the
 * input) as darknet's truths (centre and size, relative to the input):
 *
 *   1. Every cell and anchor is a negative, objectness target 0, weight
 *      noobject_scale; no loss when its predicted box overlaps a truth by
 *      more than thresh.  While the network has seen fewer than 12,800
 *      images, each box is also pulled (weight 0.01) towards its anchor
 *      centred in its cell.
 *   2. Each truth is a positive of the cell its centre falls in and of the
 *      anchor whose shape (bias_match=1: the anchor's; otherwise the box
 *      it now predicts there) fits it best: targets for x, y (the centre's
 *      place in the cell), w, h (log of the size over the anchor's), weight
 *      coord_scale (2 - w h); objectness 1 (rescore=1: the IoU of the
 *      predicted box with the truth), weight object_scale; its class,
 *      weight class_scale.  A later truth of the same cell and anchor takes
 *      it over (with logistic classes, it adds its class).
 *
 * As pjreddie's GPU code and AlexeyAB's CPU code train it (pjreddie's CPU
 * backward is commented out), x, y and objectness are squared errors of
 * their logistics, w and h of themselves, each weighted and halved; the
 * classes a cross-entropy of their softmax (softmax=1) or binary ones of
 * their logistics.  Summed over the outputs, the mean over the batch.
 */
#include <math.h>

#include "nn/region.h"

#define PRIOR_IMAGES 12800

/* The box anchor n predicts at cell p of example b. */
static struct cbox predicted(const cnn_layer *l, const struct region *r, int b, int n, long p)
{
	long plane = (long)l->h * l->w;
	const float *o = l->output + (long)b * l->outputs + region_channel(r, n, 0) * plane + p;

	return (struct cbox){(p % l->w + o[0]) / l->w, (p / l->w + o[plane]) / l->h,
			     expf(o[2 * plane]) * r->anchor[2 * n] / l->w,
			     expf(o[3 * plane]) * r->anchor[2 * n + 1] / l->h};
}

/* Box targets of anchor n at cell p for box t, of weight w. */
static void box_targets(const cnn_layer *l, struct region *r, int b, int n, long p,
			struct cbox t, float w)
{
	long plane = (long)l->h * l->w, at = (long)b * l->outputs + region_channel(r, n, 0) * plane + p;

	cnn_head_set(&r->ht, at, t.x * l->w - p % l->w, w);
	cnn_head_set(&r->ht, at + plane, t.y * l->h - p / l->w, w);
	cnn_head_set(&r->ht, at + 2 * plane, logf(t.w * l->w / r->anchor[2 * n]), w);
	cnn_head_set(&r->ht, at + 3 * plane, logf(t.h * l->h / r->anchor[2 * n + 1]), w);
}

/* The anchor at the truth's cell whose shape fits it best. */
static int best_anchor(const cnn_layer *l, const struct region *r, int b, long p, struct cbox t)
{
	struct cbox shape = {0, 0, t.w, t.h};
	float best = 0;
	int bn = 0;

	for (int n = 0; n < r->num; n++) {
		struct cbox pred = predicted(l, r, b, n, p);
		float iou;
		if (r->bias_match) {
			pred.w = r->anchor[2 * n] / l->w;
			pred.h = r->anchor[2 * n + 1] / l->h;
		}
		pred.x = pred.y = 0;
		if ((iou = cbox_iou(pred, shape)) > best) {
			best = iou;
			bn = n;
		}
	}
	return bn;
}

/* The targets of example b's outputs, from its nt truths t (steps 1 and 2
 * above). */
static void place(const cnn_layer *l, const cnn_net *net, void *head, int b,
		  const struct cbox *t, const int *cls, int64_t nt)
{
	struct region *r = head;
	long plane = (long)l->h * l->w;

	for (long p = 0; p < plane; p++)
		for (int n = 0; n < r->num; n++) {
			struct cbox pred = predicted(l, r, b, n, p);
			long obj = (long)b * l->outputs + region_channel(r, n, 4) * plane + p;
			float best = 0;
			for (int64_t i = 0; i < nt; i++)
				best = fmaxf(best, cbox_iou(pred, t[i]));
			cnn_head_set(&r->ht, obj, 0, best > r->thresh ? 0 : r->noobject_scale);
			if (net->seen < PRIOR_IMAGES)
				box_targets(l, r, b, n, p,
					    (struct cbox){(p % l->w + 0.5f) / l->w, (p / l->w + 0.5f) / l->h,
							  r->anchor[2 * n] / l->w,
							  r->anchor[2 * n + 1] / l->h},
					    0.01f);
		}
	for (int64_t i = 0; i < nt; i++) {
		/* A centre on the right or bottom edge belongs to the last cell. */
		int col = (int)fminf(t[i].x * l->w, (float)(l->w - 1));
		int row = (int)fminf(t[i].y * l->h, (float)(l->h - 1));
		long p = (long)row * l->w + col;
		int n = best_anchor(l, r, b, p, t[i]);
		long at = (long)b * l->outputs + region_channel(r, n, 0) * plane + p;
		float iou = cbox_iou(predicted(l, r, b, n, p), t[i]);
		box_targets(l, r, b, n, p, t[i], r->coord_scale * (2 - t[i].w * t[i].h));
		cnn_head_set(&r->ht, at + 4 * plane, r->rescore ? iou : 1, r->object_scale);
		if (!r->classes)
			continue;
		/* Logistic classes gather a cell's truths; a softmax takes the last. */
		if (r->softmax || r->ht.weight[at + 5 * plane] == 0)
			for (int k = 0; k < r->classes; k++)
				cnn_head_set(&r->ht, at + (5 + k) * plane, 0, r->class_scale);
		cnn_head_set(&r->ht, at + (5 + cls[i]) * plane, 1, r->class_scale);
	}
}

int cnn_region_loss(cnn_layer *l, cnn_net *net, double *loss)
{
	struct region *r = l->state;
	long plane = (long)l->h * l->w, per = 5 + r->classes;
	double sum = 0;

	if (cnn_head_place_batch(l, net, &r->ht, r->classes ? r->classes : 1, place, r))
		return CNN_ERR;
	for (long i = 0; i < (long)net->n * l->outputs; i++) {
		double z = l->input[i], t = r->ht.target[i], w = r->ht.weight[i], o = l->output[i], g;
		long k = i % l->outputs / plane % per;
		if (w == 0) {
			l->delta[i] = 0;
			continue;
		}
		if (k == 2 || k == 3) {
			sum += w * (z - t) * (z - t) / 2;
			g = w * (z - t);
		} else if (k < 5) {
			sum += w * (o - t) * (o - t) / 2;
			g = w * (o - t) * o * (1 - o);
		} else if (r->softmax) {
			sum -= t > 0 ? w * t * log(o > 1e-30 ? o : 1e-30) : 0;
			g = w * (o - t); /* with the others of its softmax: p - t */
		} else {
			sum += w * (softplus(z) - t * z);
			g = w * (o - t);
		}
		l->delta[i] = (float)(g / net->n);
	}
	r->ht.fused = 1;
	*loss = sum / net->n;
	return CNN_OK;
}
