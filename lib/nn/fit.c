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
 *
 * darknet's are its own, in float as its image.c computes them: the pixels
 * divided by 255 first, resize_image's bilinear (rows, then columns, with
 * (in - 1) / (out - 1) as the ratio), and letterbox_image's fit inside the
 * input at the image's aspect, centred on a canvas of 0.5.
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

/* darknet's pixel: u8 / 255 in double, stored in float (stb_image's load). */
static float darknet_pixel(const cnn_tensor *img, int64_t i)
{
	double v = cnn_tensor_get(img, i);

	return (float)(img->dtype == CNN_U8 ? v / 255. : img->dtype == CNN_U16 ? v / 65535. : v);
}

/* darknet's resize_image of the image into out (C x h x w floats), with
 * its float arithmetic and its order: each row to w columns, then the
 * rows blended. */
static int resize_darknet(const cnn_tensor *img, int64_t h, int64_t w, float *out)
{
	int64_t c = img->dim[0], ih = img->dim[1], iw = img->dim[2];
	float *part = malloc(sizeof *part * (size_t)(c * ih * w));
	float w_scale = (float)(iw - 1) / (w - 1), h_scale = (float)(ih - 1) / (h - 1);

	if (!part)
		return cnn_error("out of memory");
	for (int64_t k = 0; k < c; k++)
		for (int64_t r = 0; r < ih; r++)
			for (int64_t x = 0; x < w; x++) {
				int64_t at = (k * ih + r) * iw;
				float sx = x * w_scale, dx;
				int64_t ix = (int64_t)sx;
				if (x == w - 1 || iw == 1) {
					part[(k * ih + r) * w + x] = darknet_pixel(img, at + iw - 1);
					continue;
				}
				dx = sx - ix;
				part[(k * ih + r) * w + x] = (1 - dx) * darknet_pixel(img, at + ix) +
							     dx * darknet_pixel(img, at + ix + 1);
			}
	for (int64_t k = 0; k < c; k++)
		for (int64_t r = 0; r < h; r++) {
			float sy = r * h_scale, dy;
			int64_t iy = (int64_t)sy;
			const float *p = part + (k * ih + iy) * w;
			float *o = out + (k * h + r) * w;
			dy = sy - iy;
			for (int64_t x = 0; x < w; x++)
				o[x] = (1 - dy) * p[x];
			if (r == h - 1 || ih == 1)
				continue;
			for (int64_t x = 0; x < w; x++)
				o[x] += dy * p[w + x];
		}
	free(part);
	return CNN_OK;
}

/* Where letterbox_image puts the image in an h x w input: at its aspect,
 * by darknet's integer arithmetic. */
struct letterbox {
	int64_t h, w, top, left;
};

static struct letterbox letterbox_of(int64_t src_h, int64_t src_w, int64_t h, int64_t w)
{
	struct letterbox b;

	if ((float)w / src_w < (float)h / src_h) {
		b.w = w;
		b.h = src_h * w / src_w;
	} else {
		b.h = h;
		b.w = src_w * h / src_h;
	}
	b.top = (h - b.h) / 2;
	b.left = (w - b.w) / 2;
	return b;
}

/* darknet's letterbox_image: the image resized into its letterbox (by the
 * rule's resize) on a canvas of 0.5. */
