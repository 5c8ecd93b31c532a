/*
 * head.h - what the YOLO heads ([region], [yolo]; detect.c) share: boxes
 * as darknet keeps them, the truths of an example, the decoding.
 */
#ifndef CNN_HEAD_H
#define CNN_HEAD_H

#include <math.h>

#include "nn/net.h"

/* A box by its centre and size, relative to the network's input. */
struct cbox {
	float x, y, w, h;
};

/* darknet's box.c: the overlap of two segments by centre and length, and
 * the IoU of two boxes (0 when they do not meet). */
static inline float cbox_overlap(float x1, float w1, float x2, float w2)
{
	return fminf(x1 + w1 / 2, x2 + w2 / 2) - fmaxf(x1 - w1 / 2, x2 - w2 / 2);
}

static inline float cbox_iou(struct cbox a, struct cbox b)
{
	float w = cbox_overlap(a.x, a.w, b.x, b.w), h = cbox_overlap(a.y, a.h, b.y, b.h);
	float inter, uni;

	if (w < 0 || h < 0)
		return 0;
	inter = w * h;
	uni = a.w * a.h + b.w * b.h - inter;
	return uni > 0 ? inter / uni : 0;
}

/* log(1 + e^z), without overflow. */
static inline double softplus(double z)
{
	return z > 0 ? z + log1p(exp(-z)) : log1p(exp(z));
}

static inline float cnn_logistic(float x)
{
	return 1 / (1 + expf(-x));
}

/* A head's anchors=: num w,h pairs (at most max numbers), positive, in
 * unit (named in the error); darknet's 0.5 each when the key is absent. */
int cnn_head_anchors(cnn_cfg_section *s, float *anchor, int max, int num, const char *unit);
/* A head's random= (darknet's multi-scale training, cnn_train_params'
 * multi_scale), which the last head's sets for the network. */
int cnn_head_multi_scale(cnn_net *net, cnn_cfg_section *s);

/* What a head's loss works on: a target and a weight (0: no loss there)
 * for each output of the batch; fused once the loss has left dLoss/dinput
 * in the layer's delta, which backward then hands on as it is. */
typedef struct cnn_head_targets {
	float *target, *weight;
	int fused;
} cnn_head_targets;

/* Room for the batch's targets, claimed as the net's buffers are. */
int cnn_head_targets_alloc(cnn_head_targets *ht, const cnn_layer *l, cnn_net *net);
void cnn_head_targets_free(cnn_head_targets *ht);

static inline void cnn_head_set(cnn_head_targets *ht, long i, float target, float weight)
{
	ht->target[i] = target;
	ht->weight[i] = weight;
}

/* Backward after the loss: adds delta into the input's delta and returns
 * 1; 0 when the loss did not run (the caller goes through its
 * activations). */
int cnn_head_backward_fused(const cnn_head_targets *ht, cnn_layer *l, const cnn_net *net);

/* Places the targets of example b of head from its nt truths t, classes
 * cls (relative to the input, as cnn_head_truths gives them). */
typedef void (*cnn_head_place)(const cnn_layer *l, const cnn_net *net, void *head, int b,
			       const struct cbox *t, const int *cls, int64_t nt);
/* The batch's targets: every weight 0, then place() for each example, its
 * truths' classes below classes; an error names the example. */
int cnn_head_place_batch(const cnn_layer *l, const cnn_net *net, cnn_head_targets *ht,
			 int classes, cnn_head_place place, void *head);

/* Example b's truths for loss layer l (its boxes_true, in the input's
 * pixels) relative to the input, *n of them in *t and their classes in
 * *cls (malloc'ed: the caller frees both); a class that is not below
 * classes is an error naming the box and the layer. */
int cnn_head_truths(const cnn_layer *l, const cnn_net *net, int b, int classes,
		    struct cbox **t, int **cls, int64_t *n);

/* The boxes of a YOLO head (darknet's get_region_detections and
 * get_yolo_detections): layer l's output after its activations holds, at
 * each cell, num anchors of 5 + classes channels (anchor n's entry k in
 * channel n (5 + classes) + k: x, y in the cell, log w, log h, objectness,
 * the classes' probabilities).  Anchor n is anchor[2n] x anchor[2n + 1]
 * pixels of the network input.  A row for each class whose objectness x
 * probability is above thresh (classes 0: the objectness alone, class 0),
 * cell by cell, anchor by anchor. */
int cnn_head_detect(const cnn_layer *l, const cnn_net *net, int b, double thresh, int num,
		    int classes, const float *anchor, cnn_box_rows *out);

#endif
