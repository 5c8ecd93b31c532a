/*
 * image.c - loading, saving, resizing and recoloring images.
 *
 * The codecs (png.c, jpeg.c) only see u8/u16 planes in memory; the file
 * handling and the dtype and shape rules of cnn.h live here.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "io/image.h"
#include "simd/simd.h"

int cnn_buf_append(struct cnn_buf *b, const void *p, size_t n)
{
	if (n > b->cap - b->len) {
		size_t cap = b->cap ? b->cap : 65536;
		unsigned char *d;

		while (cap - b->len < n) {
			if (cap > SIZE_MAX / 2)
				return cnn_error("out of memory");
			cap *= 2;
		}
		d = realloc(b->data, cap);
		if (!d)
			return cnn_error("out of memory");
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return CNN_OK;
}

void cnn_image_put_row(cnn_tensor *img, int64_t y, const void *row)
{
	int64_t c = img->dim[0], w = img->dim[2], plane = img->dim[1] * w;

	if (img->dtype == CNN_U8) {
		const uint8_t *s = row;
		uint8_t *d = (uint8_t *)img->data + y * w;
		for (int64_t k = 0; k < c; k++)
			for (int64_t x = 0; x < w; x++)
				d[k * plane + x] = s[x * c + k];
	} else {
		const uint16_t *s = row;
		uint16_t *d = (uint16_t *)img->data + y * w;
		for (int64_t k = 0; k < c; k++)
			for (int64_t x = 0; x < w; x++)
				d[k * plane + x] = s[x * c + k];
	}
}

void cnn_image_get_row(const cnn_tensor *img, int64_t y, void *row)
{
	int64_t c = img->dim[0], w = img->dim[2], plane = img->dim[1] * w;

	if (img->dtype == CNN_U8) {
		const uint8_t *s = (const uint8_t *)img->data + y * w;
		uint8_t *d = row;
		for (int64_t k = 0; k < c; k++)
			for (int64_t x = 0; x < w; x++)
				d[x * c + k] = s[k * plane + x];
	} else {
		const uint16_t *s = (const uint16_t *)img->data + y * w;
		uint16_t *d = row;
		for (int64_t k = 0; k < c; k++)
			for (int64_t x = 0; x < w; x++)
				d[x * c + k] = s[k * plane + x];
	}
}

/* ---------------------------------------------------------- load, save */