static cnn_tensor *letterbox(const cnn_tensor *img, int64_t h, int64_t w,
			     const struct cnn_input_rule *rule)
{
	struct letterbox b = letterbox_of(img->dim[1], img->dim[2], h, w);
	struct cnn_input_rule inner = {rule->resize, CNN_PAD_NONE};
	cnn_tensor *fitted = cnn_image_fit(img, b.h, b.w, &inner), *out;

	if (!fitted)
		return NULL;
	if ((out = cnn_tensor_new3(img->name, CNN_F32, img->dim[0], h, w))) {
		float *o = out->data;
		for (int64_t i = 0; i < cnn_tensor_count(out); i++)
			o[i] = 0.5f;
		for (int64_t c = 0; c < img->dim[0]; c++)
			for (int64_t y = 0; y < b.h; y++)
				memcpy(o + (c * h + b.top + y) * w + b.left,
				       (const float *)fitted->data + (c * b.h + y) * b.w,
				       sizeof *o * (size_t)b.w);
	}
	cnn_tensor_free(fitted);
	return out;
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
	if (rule->pad_square == CNN_PAD_LETTERBOX)
		return letterbox(img, h, w, rule);
	if (rule->resize == CNN_RESIZE_DARKNET) {
		if ((out = cnn_tensor_new3(img->name, CNN_F32, img->dim[0], h, w)) &&
		    resize_darknet(img, h, w, out->data)) {
			cnn_tensor_free(out);
			return NULL;
		}
		return out;
	}
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

/* The fit for positions: x in the network input is x * sx - ox in the
 * source image. */
struct fit_map {
	double sx, sy, ox, oy;
};

static struct fit_map fit_map(const struct cnn_input_rule *rule, int64_t src_h, int64_t src_w,
			      int64_t h, int64_t w)
{
	int64_t side = src_h > src_w ? src_h : src_w;
	struct fit_map m = {(double)src_w / w, (double)src_h / h, 0, 0};

	if (rule->pad_square == CNN_PAD_LETTERBOX) {
		/* correct_yolo_boxes: the offset in float, the half pixel the
		 * integer placement of the image drops included. */
		struct letterbox b = letterbox_of(src_h, src_w, h, w);
		m.sx = (double)src_w / b.w;
		m.sy = (double)src_h / b.h;
		m.ox = (w - b.w) / 2.0 * m.sx;
		m.oy = (h - b.h) / 2.0 * m.sy;
	} else if (rule->pad_square == CNN_PAD_BOTTOM_RIGHT) {
		/* face-api's correction: the image covers round(src * w / side)
		 * of the input's w (JavaScript's Math.round: halves up). */
		m.sx = (double)src_w / floor((double)src_w * w / side + 0.5);
		m.sy = (double)src_h / floor((double)src_h * h / side + 0.5);
	} else if (rule->pad_square == CNN_PAD_CENTRE) {
		cnn_tensor probe = {.ndim = 3, .dim = {1, src_h, src_w}};
		struct offset at = square_offset(&probe, side, CNN_PAD_CENTRE);
		m.sx = (double)side / w;
		m.sy = (double)side / h;
		m.ox = (double)at.left;
		m.oy = (double)at.top;
	}
	return m;
}

void cnn_image_fit_boxes(const struct cnn_input_rule *rule, int64_t src_h, int64_t src_w,
			 int64_t h, int64_t w, float *boxes, int64_t n)
{
	struct fit_map m = fit_map(rule, src_h, src_w, h, w);

	for (int64_t i = 0; i < n; i++) {
		float *b = boxes + i * CNN_BOX_FIELDS;
		b[0] = (float)(b[0] * m.sx - m.ox);
		b[2] = (float)(b[2] * m.sx - m.ox);
		b[1] = (float)(b[1] * m.sy - m.oy);
		b[3] = (float)(b[3] * m.sy - m.oy);
	}
}

void cnn_image_fit_boxes_in(const struct cnn_input_rule *rule, int64_t src_h, int64_t src_w,
			    int64_t h, int64_t w, float *boxes, int64_t n)
{
	struct fit_map m = fit_map(rule, src_h, src_w, h, w);

	for (int64_t i = 0; i < n; i++) {
		float *b = boxes + i * CNN_BOX_FIELDS;
		b[0] = (float)((b[0] + m.ox) / m.sx);
		b[2] = (float)((b[2] + m.ox) / m.sx);
		b[1] = (float)((b[1] + m.oy) / m.sy);
		b[3] = (float)((b[3] + m.oy) / m.sy);
	}
}
