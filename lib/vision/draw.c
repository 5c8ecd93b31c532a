/*
 * draw.c - rectangles, lines, text and labelled boxes on u8 images.
 *
 * Everything is clipped to the image, so callers may draw boxes that run
 * off its edges.  A gray image gets the luma of each colour, so that boxes
 * drawn on MNIST digits still show.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/box.h"
#include "vision/font.h"

struct canvas {
	uint8_t *p;
	int64_t c, h, w;
};

static int canvas(cnn_tensor *img, struct canvas *cv)
{
	char desc[128];

	if (img->dtype != CNN_U8 || img->ndim != 3 || (img->dim[0] != 1 && img->dim[0] != 3))
		return cnn_error("tensor \"%s\" is %s; drawing wants u8 1 x H x W or 3 x H x W",
				 img->name, cnn_tensor_describe(img, desc, sizeof desc));
	*cv = (struct canvas){img->data, img->dim[0], img->dim[1], img->dim[2]};
	return CNN_OK;
}

/* ITU-R BT.601, as cnn_image_channels() makes gray. */
static uint8_t luma(const uint8_t rgb[3])
{
	return (uint8_t)((299 * rgb[0] + 587 * rgb[1] + 114 * rgb[2] + 500) / 1000);
}

/* Fill columns x0..x1, rows y0..y1 (inclusive), clipped. */
static void fill(const struct canvas *cv, int64_t x0, int64_t y0, int64_t x1, int64_t y1,
		 const uint8_t rgb[3])
{
	x0 = x0 < 0 ? 0 : x0;
	y0 = y0 < 0 ? 0 : y0;
	x1 = x1 >= cv->w ? cv->w - 1 : x1;
	y1 = y1 >= cv->h ? cv->h - 1 : y1;
	if (x0 > x1 || y0 > y1)
		return;
	for (int64_t k = 0; k < cv->c; k++) {
		uint8_t v = cv->c == 1 ? luma(rgb) : rgb[k];
		for (int64_t y = y0; y <= y1; y++)
			memset(cv->p + (k * cv->h + y) * cv->w + x0, v, (size_t)(x1 - x0 + 1));
	}
}

void cnn_class_color(int cls, uint8_t rgb[3])
{
	/* Golden-ratio steps spread any number of hues apart; classes whose
	 * hues still come close (3 and 16) differ in the saturation and
	 * brightness that cycle with the class. */
	static const double sat[3] = {0.85, 0.95, 0.55}, val[3] = {235, 175, 250};
	double h = fmod(cls * 0.6180339887498949, 1.0) * 6, f = h - floor(h);
	double s = sat[cls % 3], v = val[cls % 3];
	double p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
	double r[6] = {v, q, p, p, t, v}, g[6] = {t, v, v, q, p, p}, b[6] = {p, p, t, v, v, q};
	int i = (int)h % 6;

	rgb[0] = (uint8_t)lround(r[i]);
	rgb[1] = (uint8_t)lround(g[i]);
	rgb[2] = (uint8_t)lround(b[i]);
}

int cnn_draw_fill(cnn_tensor *img, int64_t x, int64_t y, int64_t w, int64_t h,
		  const uint8_t rgb[3])
{
	struct canvas cv;

	if (canvas(img, &cv))
		return CNN_ERR;
	fill(&cv, x, y, x + w - 1, y + h - 1, rgb);
	return CNN_OK;
}

/* Columns x0..x1 of rows y0..y1, every other stretch of dash pixels along
 * the longer side when dash > 0. */
static void band(const struct canvas *cv, int64_t x0, int64_t y0, int64_t x1, int64_t y1,
		 int64_t dash, const uint8_t rgb[3])
{
	int along_x = x1 - x0 >= y1 - y0;
	int64_t from = along_x ? x0 : y0, to = along_x ? x1 : y1;

	if (dash <= 0) {
		fill(cv, x0, y0, x1, y1, rgb);
		return;
	}
	for (int64_t a = from; a <= to; a += 2 * dash) {
		int64_t b = a + dash - 1 < to ? a + dash - 1 : to;
		if (along_x)
			fill(cv, a, y0, b, y1, rgb);
		else
			fill(cv, x0, a, x1, b, rgb);
	}
}

