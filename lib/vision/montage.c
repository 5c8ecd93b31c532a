/*
 * montage.c - images tiled into one picture, with captions, boxes and
 * masks: a contact sheet of a stream.
 *
 * The number of tiles, and so the grid, is known only at the end, and
 * without a given tile size so is the size every image must fit.  Each
 * added image is therefore kept as a small u8 copy that fits the tile (or
 * 256 x 256), together with what is drawn on it; render() scales it to
 * its final size and draws there, so that lines and letters stay sharp.
 * The final size is never smaller than the copy: without a tile size, the
 * tile is at least each copy's size.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cnn.h"

/* The largest default tile side, and the longest caption in characters. */
#define MONTAGE_CAP 256
#define CAPTION_MAX 40
#define TILE_MAX 4096

struct tile {
	cnn_tensor *img;        /* u8 1 or 3 x h x w, fitted */
	int64_t src_h, src_w;   /* the image's own size: boxes are in it */
	cnn_tensor *boxes, *truth;
	int32_t *mask;          /* h x w classes of img's pixels, or NULL */
	char *caption;
};

struct cnn_montage {
	cnn_montage_opts o;
	struct tile *t;
	int64_t n, cap;
	int64_t max_h, max_w;   /* of the images, for the default tile */
};

void cnn_montage_defaults(cnn_montage_opts *o)
{
	memset(o, 0, sizeof *o);
	o->gap = 2;
	memset(o->background, 255, sizeof o->background);
}

cnn_montage *cnn_montage_new(const cnn_montage_opts *o)
{
	cnn_montage *m;

	if (o->tile_h < 0 || o->tile_w < 0 || o->tile_h > TILE_MAX || o->tile_w > TILE_MAX ||
	    (o->tile_h == 0) != (o->tile_w == 0)) {
		cnn_error("tile size %dx%d (1x1 to %dx%d, or 0x0 for automatic)", o->tile_h,
			  o->tile_w, TILE_MAX, TILE_MAX);
		return NULL;
	}
	if (o->columns < 0 || o->gap < 0 || o->gap > TILE_MAX) {
		cnn_error("montage of %d columns with a gap of %d pixels", o->columns, o->gap);
		return NULL;
	}
	if (!(isfinite(o->lo) && isfinite(o->hi) && o->lo <= o->hi)) {
		cnn_error("value range %g:%g", o->lo, o->hi);
		return NULL;
	}
	if (!(m = calloc(1, sizeof *m))) {
		cnn_error("out of memory");
		return NULL;
	}
	m->o = *o;
	return m;
}

static void tile_free(struct tile *t)
{
	cnn_tensor_free(t->img);
	cnn_tensor_free(t->boxes);
	cnn_tensor_free(t->truth);
	free(t->mask);
	free(t->caption);
}

void cnn_montage_free(cnn_montage *m)
{
	if (!m)
		return;
	for (int64_t i = 0; i < m->n; i++)
		tile_free(&m->t[i]);
	free(m->t);
	free(m);
}

int64_t cnn_montage_count(const cnn_montage *m)
{
	return m->n;
}

/* The size of an h x w image scaled to fit bh x bw, keeping its shape. */
static void fit(int64_t h, int64_t w, int64_t bh, int64_t bw, int64_t *fh, int64_t *fw)
{
	if (h * bw <= w * bh) {
		*fw = bw;
		*fh = llround((double)h * bw / w);
	} else {
		*fh = bh;
		*fw = llround((double)w * bh / h);
	}
	*fh = *fh < 1 ? 1 : *fh > bh ? bh : *fh;
	*fw = *fw < 1 ? 1 : *fw > bw ? bw : *fw;
}

/* The first c channels of img as f32 on the 0..255 scale (see
 * cnn_montage_opts for the range), NaN as 0. */
