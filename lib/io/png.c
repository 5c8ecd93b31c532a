/*
 * png.c - PNG decoding and encoding with libpng.
 *
 * libpng reports errors by calling our handler, which must not return: it
 * keeps the message and longjmps back to the setjmp in decode()/encode().
 * Everything those functions allocate after setjmp lives in volatile
 * locals so that the error path can free it.
 */
#include <png.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/grow.h"
#include "io/image.h"

/* What the callbacks share with us: the data in or out, and the message;
 * and the passes of an interlaced image, kept here for the error path. */
struct png_io {
	const unsigned char *in;
	size_t len, pos;
	struct cnn_buf *out;
	void *passes;
	char msg[256];
};

static void on_error(png_structp png, png_const_charp msg)
{
	struct png_io *io = png_get_error_ptr(png);

	snprintf(io->msg, sizeof io->msg, "%s", msg);
	png_longjmp(png, 1);
}

/* Warnings are about oddities the image survives (a known-bad ICC profile,
 * a damaged ancillary chunk); the library never prints. */
static void on_warning(png_structp png, png_const_charp msg)
{
	(void)png;
	(void)msg;
}

static void __attribute__((noreturn, format(printf, 2, 3)))
fail(png_structp png, const char *fmt, ...)
{
	struct png_io *io = png_get_error_ptr(png);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(io->msg, sizeof io->msg, fmt, ap);
	va_end(ap);
	png_longjmp(png, 1);
}

static void read_mem(png_structp png, png_bytep dst, size_t n)
{
	struct png_io *io = png_get_io_ptr(png);

	if (n > io->len - io->pos)
		fail(png, "premature end of data");
	memcpy(dst, io->in + io->pos, n);
	io->pos += n;
}

static void write_mem(png_structp png, png_bytep src, size_t n)
{
	struct png_io *io = png_get_io_ptr(png);

	if (cnn_buf_append(io->out, src, n))
		fail(png, "%s", cnn_errmsg());
}

/* libpng's default flush would fflush() our io pointer as a FILE. */
static void flush_mem(png_structp png)
{
	(void)png;
}

/* Ask libpng for 8 or 16-bit gray, gray+alpha, RGB or RGBA, whatever the
 * file holds: palettes and low bit depths expand, tRNS becomes alpha.  Or,
 * for CNN_PNG_INDICES, a palette's indices and gray's values one a byte,
 * as they are. */
static void set_transforms(png_structp png, png_infop info, int flags)
{
	int color = png_get_color_type(png, info);
	int depth = png_get_bit_depth(png, info), keep16 = flags & CNN_PNG_KEEP16;

	if ((flags & CNN_PNG_INDICES) &&
	    (color == PNG_COLOR_TYPE_PALETTE || color == PNG_COLOR_TYPE_GRAY)) {
		if (depth < 8)
			png_set_packing(png);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		if (depth == 16)
			png_set_swap(png);
#endif
		return;
	}
	if (color == PNG_COLOR_TYPE_PALETTE)
		png_set_palette_to_rgb(png);
	if (color == PNG_COLOR_TYPE_GRAY && depth < 8)
		png_set_expand_gray_1_2_4_to_8(png);
	if (png_get_valid(png, info, PNG_INFO_tRNS))
		png_set_tRNS_to_alpha(png);
	if (depth == 16 && !keep16)
		png_set_scale_16(png);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	if (depth == 16 && keep16)
		png_set_swap(png);
#endif
}

/* Room for rows [0, y] of img, or the error. */
static void reserve(png_structp png, cnn_tensor *img, png_uint_32 y, png_uint_32 h)
{
	if (cnn_image_reserve(img, (int64_t)y + 1, h))
		fail(png, "%s", cnn_errmsg());
}

/* Adam7 by hand: libpng's own interlace handling wants every row of the
 * image from the first pass on, before the data shows it exists.  The
 * seven passes' rows (each a small image) go one after another into a
 * buffer that grows as they decode; then each row of the image gathers its
 * pixels from them. */
static void read_interlaced(png_structp png, cnn_tensor *img, png_uint_32 w,
			    png_uint_32 h, size_t bpp, unsigned char *row)
{
	struct png_io *io = png_get_error_ptr(png);
	size_t at[7], total = 0, cap = 0;

	for (int p = 0; p < 7; p++) {
		size_t rowbytes = PNG_PASS_COLS(w, p) * bpp;
		at[p] = total;
		for (png_uint_32 j = 0; rowbytes && j < PNG_PASS_ROWS(h, p); j++) {
			if (cnn_grow(&io->passes, &cap, total + rowbytes, (size_t)h * w * bpp))
				fail(png, "%s", cnn_errmsg());
			png_read_row(png, (unsigned char *)io->passes + total, NULL);
			total += rowbytes;
		}
	}
	reserve(png, img, h - 1, h);
	for (png_uint_32 y = 0; y < h; y++) {
		for (int p = 0; p < 7; p++) {
			png_uint_32 cols = PNG_PASS_COLS(w, p);
			const unsigned char *src = (unsigned char *)io->passes + at[p] +
						   (size_t)(y >> PNG_PASS_ROW_SHIFT(p)) * cols * bpp;
			if (!PNG_ROW_IN_INTERLACE_PASS(y, p))
				continue;
			for (png_uint_32 i = 0; i < cols; i++)
				memcpy(row + (size_t)((i << PNG_PASS_COL_SHIFT(p)) +
						      PNG_PASS_START_COL(p)) * bpp,
				       src + i * bpp, bpp);
		}
		cnn_image_put_row(img, y, row);
	}
}

