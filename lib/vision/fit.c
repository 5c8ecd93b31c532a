/*
 * fit.c - an image made into a network's input by the network's own rule
 * (cnn_input_rule: [net] resize= and pad_square=, at the bottom right or
 * centred): the preprocessing that
 * imported networks were trained with, which they need to the last bit to
 * give their makers' outputs.
 *
 * The resizes are TensorFlow's bilinear ones, in its order of operations:
 * for each output pixel the source position src = dst * ratio, the four
 * neighbours at floor(src) and min(ceil(src), in - 1), a blend along x on
 * the top and the bottom rows, then along y, all in double and rounded once
 * to float.  The ratio is in / out for align_corners false (legacy, no half
 * pixel centres) and (in - 1) / (out - 1) for align_corners true.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cnn.h"

/* Where output index i of n reads among m inputs. */
struct tap {
	int64_t lo, hi;
	double frac;
};

static struct tap *taps(int64_t m, int64_t n, int aligned)
{
	struct tap *t = malloc(sizeof *t * (n ? n : 1));
	double ratio = aligned ? (n > 1 ? (double)(m - 1) / (n - 1) : 0) : (double)m / n;

	for (int64_t i = 0; t && i < n; i++) {
		double src = i * ratio;
		t[i].lo = (int64_t)floor(src);
		t[i].hi = (int64_t)ceil(src) < m - 1 ? (int64_t)ceil(src) : m - 1;
		t[i].lo = t[i].lo < m - 1 ? t[i].lo : m - 1;
		t[i].frac = src - floor(src);
	}
	return t;
}

/* Where the image sits in its padded square: rows and columns before it. */
struct offset {
	int64_t top, left;
};

/* The source image's value at (c, y, x) of the padded image as it is
 * stored (0..255 for u8), 0 in the padding. */
static double value(const cnn_tensor *img, const struct offset *at, int64_t c, int64_t y,
		    int64_t x)
{
	int64_t h = img->dim[1], w = img->dim[2];

	y -= at->top;
	x -= at->left;
	if (y < 0 || x < 0 || y >= h || x >= w)
		return 0;
	return cnn_tensor_get(img, (c * h + y) * w + x);
}

/* TensorFlow resizes the values as they are stored; the network's scale
 * (cnn_input_value's 1/255 for u8) comes after, here in the same double. */
static void blend(const cnn_tensor *img, const struct offset *at, const struct tap *ty,
		  const struct tap *tx, int64_t h, int64_t w, float *out)
{
	double scale = img->dtype == CNN_U8 ? 1 / 255.0 : img->dtype == CNN_U16 ? 1 / 65535.0 : 1;

	for (int64_t c = 0; c < img->dim[0]; c++)
		for (int64_t y = 0; y < h; y++)
			for (int64_t x = 0; x < w; x++) {
				double tl = value(img, at, c, ty[y].lo, tx[x].lo);
				double tr = value(img, at, c, ty[y].lo, tx[x].hi);
				double bl = value(img, at, c, ty[y].hi, tx[x].lo);
				double br = value(img, at, c, ty[y].hi, tx[x].hi);
				double top = tl + (tr - tl) * tx[x].frac;
				double bottom = bl + (br - bl) * tx[x].frac;
				out[(c * h + y) * w + x] =
					(float)((top + (bottom - top) * ty[y].frac) * scale);
			}
}

/* The default rule: cnn_image_resize(), then the network's scale. */
static cnn_tensor *resize_default(const cnn_tensor *img, int64_t h, int64_t w)
{
	cnn_tensor *r = cnn_image_resize(img, h, w), *f;

	if (!r)
		return NULL;
	if ((f = cnn_tensor_new3(img->name, CNN_F32, img->dim[0], h, w)))
		for (int64_t i = 0; i < cnn_tensor_count(f); i++)
			((float *)f->data)[i] = cnn_input_value(r, i);
	cnn_tensor_free(r);
	return f;
}

