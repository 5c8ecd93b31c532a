/*
 * test_heads.c - the losses of the YOLO heads, [yolo] and [region]: the
 * gradient checks, the targets darknet sets (which anchor and cell a truth
 * makes positive, what is ignored), the errors.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cnn.h"
#include "nn/region.h"
#include "nn/yolo.h"
#include "tap.h"

/* 1 x 8 x 8 images, an 8 x 8 grid of 2 of the 3 anchors (2, 4 and 6
 * pixels square), 2 classes; or [region]'s 2 anchors of 2 and 4 pixels (a
 * pixel a cell). */
#define NET \
	"[net]\nbatch=2\nchannels=1\nheight=8\nwidth=8\nlearning_rate=0.1\nmomentum=0.9\n" \
	"decay=0\n[convolutional]\nfilters=14\nsize=3\npad=1\nactivation=linear\n"
#define CFG(extra) NET "[yolo]\nmask=0,1\nanchors=2,2,4,4,6,6\nnum=3\nclasses=2\n" extra
#define REGION(extra) NET "[region]\nanchors=2,2,4,4\nnum=2\nclasses=2\n" extra
/* [detection] on a 2 x 2 grid, 2 predictors of 2 classes: a [connected]
 * layer of 2 x 2 x (2 + 2 x 5) outputs before it. */
#define DETECTION(extra) \
	"[net]\nbatch=2\nchannels=1\nheight=8\nwidth=8\n[convolutional]\nfilters=2\nsize=3\n" \
	"stride=2\nactivation=tanh\n[connected]\noutput=48\nactivation=linear\n" \
	"[detection]\nside=2\nnum=2\nclasses=2\ncoords=4\n" extra

static cnn_net *make(const char *text)
{
	cnn_cfg *cfg = cnn_cfg_parse(text, "t.cfg");
	cnn_net *net = cfg ? cnn_net_new(cfg, 0, 3) : NULL;

	if (!net)
		tap_ok(0, "build: %s", cnn_errmsg());
	return net;
}

/* A record: a random image and the boxes given as rows of x1 y1 x2 y2 class. */
static cnn_record *record(uint64_t seed, int n, const float (*box)[5])
{
	cnn_record *r = cnn_record_new();
	cnn_tensor *img = cnn_tensor_new3("image", CNN_U8, 1, 8, 8), *b = cnn_boxes_new("boxes_true", n);
	cnn_rng rng;

	cnn_rng_seed(&rng, seed);
	for (int k = 0; k < 64; k++)
		((uint8_t *)img->data)[k] = (uint8_t)cnn_rng_below(&rng, 256);
	for (int i = 0; i < n; i++) {
		float *row = (float *)b->data + i * CNN_BOX_FIELDS;
		memcpy(row, box[i], 4 * sizeof *row);
		row[4] = 1;
		row[5] = box[i][4];
	}
	cnn_record_put(r, img);
	cnn_record_put(r, b);
	return r;
}

static cnn_batch *batch_of(cnn_net *net, cnn_record *a, cnn_record *b)
{
	cnn_batch *bt = cnn_batch_new(net, NULL);

	if (!bt || cnn_batch_add(bt, a) || cnn_batch_add(bt, b))
		tap_ok(0, "batch: %s", cnn_errmsg());
	cnn_record_free(a);
	cnn_record_free(b);
	return bt;
}

static void gradient_check(const char *what, const char *cfg)
{
	static const float two[2][5] = {{1, 1.5f, 3.5f, 4, 0}, {4.2f, 2, 7.9f, 6.5f, 1}};
	static const float one[1][5] = {{0.5f, 5, 2.5f, 7.5f, 1}};
	cnn_net *net = make(cfg);
	cnn_batch *b = net ? batch_of(net, record(1, 2, two), record(2, 1, one)) : NULL;
	double worst = b ? cnn_net_gradcheck(net, b, 0, 1e-3, NULL, NULL) : -1;

	tap_ok(worst >= 0 && worst < 2e-3, "gradient check of %s (worst %.1e)", what, worst);
	cnn_batch_free(b);
	cnn_net_free(net);
}

/* The loss's targets and weights (yolo.h) after the loss of batch b. */
static const struct yolo *loss_of(cnn_net *net, const cnn_batch *b)
{
	double loss;

	if (!b || cnn_net_gradients(net, b, &loss)) {
		tap_ok(0, "gradients: %s", cnn_errmsg());
		return NULL;
	}
	return net->layer[1].state;
}

/* The positives of example 0: objectness entries with target 1. */
static int positives(const cnn_net *net, const struct yolo *y, int *n, long *p)
{
	const cnn_layer *l = &net->layer[1];
	int count = 0;

	for (int k = 0; k < y->n; k++)
		for (long c = 0; c < 64; c++) {
			long at = yolo_entry(l, y, 0, k, 4) + c;
			if (y->ht.weight[at] > 0 && y->ht.target[at] == 1) {
				*n = k;
				*p = c;
				count++;
			}
		}
	return count;
}