/* The image grows as its rows decode: PNG's zlib packs a row of zeros
 * into almost nothing, so the file's size is no bound on its picture. */
static cnn_tensor *decode(png_structp png, png_infop info, int flags)
{
	cnn_tensor *volatile img = NULL;
	unsigned char *volatile row = NULL;
	png_uint_32 w, h;
	size_t rowbytes;

	if (setjmp(png_jmpbuf(png))) {
		free(row);
		cnn_tensor_free(img);
		return NULL;
	}
	png_read_info(png, info);
	w = png_get_image_width(png, info);
	h = png_get_image_height(png, info);
	if ((uint64_t)w * h > CNN_IMAGE_MAX_PIXELS)
		fail(png, "%ux%u pixels is too large (at most %llu)", (unsigned)w,
		     (unsigned)h, (unsigned long long)CNN_IMAGE_MAX_PIXELS);
	set_transforms(png, info, flags);
	png_read_update_info(png, info);

	img = cnn_tensor_new3("image", png_get_bit_depth(png, info) == 16 ? CNN_U16 : CNN_U8,
			      png_get_channels(png, info), 0, w);
	if (!img)
		fail(png, "%s", cnn_errmsg());
	rowbytes = png_get_rowbytes(png, info);
	row = malloc(rowbytes);
	if (!row)
		fail(png, "out of memory");
	if (png_get_interlace_type(png, info) == PNG_INTERLACE_ADAM7) {
		read_interlaced(png, img, w, h, rowbytes / w, row);
	} else {
		for (png_uint_32 y = 0; y < h; y++) {
			reserve(png, img, y, h);
			png_read_row(png, row, NULL);
			cnn_image_put_row(img, y, row);
		}
	}
	/* Reading to IEND checks the CRC and zlib checksum of the last IDAT. */
	png_read_end(png, NULL);
	free(row);
	return img;
}

cnn_tensor *cnn_png_decode(const unsigned char *buf, size_t len,
			   const char *what, int flags)
{
	struct png_io io = {.in = buf, .len = len};
	png_structp png;
	png_infop info = NULL;
	cnn_tensor *img;

	png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &io, on_error, on_warning);
	if (png)
		info = png_create_info_struct(png);
	if (!info) {
		png_destroy_read_struct(&png, NULL, NULL);
		cnn_error("%s: PNG: out of memory", what);
		return NULL;
	}
	png_set_read_fn(png, &io, read_mem);
	img = decode(png, info, flags);
	png_destroy_read_struct(&png, &info, NULL);
	free(io.passes);
	if (!img)
		cnn_error("%s: PNG: %s", what, io.msg);
	return img;
}

static int encode(png_structp png, png_infop info, const cnn_tensor *img,
		  const uint8_t (*palette)[3])
{
	static const int color[] = {
		PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA,
		PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGB_ALPHA,
	};
	unsigned char *volatile row = NULL;
	int64_t c = img->dim[0], h = img->dim[1], w = img->dim[2];
	int depth = img->dtype == CNN_U16 ? 16 : 8;

	if (setjmp(png_jmpbuf(png))) {
		free(row);
		return CNN_ERR;
	}
	if (h > PNG_UINT_31_MAX || w > PNG_UINT_31_MAX)
		fail(png, "%lldx%lld is too large", (long long)h, (long long)w);
	png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, depth,
		     palette ? PNG_COLOR_TYPE_PALETTE : color[c - 1], PNG_INTERLACE_NONE,
		     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	if (palette) {
		png_color colours[256];
		for (int i = 0; i < 256; i++)
			colours[i] = (png_color){palette[i][0], palette[i][1], palette[i][2]};
		png_set_PLTE(png, info, colours, 256);
	}
	/* zlib's level 3 writes files about 10% larger than its default 6,
	 * three times as fast. */
	png_set_compression_level(png, 3);
	png_write_info(png, info);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	if (depth == 16)
		png_set_swap(png);
#endif
	row = malloc((size_t)(w * c * depth / 8));
	if (!row)
		fail(png, "out of memory");
	for (int64_t y = 0; y < h; y++) {
		cnn_image_get_row(img, y, row);
		png_write_row(png, row);
	}
	png_write_end(png, NULL);
	free(row);
	return CNN_OK;
}

static int encode_to(const cnn_tensor *img, const uint8_t (*palette)[3], struct cnn_buf *out,
		     const char *what)
{
	struct png_io io = {.out = out};
	png_structp png;
	png_infop info = NULL;
	int rc;

	png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &io, on_error, on_warning);
	if (png)
		info = png_create_info_struct(png);
	if (!info) {
		png_destroy_write_struct(&png, NULL);
		return cnn_error("%s: PNG: out of memory", what);
	}
	png_set_write_fn(png, &io, write_mem, flush_mem);
	rc = encode(png, info, img, palette);
	png_destroy_write_struct(&png, &info);
	if (rc)
		return cnn_error("%s: PNG: %s", what, io.msg);
	return CNN_OK;
}

int cnn_png_encode(const cnn_tensor *img, struct cnn_buf *out, const char *what)
{
	return encode_to(img, NULL, out, what);
}

int cnn_png_encode_palette(const cnn_tensor *img, const uint8_t (*palette)[3],
			   struct cnn_buf *out, const char *what)
{
	return encode_to(img, palette, out, what);
}
