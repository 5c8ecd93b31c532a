/*
 * yolo.h - what [yolo]'s layer file (layer_yolo.c: keys, activations,
 * decoding) and its loss (yolo_loss.c: darknet's targets) share.
 */
#ifndef CNN_YOLO_H
#define CNN_YOLO_H

#include "nn/head.h"

#define YOLO_MAX_ANCHORS 64

enum { YOLO_MSE, YOLO_IOU, YOLO_GIOU, YOLO_DIOU, YOLO_CIOU };

struct yolo {
	int n, total, classes;
	int mask[YOLO_MAX_ANCHORS];
	float anchor[2 * YOLO_MAX_ANCHORS]; /* all of them, pixels */
	float scale_xy, nms;
	/* Training, darknet's meaning. */
	float ignore_thresh, truth_thresh;
	float iou_normalizer, cls_normalizer, obj_normalizer;
	int iou_loss;
	cnn_head_targets ht;   /* the loss's */
};

/* Entry k of mask entry n of example b: the first of its plane. */
static inline long yolo_entry(const cnn_layer *l, const struct yolo *y, int b, int n, int k)
{
	return (long)b * l->outputs + ((long)n * (5 + y->classes) + k) * l->h * l->w;
}

int cnn_yolo_loss(cnn_layer *l, cnn_net *net, double *loss);
/* iou_loss=KIND (not mse) of box p against truth t: the loss, and in grad
 * its gradient by p's x, y, w, h (yolo_iou.c). */
double cnn_yolo_iou_loss(int kind, struct cbox p, struct cbox t, double grad[4]);

#endif