/* The pixel edge nearest to v, for coordinates however far outside. */
static int64_t pixel(double v)
{
	return llround(fmax(fmin(v, 1e15), -1e15));
}

int cnn_draw_rect(cnn_tensor *img, double x1, double y1, double x2, double y2,
		  int thickness, int dashed, const uint8_t rgb[3])
{
	struct canvas cv;
	int64_t t = thickness > 0 ? thickness : 1, dash = dashed ? 4 * t : 0;
	int64_t px0, py0, px1, py1;

	if (canvas(img, &cv))
		return CNN_ERR;
	if (!(isfinite(x1) && isfinite(y1) && isfinite(x2) && isfinite(y2)))
		return cnn_error("a rectangle with a coordinate that is not a number");
	/* The pixels whose centres lie inside, at least one each way. */
	px0 = pixel(x1);
	py0 = pixel(y1);
	px1 = pixel(x2) - 1;
	py1 = pixel(y2) - 1;
	px1 = px1 < px0 ? px0 : px1;
	py1 = py1 < py0 ? py0 : py1;
	band(&cv, px0, py0, px1, py0 + t - 1, dash, rgb);
	band(&cv, px0, py1 - t + 1, px1, py1, dash, rgb);
	band(&cv, px0, py0, px0 + t - 1, py1, dash, rgb);
	band(&cv, px1 - t + 1, py0, px1, py1, dash, rgb);
	return CNN_OK;
}

int cnn_draw_line(cnn_tensor *img, double x0, double y0, double x1, double y1,
		  int thickness, const uint8_t rgb[3])
{
	struct canvas cv;
	int64_t t = thickness > 0 ? thickness : 1, lo = (t - 1) / 2, hi = t / 2;
	int64_t ax, ay, bx, by, dx, dy, sx, sy, err;

	if (canvas(img, &cv))
		return CNN_ERR;
	/* Far beyond the image nothing is drawn: keep the walk short. */
	if (!(fabs(x0) < 1e6 && fabs(y0) < 1e6 && fabs(x1) < 1e6 && fabs(y1) < 1e6))
		return cnn_error("a line end that is not a number or is far outside the image");
	ax = llround(x0), ay = llround(y0), bx = llround(x1), by = llround(y1);
	dx = llabs(bx - ax), dy = -llabs(by - ay);
	sx = ax < bx ? 1 : -1, sy = ay < by ? 1 : -1;
	err = dx + dy;
	/* Bresenham, stamping a t x t square at each step. */
	for (;;) {
		int64_t e2 = 2 * err;
		fill(&cv, ax - lo, ay - lo, ax + hi, ay + hi, rgb);
		if (ax == bx && ay == by)
			return CNN_OK;
		if (e2 >= dy)
			err += dy, ax += sx;
		if (e2 <= dx)
			err += dx, ay += sy;
	}
}

void cnn_text_size(const char *text, int scale, int64_t *w, int64_t *h)
{
	int64_t cols = 0, lines = 1, longest = 0;

	for (const char *s = text; *s; s++) {
		if (*s == '\n') {
			lines++;
			cols = 0;
		} else if (++cols > longest) {
			longest = cols;
		}
	}
	scale = scale > 0 ? scale : 1;
	*w = longest ? (longest * CNN_GLYPH_ADVANCE - 1) * scale : 0;
	*h = ((lines - 1) * CNN_GLYPH_LINE + CNN_GLYPH_H) * scale;
}

