/*
 * crop.c - the pixels under a box: the window a box covers in an image
 * (cnn-crop, and the face pipeline's cut of a detected face), and that
 * window cut out of a tensor of any dtype.
 */
#include <math.h>
#include <string.h>

#include "cnn.h"

void cnn_box_expand(float *box, double margin, int square)
{
	double cx = ((double)box[0] + box[2]) / 2, cy = ((double)box[1] + box[3]) / 2;
	double w = (double)box[2] - box[0], h = (double)box[3] - box[1];

	if (square)
		w = h = w > h ? w : h;
	w *= 1 + 2 * margin;
	h *= 1 + 2 * margin;
	box[0] = (float)(cx - w / 2);
	box[1] = (float)(cy - h / 2);
	box[2] = (float)(cx + w / 2);
	box[3] = (float)(cy + h / 2);
}

/* face-api's Box.clipAtImageBorders and floor: the left and top at 0 or
 * more, the width and height to the image's edge, then all four floored. */
int cnn_box_window(const float *box, int64_t img_h, int64_t img_w, int64_t win[4])
{
	double x = box[0] > 0 ? box[0] : 0, y = box[1] > 0 ? box[1] : 0;
	double w = fmin((double)box[2] - x, (double)img_w - x);
	double h = fmin((double)box[3] - y, (double)img_h - y);

	win[0] = (int64_t)floor(y);
	win[1] = (int64_t)floor(x);
	win[2] = h > 0 ? (int64_t)floor(h) : 0;
	win[3] = w > 0 ? (int64_t)floor(w) : 0;
	return win[2] > 0 && win[3] > 0;
}

cnn_tensor *cnn_tensor_window(const cnn_tensor *t, int64_t top, int64_t left, int64_t h,
			      int64_t w)
{
	int64_t dim[CNN_MAX_DIMS], planes = 1, ih, iw;
	size_t size = cnn_dtype_size(t->dtype);
	char desc[128];
	cnn_tensor *out;

	if (t->ndim < 2 || t->dtype == CNN_TEXT)
		return cnn_error("tensor \"%s\" is %s, not an image", t->name,
				 cnn_tensor_describe(t, desc, sizeof desc)), NULL;
	ih = t->dim[t->ndim - 2];
	iw = t->dim[t->ndim - 1];
	if (top < 0 || left < 0 || h < 0 || w < 0 || top + h > ih || left + w > iw)
		return cnn_error("tensor \"%s\": the %lldx%lld window at row %lld, column %lld "
				 "is not inside its %lldx%lld", t->name, (long long)h,
				 (long long)w, (long long)top, (long long)left, (long long)ih,
				 (long long)iw), NULL;
	memcpy(dim, t->dim, sizeof *dim * t->ndim);
	dim[t->ndim - 2] = h;
	dim[t->ndim - 1] = w;
	for (int d = 0; d < t->ndim - 2; d++)
		planes *= t->dim[d];
	if (!(out = cnn_tensor_new(t->name, t->dtype, t->ndim, dim)) || w == 0)
		return out;
	for (int64_t p = 0; p < planes; p++)
		for (int64_t y = 0; y < h; y++)
			memcpy((char *)out->data + ((p * h + y) * w) * size,
			       (const char *)t->data + ((p * ih + top + y) * iw + left) * size,
			       (size_t)w * size);
	return out;
}
