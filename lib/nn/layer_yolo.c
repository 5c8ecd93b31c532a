/*
 * layer_yolo.c - [yolo], YOLOv3's detection head, as darknet's
 * yolo_layer.c: the convolution before it gives, at each cell of its H x W
 * grid, one anchor of (4 + 1 + classes) channels for each entry of mask=,
 * anchor n's entries k in channels n * (5 + classes) + k:
 *
 *   0, 1    tx, ty      their logistic (times scale_x_y s, less (s - 1) / 2:
 *                       AlexeyAB's, 1 by default): where in the cell the
 *                       box's centre is
 *   2, 3    tw, th      as they are: the box is e^tw x e^th anchors
 *   4       objectness  its logistic
 *   5..     classes     the logistic of each (several may hold: no softmax)
 *
 * anchors= lists num w,h pairs in pixels of the network input, shared by
 * every [yolo] of the network; mask= picks this layer's (all of them when
 * absent).  The box of cell (row i, column j), mask entry n, relative to
 * the input, is ((j + tx') / W, (i + ty') / H, e^tw anchor_w / input width,
 * e^th anchor_h / input height), scoring objectness x p_k for class k
 * (cnn_head_detect, darknet's get_yolo_detections).
 *
 * Keys: anchors, mask, num, classes, scale_x_y, nms= (ours, as [region]'s);
 * the loss's (yolo_loss.c) ignore_thresh, truth_thresh, iou_normalizer,
 * obj_normalizer, cls_normalizer and iou_loss (mse, iou, giou, diou,
 * ciou); random (multi-scale training, cnn_head_multi_scale); max and
 * jitter (augmentation: cnn-augment's here) are read.
 */
#include <stdlib.h>

#include "nn/yolo.h"

/* In the order of yolo.h's YOLO_MSE... */
static const char *const iou_losses[] = {"mse", "iou", "giou", "diou", "ciou", NULL};

static int read_mask(struct yolo *y, cnn_cfg_section *s)
{
	int64_t mask[YOLO_MAX_ANCHORS];

	if (cnn_cfg_ints(s, "mask", mask, YOLO_MAX_ANCHORS, 0, y->total - 1, &y->n))
		return CNN_ERR;
	if (y->n == 0) {
		y->n = y->total;
		for (int i = 0; i < y->n; i++)
			y->mask[i] = i;
	} else {
		for (int i = 0; i < y->n; i++)
			y->mask[i] = (int)mask[i];
	}
	return CNN_OK;
}

static int read_keys(struct yolo *y, cnn_cfg_section *s)
{
	float unused;
	int ignored;

	if (cnn_cfg_int(s, "num", 1, 1, YOLO_MAX_ANCHORS, &y->total) ||
	    cnn_cfg_int(s, "classes", 20, 1, CNN_BOX_MAX_CLASS, &y->classes) ||
	    cnn_cfg_float(s, "scale_x_y", 1, 1, 4, &y->scale_xy) ||
	    cnn_cfg_float(s, "nms", 0.45f, 0, 1, &y->nms) ||
	    cnn_cfg_float(s, "ignore_thresh", 0.5f, 0, 1, &y->ignore_thresh) ||
	    cnn_cfg_float(s, "truth_thresh", 1, 0, 1, &y->truth_thresh) ||
	    cnn_cfg_float(s, "iou_normalizer", 1, 0, 1e6f, &y->iou_normalizer) ||
	    cnn_cfg_float(s, "cls_normalizer", 1, 0, 1e6f, &y->cls_normalizer) ||
	    cnn_cfg_float(s, "obj_normalizer", 1, 0, 1e6f, &y->obj_normalizer) ||
	    cnn_cfg_choice(s, "iou_loss", iou_losses, 0, &y->iou_loss) ||
	    /* Augmentation and bookkeeping darknet reads here. */
	    cnn_cfg_float(s, "jitter", 0.2f, 0, 1, &unused) ||
	    cnn_cfg_int(s, "max", 90, 1, 1 << 20, &ignored) || read_mask(y, s) ||
	    cnn_head_anchors(s, y->anchor, 2 * YOLO_MAX_ANCHORS, y->total, "the input's pixels"))
		return CNN_ERR;
	return CNN_OK;
}

