/*
 * box.h - what the files of libcnn that handle boxes (core/box.c,
 * vision/nms.c, vision/detmetrics.c, io/boxtext.c, vision/draw.c) share.
 *
 * Internal to libcnn.  The IoU is here, inline, because NMS calls it in its
 * innermost loop and must compute it exactly as cnn_box_iou() does: the
 * same float32 operations in the same order, which are torchvision's.
 */
#ifndef CNN_BOX_H
#define CNN_BOX_H

#include "cnn.h"

#ifndef CNN_HIDDEN
#define CNN_HIDDEN __attribute__((visibility("hidden")))
#endif

/* std::max and std::min, which torchvision uses: for equal arguments (and
 * +0 against -0) they return the first, as fmaxf/fminf need not. */
static inline float cnn_maxf(float a, float b)
{
	return a < b ? b : a;
}

static inline float cnn_minf(float a, float b)
{
	return b < a ? b : a;
}

static inline float cnn_box_area(const float *b)
{
	return (b[2] - b[0]) * (b[3] - b[1]);
}

static inline float cnn_box_inter(const float *a, const float *b)
{
	float w = cnn_maxf(0, cnn_minf(a[2], b[2]) - cnn_maxf(a[0], b[0]));
	float h = cnn_maxf(0, cnn_minf(a[3], b[3]) - cnn_maxf(a[1], b[1]));

	return w * h;
}

/* IoU given both areas: inter / (area_a + area_b - inter), 0 when the union
 * is 0 (two empty boxes) where torchvision gets NaN; either way nothing is
 * suppressed and nothing matched. */
static inline float cnn_box_iou_areas(const float *a, const float *b, float area_a,
				      float area_b)
{
	float inter = cnn_box_inter(a, b), uni = area_a + area_b - inter;

	return uni > 0 ? inter / uni : 0;
}

/* DIoU's penalty d^2 / c^2 (see cnn_box_diou), 0 when c is 0. */
CNN_HIDDEN float cnn_box_diou_penalty(const float *a, const float *b);

/* Check n rows of 6 floats: finite numbers, x1 <= x2, y1 <= y2, a class
 * that is a whole number 0..CNN_BOX_MAX_CLASS and, unless truth, a finite
 * score.  The message names the box from 1: "box 3: x2 < x1". */
CNN_HIDDEN int cnn_box_rows_check(const float *rows, int64_t n, int truth);

/* The shortest "%.Ng" (N 6 to 9) that reads back as v, so that text
 * output is both short and exact. */
CNN_HIDDEN char *cnn_format_float(char *buf, size_t size, float v);

#endif
