/*
 * augment_geometry.c - the geometric transformations of augmentation.
 *
 * Every transformation moves the image, the mask and the boxes of a record
 * together.  Coordinates are continuous, as for boxes (cnn-stream(5)):
 * pixel (i, j) covers x in j..j+1 and y in i..i+1, its centre at
 * (j + 0.5, i + 0.5).  Images are sampled bilinearly, masks at the
 * nearest pixel (classes must not blend), and a box becomes the bounding
 * box of its moved corners, clipped to the image; a box that leaves the
 * image, or keeps less than min_visible of its area, is dropped.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vision/augment.h"
#include "simd/simd.h"

/* ----------------------------------------------------------- affine maps */

/* m := next after m. */
void aug_affine_then(double m[6], const double next[6])
{
	double r[6] = {
		next[0] * m[0] + next[1] * m[3], next[0] * m[1] + next[1] * m[4],
		next[0] * m[2] + next[1] * m[5] + next[2],
		next[3] * m[0] + next[4] * m[3], next[3] * m[1] + next[4] * m[4],
		next[3] * m[2] + next[4] * m[5] + next[5],
	};
	memcpy(m, r, sizeof r);
}

int aug_affine_invert(const double m[6], double inv[6])
{
	double det = m[0] * m[4] - m[1] * m[3];

	if (!isfinite(det) || fabs(det) < 1e-12)
		return cnn_error("the transformation collapses the image (determinant %g)", det);
	inv[0] = m[4] / det;
	inv[1] = -m[1] / det;
	inv[3] = -m[3] / det;
	inv[4] = m[0] / det;
	inv[2] = -(inv[0] * m[2] + inv[1] * m[5]);
	inv[5] = -(inv[3] * m[2] + inv[4] * m[5]);
	return CNN_OK;
}

/* ----------------------------------------------------------------- boxes */

/* Keep the rows of t flagged in keep, in order. */
static void boxes_compact(cnn_tensor *t, const unsigned char *keep)
{
	float *v = t->data;
	int64_t n = t->dim[0], kept = 0;

	for (int64_t i = 0; i < n; i++)
		if (keep[i])
			memmove(v + kept++ * CNN_BOX_FIELDS, v + i * CNN_BOX_FIELDS,
				CNN_BOX_FIELDS * sizeof *v);
	t->dim[0] = kept;
}

/* Box b (x1, y1, x2, y2 already moved, of area moved_area before clipping)
 * clipped to w x h: does it stay? */
static int clip_box(float *b, double moved_area, int64_t h, int64_t w, float min_visible)
{
	b[0] = fminf(fmaxf(b[0], 0), (float)w);
	b[2] = fminf(fmaxf(b[2], 0), (float)w);
	b[1] = fminf(fmaxf(b[1], 0), (float)h);
	b[3] = fminf(fmaxf(b[3], 0), (float)h);
	if (!(b[2] > b[0] && b[3] > b[1]))
		return 0;
	return moved_area <= 0 ||
	       (double)(b[2] - b[0]) * (b[3] - b[1]) >= min_visible * moved_area;
}

/* How a box moves: b becomes the box it moves to, *area the area that
 * --min-visible compares with; 0 when it moves nowhere. */
typedef int box_mover(const void *ctx, float *b, double *area);

/* Move every box into an image of h x w, clip it, drop what leaves. */
static int boxes_move(aug_item *it, int64_t h, int64_t w, box_mover *move, const void *ctx)
{
	for (int f = 0; f < AUG_BOX_FIELDS; f++) {
		cnn_tensor *t = it->boxes[f];
		int64_t n = t ? t->dim[0] : 0;
		unsigned char *keep;

		if (!t)
			continue;
		if (!(keep = malloc(n + 1)))
			return cnn_error("out of memory");
		for (int64_t i = 0; i < n; i++) {
			float *b = (float *)t->data + i * CNN_BOX_FIELDS;
			double area;
			keep[i] = move(ctx, b, &area) && clip_box(b, area, h, w, it->min_visible);
		}
		boxes_compact(t, keep);
		free(keep);
	}
	return CNN_OK;
}

