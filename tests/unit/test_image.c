/*
 * test_image.c - PNG and JPEG decoding and encoding, resizing, channels.
 *
 * Test PNGs are made here with libpng itself, so that every color type
 * and bit depth is covered without shipping files; the photos that Debian
 * packages ship are checked too when they are installed.
 */
#define _GNU_SOURCE /* memmem */
#include <math.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "cnn.h"
#include "tap.h"

struct mem {
	unsigned char *p;
	size_t n;
};

static void mem_write(png_structp png, png_bytep d, size_t n)
{
	struct mem *m = png_get_io_ptr(png);

	m->p = realloc(m->p, m->n + n);
	memcpy(m->p + m->n, d, n);
	m->n += n;
}

static void mem_flush(png_structp png)
{
	(void)png;
}

/* Optional chunks of a test PNG. */
struct extra {
	const png_color *pal;
	int npal;
	const png_byte *trns; /* palette alphas */
	int ntrns;
	const png_color_16 *trans; /* the transparent gray or RGB */
};

/* A PNG whose rows are given as the file stores them (packed, big-endian). */
static struct mem make_png(int w, int h, int color, int depth, int interlace,
			   const unsigned char *raw, const struct extra *x)
{
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	png_infop info = png_create_info_struct(png);
	struct mem m = {0};
	png_bytep rows[64];
	size_t rowbytes;

	png_set_write_fn(png, &m, mem_write, mem_flush);
	png_set_IHDR(png, info, w, h, depth, color, interlace, PNG_COMPRESSION_TYPE_DEFAULT,
		     PNG_FILTER_TYPE_DEFAULT);
	if (x && x->pal)
		png_set_PLTE(png, info, x->pal, x->npal);
	if (x && (x->trns || x->trans))
		png_set_tRNS(png, info, x->trns, x->ntrns, x->trans);
	png_write_info(png, info);
	rowbytes = png_get_rowbytes(png, info);
	for (int y = 0; y < h; y++)
		rows[y] = (png_bytep)raw + y * rowbytes;
	png_write_image(png, rows);
	png_write_end(png, NULL);
	png_destroy_write_struct(&png, &info);
	return m;
}

static cnn_tensor *decode(struct mem m, int channels, int keep16)
{
	cnn_tensor *t = cnn_image_decode(m.p, m.n, "test.png", channels, keep16);

	free(m.p);
	return t;
}

static int has_shape(const cnn_tensor *t, cnn_dtype dt, int64_t c, int64_t h, int64_t w)
{
	return t && t->dtype == dt && t->ndim == 3 && t->dim[0] == c && t->dim[1] == h &&
	       t->dim[2] == w;
}

/* t holds exactly want (as doubles), in order. */
static int equals(const cnn_tensor *t, const double *want, int64_t n)
{
	if (!t || cnn_tensor_count(t) != n)
		return 0;
	for (int64_t i = 0; i < n; i++)
		if (cnn_tensor_get(t, i) != want[i])
			return 0;
	return 1;
}

static int near(const cnn_tensor *t, const double *want, int64_t n, double tol)
{
	if (!t || cnn_tensor_count(t) != n)
		return 0;
	for (int64_t i = 0; i < n; i++)
		if (fabs(cnn_tensor_get(t, i) - want[i]) > tol)
			return 0;
	return 1;
}

static cnn_tensor *tensor(cnn_dtype dt, int ndim, const int64_t *dim, const double *v)
{
	cnn_tensor *t = cnn_tensor_new("image", dt, ndim, dim);

	for (int64_t i = 0; i < cnn_tensor_count(t); i++)
		cnn_tensor_set(t, i, v ? v[i] : (double)(i * 37 % 251));
	return t;
}

static char *temp_path(const char *suffix)
{
	static char path[64];
	int fd;

	snprintf(path, sizeof path, "/tmp/test_imageXXXXXX%s", suffix);
	fd = mkstemps(path, (int)strlen(suffix));
	if (fd >= 0)
		close(fd);
	return path;
}

static struct mem read_file(const char *path)
{
	struct mem m = {0};
	FILE *f = fopen(path, "rb");
	unsigned char buf[4096];
	size_t n;

	while (f && (n = fread(buf, 1, sizeof buf, f)) > 0) {
		m.p = realloc(m.p, m.n + n);
		memcpy(m.p + m.n, buf, n);
		m.n += n;
	}
	if (f)
		fclose(f);
	return m;
}

static int contains(const char *s, const char *part)
{
	return strstr(s, part) != NULL;
}

