/*
 * segmetrics.c - scoring segmentations: the confusion of predicted against
 * true classes over every pixel of a stream, and from it pixel accuracy,
 * each class's IoU and Dice, their means (mIoU, as PASCAL VOC and
 * Cityscapes report it), all from one count.
 *
 * Pixels whose true class is the ignore value (VOC's 255) are not counted.
 * A class's IoU is TP / (TP + FP + FN) and its Dice 2 TP / (2 TP + FP +
 * FN); the means are over the classes that occur, in the truth or in the
 * predictions (a class absent from both has no score, not a perfect one).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cnn.h"

struct cnn_seg_tally {
	int ignore;                /* -1: none */
	int classes;
	int64_t *confusion;        /* classes x classes: [true][predicted] */
};

cnn_seg_tally *cnn_seg_tally_new(int ignore)
{
	cnn_seg_tally *t = calloc(1, sizeof *t);

	if (!t)
		cnn_error("out of memory");
	else
		t->ignore = ignore;
	return t;
}

void cnn_seg_tally_free(cnn_seg_tally *t)
{
	if (t)
		free(t->confusion);
	free(t);
}

/* Room for classes 0..k, keeping what was counted. */
static int grow(cnn_seg_tally *t, int k)
{
	int n = k + 1;
	int64_t *m;

	if (n <= t->classes)
		return CNN_OK;
	if (!(m = calloc((size_t)n * n, sizeof *m)))
		return cnn_error("out of memory");
	for (int i = 0; i < t->classes; i++)
		memcpy(m + (size_t)i * n, t->confusion + (size_t)i * t->classes,
		       sizeof *m * t->classes);
	free(t->confusion);
	t->confusion = m;
	t->classes = n;
	return CNN_OK;
}

/* The class of pixel i of a mask, or -1 with an error. */
static int class_at(const cnn_tensor *m, int64_t i)
{
	double v = cnn_tensor_get(m, i);

	if (!(v >= 0 && v < CNN_SEG_MAX_CLASSES && v == floor(v)))
		return cnn_error("tensor \"%s\" pixel %lld is %g, not a class (0 to %d)", m->name,
				 (long long)i, v, CNN_SEG_MAX_CLASSES - 1), -1;
	return (int)v;
}

int cnn_seg_tally_add(cnn_seg_tally *t, const cnn_tensor *pred, const cnn_tensor *truth)
{
	char a[128], b[128];
	int64_t n = cnn_tensor_count(truth);

	if (pred->dtype == CNN_TEXT || truth->dtype == CNN_TEXT || cnn_tensor_count(pred) != n ||
	    pred->dim[pred->ndim - 1] != truth->dim[truth->ndim - 1])
		return cnn_error("tensor \"%s\" is %s, \"%s\" %s: masks of one size", pred->name,
				 cnn_tensor_describe(pred, a, sizeof a), truth->name,
				 cnn_tensor_describe(truth, b, sizeof b));
	for (int64_t i = 0; i < n; i++) {
		int k = class_at(truth, i), p;
		if (k < 0)
			return CNN_ERR;
		if (k == t->ignore)
			continue;
		if ((p = class_at(pred, i)) < 0 || grow(t, k > p ? k : p))
			return CNN_ERR;
		t->confusion[(size_t)k * t->classes + p]++;
	}
	return CNN_OK;
}

int cnn_seg_tally_classes(const cnn_seg_tally *t)
{
	return t->classes;
}

const int64_t *cnn_seg_tally_confusion(const cnn_seg_tally *t)
{
	return t->confusion;
}

void cnn_seg_class_scores(const cnn_seg_tally *t, int k, cnn_seg_scores *s)
{
	int64_t tp = t->confusion[(size_t)k * t->classes + k], fp = 0, fn = 0;

	for (int j = 0; j < t->classes; j++)
		if (j != k) {
			fp += t->confusion[(size_t)j * t->classes + k];
			fn += t->confusion[(size_t)k * t->classes + j];
		}
	memset(s, 0, sizeof *s);
	s->pixels = tp + fn;
	s->present = tp + fp + fn > 0;
	s->accuracy = s->pixels ? (double)tp / s->pixels : 0;
	s->iou = s->present ? (double)tp / (tp + fp + fn) : 0;
	s->dice = s->present ? 2.0 * tp / (2 * tp + fp + fn) : 0;
}

void cnn_seg_scores_all(const cnn_seg_tally *t, cnn_seg_scores *s)
{
	int64_t right = 0, present = 0;
	double iou = 0, dice = 0;

	memset(s, 0, sizeof *s);
	for (int k = 0; k < t->classes; k++) {
		cnn_seg_scores c;
		cnn_seg_class_scores(t, k, &c);
		right += t->confusion[(size_t)k * t->classes + k];
		s->pixels += c.pixels;
		present += c.present;
		iou += c.iou;
		dice += c.dice;
	}
	s->present = (int)present;
	s->accuracy = s->pixels ? (double)right / s->pixels : 0;
	s->iou = present ? iou / present : 0;
	s->dice = present ? dice / present : 0;
}