/* The bounding box of the four corners moved by the affine map ctx. */
static int affine_box(const void *ctx, float *b, double *area)
{
	const double *m = ctx;
	double lox = INFINITY, loy = INFINITY, hix = -INFINITY, hiy = -INFINITY;

	for (int k = 0; k < 4; k++) {
		double x = b[k & 1 ? 2 : 0], y = b[k & 2 ? 3 : 1];
		double px = m[0] * x + m[1] * y + m[2];
		double py = m[3] * x + m[4] * y + m[5];
		lox = fmin(lox, px), hix = fmax(hix, px);
		loy = fmin(loy, py), hiy = fmax(hiy, py);
	}
	b[0] = (float)lox, b[1] = (float)loy, b[2] = (float)hix, b[3] = (float)hiy;
	*area = (hix - lox) * (hiy - loy);
	return 1;
}

static int boxes_affine(aug_item *it, const double m[6], int64_t h, int64_t w)
{
	return boxes_move(it, h, w, affine_box, m);
}

/* ------------------------------------------------------------- sampling */

/* Index i of a line of n pixels under the border rule; -1 for the fill. */
static int64_t border_index(int64_t i, int64_t n, aug_border border)
{
	if (i >= 0 && i < n)
		return i;
	if (border == AUG_CONSTANT)
		return -1;
	if (border == AUG_EDGE || n == 1)
		return i < 0 ? 0 : n - 1;
	int64_t period = 2 * (n - 1);
	i %= period;
	if (i < 0)
		i += period;
	return i < n ? i : period - i;
}

/* The source coordinates, for the pixel centres of one output row, of a
 * mapping from output to input. */
typedef void row_coords(const void *ctx, int64_t y, int64_t w, float *sx, float *sy);

struct affine_ctx {
	double inv[6]; /* output coordinates to input ones */
};

static void affine_row(const void *ctx, int64_t y, int64_t w, float *sx, float *sy)
{
	const double *m = ((const struct affine_ctx *)ctx)->inv;
	double cy = y + 0.5;

	for (int64_t x = 0; x < w; x++) {
		double cx = x + 0.5;
		sx[x] = (float)(m[0] * cx + m[1] * cy + m[2]);
		sy[x] = (float)(m[3] * cx + m[4] * cy + m[5]);
	}
}

struct field_ctx {
	const float *dx, *dy; /* displacement of each output pixel */
};

static void field_row(const void *ctx, int64_t y, int64_t w, float *sx, float *sy)
{
	const struct field_ctx *f = ctx;

	for (int64_t x = 0; x < w; x++) {
		sx[x] = x + 0.5f + f->dx[y * w + x];
		sy[x] = y + 0.5f + f->dy[y * w + x];
	}
}

static float tap(const float *plane, int64_t iy, int64_t ix, int64_t iw, float fill)
{
	return iy < 0 || ix < 0 ? fill : plane[iy * iw + ix];
}

/* The mask, and the image unless mask_only, resampled to h x w through
 * coords. */