/* ---------------------------------------------------------- PNG decoding */

static void test_gray_depths(void)
{
	static const unsigned char d1[] = {0xb1}, d2[] = {0x1b}, d4[] = {0x3f};
	static const unsigned char d8[] = {0, 7, 128, 255, 1, 2};
	static const unsigned char d16[] = {0x12, 0x34, 0xab, 0xcd, 0x80, 0x80, 0x00, 0xff};
	double w1[] = {255, 0, 255, 255, 0, 0, 0, 255}, w2[] = {0, 85, 170, 255};
	double w4[] = {51, 255}, w8[] = {0, 7, 128, 255, 1, 2};
	double w16[] = {0x1234, 0xabcd, 0x8080, 0x00ff}, w16s[] = {18, 171, 128, 1};
	cnn_tensor *t;

	t = decode(make_png(8, 1, PNG_COLOR_TYPE_GRAY, 1, 0, d1, NULL), 0, 0);
	tap_ok(has_shape(t, CNN_U8, 1, 1, 8) && equals(t, w1, 8), "gray 1-bit expands to 0/255");
	cnn_tensor_free(t);
	t = decode(make_png(4, 1, PNG_COLOR_TYPE_GRAY, 2, 0, d2, NULL), 0, 0);
	tap_ok(has_shape(t, CNN_U8, 1, 1, 4) && equals(t, w2, 4), "gray 2-bit expands");
	cnn_tensor_free(t);
	t = decode(make_png(2, 1, PNG_COLOR_TYPE_GRAY, 4, 0, d4, NULL), 0, 0);
	tap_ok(has_shape(t, CNN_U8, 1, 1, 2) && equals(t, w4, 2), "gray 4-bit expands");
	cnn_tensor_free(t);
	t = decode(make_png(3, 2, PNG_COLOR_TYPE_GRAY, 8, 0, d8, NULL), 0, 0);
	tap_ok(has_shape(t, CNN_U8, 1, 2, 3) && equals(t, w8, 6), "gray 8-bit");
	cnn_tensor_free(t);
	t = decode(make_png(2, 2, PNG_COLOR_TYPE_GRAY, 16, 0, d16, NULL), 0, 1);
	tap_ok(has_shape(t, CNN_U16, 1, 2, 2) && equals(t, w16, 4),
	       "gray 16-bit kept as native u16");
	cnn_tensor_free(t);
	t = decode(make_png(2, 2, PNG_COLOR_TYPE_GRAY, 16, 0, d16, NULL), 0, 0);
	tap_ok(has_shape(t, CNN_U8, 1, 2, 2) && equals(t, w16s, 4),
	       "gray 16-bit scaled to 8 bits with rounding");
	cnn_tensor_free(t);
}

static void test_color_types(void)
{
	static const unsigned char ga[] = {10, 200, 20, 100};
	static const unsigned char rgb[] = {1, 2, 3, 4, 5, 6};
	static const unsigned char rgba[] = {1, 2, 3, 4, 5, 6, 7, 8};
	static const unsigned char rgb16[] = {0x12, 0x34, 0xab, 0xcd, 0xff, 0xff,
					      0x00, 0x00, 0x80, 0x80, 0x00, 0xff};
	static const unsigned char ga16[] = {0x01, 0x02, 0xff, 0xfe};
	double wga[] = {10, 20, 200, 100}, wrgb[] = {1, 4, 2, 5, 3, 6};
	double wrgba[] = {1, 5, 2, 6, 3, 7, 4, 8};
	double wrgb16[] = {0x1234, 0, 0xabcd, 0x8080, 0xffff, 0xff};
	double wrgb16s[] = {18, 0, 171, 128, 255, 1}, wga16[] = {0x0102, 0xfffe};
	cnn_tensor *t;

	t = decode(make_png(2, 1, PNG_COLOR_TYPE_GRAY_ALPHA, 8, 0, ga, NULL), 0, 0);
	tap_ok(has_shape(t, CNN_U8, 2, 1, 2) && equals(t, wga, 4), "gray+alpha 8-bit");
	cnn_tensor_free(t);
	t = decode(make_png(1, 1, PNG_COLOR_TYPE_GRAY_ALPHA, 16, 0, ga16, NULL), 0, 1);
	tap_ok(has_shape(t, CNN_U16, 2, 1, 1) && equals(t, wga16, 2), "gray+alpha 16-bit");
	cnn_tensor_free(t);
	t = decode(make_png(2, 1, PNG_COLOR_TYPE_RGB, 8, 0, rgb, NULL), 0, 0);
	tap_ok(has_shape(t, CNN_U8, 3, 1, 2) && equals(t, wrgb, 6), "RGB 8-bit, planar");
	cnn_tensor_free(t);
	t = decode(make_png(2, 1, PNG_COLOR_TYPE_RGB_ALPHA, 8, 0, rgba, NULL), 0, 0);
	tap_ok(has_shape(t, CNN_U8, 4, 1, 2) && equals(t, wrgba, 8), "RGBA 8-bit");
	cnn_tensor_free(t);
	t = decode(make_png(2, 1, PNG_COLOR_TYPE_RGB, 16, 0, rgb16, NULL), 0, 1);
	tap_ok(has_shape(t, CNN_U16, 3, 1, 2) && equals(t, wrgb16, 6), "RGB 16-bit kept");
	cnn_tensor_free(t);
	t = decode(make_png(2, 1, PNG_COLOR_TYPE_RGB, 16, 0, rgb16, NULL), 0, 0);
	tap_ok(has_shape(t, CNN_U8, 3, 1, 2) && equals(t, wrgb16s, 6), "RGB 16-bit scaled");
	cnn_tensor_free(t);
	t = decode(make_png(2, 1, PNG_COLOR_TYPE_RGB_ALPHA, 8, 0, rgba, NULL), 3, 0);
	tap_ok(has_shape(t, CNN_U8, 3, 1, 2) && equals(t, (double[]){1, 5, 2, 6, 3, 7}, 6),
	       "decode with channels=3 drops alpha");
	cnn_tensor_free(t);
}

