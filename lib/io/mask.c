/*
 * mask.c - masks (cnn-stream(5)'s "mask": the class of each pixel) as
 * files and at other sizes.
 *
 * A mask file is a PNG whose values are classes, not colours: a palette
 * PNG's indices (PASCAL VOC's SegmentationClass files: 255 marks the
 * pixels to ignore) or a gray PNG's values.  Masks are written as palette
 * PNGs in VOC's colour map, so that a viewer shows them and a reader gets
 * the classes back as they were.  A mask is resized by taking the nearest
 * pixel: a blend of two classes is no class.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/image.h"

void cnn_mask_colour(int k, uint8_t rgb[3])
{
	/* VOC's bit-interleaved map: class k's bits 0, 1, 2 go to the top bits
	 * of red, green and blue, bits 3, 4, 5 to the next, and so on. */
	rgb[0] = rgb[1] = rgb[2] = 0;
	for (int j = 0, c = k; j < 8; j++, c >>= 3) {
		rgb[0] |= (uint8_t)(((c >> 0) & 1) << (7 - j));
		rgb[1] |= (uint8_t)(((c >> 1) & 1) << (7 - j));
		rgb[2] |= (uint8_t)(((c >> 2) & 1) << (7 - j));
	}
}

cnn_tensor *cnn_mask_decode(const void *buf, size_t len, const char *what)
{
	static const char *const kinds[] = {"", "", "a gray+alpha", "an RGB", "an RGBA"};
	const unsigned char *p = buf;
	cnn_tensor *img;

	if (!(len >= 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0)) {
		cnn_error("%s: a mask is a PNG file (palette or gray: a JPEG's values are "
			  "not classes)", what);
		return NULL;
	}
	if (!(img = cnn_png_decode(p, len, what, CNN_PNG_KEEP16 | CNN_PNG_INDICES)))
		return NULL;
	if (img->dim[0] != 1) {
		cnn_error("%s: %s PNG; a mask is a palette or gray PNG, its values the "
			  "classes", what, kinds[img->dim[0]]);
		cnn_tensor_free(img);
		return NULL;
	}
	/* H x W, as cnn-stream(5) has masks. */
	img->ndim = 2;
	img->dim[0] = img->dim[1];
	img->dim[1] = img->dim[2];
	snprintf(img->name, sizeof img->name, "mask");
	return img;
}

cnn_tensor *cnn_mask_load(const char *path)
{
	struct cnn_buf b = {0};
	cnn_tensor *mask = NULL;

	if (cnn_file_read(path, &b) == CNN_OK)
		mask = cnn_mask_decode(b.data, b.len, strcmp(path, "-") ? path : "<stdin>");
	free(b.data);
	return mask;
}

/* The mask as u8 1 x H x W for the palette encoder, or an error naming a
 * value that is no class of 0 to 255. */
static cnn_tensor *as_indices(const cnn_tensor *mask, const char *what)
{
	char desc[128];
	int64_t n = cnn_tensor_count(mask), h, w;
	cnn_tensor *t;

	if (!(mask->ndim == 2 || (mask->ndim == 3 && mask->dim[0] == 1)) ||
	    mask->dtype == CNN_TEXT) {
		cnn_error("%s: tensor \"%s\" is %s, not a mask H x W", what, mask->name,
			  cnn_tensor_describe(mask, desc, sizeof desc));
		return NULL;
	}
	h = mask->dim[mask->ndim - 2];
	w = mask->dim[mask->ndim - 1];
	if (!(t = cnn_tensor_new3(mask->name, CNN_U8, 1, h, w)))
		return NULL;
	for (int64_t i = 0; i < n; i++) {
		double k = cnn_tensor_get(mask, i);
		if (!(k >= 0 && k <= 255 && k == (int)k)) {
			cnn_error("%s: tensor \"%s\" pixel %lld is %g; a palette PNG holds the "
				  "classes 0 to 255", what, mask->name, (long long)i, k);
			cnn_tensor_free(t);
			return NULL;
		}
		((uint8_t *)t->data)[i] = (uint8_t)k;
	}
	return t;
}

int cnn_mask_save(const char *path, const cnn_tensor *mask)
{
	const char *what = strcmp(path, "-") ? path : "<stdout>";
	uint8_t palette[256][3];
	struct cnn_buf b = {0};
	cnn_tensor *t = as_indices(mask, what);
	int rc;

	if (!t)
		return CNN_ERR;
	for (int k = 0; k < 256; k++)
		cnn_mask_colour(k, palette[k]);
	rc = cnn_png_encode_palette(t, (const uint8_t (*)[3])palette, &b, what);
	if (rc == CNN_OK)
		rc = cnn_file_write(path, &b);
	cnn_tensor_free(t);
	free(b.data);
	return rc;
}

cnn_tensor *cnn_mask_resize(const cnn_tensor *mask, int64_t h, int64_t w)
{
	char desc[128];
	int64_t ih, iw, size = cnn_dtype_size(mask->dtype);
	cnn_tensor *r;

	if (mask->ndim < 2 || mask->dtype == CNN_TEXT || h < 1 || w < 1) {
		cnn_error("cannot resize %s to %lld x %lld as a mask",
			  cnn_tensor_describe(mask, desc, sizeof desc), (long long)h, (long long)w);
		return NULL;
	}
	ih = mask->dim[mask->ndim - 2];
	iw = mask->dim[mask->ndim - 1];
	int64_t dim[CNN_MAX_DIMS];
	memcpy(dim, mask->dim, sizeof(int64_t) * mask->ndim);
	dim[mask->ndim - 2] = h;
	dim[mask->ndim - 1] = w;
	if (!(r = cnn_tensor_new(mask->name, mask->dtype, mask->ndim, dim)))
		return NULL;
	int64_t planes = cnn_tensor_count(mask) / (ih * iw);
	/* PyTorch's "nearest-exact": the source pixel whose centre is nearest,
	 * floor((y + 0.5) in / out).  (PIL's NEAREST is the same but where
	 * that is a whole number, and takes the pixel before; PyTorch's plain
	 * "nearest", floor(y in / out), shifts the mask by half a pixel.) */
	for (int64_t p = 0; p < planes; p++)
		for (int64_t y = 0; y < h; y++) {
			int64_t sy = (2 * y + 1) * ih / (2 * h);
			for (int64_t x = 0; x < w; x++) {
				int64_t sx = (2 * x + 1) * iw / (2 * w);
				memcpy((char *)r->data + ((p * h + y) * w + x) * size,
				       (const char *)mask->data + ((p * ih + sy) * iw + sx) * size,
				       (size_t)size);
			}
		}
	return r;
}