/* A truth of 3.6 x 3.6 pixels centred at (5, 3) fits the 4 x 4 anchor
 * (mask entry 1) best: that entry of cell (row 3, column 5) is its one
 * positive, with darknet's targets; one of 6 x 6 is the third anchor's,
 * another layer's: no positive here; with ignore_thresh, the predictions
 * overlapping a truth lose their objectness loss. */
static void targets(void)
{
	static const float fits[1][5] = {{3.2f, 1.2f, 6.8f, 4.8f, 1}};
	static const float big[1][5] = {{1, 1, 7, 7, 0}};
	cnn_net *net = make(CFG("ignore_thresh=1\n"));
	cnn_batch *b = net ? batch_of(net, record(5, 1, fits), record(6, 1, fits)) : NULL;
	const struct yolo *y = net ? loss_of(net, b) : NULL;
	const cnn_layer *l = net ? &net->layer[1] : NULL;
	long plane = 64, p = -1, at;
	int n = -1, count = y ? positives(net, y, &n, &p) : -1;

	tap_ok(count == 1 && n == 1 && p == 3 * 8 + 5,
	       "a 3.6 x 3.6 truth at (5, 3): one positive, anchor 4 x 4 at row 3, column 5 "
	       "(%d; entry %d, cell %ld)", count, n, p);
	if (count == 1) {
		at = yolo_entry(l, y, 0, n, 0) + p;
		tap_ok(fabsf(y->ht.target[at]) < 1e-6f && fabsf(y->ht.target[at + plane]) < 1e-6f &&
		       fabsf(y->ht.target[at + 2 * plane] - logf(3.6f / 4)) < 1e-5f &&
		       fabsf(y->ht.target[at + 3 * plane] - logf(3.6f / 4)) < 1e-5f &&
		       y->ht.target[at + 5 * plane] == 0 && y->ht.target[at + 6 * plane] == 1 &&
		       fabsf(y->ht.weight[at] - (2 - 0.45f * 0.45f)) < 1e-5f,
		       "... its targets: x 0, y 0 in the cell, w = h = ln(3.6 / 4), class 1 of 2, "
		       "box weight 2 - w h = %.4f", y->ht.weight[at]);
	}
	cnn_batch_free(b);
	cnn_net_free(net);

	net = make(CFG("ignore_thresh=1\n"));
	b = net ? batch_of(net, record(5, 1, big), record(6, 1, big)) : NULL;
	y = net ? loss_of(net, b) : NULL;
	tap_ok(y && positives(net, y, &n, &p) == 0,
	       "a 6 x 6 truth is the third anchor's, another layer's: no positive here");
	cnn_batch_free(b);
	cnn_net_free(net);

	net = make(CFG("ignore_thresh=0\n"));
	b = net ? batch_of(net, record(5, 1, fits), record(6, 1, fits)) : NULL;
	y = net ? loss_of(net, b) : NULL;
	count = 0;
	for (int k = 0; y && k < y->n; k++)
		for (long c = 0; c < plane; c++)
			count += y->ht.weight[yolo_entry(&net->layer[1], y, 0, k, 4) + c] == 0;
	tap_ok(y && count > 0, "ignore_thresh 0: the %d predictions overlapping the truth at all "
	       "have no objectness loss", count);
	cnn_batch_free(b);
	cnn_net_free(net);
}

/* [region]: the 3.6 x 3.6 truth at (5, 3) fits the anchor of 4 cells
 * (bias_match=1) at cell (row 3, column 5): targets darknet's, the class a
 * softmax's one-hot; no truth, no positive. */
