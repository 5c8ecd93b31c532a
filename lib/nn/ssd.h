/*
 * ssd.h - what [ssd]'s files share (layer_ssd.c, ssd_priors.c,
 * ssd_loss.c): the head's maps, its default boxes, its keys.
 *
 * The layer gathers, for every default box in torchvision's order (map,
 * row, column, box), the box's 4 encoded offsets from its map's loc layer
 * and its `logits` class scores from the conf layer, into one row of
 * 4 + logits values: its output is 1 x boxes x (4 + logits) per example.
 */
#ifndef CNN_SSD_H
#define CNN_SSD_H

#include "nn/head.h"

#define SSD_MAX_MAPS 16
#define SSD_MAX_RATIOS 8

enum ssd_score { SSD_SOFTMAX, SSD_SIGMOID };
enum ssd_code { SSD_XYWH, SSD_YXHW };

struct ssd_map {
	cnn_layer *loc, *conf;
	int boxes;                 /* per cell */
	int nratios;
	float ratio[SSD_MAX_RATIOS];
	long first;                /* its first default box among all */
};

struct ssd {
	int nmaps;
	struct ssd_map map[SSD_MAX_MAPS];
	long boxes;                /* all of them */
	int classes, logits;       /* object classes; conf values per box */
	int score, code;           /* enum ssd_score, enum ssd_code */
	float weight[4];           /* the box code's: 1 / variance= */
	float scale[SSD_MAX_MAPS + 1];
	int nsteps;
	float step[SSD_MAX_MAPS];
	int clip;
	const char *priors_name;   /* a constant of the model, or NULL */
	/* The default boxes as cx, cy, w, h relative to the input (made at
	 * build, or from the constant at first use). */
	float *prior;
	float iou_thresh, neg_pos, alpha, nms;
	/* The loss's scratch, per box of an example: its truth (-1: none),
	 * and the negatives by their loss. */
	int *match;
	struct ssd_negative {
		double ce;
		long i;
	} *negative;
};

/* torchvision's DefaultBoxGenerator: s->prior from the maps' sizes, the
 * scales, steps and ratios, for an input of h x w. */
int cnn_ssd_make_priors(struct ssd *s, int h, int w);
/* The priors of the model's constant (boxes x 4: ymin, xmin, ymax, xmax
 * relative to the input, TensorFlow's order), once it is there. */
int cnn_ssd_constant_priors(struct ssd *s, const cnn_net *net);
/* Default box i in the input's pixels: x1, y1, x2, y2. */
void cnn_ssd_prior_corners(const struct ssd *s, long i, int h, int w, float box[4]);

int cnn_ssd_loss(cnn_layer *l, cnn_net *net, double *loss);

#endif
