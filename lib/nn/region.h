/*
 * region.h - what [region]'s layer file (layer_region.c: keys,
 * activations, decoding) and its loss (region_loss.c: darknet's targets)
 * share.
 */
#ifndef CNN_REGION_H
#define CNN_REGION_H

#include "nn/head.h"

#define REGION_MAX_ANCHORS 64

struct region {
	int num, classes, coords, softmax;
	float anchor[2 * REGION_MAX_ANCHORS]; /* grid cells */
	float nms;
	/* Training, darknet's meaning. */
	float object_scale, noobject_scale, class_scale, coord_scale, thresh;
	int rescore, bias_match;
	cnn_head_targets ht;   /* the loss's */
};

/* The channel of anchor n's entry k. */
static inline long region_channel(const struct region *r, int n, int k)
{
	return (long)n * (r->coords + 1 + r->classes) + k;
}

int cnn_region_loss(cnn_layer *l, cnn_net *net, double *loss);

#endif