static int resample(aug_item *it, int64_t h, int64_t w, row_coords *coords,
		    const void *ctx, const aug_fill *fill, int mask_only)
{
	int64_t c = mask_only ? 0 : aug_channels(it), ih = aug_height(it), iw = aug_width(it);
	int64_t dim[3] = {c, h, w}, plane = ih * iw;
	cnn_tensor *out = mask_only ? NULL : cnn_tensor_empty(it->img->name, CNN_F32, 3, dim);
	cnn_tensor *mask = NULL;
	float *sx = malloc((w + 1) * sizeof *sx), *sy = malloc((w + 1) * sizeof *sy);
	const float *src = it->img->data;
	float *dst = out ? out->data : NULL;

	if (it->mask) {
		int64_t mdim[3] = {1, h, w};
		int nd = it->mask->ndim;
		mask = cnn_tensor_new(it->mask->name, it->mask->dtype, nd, mdim + 3 - nd);
	}
	if ((!mask_only && !out) || !sx || !sy || (it->mask && !mask)) {
		cnn_tensor_free(out);
		cnn_tensor_free(mask);
		free(sx);
		free(sy);
		return cnn_error("out of memory");
	}
	for (int64_t y = 0; y < h; y++) {
		coords(ctx, y, w, sx, sy);
		for (int64_t x = 0; x < w; x++) {
			float u = sx[x] - 0.5f, v = sy[x] - 0.5f;
			float fu = floorf(u), fv = floorf(v);
			float ax = u - fu, ay = v - fv;
			int64_t x0, x1, y0, y1, o = y * w + x;
			if (!(fabsf(u) < 1e9f && fabsf(v) < 1e9f)) {
				for (int64_t k = 0; k < c; k++)
					dst[k * h * w + o] = fill->value;
				continue;
			}
			x0 = (int64_t)fu, y0 = (int64_t)fv;
			if (x0 >= 0 && y0 >= 0 && x0 + 1 < iw && y0 + 1 < ih) {
				const float *p = src + y0 * iw + x0;
				for (int64_t k = 0; k < c; k++, p += plane) {
					float top = p[0] + ax * (p[1] - p[0]);
					float bot = p[iw] + ax * (p[iw + 1] - p[iw]);
					dst[k * h * w + o] = top + ay * (bot - top);
				}
			} else {
				x1 = border_index(x0 + 1, iw, fill->border);
				y1 = border_index(y0 + 1, ih, fill->border);
				x0 = border_index(x0, iw, fill->border);
				y0 = border_index(y0, ih, fill->border);
				for (int64_t k = 0; k < c; k++) {
					const float *p = src + k * plane;
					float f = fill->value;
					float p00 = tap(p, y0, x0, iw, f), p01 = tap(p, y0, x1, iw, f);
					float p10 = tap(p, y1, x0, iw, f), p11 = tap(p, y1, x1, iw, f);
					float top = p00 + ax * (p01 - p00), bot = p10 + ax * (p11 - p10);
					dst[k * h * w + o] = top + ay * (bot - top);
				}
			}
			if (mask) {
				int64_t mx = border_index((int64_t)floorf(sx[x]), iw, fill->border);
				int64_t my = border_index((int64_t)floorf(sy[x]), ih, fill->border);
				double cls = mx < 0 || my < 0 ? 0 : cnn_tensor_get(it->mask, my * iw + mx);
				cnn_tensor_set(mask, o, cls);
			}
		}
	}
	free(sx);
	free(sy);
	if (out) {
		cnn_tensor_free(it->img);
		it->img = out;
	}
	if (mask) {
		cnn_tensor_free(it->mask);
		it->mask = mask;
	}
	return CNN_OK;
}

/* ------------------------------------------------------ transformations */

/* Reverse each line of h x w elements of size bytes (a mask's classes). */
#define REVERSE_LINES(type)                                                 \
	for (int64_t y = 0; y < h; y++) {                                   \
		type *a = (type *)v + y * w, *b = a + w - 1, t;              \
		for (; a < b; a++, b--)                                      \
			t = *a, *a = *b, *b = t;                              \
	}                                                                   \
	break

static void reverse_lines(void *v, int64_t h, int64_t w, size_t size)
{
	switch (size) {
	case 1: REVERSE_LINES(uint8_t);
	case 2: REVERSE_LINES(uint16_t);
	case 4: REVERSE_LINES(uint32_t);
	default: REVERSE_LINES(uint64_t);
	}
}

/* Swap line y with line h - 1 - y, for every y above the middle. */
static void swap_lines(unsigned char *v, int64_t h, size_t line)
{
	unsigned char tmp[4096];

	for (int64_t y = 0; y < h / 2; y++) {
		unsigned char *a = v + y * line, *b = v + (h - 1 - y) * line;
		for (size_t done = 0; done < line; done += sizeof tmp) {
			size_t n = line - done < sizeof tmp ? line - done : sizeof tmp;
			memcpy(tmp, a + done, n);
			memcpy(a + done, b + done, n);
			memcpy(b + done, tmp, n);
		}
	}
}