static int build(cnn_layer *l, cnn_net *net, cnn_cfg_section *s)
{
	struct yolo *y = calloc(1, sizeof *y);
	int want;

	if (!(l->state = y))
		return cnn_error("out of memory");
	l->truth = (cnn_truth_field){"boxes_true", CNN_TRUTH_BOXES, CNN_BOX_FIELDS};
	if (read_keys(y, s) || cnn_head_multi_scale(net, s))
		return CNN_ERR;
	want = y->n * (5 + y->classes);
	if (l->c != want)
		return cnn_cfg_error(s, "its input has %d channels; %d anchors of %d classes want "
				     "%d (filters=%d in the convolution before it)", l->c, y->n,
				     y->classes, want, want);
	if (cnn_head_targets_alloc(&y->ht, l, net))
		return CNN_ERR;
	l->flops = (double)l->inputs;
	return CNN_OK;
}

static int forward(cnn_layer *l, cnn_net *net)
{
	struct yolo *y = l->state;
	long plane = (long)l->h * l->w;
	float s = y->scale_xy, shift = -0.5f * (s - 1);

	y->ht.fused = 0;
	for (int b = 0; b < net->n; b++)
		for (int n = 0; n < y->n; n++) {
			long at = yolo_entry(l, y, b, n, 0);
			const float *x = l->input + at;
			float *o = l->output + at;
			for (long p = 0; p < 2 * plane; p++)
				o[p] = cnn_logistic(x[p]) * s + shift;
			for (long p = 2 * plane; p < 4 * plane; p++)
				o[p] = x[p];
			for (long p = 4 * plane; p < (5 + y->classes) * plane; p++)
				o[p] = cnn_logistic(x[p]);
		}
	return CNN_OK;
}

/* Through the activations: s σ (1 - σ) for x and y, σ' for the rest. */
static int backward(cnn_layer *l, cnn_net *net)
{
	const struct yolo *y = l->state;
	long plane = (long)l->h * l->w;
	float s = y->scale_xy, shift = -0.5f * (s - 1);

	if (!l->input_delta || cnn_head_backward_fused(&y->ht, l, net))
		return CNN_OK;
	for (int b = 0; b < net->n; b++)
		for (int n = 0; n < y->n; n++) {
			long at = yolo_entry(l, y, b, n, 0);
			const float *o = l->output + at, *g = l->delta + at;
			float *dx = l->input_delta + at;
			for (long p = 0; p < 2 * plane; p++) {
				float sig = (o[p] - shift) / s;
				dx[p] += g[p] * s * sig * (1 - sig);
			}
			for (long p = 2 * plane; p < 4 * plane; p++)
				dx[p] += g[p];
			for (long p = 4 * plane; p < (5 + y->classes) * plane; p++)
				dx[p] += g[p] * o[p] * (1 - o[p]);
		}
	return CNN_OK;
}

static int detect(const cnn_layer *l, const cnn_net *net, int b, double thresh,
		  cnn_box_rows *out, double *nms)
{
	const struct yolo *y = l->state;
	float anchor[2 * YOLO_MAX_ANCHORS];

	for (int n = 0; n < y->n; n++) {
		anchor[2 * n] = y->anchor[2 * y->mask[n]];
		anchor[2 * n + 1] = y->anchor[2 * y->mask[n] + 1];
	}
	*nms = y->nms;
	return cnn_head_detect(l, net, b, thresh, y->n, y->classes, anchor, out);
}

static void free_state(cnn_layer *l)
{
	struct yolo *y = l->state;

	if (y)
		cnn_head_targets_free(&y->ht);
	free(y);
}

const cnn_layer_type cnn_layer_yolo = {
	.name = "yolo", .build = build, .forward = forward, .backward = backward,
	.loss = cnn_yolo_loss, .detect = detect, .free = free_state,
};