static void test_palette(void)
{
	static const png_color pal[] = {{10, 20, 30}, {40, 50, 60}, {70, 80, 90}};
	static const png_byte trns[] = {0, 128};
	static const unsigned char idx4[] = {0x01, 0x21}, idx8[] = {2, 0, 1};
	static const unsigned char gray[] = {10, 20, 10};
	static const unsigned char rgb[] = {1, 2, 3, 9, 9, 9};
	png_color_16 tgray = {.gray = 10}, trgb = {.red = 9, .green = 9, .blue = 9};
	struct extra plain = {pal, 3, NULL, 0, NULL}, alpha = {pal, 3, trns, 2, NULL};
	struct extra xg = {.trans = &tgray}, xrgb = {.trans = &trgb};
	double w8[] = {70, 10, 40, 80, 20, 50, 90, 30, 60};
	double w4[] = {10, 40, 70, 40, 20, 50, 80, 50, 30, 60, 90, 60, 0, 128, 255, 128};
	double wg[] = {10, 20, 10, 0, 255, 0}, wrgb[] = {1, 9, 2, 9, 3, 9, 255, 0};
	cnn_tensor *t;

	t = decode(make_png(3, 1, PNG_COLOR_TYPE_PALETTE, 8, 0, idx8, &plain), 0, 0);
	tap_ok(has_shape(t, CNN_U8, 3, 1, 3) && equals(t, w8, 9), "8-bit palette becomes RGB");
	cnn_tensor_free(t);
	t = decode(make_png(4, 1, PNG_COLOR_TYPE_PALETTE, 4, 0, idx4, &alpha), 0, 1);
	tap_ok(has_shape(t, CNN_U8, 4, 1, 4) && equals(t, w4, 16),
	       "4-bit palette with a short tRNS becomes RGBA, the rest opaque");
	cnn_tensor_free(t);
	t = decode(make_png(3, 1, PNG_COLOR_TYPE_GRAY, 8, 0, gray, &xg), 0, 0);
	tap_ok(has_shape(t, CNN_U8, 2, 1, 3) && equals(t, wg, 6),
	       "gray with tRNS becomes gray+alpha");
	cnn_tensor_free(t);
	t = decode(make_png(2, 1, PNG_COLOR_TYPE_RGB, 8, 0, rgb, &xrgb), 0, 0);
	tap_ok(has_shape(t, CNN_U8, 4, 1, 2) && equals(t, wrgb, 8), "RGB with tRNS becomes RGBA");
	cnn_tensor_free(t);
}