/* Flip each line of every plane (horizontal) or the order of the lines. */
static void flip_planes(void *data, int64_t planes, int64_t h, int64_t w, size_t size,
			int horizontal, int is_float)
{
	unsigned char *v = data;

	for (int64_t p = 0; p < planes; p++, v += h * w * size) {
		if (!horizontal)
			swap_lines(v, h, w * size);
		else if (is_float)
			for (int64_t y = 0; y < h; y++)
				cnn_simd_pixels()->reverse((float *)v + y * w, w);
		else
			reverse_lines(v, h, w, size);
	}
}

void aug_flip(aug_item *it, int horizontal)
{
	int64_t h = aug_height(it), w = aug_width(it);
	double m[6] = {1, 0, 0, 0, 1, 0};

	flip_planes(it->img->data, aug_channels(it), h, w, sizeof(float), horizontal, 1);
	if (it->mask)
		flip_planes(it->mask->data, 1, h, w, cnn_dtype_size(it->mask->dtype),
			    horizontal, 0);
	if (horizontal)
		m[0] = -1, m[2] = (double)w;
	else
		m[4] = -1, m[5] = (double)h;
	boxes_affine(it, m, h, w); /* only fails on memory, and then keeps all */
}

int aug_crop(aug_item *it, int64_t x0, int64_t y0, int64_t h, int64_t w,
	     const aug_fill *fill)
{
	int64_t c = aug_channels(it), ih = aug_height(it), iw = aug_width(it);
	int64_t dim[3] = {c, h, w}, mdim[3] = {1, h, w}, *col = malloc((w + 1) * sizeof *col);
	double m[6] = {1, 0, (double)-x0, 0, 1, (double)-y0};
	cnn_tensor *out = cnn_tensor_empty(it->img->name, CNN_F32, 3, dim), *mask = NULL;
	size_t msize = it->mask ? cnn_dtype_size(it->mask->dtype) : 0;
	const float *src = it->img->data;
	float *dst = out ? out->data : NULL;

	if (it->mask)
		mask = cnn_tensor_new(it->mask->name, it->mask->dtype, it->mask->ndim,
				      mdim + 3 - it->mask->ndim);
	if (!out || !col || (it->mask && !mask)) {
		cnn_tensor_free(out);
		cnn_tensor_free(mask);
		free(col);
		return cnn_error("out of memory");
	}
	/* The source column of each output column (-1: the fill), once, and
	 * the run of them inside the image, xa..xb-1, copied whole. */
	int64_t xa = x0 < 0 ? -x0 : 0, xb = iw - x0 < w ? iw - x0 : w;
	/* A crop that lies wholly left or right of the image has no run. */
	if (xa > w)
		xa = w;
	if (xb < xa)
		xb = xa;
	for (int64_t x = 0; x < w; x++)
		col[x] = border_index(x0 + x, iw, fill->border);
	for (int64_t y = 0; y < h; y++) {
		int64_t sy = border_index(y0 + y, ih, fill->border);
		/* A row outside the image is all border: no run inside. */
		int64_t a = sy < 0 ? w : xa, b = sy < 0 ? w : xb;
		for (int64_t k = 0; k < c; k++) {
			const float *row = src + (k * ih + (sy < 0 ? 0 : sy)) * iw;
			float *to = dst + (k * h + y) * w;
			for (int64_t x = 0; x < a; x++)
				to[x] = sy < 0 || col[x] < 0 ? fill->value : row[col[x]];
			if (b > a)
				memcpy(to + a, row + x0 + a, (b - a) * sizeof *to);
			for (int64_t x = b; x < w; x++)
				to[x] = col[x] < 0 ? fill->value : row[col[x]];
		}
		for (int64_t x = 0; msize && sy >= 0 && x < w; x++)
			if (col[x] >= 0)
				memcpy((char *)mask->data + (y * w + x) * msize,
				       (char *)it->mask->data + (sy * iw + col[x]) * msize, msize);
	}
	free(col);
	cnn_tensor_free(it->img);
	it->img = out;
	if (mask) {
		cnn_tensor_free(it->mask);
		it->mask = mask;
	}
	return boxes_affine(it, m, h, w);
}

