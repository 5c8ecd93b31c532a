/*
 * layer_region.c - [region], YOLOv2's detection head, as darknet's
 * region_layer.c: the convolution before it gives, at each cell of its
 * H x W grid, num anchors of (coords + 1 + classes) channels, anchor n's
 * entries k in channels n * (coords + 1 + classes) + k:
 *
 *   0, 1    tx, ty      the logistic of each: where in the cell the box's
 *                       centre is
 *   2, 3    tw, th      as they are: the box is e^tw x e^th anchors
 *   4       objectness  its logistic
 *   5..     classes     a softmax over them (softmax=1), or the logistic of
 *                       each
 *
 * and the box of cell (row i, column j), anchor n, relative to the network
 * input, is ((j + σ(tx)) / W, (i + σ(ty)) / H, e^tw anchor_w / W,
 * e^th anchor_h / H): anchors are in grid cells.  Its score for class k is
 * objectness x p_k, kept when above the threshold (and then, darknet's
 * prob > thresh, strictly).  classes=0 is ours: a one-class detector
 * whose score is the objectness alone, class 0 (face-api's tiny face
 * detector, 5 anchors of 5 channels).
 *
 * Keys: anchors (2 x num numbers, w,h pairs), num, classes, coords (4),
 * softmax, and nms= (ours: the IoU above which cnn-detect's NMS drops a
 * box, darknet's 0.45 unless set); the loss's (region_loss.c) rescore,
 * bias_match, object_scale, noobject_scale, class_scale, coord_scale and
 * thresh; random (multi-scale training, cnn_head_multi_scale); jitter,
 * absolute and max are read.  tree= (YOLO9000's
 * hierarchy) and background= are refused.
 */
#include <math.h>
#include <stdlib.h>

#include "nn/region.h"

static int read_keys(struct region *r, cnn_cfg_section *s)
{
	float unused;
	int ignored;

	if (cnn_cfg_has(s, "tree"))
		return cnn_cfg_error(s, "tree= (YOLO9000's hierarchical softmax) is not supported");
	if (cnn_cfg_has(s, "background"))
		return cnn_cfg_error(s, "background= is not supported");
	if (cnn_cfg_int(s, "num", 1, 1, REGION_MAX_ANCHORS, &r->num) ||
	    cnn_cfg_int(s, "classes", 20, 0, CNN_BOX_MAX_CLASS, &r->classes) ||
	    cnn_cfg_int(s, "coords", 4, 4, 4, &r->coords) ||
	    cnn_cfg_int(s, "softmax", 0, 0, 1, &r->softmax) ||
	    cnn_cfg_float(s, "nms", 0.45f, 0, 1, &r->nms) ||
	    cnn_cfg_float(s, "object_scale", 1, 0, 1e6f, &r->object_scale) ||
	    cnn_cfg_float(s, "noobject_scale", 1, 0, 1e6f, &r->noobject_scale) ||
	    cnn_cfg_float(s, "class_scale", 1, 0, 1e6f, &r->class_scale) ||
	    cnn_cfg_float(s, "coord_scale", 1, 0, 1e6f, &r->coord_scale) ||
	    cnn_cfg_float(s, "thresh", 0.5f, 0, 1, &r->thresh) ||
	    cnn_cfg_int(s, "rescore", 0, 0, 1, &r->rescore) ||
	    cnn_cfg_int(s, "bias_match", 0, 0, 1, &r->bias_match) ||
	    /* Augmentation and bookkeeping darknet reads here; ours is
	     * cnn-augment's and the trainer's. */
	    cnn_cfg_float(s, "jitter", 0.2f, 0, 1, &unused) ||
	    cnn_cfg_int(s, "absolute", 0, 0, 1, &ignored) ||
	    cnn_cfg_int(s, "max", 30, 1, 1 << 20, &ignored))
		return CNN_ERR;
	return cnn_head_anchors(s, r->anchor, 2 * REGION_MAX_ANCHORS, r->num, "grid cells");
}

static int build(cnn_layer *l, cnn_net *net, cnn_cfg_section *s)
{
	struct region *r = calloc(1, sizeof *r);
	int want;

	if (!(l->state = r))
		return cnn_error("out of memory");
	l->truth = (cnn_truth_field){"boxes_true", CNN_TRUTH_BOXES, CNN_BOX_FIELDS};
	if (read_keys(r, s) || cnn_head_multi_scale(net, s))
		return CNN_ERR;
	want = r->num * (r->coords + 1 + r->classes);
	if (l->c != want)
		return cnn_cfg_error(s, "its input has %d channels; num=%d anchors of %d classes "
				     "want %d (filters=%d in the convolution before it)", l->c,
				     r->num, r->classes, want, want);
	if (cnn_head_targets_alloc(&r->ht, l, net))
		return CNN_ERR;
	l->flops = (double)l->inputs;
	return CNN_OK;
}