int cnn_draw_text(cnn_tensor *img, int64_t x, int64_t y, const char *text,
		  int scale, int vertical, const uint8_t rgb[3])
{
	struct canvas cv;
	int64_t u = 0, v = 0, s = scale > 0 ? scale : 1;

	if (canvas(img, &cv))
		return CNN_ERR;
	for (; *text; text++) {
		const uint8_t *g = cnn_glyph((unsigned char)*text);
		if (*text == '\n') {
			u = 0;
			v += CNN_GLYPH_LINE * s;
			continue;
		}
		for (int row = 0; row < CNN_GLYPH_H; row++)
			for (int col = 0; col < CNN_GLYPH_W; col++) {
				int64_t gu = u + col * s, gv = v + row * s;
				if (!(g[row] >> (CNN_GLYPH_W - 1 - col) & 1))
					continue;
				/* Vertical text reads upwards: its top faces left. */
				if (vertical)
					fill(&cv, x + gv, y - gu - s + 1, x + gv + s - 1, y - gu, rgb);
				else
					fill(&cv, x + gu, y + gv, x + gu + s - 1, y + gv + s - 1, rgb);
			}
		u += CNN_GLYPH_ADVANCE * s;
	}
	return CNN_OK;
}

int cnn_draw_label(cnn_tensor *img, int64_t x, int64_t y, const char *text,
		   int scale, const uint8_t bg[3])
{
	static const uint8_t black[3] = {0, 0, 0}, white[3] = {255, 255, 255};
	int64_t w, h, pad = scale > 0 ? scale : 1;

	cnn_text_size(text, scale, &w, &h);
	if (cnn_draw_fill(img, x, y, w + 2 * pad, h + 2 * pad, bg))
		return CNN_ERR;
	return cnn_draw_text(img, x + pad, y + pad, text, scale, 0, luma(bg) > 140 ? black : white);
}

/* "dog 0.87": the class's name (or number) and the score. */
static void label_text(char *buf, size_t size, const float *b, const cnn_names *names,
		       int scores)
{
	const char *name = cnn_names_get(names, (int)b[5]);
	int n = name ? snprintf(buf, size, "%s", name) : snprintf(buf, size, "%d", (int)b[5]);

	if (scores && n >= 0 && (size_t)n < size)
		snprintf(buf + n, size - (size_t)n, " %.2f", b[4]);
}

/* Above the box's top-left corner, or inside it at the top when there is
 * no room above; kept inside the image sideways. */
static int draw_box_label(cnn_tensor *img, const float *b, const cnn_names *names,
			  const cnn_draw_style *st, int scale)
{
	char text[256];
	uint8_t rgb[3];
	int64_t w, h, x = llround(b[0]), y, iw = img->dim[2];

	label_text(text, sizeof text, b, names, st->scores);
	cnn_text_size(text, scale, &w, &h);
	w += 2 * scale;
	h += 2 * scale;
	y = llround(b[1]) - h >= 0 ? llround(b[1]) - h : llround(b[1]);
	x = x + w > iw ? iw - w : x;
	x = x < 0 ? 0 : x;
	cnn_class_color((int)b[5], rgb);
	return cnn_draw_label(img, x, y, text, scale, rgb);
}

int cnn_draw_boxes(cnn_tensor *img, const cnn_tensor *boxes, const cnn_names *names,
		   const cnn_draw_style *st)
{
	struct canvas cv;
	const float *rows = boxes->data;
	int64_t n, side;
	int t, scale;

	/* Scores are only checked when they are drawn. */
	if (canvas(img, &cv) || cnn_boxes_check(boxes, !st->scores))
		return CNN_ERR;
	n = boxes->dim[0];
	side = cv.h < cv.w ? cv.h : cv.w;
	t = st->thickness > 0 ? st->thickness : (int)(side / 250 > 1 ? side / 250 : 1);
	scale = st->font_scale > 0 ? st->font_scale : (int)((side + 160) / 320 > 1 ? (side + 160) / 320 : 1);
	/* The last first, so that the best boxes and labels end on top. */
	for (int64_t i = n - 1; i >= 0; i--) {
		const float *b = rows + i * CNN_BOX_FIELDS;
		uint8_t rgb[3];
		cnn_class_color((int)b[5], rgb);
		if (cnn_draw_rect(img, b[0], b[1], b[2], b[3], t, st->dashed, rgb))
			return CNN_ERR;
	}
	for (int64_t i = n - 1; st->labels && i >= 0; i--)
		if (draw_box_label(img, rows + i * CNN_BOX_FIELDS, names, st, scale))
			return CNN_ERR;
	return CNN_OK;
}