static void test_interlaced(void)
{
	unsigned char raw[5 * 7 * 3];
	double want[3 * 5 * 7];
	cnn_tensor *t;

	for (int y = 0; y < 5; y++)
		for (int x = 0; x < 7; x++)
			for (int c = 0; c < 3; c++) {
				unsigned char v = (unsigned char)(y * 50 + x * 7 + c);
				raw[(y * 7 + x) * 3 + c] = v;
				want[(c * 5 + y) * 7 + x] = v;
			}
	t = decode(make_png(7, 5, PNG_COLOR_TYPE_RGB, 8, PNG_INTERLACE_ADAM7, raw, NULL), 0, 0);
	tap_ok(has_shape(t, CNN_U8, 3, 5, 7) && equals(t, want, 3 * 5 * 7),
	       "Adam7-interlaced RGB decodes like a plain one");
	cnn_tensor_free(t);
}

static void test_bad_png(void)
{
	unsigned char raw[16 * 16 * 3];
	struct mem m;
	cnn_tensor *t;
	unsigned char *idat;
	uLong crc;

	for (size_t i = 0; i < sizeof raw; i++)
		raw[i] = (unsigned char)(i * 7);
	m = make_png(16, 16, PNG_COLOR_TYPE_RGB, 8, 0, raw, NULL);
	idat = memmem(m.p, m.n, "IDAT", 4);
	idat[4 + 20] ^= 0x10;
	t = cnn_image_decode(m.p, m.n, "x.png", 0, 0);
	tap_ok(!t && contains(cnn_errmsg(), "x.png: PNG: "),
	       "a flipped IDAT byte is an error: %s", cnn_errmsg());
	idat[4 + 20] ^= 0x10;
	t = cnn_image_decode(m.p, m.n / 2, "cut.png", 0, 0);
	tap_ok(!t && strcmp(cnn_errmsg(), "cut.png: PNG: premature end of data") == 0,
	       "a truncated PNG is an error: %s", cnn_errmsg());
	t = cnn_image_decode(m.p, m.n - 12, "noend.png", 0, 0);
	tap_ok(!t, "a PNG without IEND is an error: %s", cnn_errmsg());
	/* 20000 x 20000 is within libpng's limits but not ours. */
	memcpy(m.p + 16, "\0\0\x4e\x20\0\0\x4e\x20", 8);
	crc = crc32(0, m.p + 12, 17);
	for (int i = 0; i < 4; i++)
		m.p[29 + i] = (unsigned char)(crc >> (24 - 8 * i));
	t = cnn_image_decode(m.p, m.n, "huge.png", 0, 0);
	tap_ok(!t && contains(cnn_errmsg(), "huge.png: PNG: 20000x20000 pixels is too large"),
	       "an absurd size is refused: %s", cnn_errmsg());
	free(m.p);
}

/* ------------------------------------------------------------- saving */

static void test_png_round_trips(void)
{
	char *path = temp_path(".png");

	for (int depth = 8; depth <= 16; depth += 8) {
		for (int c = 1; c <= 4; c++) {
			int64_t dim[3] = {c, 5, 7};
			cnn_dtype dt = depth == 8 ? CNN_U8 : CNN_U16;
			cnn_tensor *t = tensor(dt, 3, dim, NULL), *r;

			for (int64_t i = 0; depth == 16 && i < cnn_tensor_count(t); i++)
				cnn_tensor_set(t, i, (double)(i * 4099 % 65536));
			r = cnn_image_save(path, t, 0) ? NULL : cnn_image_load(path, 0, 1);
			tap_ok(r && r->dtype == dt && r->ndim == 3 && r->dim[0] == c &&
				       memcmp(r->data, t->data, cnn_tensor_bytes(t)) == 0 &&
				       strcmp(r->name, "image") == 0,
			       "PNG round trip of %d-bit, %d channels", depth, c);
			cnn_tensor_free(r);
			cnn_tensor_free(t);
		}
	}
	unlink(path);
}