static int forward(cnn_layer *l, cnn_net *net)
{
	struct region *r = l->state;
	long plane = (long)l->h * l->w;

	r->ht.fused = 0;
	for (int b = 0; b < net->n; b++)
		for (int n = 0; n < r->num; n++) {
			const float *x = l->input + (long)b * l->inputs + region_channel(r, n, 0) * plane;
			float *y = l->output + (long)b * l->outputs + region_channel(r, n, 0) * plane;
			for (long p = 0; p < plane; p++) {
				y[p] = cnn_logistic(x[p]);
				y[plane + p] = cnn_logistic(x[plane + p]);
				y[2 * plane + p] = x[2 * plane + p];
				y[3 * plane + p] = x[3 * plane + p];
				y[4 * plane + p] = cnn_logistic(x[4 * plane + p]);
			}
			for (long p = 0; p < plane && r->classes; p++) {
				const float *xc = x + 5 * plane + p;
				float *yc = y + 5 * plane + p, max = xc[0], sum = 0;
				if (!r->softmax) {
					for (int k = 0; k < r->classes; k++)
						yc[k * plane] = cnn_logistic(xc[k * plane]);
					continue;
				}
				for (int k = 1; k < r->classes; k++)
					max = xc[k * plane] > max ? xc[k * plane] : max;
				for (int k = 0; k < r->classes; k++)
					sum += yc[k * plane] = expf(xc[k * plane] - max);
				for (int k = 0; k < r->classes; k++)
					yc[k * plane] /= sum;
			}
		}
	return CNN_OK;
}

/* Through the activations: σ' = y (1 - y); the softmax's Jacobian. */
static int backward(cnn_layer *l, cnn_net *net)
{
	const struct region *r = l->state;
	long plane = (long)l->h * l->w;

	if (!l->input_delta || cnn_head_backward_fused(&r->ht, l, net))
		return CNN_OK;
	for (int b = 0; b < net->n; b++)
		for (int n = 0; n < r->num; n++) {
			long at = (long)b * l->outputs + region_channel(r, n, 0) * plane;
			const float *y = l->output + at, *g = l->delta + at;
			float *dx = l->input_delta + at;
			for (long p = 0; p < plane; p++)
				for (int k = 0; k < 5; k++) {
					long i = k * plane + p;
					dx[i] += k == 2 || k == 3 ? g[i] : g[i] * y[i] * (1 - y[i]);
				}
			for (long p = 0; p < plane && r->classes; p++) {
				long c0 = 5 * plane + p;
				double dot = 0;
				if (!r->softmax) {
					for (int k = 0; k < r->classes; k++) {
						long i = c0 + k * plane;
						dx[i] += g[i] * y[i] * (1 - y[i]);
					}
					continue;
				}
				for (int k = 0; k < r->classes; k++)
					dot += (double)g[c0 + k * plane] * y[c0 + k * plane];
				for (int k = 0; k < r->classes; k++) {
					long i = c0 + k * plane;
					dx[i] += y[i] * (g[i] - (float)dot);
				}
			}
		}
	return CNN_OK;
}

/* Anchors in grid cells, as pixels of the input. */
static int detect(const cnn_layer *l, const cnn_net *net, int b, double thresh,
		  cnn_box_rows *out, double *nms)
{
	const struct region *r = l->state;
	float anchor[2 * REGION_MAX_ANCHORS];

	for (int n = 0; n < r->num; n++) {
		anchor[2 * n] = r->anchor[2 * n] * net->w / l->w;
		anchor[2 * n + 1] = r->anchor[2 * n + 1] * net->h / l->h;
	}
	*nms = r->nms;
	return cnn_head_detect(l, net, b, thresh, r->num, r->classes, anchor, out);
}

static void free_state(cnn_layer *l)
{
	struct region *r = l->state;

	if (r)
		cnn_head_targets_free(&r->ht);
	free(r);
}

const cnn_layer_type cnn_layer_region = {
	.name = "region", .build = build, .forward = forward, .backward = backward,
	.loss = cnn_region_loss, .detect = detect, .free = free_state,
};