static cnn_tensor *to_255(const cnn_montage_opts *o, const cnn_tensor *img, int64_t c)
{
	int64_t n = c * img->dim[1] * img->dim[2];
	double lo = o->lo, hi = o->hi, scale;
	cnn_tensor *f = cnn_tensor_new3("image", CNN_F32, c, img->dim[1], img->dim[2]);
	float *v;

	if (!f)
		return NULL;
	v = f->data;
	for (int64_t i = 0; i < n; i++)
		v[i] = (float)cnn_tensor_get(img, i);
	if (lo == hi && img->dtype == CNN_U8) {
		lo = 0, hi = 255;
	} else if (lo == hi && img->dtype == CNN_U16) {
		lo = 0, hi = 65535;
	} else if (lo == hi) {
		/* Images on the 0..255 scale keep it, so that a dark one stays
		 * dark; others (normalised ones, around 0) are stretched. */
		lo = INFINITY, hi = -INFINITY;
		for (int64_t i = 0; i < n; i++)
			if (isfinite(v[i])) {
				lo = v[i] < lo ? v[i] : lo;
				hi = v[i] > hi ? v[i] : hi;
			}
		if (lo > hi || (lo >= 0 && hi <= 255))
			lo = 0, hi = 255;
	}
	scale = hi > lo ? 255 / (hi - lo) : 0;
	for (int64_t i = 0; i < n; i++) {
		double x = isnan(v[i]) ? 0 : (v[i] - lo) * scale;
		v[i] = (float)(x < 0 ? 0 : x > 255 ? 255 : x);
	}
	return f;
}

/* The image as a u8 tile of 1 or 3 channels, fitted to the tile size or,
 * without one, shrunk to fit 256 x 256. */
static cnn_tensor *shrink(const cnn_montage *m, const cnn_tensor *img)
{
	int64_t c = img->dim[0] <= 2 ? 1 : 3, h = img->dim[1], w = img->dim[2], fh = h, fw = w;
	cnn_tensor *f, *r, *u8;

	if (m->o.tile_h)
		fit(h, w, m->o.tile_h, m->o.tile_w, &fh, &fw);
	else if (h > MONTAGE_CAP || w > MONTAGE_CAP)
		fit(h, w, MONTAGE_CAP, MONTAGE_CAP, &fh, &fw);
	if (!(f = to_255(&m->o, img, c)))
		return NULL;
	r = fh == h && fw == w ? f : cnn_image_resize(f, fh, fw);
	u8 = r ? cnn_tensor_convert(r, CNN_U8) : NULL;
	if (r != f)
		cnn_tensor_free(r);
	cnn_tensor_free(f);
	return u8;
}

/* The pixel of n whose centre is nearest that of pixel i of m. */
static int64_t nearest(int64_t i, int64_t m, int64_t n)
{
	return (2 * i + 1) * n / (2 * m);
}

/* Nearest-neighbour classes of the mask for an h x w image. */
static int32_t *mask_classes(const cnn_tensor *mask, int64_t h, int64_t w)
{
	int64_t mh = mask->dim[mask->ndim - 2], mw = mask->dim[mask->ndim - 1];
	int32_t *cls = malloc((size_t)(h * w) * sizeof *cls);

	if (!cls) {
		cnn_error("out of memory");
		return NULL;
	}
	for (int64_t y = 0; y < h; y++) {
		int64_t sy = nearest(y, h, mh);
		for (int64_t x = 0; x < w; x++) {
			double v = cnn_tensor_get(mask, sy * mw + nearest(x, w, mw));
			/* Negative classes (ignore_index -1, -100) stay clear. */
			cls[y * w + x] = v <= 0 ? 0 : v >= INT32_MAX ? INT32_MAX : (int32_t)v;
		}
	}
	return cls;
}