static void test_save_dtypes(void)
{
	char *path = temp_path(".png");
	int64_t hw[2] = {2, 3}, five[3] = {5, 2, 2};
	double v[] = {-5, 0.4, 0.6, 254.5, 300, NAN}, w[] = {0, 0, 1, 254, 255, 0};
	double v16[] = {0, 257, 65535, 32768, 128, 1000};
	cnn_tensor *t = tensor(CNN_F32, 2, hw, v), *r;

	r = cnn_image_save(path, t, 0) ? NULL : cnn_image_load(path, 0, 1);
	tap_ok(has_shape(r, CNN_U8, 1, 2, 3) && equals(r, w, 6),
	       "f32 H x W is saved rounded and clamped to 0..255 as gray");
	cnn_tensor_free(r);
	cnn_tensor_free(t);

	t = tensor(CNN_U16, 2, hw, v16);
	r = cnn_image_save(path, t, 0) ? NULL : cnn_image_load(path, 0, 0);
	tap_ok(has_shape(r, CNN_U8, 1, 2, 3) &&
		       equals(r, (double[]){0, 1, 255, 128, 0, 4}, 6),
	       "u16 saved as 16-bit PNG loads scaled to 8 bits without keep16");
	cnn_tensor_free(r);
	cnn_tensor_free(t);

	t = tensor(CNN_U8, 3, five, NULL);
	tap_ok(cnn_image_save(path, t, 0) == CNN_ERR && contains(cnn_errmsg(), "u8 5x2x2"),
	       "5 channels cannot be saved: %s", cnn_errmsg());
	cnn_tensor_free(t);
	t = tensor(CNN_U8, 2, hw, NULL);
	tap_ok(cnn_image_save("/nonexistent/x.png", t, 0) == CNN_ERR &&
		       strcmp(cnn_errmsg(), "/nonexistent/x.png: cannot create a file beside it: "
			      "No such file or directory") == 0,
	       "an unwritable path is an error: %s", cnn_errmsg());
	cnn_tensor_free(t);
	unlink(path);

	r = cnn_image_load("/nonexistent.png", 0, 0);
	tap_ok(!r && strcmp(cnn_errmsg(), "/nonexistent.png: No such file or directory") == 0,
	       "a missing file: %s", cnn_errmsg());
}

/* --------------------------------------------------------------- JPEG */

static double max_diff(const cnn_tensor *a, const cnn_tensor *b, double *mean)
{
	double m = 0, s = 0;
	int64_t n = cnn_tensor_count(a);

	for (int64_t i = 0; i < n; i++) {
		double d = fabs(cnn_tensor_get(a, i) - cnn_tensor_get(b, i));
		m = d > m ? d : m;
		s += d;
	}
	*mean = s / n;
	return m;
}

static cnn_tensor *smooth(cnn_dtype dt, int c, int h, int w, double scale)
{
	cnn_tensor *t = cnn_tensor_new3("image", dt, c, h, w);

	for (int k = 0; k < c; k++)
		for (int y = 0; y < h; y++)
			for (int x = 0; x < w; x++)
				cnn_tensor_set(t, (k * h + y) * w + x,
					       scale * (128 + 100 * sin(x / 9.0 + k) *
							      cos(y / 7.0 - k)));
	return t;
}

static void test_jpeg(void)
{
	char *path = temp_path(".jpg");
	cnn_tensor *t, *r;
	struct mem m;
	double mean = 0, mx;

	t = smooth(CNN_U8, 3, 48, 64, 1);
	r = cnn_image_save(path, t, 95) ? NULL : cnn_image_load(path, 0, 0);
	mx = r ? max_diff(r, t, &mean) : 999;
	tap_ok(has_shape(r, CNN_U8, 3, 48, 64) && mx <= 16 && mean < 2,
	       "RGB JPEG round trip at quality 95 (max %.0f, mean %.2f)", mx, mean);
	cnn_tensor_free(r);

	m = read_file(path);
	r = cnn_image_decode(m.p, m.n / 2, "cut.jpg", 0, 0);
	tap_ok(!r && strcmp(cnn_errmsg(), "cut.jpg: JPEG: premature end of data") == 0,
	       "a JPEG cut in half is an error: %s", cnn_errmsg());
	r = cnn_image_decode(m.p, 40, "head.jpg", 0, 0);
	tap_ok(!r && contains(cnn_errmsg(), "head.jpg: JPEG: "),
	       "a JPEG cut in its header is an error: %s", cnn_errmsg());
	free(m.p);
	cnn_tensor_free(t);

	t = smooth(CNN_U8, 1, 30, 20, 1);
	r = cnn_image_save(path, t, 0) ? NULL : cnn_image_load(path, 0, 0);
	mx = r ? max_diff(r, t, &mean) : 999;
	tap_ok(has_shape(r, CNN_U8, 1, 30, 20) && mx <= 16 && mean < 3,
	       "gray JPEG round trip at default quality (max %.0f, mean %.2f)", mx, mean);
	cnn_tensor_free(r);
	cnn_tensor_free(t);

	t = smooth(CNN_U16, 4, 16, 16, 257);
	r = cnn_image_save(path, t, 100) ? NULL : cnn_image_load(path, 0, 1);
	tap_ok(has_shape(r, CNN_U8, 3, 16, 16),
	       "u16 RGBA saved as JPEG becomes 8-bit RGB");
	cnn_tensor_free(r);
	cnn_tensor_free(t);
	unlink(path);
}