/* All of f, for a regular file or a pipe alike. */
int cnn_file_read(const char *path, struct cnn_buf *b)
{
	int std = strcmp(path, "-") == 0, rc = CNN_OK;
	const char *what = std ? "<stdin>" : path;
	FILE *f = std ? stdin : fopen(path, "rb");
	unsigned char chunk[65536];
	size_t n;

	if (!f)
		return cnn_error("%s: %s", what, strerror(errno));
	while (rc == CNN_OK && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
		if (cnn_buf_append(b, chunk, n))
			rc = cnn_error_context("%s", what);
	if (rc == CNN_OK && ferror(f))
		rc = cnn_error("%s: %s", what, strerror(errno));
	if (!std)
		fclose(f);
	return rc;
}

cnn_tensor *cnn_image_load(const char *path, int channels, int keep16)
{
	struct cnn_buf b = {0};
	cnn_tensor *img = NULL;

	if (cnn_file_read(path, &b) == CNN_OK)
		img = cnn_image_decode(b.data, b.len, strcmp(path, "-") ? path : "<stdin>", channels,
				       keep16);
	free(b.data);
	return img;
}

static int has_magic(const unsigned char *p, size_t len, const char *magic, size_t n)
{
	return len >= n && memcmp(p, magic, n) == 0;
}

cnn_tensor *cnn_image_decode(const void *buf, size_t len, const char *what,
			     int channels, int keep16)
{
	const unsigned char *p = buf;
	cnn_tensor *img, *conv;

	if (!what)
		what = "<memory>";
	if (channels < 0 || channels > 4) {
		cnn_error("%s: cannot make %d channels (0 to 4)", what, channels);
		return NULL;
	}
	if (has_magic(p, len, "\x89PNG\r\n\x1a\n", 8)) {
		img = cnn_png_decode(p, len, what, keep16 ? CNN_PNG_KEEP16 : 0);
	} else if (has_magic(p, len, "\xff\xd8\xff", 3)) {
		img = cnn_jpeg_decode(p, len, what);
	} else {
		cnn_error("%s: not a PNG or JPEG file", what);
		return NULL;
	}
	if (!img || channels == 0 || channels == img->dim[0])
		return img;
	conv = cnn_image_channels(img, channels);
	if (!conv)
		cnn_error_context("%s", what);
	cnn_tensor_free(img);
	return conv;
}

static int is_jpeg_name(const char *path)
{
	const char *dot = strrchr(path, '.');

	return dot && !strchr(dot, '/') &&
	       (strcasecmp(dot, ".jpg") == 0 || strcasecmp(dot, ".jpeg") == 0);
}

int cnn_file_write(const char *path, const struct cnn_buf *b)
{
	cnn_outfile *o = cnn_outfile_open(path, 0);

	if (!o)
		return CNN_ERR;
	if (fwrite(b->data, 1, b->len, cnn_outfile_stream(o)) != b->len) {
		cnn_error("%s: write error: %s", strcmp(path, "-") ? path : "<stdout>",
			  strerror(errno));
		cnn_outfile_discard(o);
		return CNN_ERR;
	}
	return cnn_outfile_commit(o);
}

/* 16 to 8 bits, rounding: 65535 maps to 255. */
static cnn_tensor *to_u8(const cnn_tensor *img)
{
	cnn_tensor *r = cnn_tensor_new(img->name, CNN_U8, img->ndim, img->dim);
	const uint16_t *s = img->data;
	uint8_t *d;

	if (!r)
		return NULL;
	d = r->data;
	for (int64_t i = 0, n = cnn_tensor_count(img); i < n; i++)
		d[i] = (uint8_t)((s[i] * 255u + 32767u) / 65535u);
	return r;
}

/* img as a u8 or u16 C x H x W image that the codec can take, sharing
 * img's data where it can; *owned is what the caller must free. */
static int prepare(const cnn_tensor *img, int jpeg, const char *what,
		   cnn_tensor *view, cnn_tensor **owned)
{
	const cnn_tensor *src = img;
	char desc[128];

	*owned = NULL;
	if ((img->ndim != 2 && img->ndim != 3) || img->dtype == CNN_TEXT ||
	    (img->ndim == 3 && (img->dim[0] < 1 || img->dim[0] > 4)))
		return cnn_error("%s: cannot save %s as an image (C x H x W with C "
				 "1 to 4, or H x W)", what,
				 cnn_tensor_describe(img, desc, sizeof desc));
	if (img->dtype == CNN_U16 && jpeg)
		src = *owned = to_u8(img);
	else if (img->dtype != CNN_U8 && img->dtype != CNN_U16)
		src = *owned = cnn_tensor_convert(img, CNN_U8);
	if (!src)
		return cnn_error_context("%s", what);
	*view = *src;
	if (view->ndim == 2) {
		view->ndim = 3;
		view->dim[2] = src->dim[1];
		view->dim[1] = src->dim[0];
		view->dim[0] = 1;
	}
	/* JPEG has no alpha; it is the last plane, so leaving it out is free. */
	if (jpeg && (view->dim[0] == 2 || view->dim[0] == 4))
		view->dim[0]--;
	return CNN_OK;
}

int cnn_image_save(const char *path, const cnn_tensor *img, int quality)
{
	const char *what = strcmp(path, "-") ? path : "<stdout>";
	int jpeg = is_jpeg_name(path), rc;
	struct cnn_buf b = {0};
	cnn_tensor view, *owned;

	if (quality < 0 || quality > 100)
		return cnn_error("%s: JPEG quality %d (1 to 100, or 0 for 90)", what,
				 quality);
	if (prepare(img, jpeg, what, &view, &owned))
		return CNN_ERR;
	if (jpeg)
		rc = cnn_jpeg_encode(&view, quality ? quality : 90, &b, what);
	else
		rc = cnn_png_encode(&view, &b, what);
	if (rc == CNN_OK)
		rc = cnn_file_write(path, &b);
	cnn_tensor_free(owned);
	free(b.data);
	return rc;
}

/* ------------------------------------------------- resize and recolor */

/* Elements off..off+n of t as doubles, and back with rounding and
 * saturation as cnn_tensor_set() does.  The switch stays out of the loops,
 * which are the inner loops of resizing. */
#define LOAD(type)                                                   \
	for (int64_t i = 0; i < n; i++)                              \
		d[i] = (double)((const type *)t->data)[off + i];     \
	break

static void load_row(const cnn_tensor *t, int64_t off, int64_t n, double *d)
{
	switch (t->dtype) {
	case CNN_U8:
	case CNN_TEXT:
		LOAD(uint8_t);
	case CNN_U16:
		LOAD(uint16_t);
	case CNN_I32:
		LOAD(int32_t);
	case CNN_I64:
		LOAD(int64_t);
	case CNN_F32:
		LOAD(float);
	case CNN_F64:
		LOAD(double);
	}
}

static double saturate(double v, double lo, double hi)
{
	if (v != v)
		return 0;
	v = nearbyint(v);
	return v < lo ? lo : v > hi ? hi : v;
}

#define STORE(type, lo, hi)                                                     \
	for (int64_t i = 0; i < n; i++)                                         \
		((type *)t->data)[off + i] = (type)saturate(s[i], lo, hi);      \
	break

static void store_row(cnn_tensor *t, int64_t off, int64_t n, const double *s)
{
	switch (t->dtype) {
	case CNN_U8:
	case CNN_TEXT:
		STORE(uint8_t, 0, UINT8_MAX);
	case CNN_U16:
		STORE(uint16_t, 0, UINT16_MAX);
	case CNN_I32:
		STORE(int32_t, INT32_MIN, INT32_MAX);
	case CNN_I64:
		/* 2^63 itself does not fit: stop one double below it. */
		STORE(int64_t, -0x1p63, 0x1.fffffffffffffp62);
	case CNN_F32:
		for (int64_t i = 0; i < n; i++)
			((float *)t->data)[off + i] = (float)s[i];
		break;
	case CNN_F64:
		memcpy((double *)t->data + off, s, n * sizeof *s);
		break;
	}
}

/* Which input samples, and with which weights, make each output sample
 * along one axis. */
struct taps {
	int64_t *first; /* the first input sample of each output sample */
	int *count;     /* how many input samples it takes */
	double *weight; /* theirs, max per output sample */
	int max;
};

static void free_taps(struct taps *t)
{
	free(t->first);
	free(t->count);
	free(t->weight);
}

/* 0 when out of memory; the caller frees t either way. */
static int make_taps(struct taps *t, int64_t in, int64_t out)
{
	/* Shrinking averages the input samples each output sample covers,
	 * weighted by how much of them it covers. */
	t->max = in > out ? (int)((in + out - 1) / out) + 1 : 2;
	t->first = malloc(out * sizeof *t->first);
	t->count = malloc(out * sizeof *t->count);
	t->weight = malloc(out * t->max * sizeof *t->weight);
	if (!t->first || !t->count || !t->weight)
		return 0;
	for (int64_t o = 0; o < out; o++) {
		double *w = t->weight + o * t->max;

		if (in > out) {
			double lo = (double)(o * in) / out, hi = (double)((o + 1) * in) / out;
			int64_t i0 = o * in / out, i1 = ((o + 1) * in + out - 1) / out;

			t->first[o] = i0;
			t->count[o] = (int)(i1 - i0);
			for (int64_t i = i0; i < i1; i++)
				w[i - i0] = (fmin(i + 1, hi) - fmax(i, lo)) * out / in;
		} else {
			/* Bilinear between pixel centers, as PyTorch's
			 * interpolate() with align_corners=False. */
			double src = fmax((o + 0.5) * in / out - 0.5, 0);
			int64_t i0 = (int64_t)src;

			t->first[o] = i0;
			t->count[o] = i0 + 1 < in ? 2 : 1;
			w[0] = i0 + 1 < in ? 1 - (src - i0) : 1;
			w[1] = src - i0;
		}
	}
	return 1;
}

/* The channels, height and width of a C x H x W or H x W image. */
static int image_dims(const cnn_tensor *img, const char *op, int64_t *c,
		      int64_t *h, int64_t *w)
{
	char desc[128];

	if ((img->ndim != 2 && img->ndim != 3) || img->dtype == CNN_TEXT)
		return cnn_error("%s: %s is not an image (C x H x W or H x W)", op,
				 cnn_tensor_describe(img, desc, sizeof desc));
	*c = img->ndim == 3 ? img->dim[0] : 1;
	*h = img->dim[img->ndim - 2];
	*w = img->dim[img->ndim - 1];
	return CNN_OK;
}

/* Each output row mixes input rows vertically, then that row mixes
 * horizontally, so that memory stays at a few rows. */
static void resize_plane(const cnn_tensor *img, cnn_tensor *out, int64_t ch,
			 const struct taps *ty, const struct taps *tx, double *line,
			 double *mix, double *res)
{
	int64_t ih = img->dim[img->ndim - 2], iw = img->dim[img->ndim - 1];
	int64_t h = out->dim[out->ndim - 2], w = out->dim[out->ndim - 1];

	for (int64_t oy = 0; oy < h; oy++) {
		const double *wy = ty->weight + oy * ty->max;

		memset(mix, 0, iw * sizeof *mix);
		for (int k = 0; k < ty->count[oy]; k++) {
			/* A tap of weight 0 adds nothing, not 0 times an infinity. */
			if (wy[k] == 0)
				continue;
			load_row(img, (ch * ih + ty->first[oy] + k) * iw, iw, line);
			for (int64_t x = 0; x < iw; x++)
				mix[x] += wy[k] * line[x];
		}
		for (int64_t ox = 0; ox < w; ox++) {
			const double *wx = tx->weight + ox * tx->max;
			const double *s = mix + tx->first[ox];
			double v = 0;

			for (int k = 0; k < tx->count[ox]; k++)
				if (wx[k] != 0)
					v += wx[k] * s[k];
			res[ox] = v;
		}
		store_row(out, (ch * h + oy) * w, w, res);
	}
}

/* The taps of one axis for f32 images: int starts and every output
 * sample's max weights, tap-major (weight[k * out + o]), 0 past its count. */
struct ftaps {
	int *first;
	float *weight;
};

/* 0 when out of memory; the caller frees f either way. */
static int make_ftaps(struct ftaps *f, const struct taps *t, int64_t out)
{
	f->first = malloc(out * sizeof *f->first);
	f->weight = calloc(out * t->max, sizeof *f->weight);
	if (!f->first || !f->weight)
		return 0;
	for (int64_t o = 0; o < out; o++) {
		f->first[o] = (int)t->first[o];
		for (int k = 0; k < t->count[o]; k++)
			f->weight[k * out + o] = (float)t->weight[o * t->max + k];
	}
	return 1;
}

/* resize_plane() for f32, in f32 and vector kernels: mix is iw floats and
 * then tx->max zeros, the room for the last outputs' unused taps. */
static void resize_plane_f32(const cnn_tensor *img, cnn_tensor *out, int64_t ch,
			     const struct taps *ty, const struct taps *tx,
			     const struct ftaps *fx, float *mix)
{
	const struct cnn_simd_pixels *px = cnn_simd_pixels();
	int64_t ih = img->dim[img->ndim - 2], iw = img->dim[img->ndim - 1];
	int64_t h = out->dim[out->ndim - 2], w = out->dim[out->ndim - 1];
	const float *in = (const float *)img->data + ch * ih * iw;

	for (int64_t oy = 0; oy < h; oy++) {
		const double *wy = ty->weight + oy * ty->max;

		memset(mix, 0, iw * sizeof *mix);
		for (int k = 0; k < ty->count[oy]; k++)
			if (wy[k] != 0)
				px->axpy(mix, in + (ty->first[oy] + k) * iw, iw, (float)wy[k]);
		px->taps((float *)out->data + (ch * h + oy) * w, mix, fx->first, fx->weight,
			 tx->max, w);
	}
}

cnn_tensor *cnn_image_resize(const cnn_tensor *img, int64_t h, int64_t w)
{
	struct taps ty = {0}, tx = {0};
	struct ftaps fx = {0};
	int64_t c = 0, ih = 0, iw = 0, dim[3];
	double *line = NULL, *mix = NULL, *res = NULL;
	float *fmix = NULL;
	cnn_tensor *out = NULL;
	char desc[128];

	if (image_dims(img, "resize", &c, &ih, &iw))
		return NULL;
	if (h < 1 || w < 1 || ih < 1 || iw < 1) {
		cnn_error("resize: cannot resize %s to %lldx%lld",
			  cnn_tensor_describe(img, desc, sizeof desc), (long long)h,
			  (long long)w);
		return NULL;
	}
	dim[0] = c;
	dim[img->ndim - 2] = h;
	dim[img->ndim - 1] = w;
	out = cnn_tensor_empty(img->name, img->dtype, img->ndim, dim);
	if (!out) {
		cnn_error_context("resize");
		return NULL;
	}
	line = malloc(iw * sizeof *line);
	mix = malloc(iw * sizeof *mix);
	res = malloc(w * sizeof *res);
	if (line && mix && res && make_taps(&ty, ih, h) && make_taps(&tx, iw, w) &&
	    (img->dtype != CNN_F32 || (make_ftaps(&fx, &tx, w) &&
				       (fmix = calloc(iw + tx.max, sizeof *fmix))))) {
		for (int64_t ch = 0; ch < c; ch++)
			if (img->dtype == CNN_F32)
				resize_plane_f32(img, out, ch, &ty, &tx, &fx, fmix);
			else
				resize_plane(img, out, ch, &ty, &tx, line, mix, res);
	} else {
		cnn_error("resize: out of memory");
		cnn_tensor_free(out);
		out = NULL;
	}
	free_taps(&ty);
	free_taps(&tx);
	free(fx.first);
	free(fx.weight);
	free(fmix);
	free(line);
	free(mix);
	free(res);
	return out;
}

/* Fill n elements from off with an opaque alpha: the dtype's maximum. */
static void fill_opaque(cnn_tensor *t, int64_t off, int64_t n)
{
	for (int64_t i = off; i < off + n; i++) {
		switch (t->dtype) {
		case CNN_U8:
		case CNN_TEXT:
			((uint8_t *)t->data)[i] = UINT8_MAX;
			break;
		case CNN_U16:
			((uint16_t *)t->data)[i] = UINT16_MAX;
			break;
		case CNN_I32:
			((int32_t *)t->data)[i] = INT32_MAX;
			break;
		case CNN_I64:
			((int64_t *)t->data)[i] = INT64_MAX;
			break;
		case CNN_F32:
			((float *)t->data)[i] = 1;
			break;
		case CNN_F64:
			((double *)t->data)[i] = 1;
			break;
		}
	}
}

/* ITU-R BT.601 luma of the first three planes of img into plane 0 of out. */
static void luma(const cnn_tensor *img, cnn_tensor *out, int64_t plane)
{
	double r[1024], g[1024], b[1024];

	for (int64_t i = 0; i < plane; i += 1024) {
		int64_t n = plane - i < 1024 ? plane - i : 1024;

		load_row(img, i, n, r);
		load_row(img, plane + i, n, g);
		load_row(img, 2 * plane + i, n, b);
		for (int64_t j = 0; j < n; j++)
			r[j] = 0.299 * r[j] + 0.587 * g[j] + 0.114 * b[j];
		store_row(out, i, n, r);
	}
}

/* Plane k of t, planes being bytes long. */
static void *plane_at(const cnn_tensor *t, int64_t k, size_t bytes)
{
	return (char *)t->data + k * bytes;
}

cnn_tensor *cnn_image_channels(const cnn_tensor *img, int channels)
{
	int64_t c = 0, h = 0, w = 0, plane;
	size_t bytes;
	cnn_tensor *out;
	char desc[128];

	if (image_dims(img, "channels", &c, &h, &w))
		return NULL;
	if (c < 1 || c > 4 || channels < 1 || channels > 4) {
		cnn_error("channels: cannot convert %s to %d channels (1 to 4 each)",
			  cnn_tensor_describe(img, desc, sizeof desc), channels);
		return NULL;
	}
	out = cnn_tensor_new3(img->name, img->dtype, channels, h, w);
	if (!out) {
		cnn_error_context("channels");
		return NULL;
	}
	plane = h * w;
	bytes = (size_t)plane * cnn_dtype_size(img->dtype);
	if (channels >= 3)
		for (int k = 0; k < 3; k++)
			memcpy(plane_at(out, k, bytes), plane_at(img, c >= 3 ? k : 0, bytes),
			       bytes);
	else if (c >= 3)
		luma(img, out, plane);
	else
		memcpy(out->data, img->data, bytes);
	if (channels == 2 || channels == 4) {
		if (c == 2 || c == 4)
			memcpy(plane_at(out, channels - 1, bytes), plane_at(img, c - 1, bytes),
			       bytes);
		else
			fill_opaque(out, (channels - 1) * plane, plane);
	}
	return out;
}