static void region_targets(void)
{
	static const float fits[1][5] = {{3.2f, 1.2f, 6.8f, 4.8f, 1}};
	cnn_net *net = make(REGION("bias_match=1\nsoftmax=1\nthresh=1\ncoord_scale=2\n"));
	const struct region *r = NULL;
	const cnn_layer *l;
	double loss;
	cnn_batch *b = net ? batch_of(net, record(5, 1, fits), record(6, 1, fits)) : NULL;
	long plane = 64, at;
	int count = 0, entry = -1;
	long cell = -1;

	if (b && cnn_net_gradients(net, b, &loss) == CNN_OK)
		r = net->layer[1].state;
	l = net ? &net->layer[1] : NULL;
	for (int n = 0; r && n < 2; n++)
		for (long c = 0; c < plane; c++) {
			at = region_channel(r, n, 4) * plane + c;
			if (r->ht.weight[at] > 0 && r->ht.target[at] == 1) {
				count++;
				entry = n;
				cell = c;
			}
		}
	tap_ok(count == 1 && entry == 1 && cell == 3 * 8 + 5,
	       "[region]: one positive, anchor 4 x 4 at row 3, column 5 (%d; anchor %d, cell %ld)",
	       count, entry, cell);
	if (count == 1) {
		at = region_channel(r, entry, 0) * plane + cell;
		tap_ok(fabsf(r->ht.target[at] - 0) < 1e-6f && fabsf(r->ht.target[at + plane]) < 1e-6f &&
		       fabsf(r->ht.target[at + 2 * plane] - logf(3.6f / 4)) < 1e-5f &&
		       r->ht.target[at + 5 * plane] == 0 && r->ht.target[at + 6 * plane] == 1 &&
		       fabsf(r->ht.weight[at] - 2 * (2 - 0.45f * 0.45f)) < 1e-5f && l,
		       "... targets x 0, y 0, w ln(3.6 / 4), class 1 one-hot, weight coord_scale "
		       "(2 - w h) = %.4f", r->ht.weight[at]);
	}
	cnn_batch_free(b);
	cnn_net_free(net);

	/* rescore=1: the positive's objectness target is its box's IoU with
	 * the truth, which random weights leave far from 1. */
	net = make(REGION("bias_match=1\nthresh=1\nrescore=1\nobject_scale=5\n"));
	b = net ? batch_of(net, record(5, 1, fits), record(6, 1, fits)) : NULL;
	r = b && cnn_net_gradients(net, b, &loss) == CNN_OK ? net->layer[1].state : NULL;
	at = r ? region_channel(r, 1, 4) * plane + 3 * 8 + 5 : 0;
	tap_ok(r && r->ht.weight[at] == 5 && r->ht.target[at] >= 0 && r->ht.target[at] < 0.9f,
	       "[region] rescore=1: the positive's objectness target is its IoU, %.3f, weight "
	       "object_scale 5", r ? r->ht.target[at] : -1);
	cnn_batch_free(b);
	cnn_net_free(net);
}

/* A class out of range is an error naming the box. */
static void errors(void)
{
	static const float bad[1][5] = {{1, 1, 3, 3, 2}};
	cnn_net *net = make(CFG(""));
	cnn_batch *b = net ? batch_of(net, record(1, 1, bad), record(2, 1, bad)) : NULL;
	double loss;

	tap_ok(b && cnn_net_gradients(net, b, &loss) == CNN_ERR &&
	       strstr(cnn_errmsg(), "example 1 of the batch: box 1 is of class 2; [yolo] has "
				    "classes=2"),
	       "a box of class 2 of 2: \"%s\"", cnn_errmsg());
	cnn_batch_free(b);
	cnn_net_free(net);
}

int main(void)
{
	gradient_check("[yolo]'s loss, two examples, three boxes", CFG(""));
	gradient_check("[yolo]'s loss, scale_x_y 1.2 and normalizers",
		       CFG("scale_x_y=1.2\niou_normalizer=0.5\ncls_normalizer=2\n"
			   "obj_normalizer=3\n"));
	gradient_check("[yolo]'s loss, truth_thresh 0.1: predictions near a truth become "
		       "positives", CFG("truth_thresh=0.1\nignore_thresh=0.05\n"));
	/* Not ciou: its alpha is held constant (test_box_iou_loss checks it
	 * against torchvision's). */
	gradient_check("[yolo]'s loss, iou_loss=iou", CFG("iou_loss=iou\n"));
	gradient_check("[yolo]'s loss, iou_loss=giou, scale_x_y 1.2, iou_normalizer 0.5",
		       CFG("iou_loss=giou\nscale_x_y=1.2\niou_normalizer=0.5\n"));
	gradient_check("[yolo]'s loss, iou_loss=diou", CFG("iou_loss=diou\n"));
	/* Not rescore=1: its objectness target, the IoU of the prediction,
	 * is held fixed (as darknet holds it), not differentiated. */
	gradient_check("[region]'s loss, softmax classes, the anchor prior",
		       REGION("softmax=1\nobject_scale=5\ncoord_scale=2\n"));
	gradient_check("[region]'s loss, logistic classes, bias_match", REGION("bias_match=1\n"));
	region_targets();
	gradient_check("[detection]'s loss, sqrt=1, the weights of yolov1.cfg",
		       DETECTION("sqrt=1\nobject_scale=1\nnoobject_scale=.5\nclass_scale=1\n"
				 "coord_scale=5\n"));
	gradient_check("[detection]'s loss, softmax=1 (through the softmax), forced=1",
		       DETECTION("softmax=1\nforced=1\n"));
	targets();
	errors();
	return tap_done();
}