static void test_garbage(void)
{
	unsigned char junk[1000];
	cnn_tensor *t;

	srand(1);
	for (size_t i = 0; i < sizeof junk; i++)
		junk[i] = (unsigned char)rand();
	t = cnn_image_decode(junk, sizeof junk, "junk", 0, 0);
	tap_ok(!t && strcmp(cnn_errmsg(), "junk: not a PNG or JPEG file") == 0,
	       "random bytes: %s", cnn_errmsg());
	t = cnn_image_decode(junk, 0, "empty", 0, 0);
	tap_ok(!t && strcmp(cnn_errmsg(), "empty: not a PNG or JPEG file") == 0,
	       "no bytes: %s", cnn_errmsg());
	memcpy(junk, "\xff\xd8\xff", 3);
	t = cnn_image_decode(junk, sizeof junk, "j.jpg", 0, 0);
	tap_ok(!t && contains(cnn_errmsg(), "j.jpg: JPEG: "),
	       "a JPEG signature then noise: %s", cnn_errmsg());
	memcpy(junk, "\x89PNG\r\n\x1a\n", 8);
	t = cnn_image_decode(junk, sizeof junk, "p.png", 0, 0);
	tap_ok(!t && contains(cnn_errmsg(), "p.png: PNG: "),
	       "a PNG signature then noise: %s", cnn_errmsg());
}

/* Photos from Debian's python3-skimage and darknet, when installed;
 * expected pixels are what PIL reads. */
static void test_real_files(void)
{
	static const struct {
		const char *path;
		int c, h, w, y, x, px[4];
	} f[] = {
		{"/usr/lib/python3/dist-packages/skimage/data/astronaut.png", 3, 512, 512,
		 100, 200, {81, 57, 17}},
		{"/usr/lib/python3/dist-packages/skimage/data/camera.png", 1, 512, 512, 256,
		 256, {14}},
		{"/usr/lib/python3/dist-packages/skimage/data/foo3x5x4indexed.png", 4, 3, 5,
		 2, 4, {0, 31, 255, 255}},
		{"/usr/lib/python3/dist-packages/skimage/data/palette_color.png", 3, 10, 10,
		 5, 5, {102, 51, 255}},
		{"/usr/share/darknet/data/dog.jpg", 3, 576, 768, 300, 400, {128, 117, 72}},
	};
	const char *trunc = "/usr/lib/python3/dist-packages/skimage/data/truncated.jpg";

	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
		cnn_tensor *t;
		int ok;

		if (access(f[i].path, R_OK)) {
			tap_ok(1, "# SKIP %s is not installed", f[i].path);
			continue;
		}
		t = cnn_image_load(f[i].path, 0, 0);
		ok = has_shape(t, CNN_U8, f[i].c, f[i].h, f[i].w);
		for (int k = 0; ok && k < f[i].c; k++)
			ok = cnn_tensor_get(t, ((int64_t)k * f[i].h + f[i].y) * f[i].w + f[i].x) ==
			     f[i].px[k];
		tap_ok(ok, "%s decodes as PIL does", strrchr(f[i].path, '/') + 1);
		cnn_tensor_free(t);
	}
	if (access(trunc, R_OK)) {
		tap_ok(1, "# SKIP %s is not installed", trunc);
	} else {
		cnn_tensor *t = cnn_image_load(trunc, 0, 0);
		tap_ok(!t && contains(cnn_errmsg(), "premature end of data"),
		       "skimage's truncated.jpg is an error: %s", cnn_errmsg());
	}
}

/* ------------------------------------------------------------- resize */