/* The default resize of the image padded with zeros to ph x pw. */
static cnn_tensor *pad_then_resize(const cnn_tensor *img, const struct offset *at, int64_t ph,
				   int64_t pw, int64_t h, int64_t w)
{
	cnn_tensor *padded = cnn_tensor_new3(img->name, img->dtype, img->dim[0], ph, pw), *f;
	size_t size = cnn_dtype_size(img->dtype);

	if (!padded)
		return NULL;
	memset(padded->data, 0, cnn_tensor_bytes(padded));
	for (int64_t c = 0; c < img->dim[0]; c++)
		for (int64_t y = 0; y < img->dim[1]; y++)
			memcpy((char *)padded->data + ((c * ph + y + at->top) * pw + at->left) * size,
			       (const char *)img->data + ((c * img->dim[1] + y) * img->dim[2]) * size,
			       img->dim[2] * size);
	f = resize_default(padded, h, w);
	cnn_tensor_free(padded);
	return f;
}

/* Centred, face-api's way: of the d = |w - h| rows or columns, round(d / 2)
 * after (JavaScript rounds halves up) and the rest before. */
static struct offset square_offset(const cnn_tensor *img, int64_t side, int pad)
{
	int64_t dh = side - img->dim[1], dw = side - img->dim[2];

	if (pad != CNN_PAD_CENTRE)
		return (struct offset){0, 0};
	return (struct offset){dh - (dh + 1) / 2, dw - (dw + 1) / 2};
}

cnn_tensor *cnn_image_fit(const cnn_tensor *img, int64_t h, int64_t w,
			  const struct cnn_input_rule *rule)
{
	char desc[128];
	int64_t ph, pw;
	struct offset at;
	struct tap *ty, *tx;
	cnn_tensor *out;

	if (img->ndim != 3 || img->dtype == CNN_TEXT)
		return cnn_error("tensor \"%s\" is %s, not an image C x H x W", img->name,
				 cnn_tensor_describe(img, desc, sizeof desc)), NULL;
	ph = img->dim[1];
	pw = img->dim[2];
	if (rule->pad_square != CNN_PAD_NONE)
		ph = pw = ph > pw ? ph : pw;
	at = square_offset(img, ph, rule->pad_square);
	if (rule->resize == CNN_RESIZE_DEFAULT)
		return rule->pad_square ? pad_then_resize(img, &at, ph, pw, h, w)
					: resize_default(img, h, w);
	if (!(out = cnn_tensor_new3(img->name, CNN_F32, img->dim[0], h, w)))
		return NULL;
	ty = taps(ph, h, rule->resize == CNN_RESIZE_ALIGN_CORNERS);
	tx = taps(pw, w, rule->resize == CNN_RESIZE_ALIGN_CORNERS);
	if (!ty || !tx) {
		free(ty);
		free(tx);
		cnn_tensor_free(out);
		return cnn_error("out of memory"), NULL;
	}
	blend(img, &at, ty, tx, h, w, out->data);
	free(ty);
	free(tx);
	return out;
}

/* The inverse of the fit for positions: x in the network input is
 * x * sx - ox in the source, y * sy - oy. */
void cnn_image_fit_boxes(const struct cnn_input_rule *rule, int64_t src_h, int64_t src_w,
			 int64_t h, int64_t w, float *boxes, int64_t n)
{
	int64_t side = src_h > src_w ? src_h : src_w;
	double sx = (double)src_w / w, sy = (double)src_h / h, ox = 0, oy = 0;

	if (rule->pad_square == CNN_PAD_BOTTOM_RIGHT) {
		/* face-api's correction: the image covers round(src * w / side)
		 * of the input's w (JavaScript's Math.round: halves up). */
		sx = (double)src_w / floor((double)src_w * w / side + 0.5);
		sy = (double)src_h / floor((double)src_h * h / side + 0.5);
	} else if (rule->pad_square == CNN_PAD_CENTRE) {
		cnn_tensor probe = {.ndim = 3, .dim = {1, src_h, src_w}};
		struct offset at = square_offset(&probe, side, CNN_PAD_CENTRE);
		sx = (double)side / w;
		sy = (double)side / h;
		ox = (double)at.left;
		oy = (double)at.top;
	}
	for (int64_t i = 0; i < n; i++) {
		float *b = boxes + i * CNN_BOX_FIELDS;
		b[0] = (float)(b[0] * sx - ox);
		b[2] = (float)(b[2] * sx - ox);
		b[1] = (float)(b[1] * sy - oy);
		b[3] = (float)(b[3] * sy - oy);
	}
}