int aug_affine(aug_item *it, const double m[6], int64_t h, int64_t w,
	       const aug_fill *fill)
{
	struct affine_ctx ctx;

	if (aug_affine_invert(m, ctx.inv) || resample(it, h, w, affine_row, &ctx, fill, 0))
		return CNN_ERR;
	return boxes_affine(it, m, h, w);
}

int aug_resize(aug_item *it, int64_t h, int64_t w)
{
	int64_t ih = aug_height(it), iw = aug_width(it);
	double m[6] = {(double)w / iw, 0, 0, 0, (double)h / ih, 0};
	aug_fill edge = {AUG_EDGE, 0};
	struct affine_ctx ctx;
	cnn_tensor *img;

	if (h == ih && w == iw)
		return CNN_OK;
	/* The image by libcnn's resize, which averages when it shrinks; the
	 * mask through the same map, nearest. */
	if (aug_affine_invert(m, ctx.inv) ||
	    (it->mask && resample(it, h, w, affine_row, &ctx, &edge, 1)) ||
	    boxes_affine(it, m, h, w) || !(img = cnn_image_resize(it->img, h, w)))
		return CNN_ERR;
	cnn_tensor_free(it->img);
	it->img = img;
	return CNN_OK;
}

/* A box after an elastic warp: the bounding box of the output pixels
 * whose source lies inside it. */
struct field_box {
	const struct field_ctx *f;
	int64_t h, w;
};

static int field_box(const void *ctx, float *b, double *area)
{
	const struct field_box *fb = ctx;
	const float *dx = fb->f->dx, *dy = fb->f->dy;
	int64_t h = fb->h, w = fb->w;
	double lox = INFINITY, loy = INFINITY, hix = -INFINITY, hiy = -INFINITY;

	*area = (double)(b[2] - b[0]) * (b[3] - b[1]);
	for (int64_t y = 0; y < h; y++)
		for (int64_t x = 0; x < w; x++) {
			float sx = x + 0.5f + dx[y * w + x], sy = y + 0.5f + dy[y * w + x];
			if (sx < b[0] || sx > b[2] || sy < b[1] || sy > b[3])
				continue;
			lox = fmin(lox, x), hix = fmax(hix, x + 1);
			loy = fmin(loy, y), hiy = fmax(hiy, y + 1);
		}
	if (!(lox < hix))
		return 0;
	b[0] = (float)lox, b[1] = (float)loy, b[2] = (float)hix, b[3] = (float)hiy;
	return 1;
}

int aug_elastic(aug_item *it, double alpha, double sigma, const aug_fill *fill)
{
	int64_t h = aug_height(it), w = aug_width(it), n = h * w;
	float *d = malloc(2 * n * sizeof *d);
	struct field_ctx f;
	int rc;

	if (!d)
		return cnn_error("out of memory");
	for (int64_t i = 0; i < 2 * n; i++)
		d[i] = (float)(2 * cnn_rng_uniform(&it->rng) - 1);
	/* Smoothing shrinks the noise; Simard et al. scale it back by alpha
	 * after a normalised Gaussian, as here. */
	if (aug_blur_planes(d, 2, h, w, sigma)) {
		free(d);
		return CNN_ERR;
	}
	for (int64_t i = 0; i < 2 * n; i++)
		d[i] *= (float)alpha;
	f.dx = d;
	f.dy = d + n;
	rc = boxes_move(it, h, w, field_box, &(struct field_box){&f, h, w});
	if (!rc)
		rc = resample(it, h, w, field_row, &f, fill, 0);
	free(d);
	return rc;
}