static void test_resize(void)
{
	int64_t d22[3] = {1, 2, 2}, d44[3] = {1, 4, 4}, d33[2] = {3, 3}, d13[3] = {1, 1, 3};
	int64_t d23[3] = {1, 2, 3};
	double v22[] = {1, 2, 3, 4};
	double up[] = {1.0, 1.25, 1.75, 2.0, 1.5, 1.75, 2.25, 2.5,
		       2.5, 2.75, 3.25, 3.5, 3.0, 3.25, 3.75, 4.0};
	double v33[] = {0, 1, 2, 3, 4, 5, 6, 7, 8};
	double up54[] = {0.0, 0.625, 1.375, 2.0, 1.2, 1.825, 2.575, 3.2, 3.0, 3.625,
			 4.375, 5.0, 4.8, 5.425, 6.175, 6.8, 6.0, 6.625, 7.375, 8.0};
	double v23[] = {0, 10, 20, 30, 40, 50};
	double up37[] = {0.0, 1.4285714, 5.7142857, 10.0, 14.285714, 18.571428, 20.0,
			 15.0, 16.428571, 20.714286, 25.0, 29.285714, 33.571428, 35.0,
			 30.0, 31.428571, 35.714286, 40.0, 44.285714, 48.571428, 50.0};
	double v44[16], pool[4] = {0}, v13[] = {3, 6, 12};
	cnn_tensor *t, *r;

	t = tensor(CNN_F32, 3, d22, v22);
	r = cnn_image_resize(t, 4, 4);
	tap_ok(r && r->ndim == 3 && r->dim[1] == 4 && near(r, up, 16, 1e-6),
	       "2x2 to 4x4 is PyTorch's bilinear, align_corners=False");
	cnn_tensor_free(r);
	cnn_tensor_free(t);

	t = tensor(CNN_F64, 2, d33, v33);
	r = cnn_image_resize(t, 5, 4);
	tap_ok(r && r->ndim == 2 && r->dim[0] == 5 && r->dim[1] == 4 &&
		       r->dtype == CNN_F64 && near(r, up54, 20, 1e-6),
	       "H x W 3x3 to 5x4 bilinear keeps H x W and f64");
	cnn_tensor_free(r);
	cnn_tensor_free(t);

	t = tensor(CNN_F32, 3, d23, v23);
	r = cnn_image_resize(t, 3, 7);
	tap_ok(near(r, up37, 21, 1e-4), "2x3 to 3x7 bilinear");
	cnn_tensor_free(r);
	cnn_tensor_free(t);

	for (int i = 0; i < 16; i++) {
		v44[i] = (i * 13) % 17;
		pool[(i / 8) * 2 + (i % 4) / 2] += v44[i] / 4;
	}
	t = tensor(CNN_F32, 3, d44, v44);
	r = cnn_image_resize(t, 2, 2);
	tap_ok(equals(r, pool, 4), "4x4 to 2x2 is exactly a 2x2 average pool");
	cnn_tensor_free(r);
	cnn_tensor_free(t);

	t = tensor(CNN_U8, 3, d44, v44);
	r = cnn_image_resize(t, 2, 2);
	for (int i = 0; i < 4; i++)
		pool[i] = nearbyint(pool[i]);
	tap_ok(r && r->dtype == CNN_U8 && equals(r, pool, 4), "u8 area averaging rounds");
	cnn_tensor_free(r);
	cnn_tensor_free(t);

	t = tensor(CNN_F32, 3, d13, v13);
	r = cnn_image_resize(t, 1, 2);
	tap_ok(near(r, (double[]){(3 + 0.5 * 6) / 1.5, (0.5 * 6 + 12) / 1.5}, 2, 1e-6),
	       "3 to 2 weighs the shared middle sample by half");
	cnn_tensor_free(r);
	cnn_tensor_free(t);
}

static void test_resize_more(void)
{
	int64_t big[3] = {2, 100, 90}, d4[3] = {1, 4, 4};
	cnn_tensor *t = cnn_tensor_new("pic", CNN_I32, 3, big), *r;
	int ok;

	for (int64_t i = 0; i < cnn_tensor_count(t); i++)
		cnn_tensor_set(t, i, i < 9000 ? -7 : 1000000);
	r = cnn_image_resize(t, 7, 3);
	ok = r && r->dtype == CNN_I32 && strcmp(r->name, "pic") == 0;
	for (int64_t i = 0; ok && i < 42; i++)
		ok = cnn_tensor_get(r, i) == (i < 21 ? -7 : 1000000);
	tap_ok(ok, "shrinking a constant plane keeps it exactly (i32, name kept)");
	cnn_tensor_free(r);
	r = cnn_image_resize(t, 300, 50);
	ok = r != NULL;
	for (int64_t i = 0; ok && i < 30000; i++)
		ok = cnn_tensor_get(r, i) == (i < 15000 ? -7 : 1000000);
	tap_ok(ok, "enlarging H and shrinking W at once keeps a constant plane");
	cnn_tensor_free(r);
	r = cnn_image_resize(t, 100, 90);
	tap_ok(r && memcmp(r->data, t->data, cnn_tensor_bytes(t)) == 0,
	       "resizing to the same size is the identity");
	cnn_tensor_free(r);
	r = cnn_image_resize(t, 0, 5);
	tap_ok(!r && contains(cnn_errmsg(), "i32 2x100x90"), "size 0x5: %s", cnn_errmsg());
	cnn_tensor_free(t);

	t = tensor(CNN_U16, 3, d4, (double[]){0, 65535, 0, 65535, 65535, 0, 65535, 0,
					      0, 65535, 0, 65535, 65535, 0, 65535, 0});
	r = cnn_image_resize(t, 1, 1);
	tap_ok(r && cnn_tensor_get(r, 0) == 32768, "u16 4x4 to 1x1 averages (32767.5 rounds to even)");
	cnn_tensor_free(r);
	cnn_tensor_free(t);
}

