/*
 * box.c - the boxes field and the overlap measures (IoU, GIoU, DIoU).
 *
 * All in float32, as torchvision computes them, so that NMS decisions made
 * here are bit for bit the ones torchvision makes.
 */
#include <math.h>
#include <stdlib.h>

#include "core/box.h"

cnn_tensor *cnn_boxes_new(const char *name, int64_t n)
{
	int64_t dim[2] = {n, CNN_BOX_FIELDS};

	return cnn_tensor_new(name, CNN_F32, 2, dim);
}

static int bad_box(int64_t i, const char *what, float v)
{
	return cnn_error("box %lld: %s is %g", (long long)i + 1, what, v);
}

int cnn_box_rows_check(const float *rows, int64_t n, int truth)
{
	static const char *const field[] = {"x1", "y1", "x2", "y2", "score", "class"};

	for (int64_t i = 0; i < n; i++) {
		const float *b = rows + i * CNN_BOX_FIELDS;
		float cls = b[5];

		for (int k = 0; k < CNN_BOX_FIELDS; k++)
			if (!isfinite(b[k]) && !(truth && k == 4))
				return bad_box(i, field[k], b[k]);
		if (b[2] < b[0])
			return cnn_error("box %lld: x2 %g < x1 %g", (long long)i + 1, b[2], b[0]);
		if (b[3] < b[1])
			return cnn_error("box %lld: y2 %g < y1 %g", (long long)i + 1, b[3], b[1]);
		if (cls < 0 || cls > CNN_BOX_MAX_CLASS || cls != floorf(cls))
			return cnn_error("box %lld: class %g is not a whole number 0..%d",
					 (long long)i + 1, cls, CNN_BOX_MAX_CLASS);
	}
	return CNN_OK;
}

int cnn_boxes_check(const cnn_tensor *t, int truth)
{
	char desc[128];

	if (t->dtype != CNN_F32 || t->ndim != 2 || t->dim[1] != CNN_BOX_FIELDS)
		return cnn_error("tensor \"%s\" is %s, want %sN x %d", t->name,
				 cnn_tensor_describe(t, desc, sizeof desc),
				 t->dtype == CNN_F32 ? "" : "f32 ", CNN_BOX_FIELDS);
	if (cnn_box_rows_check(t->data, t->dim[0], truth))
		return cnn_error_context("tensor \"%s\"", t->name);
	return CNN_OK;
}

float cnn_box_iou(const float *a, const float *b)
{
	return cnn_box_iou_areas(a, b, cnn_box_area(a), cnn_box_area(b));
}

/* The smallest box enclosing a and b. */
static void enclosing(const float *a, const float *b, float *c)
{
	c[0] = cnn_minf(a[0], b[0]);
	c[1] = cnn_minf(a[1], b[1]);
	c[2] = cnn_maxf(a[2], b[2]);
	c[3] = cnn_maxf(a[3], b[3]);
}

float cnn_box_giou(const float *a, const float *b)
{
	float area_a = cnn_box_area(a), area_b = cnn_box_area(b), c[4], area_c;
	float inter = cnn_box_inter(a, b), uni = area_a + area_b - inter;
	float iou = uni > 0 ? inter / uni : 0;

	enclosing(a, b, c);
	area_c = cnn_box_area(c);
	return area_c > 0 ? iou - (area_c - uni) / area_c : iou;
}

float cnn_box_diou_penalty(const float *a, const float *b)
{
	float c[4], cw, ch, c2, dx, dy;

	enclosing(a, b, c);
	cw = c[2] - c[0];
	ch = c[3] - c[1];
	c2 = cw * cw + ch * ch;
	dx = (a[0] + a[2]) / 2 - (b[0] + b[2]) / 2;
	dy = (a[1] + a[3]) / 2 - (b[1] + b[3]) / 2;
	return c2 > 0 ? (dx * dx + dy * dy) / c2 : 0;
}

float cnn_box_diou(const float *a, const float *b)
{
	return cnn_box_iou(a, b) - cnn_box_diou_penalty(a, b);
}

char *cnn_format_float(char *buf, size_t size, float v)
{
	for (int digits = 6; digits <= 9; digits++) {
		snprintf(buf, size, "%.*g", digits, v);
		if (strtof(buf, NULL) == v)
			break;
	}
	return buf;
}