static int check_mask(const cnn_tensor *mask)
{
	char desc[128];
	int ok = (mask->dtype == CNN_U8 || mask->dtype == CNN_U16 || mask->dtype == CNN_I32 ||
		  mask->dtype == CNN_I64) &&
		 (mask->ndim == 2 || (mask->ndim == 3 && mask->dim[0] == 1)) &&
		 mask->dim[mask->ndim - 1] > 0 && mask->dim[mask->ndim - 2] > 0;

	if (!ok)
		return cnn_error("tensor \"%s\" is %s; want a class per pixel, H x W or "
				 "1 x H x W, u8 or i32", mask->name,
				 cnn_tensor_describe(mask, desc, sizeof desc));
	return CNN_OK;
}

/* A caption on one line of at most CAPTION_MAX characters, keeping the
 * end (a path's file name, a label's probability). */
static char *caption_copy(const char *s)
{
	size_t len = strlen(s), skip = len > CAPTION_MAX ? len - CAPTION_MAX + 2 : 0;
	char *c = malloc(len - skip + 3);

	if (!c) {
		cnn_error("out of memory");
		return NULL;
	}
	strcpy(c, skip ? ".." : "");
	strcat(c, s + skip);
	for (char *p = c; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	return c;
}

static cnn_tensor *copy(const cnn_tensor *t)
{
	return cnn_tensor_convert(t, t->dtype);
}

int cnn_montage_add(cnn_montage *m, const cnn_tensor *image, const char *caption,
		    const cnn_tensor *boxes, const cnn_tensor *truth, const cnn_tensor *mask)
{
	struct tile t = {0};
	char desc[128];

	if (image->ndim != 3 || image->dim[0] < 1 || image->dim[0] > 4 || image->dim[1] < 1 ||
	    image->dim[2] < 1 || image->dtype == CNN_TEXT)
		return cnn_error("tensor \"%s\" is %s; want an image, C x H x W with C 1..4",
				 image->name, cnn_tensor_describe(image, desc, sizeof desc));
	if ((boxes && cnn_boxes_check(boxes, 0)) || (truth && cnn_boxes_check(truth, 1)) ||
	    (mask && check_mask(mask)))
		return CNN_ERR;
	if (m->n == m->cap) {
		int64_t cap = m->cap ? 2 * m->cap : 64;
		struct tile *nt = realloc(m->t, (size_t)cap * sizeof *nt);
		if (!nt)
			return cnn_error("out of memory");
		m->t = nt;
		m->cap = cap;
	}
	t.src_h = image->dim[1];
	t.src_w = image->dim[2];
	if (!(t.img = shrink(m, image)) ||
	    (boxes && !(t.boxes = copy(boxes))) || (truth && !(t.truth = copy(truth))) ||
	    (mask && !(t.mask = mask_classes(mask, t.img->dim[1], t.img->dim[2]))) ||
	    (caption && !(t.caption = caption_copy(caption)))) {
		tile_free(&t);
		return CNN_ERR;
	}
	m->max_h = t.src_h > m->max_h ? t.src_h : m->max_h;
	m->max_w = t.src_w > m->max_w ? t.src_w : m->max_w;
	m->t[m->n++] = t;
	return CNN_OK;
}

/* The tile's boxes in the pixels of its fh x fw picture. */
static cnn_tensor *scaled_boxes(const cnn_tensor *b, const struct tile *t, int64_t fh,
				int64_t fw)
{
	cnn_tensor *s = copy(b);
	float sx = (float)fw / t->src_w, sy = (float)fh / t->src_h, *v;

	if (!s)
		return NULL;
	v = s->data;
	for (int64_t i = 0; i < s->dim[0]; i++, v += CNN_BOX_FIELDS) {
		v[0] *= sx, v[2] *= sx;
		v[1] *= sy, v[3] *= sy;
	}
	return s;
}

/* Half of each class's colour over the RGB picture p, the classes of a
 * kh x kw picture scaled to it. */
static void blend_mask(cnn_tensor *p, const int32_t *mask, int64_t kh, int64_t kw)
{
	int64_t h = p->dim[1], w = p->dim[2];
	uint8_t *px = p->data;

	for (int64_t y = 0; y < h; y++)
		for (int64_t x = 0; x < w; x++) {
			int32_t cls = mask[nearest(y, h, kh) * kw + nearest(x, w, kw)];
			uint8_t rgb[3];
			if (cls <= 0)
				continue;
			cnn_class_color(cls, rgb);
			for (int k = 0; k < 3; k++) {
				uint8_t *q = px + (k * h + y) * w + x;
				*q = (uint8_t)((*q + rgb[k] + 1) / 2);
			}
		}
}

/* The tile at fh x fw with c channels, its mask and boxes drawn. */
static cnn_tensor *tile_picture(const cnn_montage *m, const struct tile *t, int64_t c,
				int64_t fh, int64_t fw)
{
	int64_t kh = t->img->dim[1], kw = t->img->dim[2];
	cnn_tensor *p = fh == kh && fw == kw ? copy(t->img) : cnn_image_resize(t->img, fh, fw);
	cnn_draw_style st = {.labels = 1, .scores = 1};

	if (p && p->dim[0] != c) {
		cnn_tensor *q = cnn_image_channels(p, (int)c);
		cnn_tensor_free(p);
		p = q;
	}
	if (!p)
		return NULL;
	if (t->mask)
		blend_mask(p, t->mask, kh, kw);
	for (int pass = 0; pass < 2; pass++) {
		const cnn_tensor *b = pass == 0 ? t->truth : t->boxes;
		cnn_tensor *s;
		int rc;
		if (!b)
			continue;
		/* The truth first, dashed and unlabelled, as cnn-draw -T. */
		st.dashed = pass == 0;
		st.labels = pass == 1;
		if (!(s = scaled_boxes(b, t, fh, fw))) {
			cnn_tensor_free(p);
			return NULL;
		}
		rc = cnn_draw_boxes(p, s, m->o.names, &st);
		cnn_tensor_free(s);
		if (rc) {
			cnn_tensor_free(p);
			return NULL;
		}
	}
	return p;
}

/* Does anything need colour: an RGB tile, boxes or a mask drawn, or a
 * background that is not gray? */
static int needs_rgb(const cnn_montage *m)
{
	const uint8_t *bg = m->o.background;

	if (bg[0] != bg[1] || bg[1] != bg[2])
		return 1;
	for (int64_t i = 0; i < m->n; i++) {
		const struct tile *t = &m->t[i];
		if (t->img->dim[0] == 3 || t->mask || (t->boxes && t->boxes->dim[0]) ||
		    (t->truth && t->truth->dim[0]))
			return 1;
	}
	return 0;
}

cnn_tensor *cnn_montage_render(const cnn_montage *m)
{
	const cnn_montage_opts *o = &m->o;
	int64_t th = o->tile_h, tw = o->tile_w, cols, rows, cw, band = 0, rh, c, dim[3], count;
	int scale;
	cnn_tensor *pic;

	if (m->n == 0) {
		cnn_error("no images to tile");
		return NULL;
	}
	if (!th) {
		th = m->max_h < MONTAGE_CAP ? m->max_h : MONTAGE_CAP;
		tw = m->max_w < MONTAGE_CAP ? m->max_w : MONTAGE_CAP;
	}
	/* Letters as cnn_draw_boxes sizes them on a picture of the tile's size. */
	scale = (int)((th < tw ? th : tw) + 160) / 320;
	scale = scale < 1 ? 1 : scale;
	cw = tw;
	for (int64_t i = 0; i < m->n; i++) {
		int64_t w, h;
		if (!m->t[i].caption)
			continue;
		cnn_text_size(m->t[i].caption, scale, &w, &h);
		band = h + 2 * scale;
		cw = w + 2 * scale > cw ? w + 2 * scale : cw;
	}
	cols = o->columns ? o->columns : (int64_t)ceil(sqrt((double)m->n));
	cols = cols > m->n ? m->n : cols;
	/* sqrt() rounding must not leave a row short of room. */
	while (cols * cols < m->n && !o->columns)
		cols++;
	rows = (m->n + cols - 1) / cols;
	rh = th + band;
	c = needs_rgb(m) ? 3 : 1;
	dim[0] = c;
	dim[1] = rows * rh + (rows - 1) * o->gap;
	dim[2] = cols * cw + (cols - 1) * o->gap;
	if (dim[1] > INT32_MAX || dim[2] > INT32_MAX ||
	    cnn_shape_count(3, dim, 1, cnn_max_tensor_bytes(), &count)) {
		cnn_error("a montage of %lldx%lld pixels is too large", (long long)dim[2],
			  (long long)dim[1]);
		return NULL;
	}
	if (!(pic = cnn_tensor_new("image", CNN_U8, 3, dim)) ||
	    cnn_draw_fill(pic, 0, 0, dim[2], dim[1], o->background)) {
		cnn_tensor_free(pic);
		return NULL;
	}
	for (int64_t i = 0; i < m->n; i++) {
		const struct tile *t = &m->t[i];
		int64_t x0 = i % cols * (cw + o->gap), y0 = i / cols * (rh + o->gap);
		int64_t fh, fw, ix, iy;
		cnn_tensor *p;
		fit(t->src_h, t->src_w, th, tw, &fh, &fw);
		if (!(p = tile_picture(m, t, c, fh, fw))) {
			cnn_tensor_free(pic);
			return NULL;
		}
		/* Centred in its cell, the caption below. */
		ix = x0 + (cw - fw) / 2;
		iy = y0 + (th - fh) / 2;
		for (int64_t k = 0; k < c; k++)
			for (int64_t y = 0; y < fh; y++)
				memcpy((uint8_t *)pic->data + (k * dim[1] + iy + y) * dim[2] + ix,
				       (uint8_t *)p->data + (k * fh + y) * fw, (size_t)fw);
		cnn_tensor_free(p);
		if (t->caption) {
			int64_t w, h;
			cnn_text_size(t->caption, scale, &w, &h);
			if (cnn_draw_label(pic, x0 + (cw - w) / 2 - scale, y0 + th, t->caption,
					   scale, o->background)) {
				cnn_tensor_free(pic);
				return NULL;
			}
		}
	}
	return pic;
}

int cnn_montage_caption(const cnn_tensor *label, const cnn_names *names, char *buf,
			size_t size)
{
	int64_t n = cnn_tensor_count(label), best = -1;
	double v = 0;
	const char *name;
	char desc[128];
	int len;

	if (size == 0)
		return cnn_error("no room for a caption");
	if (label->dtype == CNN_TEXT) {
		size_t len = (size_t)n < size - 1 ? (size_t)n : size - 1;
		memcpy(buf, label->data, len);
		buf[len] = 0;
		return CNN_OK;
	}
	if (n == 1 && label->ndim <= 1) {
		v = cnn_tensor_get(label, 0);
		if (v != floor(v) || fabs(v) > INT32_MAX) {
			snprintf(buf, size, "%g", v);
			return CNN_OK;
		}
		name = cnn_names_get(names, (int)v);
		if (name)
			snprintf(buf, size, "%s", name);
		else
			snprintf(buf, size, "%d", (int)v);
		return CNN_OK;
	}
	if (label->ndim != 1 || n < 1 || n > INT32_MAX)
		return cnn_error("tensor \"%s\" is %s; want a class, class probabilities or text",
				 label->name, cnn_tensor_describe(label, desc, sizeof desc));
	/* The best class; NaN never wins. */
	for (int64_t i = 0; i < n; i++) {
		double x = cnn_tensor_get(label, i);
		if (!isnan(x) && (best < 0 || x > v))
			best = i, v = x;
	}
	if (best < 0)
		return cnn_error("tensor \"%s\" holds no number", label->name);
	name = cnn_names_get(names, (int)best);
	len = name ? snprintf(buf, size, "%s", name) : snprintf(buf, size, "%lld", (long long)best);
	if (len >= 0 && (size_t)len < size)
		snprintf(buf + len, size - (size_t)len, " %.2f", v);
	return CNN_OK;
}