/* ----------------------------------------------------------- channels */

static void test_channels(void)
{
	/* One pixel per channel count: gray 100 with alpha 50, or RGB
	 * (200, 100, 50) with alpha 50; luma(200, 100, 50) = 124.2. */
	static const double in[5][4] = {{0}, {100}, {100, 50}, {200, 100, 50}, {200, 100, 50, 50}};
	static const double out[5][5][4] = {
		[1] = {{0}, {100}, {100, 255}, {100, 100, 100}, {100, 100, 100, 255}},
		[2] = {{0}, {100}, {100, 50}, {100, 100, 100}, {100, 100, 100, 50}},
		[3] = {{0}, {124}, {124, 255}, {200, 100, 50}, {200, 100, 50, 255}},
		[4] = {{0}, {124}, {124, 50}, {200, 100, 50}, {200, 100, 50, 50}},
	};
	int ok = 1;

	for (int ic = 1; ic <= 4; ic++) {
		for (int oc = 1; oc <= 4; oc++) {
			int64_t dim[3] = {ic, 1, 1};
			cnn_tensor *t = tensor(CNN_U8, 3, dim, in[ic]);
			cnn_tensor *r = cnn_image_channels(t, oc);

			if (!has_shape(r, CNN_U8, oc, 1, 1) || !equals(r, out[ic][oc], oc)) {
				ok = 0;
				tap_ok(0, "u8 %d to %d channels", ic, oc);
			}
			cnn_tensor_free(r);
			cnn_tensor_free(t);
		}
	}
	tap_ok(ok, "u8 conversions between 1, 2, 3 and 4 channels");
}

static void test_channels_dtypes(void)
{
	int64_t hw[2] = {1, 2}, d3[3] = {3, 1, 1}, d5[3] = {5, 1, 1};
	cnn_tensor *t = tensor(CNN_F32, 2, hw, (double[]){0.25, 0.5}), *r;

	r = cnn_image_channels(t, 4);
	tap_ok(has_shape(r, CNN_F32, 4, 1, 2) &&
		       equals(r, (double[]){0.25, 0.5, 0.25, 0.5, 0.25, 0.5, 1, 1}, 8),
	       "f32 H x W to RGBA: alpha 1.0");
	cnn_tensor_free(r);
	cnn_tensor_free(t);

	t = tensor(CNN_U16, 3, d3, (double[]){65535, 65535, 65535});
	r = cnn_image_channels(t, 2);
	tap_ok(equals(r, (double[]){65535, 65535}, 2), "u16 white RGB to gray+alpha stays white");
	cnn_tensor_free(r);
	cnn_tensor_free(t);

	t = tensor(CNN_I64, 3, d3, (double[]){1, 2, 3});
	r = cnn_image_channels(t, 4);
	tap_ok(r && ((int64_t *)r->data)[3] == INT64_MAX, "i64 opaque alpha is INT64_MAX");
	cnn_tensor_free(r);
	r = cnn_image_channels(t, 5);
	tap_ok(!r && contains(cnn_errmsg(), "5 channels"), "5 channels: %s", cnn_errmsg());
	cnn_tensor_free(t);

	t = tensor(CNN_U8, 3, d5, NULL);
	r = cnn_image_channels(t, 3);
	tap_ok(!r && contains(cnn_errmsg(), "u8 5x1x1"), "from 5 channels: %s", cnn_errmsg());
	cnn_tensor_free(t);
}

int main(void)
{
	test_gray_depths();
	test_color_types();
	test_palette();
	test_interlaced();
	test_bad_png();
	test_png_round_trips();
	test_save_dtypes();
	test_jpeg();
	test_garbage();
	test_real_files();
	test_resize();
	test_resize_more();
	test_channels();
	test_channels_dtypes();
	return tap_done();
}
