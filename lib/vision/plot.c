/*
 * plot.c - line plots drawn into an image: precision-recall curves for
 * cnn-map, training curves for the engine.
 *
 * Ranges come from the data unless fixed, and are rounded out to ticks at
 * 1, 2 or 5 times a power of ten (whole decades on a log scale).  The y
 * axis is laid out first, since the width of its tick labels decides where
 * the x axis starts.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vision/font.h"

struct series {
	char *name;
	double *x, *y;
	int64_t n;
};

struct cnn_plot {
	int w, h;
	char *title, *xlabel, *ylabel;
	struct series *s;
	int ns;
	double fixed[4]; /* xmin, xmax, ymin, ymax; NaN for automatic */
	int logy;
};

/* One axis as drawn: the range (log10 of it on a log axis), the tick step,
 * and the pixels of the range's ends. */
struct axis {
	double lo, hi, step;
	int log;
	double p0, p1;
};

static const uint8_t white[3] = {255, 255, 255}, grid_gray[3] = {225, 225, 225},
		     frame_gray[3] = {90, 90, 90}, ink[3] = {30, 30, 30};

static char *dup_or_null(const char *s)
{
	return s && *s ? strdup(s) : NULL;
}

cnn_plot *cnn_plot_new(int width, int height, const char *title, const char *xlabel,
		       const char *ylabel)
{
	cnn_plot *p;

	if (width < 120 || height < 100 || width > 16384 || height > 16384) {
		cnn_error("plot size %dx%d (120x100 to 16384x16384)", width, height);
		return NULL;
	}
	if (!(p = calloc(1, sizeof *p))) {
		cnn_error("out of memory");
		return NULL;
	}
	p->w = width;
	p->h = height;
	p->title = dup_or_null(title);
	p->xlabel = dup_or_null(xlabel);
	p->ylabel = dup_or_null(ylabel);
	for (int i = 0; i < 4; i++)
		p->fixed[i] = NAN;
	return p;
}

void cnn_plot_free(cnn_plot *p)
{
	if (!p)
		return;
	for (int i = 0; i < p->ns; i++) {
		free(p->s[i].name);
		free(p->s[i].x);
		free(p->s[i].y);
	}
	free(p->s);
	free(p->title);
	free(p->xlabel);
	free(p->ylabel);
	free(p);
}

int cnn_plot_series(cnn_plot *p, const char *name, const double *xs, const double *ys,
		    int64_t n)
{
	struct series *s = realloc(p->s, ((size_t)p->ns + 1) * sizeof *s), *t;

	if (!s)
		return cnn_error("out of memory");
	p->s = s;
	t = &s[p->ns];
	*t = (struct series){.name = dup_or_null(name), .n = n};
	t->x = malloc((size_t)n * sizeof *t->x + 1);
	t->y = malloc((size_t)n * sizeof *t->y + 1);
	p->ns++;
	if (n < 0 || !t->x || !t->y)
		return cnn_error(n < 0 ? "a series of %lld points" : "out of memory", (long long)n);
	for (int64_t i = 0; i < n; i++) {
		t->x[i] = xs ? xs[i] : (double)i;
		t->y[i] = ys[i];
	}
	return CNN_OK;
}

void cnn_plot_range(cnn_plot *p, double xmin, double xmax, double ymin, double ymax)
{
	p->fixed[0] = xmin;
	p->fixed[1] = xmax;
	p->fixed[2] = ymin;
	p->fixed[3] = ymax;
}

void cnn_plot_logy(cnn_plot *p, int logy)
{
	p->logy = logy;
}

/* A value as the axis holds it: log10 on a log axis, NaN if it cannot show. */
static double axis_value(double v, int log)
{
	return !log ? v : v > 0 ? log10(v) : NAN;
}

/* 1, 2 or 5 times a power of ten, near x. */
static double nice(double x)
{
	double e = pow(10, floor(log10(x))), f = x / e;

	return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * e;
}

/* The range of axis k (0 x, 1 y) over the data and the fixed bounds, and
 * ticks about every spacing pixels along length pixels. */
static int axis_setup(const cnn_plot *p, int k, double length, double spacing, struct axis *a)
{
	double lo = INFINITY, hi = -INFINITY, flo, fhi, d;

	a->log = k == 1 && p->logy;
	for (int i = 0; i < p->ns; i++)
		for (int64_t j = 0; j < p->s[i].n; j++) {
			double v = axis_value(k ? p->s[i].y[j] : p->s[i].x[j], a->log);
			if (isfinite(v)) {
				lo = fmin(lo, v);
				hi = fmax(hi, v);
			}
		}
	if (lo > hi)
		lo = 0, hi = 1;
	if (lo == hi) {
		d = a->log ? 0.5 : lo != 0 ? fabs(lo) / 10 : 0.5;
		lo -= d, hi += d;
	}
	flo = axis_value(p->fixed[2 * k], a->log);
	fhi = axis_value(p->fixed[2 * k + 1], a->log);
	lo = isfinite(flo) ? flo : lo;
	hi = isfinite(fhi) ? fhi : hi;
	if (!(lo < hi))
		return cnn_error("plot: the %c range is empty", k ? 'y' : 'x');
	a->step = nice((hi - lo) / fmax(1, floor(length / spacing)));
	if (a->log)
		a->step = fmax(1, round(a->step));
	/* Round automatic ends out to ticks. */
	if (!isfinite(flo))
		lo = floor(lo / a->step + 1e-9) * a->step;
	if (!isfinite(fhi))
		hi = ceil(hi / a->step - 1e-9) * a->step;
	a->lo = lo;
	a->hi = hi;
	return CNN_OK;
}

static double to_pixel(const struct axis *a, double v)
{
	return a->p0 + (v - a->lo) / (a->hi - a->lo) * (a->p1 - a->p0);
}

/* The ticks: call with i = 0, 1, .. while it returns 1. */
static int tick(const struct axis *a, int i, double *v)
{
	double first = ceil(a->lo / a->step - 1e-9);

	*v = (first + i) * a->step;
	if (fabs(*v) < a->step * 1e-9)
		*v = 0; /* no "-0" */
	return i < 1000 && *v <= a->hi + a->step * 1e-9;
}

static void tick_label(const struct axis *a, double v, char *buf, size_t size)
{
	int decimals = a->step < 1 ? (int)ceil(-log10(a->step) - 1e-9) : 0;

	if (a->log)
		snprintf(buf, size, "%g", pow(10, v));
	else if (fabs(v) >= 1e6 || a->step < 1e-4)
		snprintf(buf, size, "%g", v);
	else
		snprintf(buf, size, "%.*f", decimals, v);
}

/* The widest tick label of an axis, in pixels. */
static int64_t widest_label(const struct axis *a, int scale)
{
	int64_t widest = 0, w, h;
	char buf[64];
	double v;

	for (int i = 0; tick(a, i, &v); i++) {
		tick_label(a, v, buf, sizeof buf);
		cnn_text_size(buf, scale, &w, &h);
		widest = w > widest ? w : widest;
	}
	return widest;
}

/* Clip the segment to the box x0..x1, y0..y1 (Liang-Barsky): 0 if
 * nothing is left. */
static int clip(double *ax, double *ay, double *bx, double *by, const double box[4])
{
	double t0 = 0, t1 = 1, dx = *bx - *ax, dy = *by - *ay;
	double pq[4][2] = {{-dx, *ax - box[0]}, {dx, box[1] - *ax},
			   {-dy, *ay - box[2]}, {dy, box[3] - *ay}};

	for (int i = 0; i < 4; i++) {
		double p = pq[i][0], q = pq[i][1], r;
		if (p == 0) {
			if (q < 0)
				return 0;
			continue;
		}
		r = q / p;
		if (p < 0)
			t0 = fmax(t0, r);
		else
			t1 = fmin(t1, r);
	}
	if (t0 > t1)
		return 0;
	*bx = *ax + t1 * dx, *by = *ay + t1 * dy;
	*ax = *ax + t0 * dx, *ay = *ay + t0 * dy;
	return 1;
}

/* Point j of a series in pixels: 1, or 0 when it is missing or cannot
 * show (a NaN, or not positive on a log axis). */
static int point(const struct series *s, int64_t j, const struct axis *ax,
		 const struct axis *ay, double *x, double *y)
{
	if (j < 0 || j >= s->n)
		return 0;
	*x = to_pixel(ax, s->x[j]);
	*y = to_pixel(ay, axis_value(s->y[j], ay->log));
	return isfinite(*x) && isfinite(*y);
}

/* Lines between neighbouring points; a point without neighbours as a dot. */
static void draw_series(cnn_tensor *img, const struct series *s, const struct axis *ax,
			const struct axis *ay, const double box[4], int t, const uint8_t rgb[3])
{
	for (int64_t j = 0; j < s->n; j++) {
		double x0, y0, x1, y1, u, v;
		if (!point(s, j, ax, ay, &x0, &y0))
			continue;
		if (!point(s, j - 1, ax, ay, &u, &v) && !point(s, j + 1, ax, ay, &u, &v) &&
		    x0 >= box[0] && x0 <= box[1] && y0 >= box[2] && y0 <= box[3])
			cnn_draw_fill(img, llround(x0) - t, llround(y0) - t, 2 * t + 1, 2 * t + 1, rgb);
		if (point(s, j + 1, ax, ay, &x1, &y1) && clip(&x0, &y0, &x1, &y1, box))
			cnn_draw_line(img, x0, y0, x1, y1, t, rgb);
	}
}

/* The corner of the plot area, of the legend's size, that covers the
 * fewest points: 0 top right, 1 top left, 2 bottom right, 3 bottom left. */
static int legend_corner(const cnn_plot *p, const struct axis *ax, const struct axis *ay,
			 const double box[4], int64_t w, int64_t h, double corner[4][2])
{
	int64_t count[4] = {0};
	int best = 0;

	for (int c = 0; c < 4; c++) {
		corner[c][0] = c % 2 ? box[0] + 8 : box[1] - 8 - w;
		corner[c][1] = c < 2 ? box[2] + 8 : box[3] - 8 - h;
	}
	for (int i = 0; i < p->ns; i++)
		for (int64_t j = 0; j < p->s[i].n; j++) {
			double x = to_pixel(ax, p->s[i].x[j]);
			double y = to_pixel(ay, axis_value(p->s[i].y[j], ay->log));
			for (int c = 0; c < 4; c++)
				count[c] += x >= corner[c][0] && x <= corner[c][0] + w &&
					    y >= corner[c][1] && y <= corner[c][1] + h;
		}
	for (int c = 1; c < 4; c++)
		best = count[c] < count[best] ? c : best;
	return best;
}

static void draw_legend(cnn_tensor *img, const cnn_plot *p, const struct axis *ax,
			const struct axis *ay, const double box[4], int scale, int t)
{
	int64_t line = CNN_GLYPH_LINE * scale + 2 * scale, swatch = 16 * scale, pad = 6 * scale;
	int64_t tw, th, w = 0, fit = (int64_t)((box[3] - box[2] - 16 - 2 * pad) / line), shown = 0;
	int named = 0, c;
	double corner[4][2], x, y;
	char more[32];

	for (int i = 0; i < p->ns; i++)
		if (p->s[i].name) {
			cnn_text_size(p->s[i].name, scale, &tw, &th);
			w = tw > w ? tw : w;
			named++;
		}
	if (named == 0 || fit < 1)
		return;
	/* With too many series, the last line says how many are left out. */
	shown = named <= fit ? named : fit - 1;
	snprintf(more, sizeof more, "+%d more", named - (int)shown);
	cnn_text_size(more, scale, &tw, &th);
	w = (named > shown && tw > w ? tw : w) + swatch + 3 * pad;
	th = (named > shown ? shown + 1 : shown) * line + 2 * pad - 2 * scale;
	c = legend_corner(p, ax, ay, box, w, th, corner);
	x = corner[c][0];
	y = corner[c][1];
	cnn_draw_fill(img, llround(x), llround(y), w, th, white);
	cnn_draw_rect(img, x, y, x + w, y + th, 1, 0, frame_gray);
	for (int i = 0, k = 0; i < p->ns && k < shown; i++) {
		uint8_t rgb[3];
		double ly = y + pad + k * line + CNN_GLYPH_H * scale / 2.0;
		if (!p->s[i].name)
			continue;
		cnn_class_color(i, rgb);
		cnn_draw_line(img, x + pad, ly, x + pad + swatch, ly, t, rgb);
		cnn_draw_text(img, llround(x + 2 * pad + swatch), llround(y + pad + k * line),
			      p->s[i].name, scale, 0, ink);
		k++;
	}
	if (named > shown)
		cnn_draw_text(img, llround(x + 2 * pad + swatch), llround(y + pad + shown * line),
			      more, scale, 0, ink);
}

static void draw_ticks(cnn_tensor *img, const struct axis *a, int vertical, const double box[4],
		       int scale)
{
	int64_t w, h, len = 4 * scale;
	char buf[64];
	double v;

	for (int i = 0; tick(a, i, &v); i++) {
		double at = to_pixel(a, v);
		tick_label(a, v, buf, sizeof buf);
		cnn_text_size(buf, scale, &w, &h);
		if (vertical) {
			cnn_draw_line(img, box[0] + 1, at, box[1] - 1, at, 1, grid_gray);
			cnn_draw_line(img, box[0] - len, at, box[0], at, 1, frame_gray);
			cnn_draw_text(img, llround(box[0] - len - 3 * scale - w), llround(at - h / 2.0),
				      buf, scale, 0, ink);
		} else {
			cnn_draw_line(img, at, box[2] + 1, at, box[3] - 1, 1, grid_gray);
			cnn_draw_line(img, at, box[3], at, box[3] + len, 1, frame_gray);
			cnn_draw_text(img, llround(at - w / 2.0), llround(box[3] + len + 3 * scale),
				      buf, scale, 0, ink);
		}
	}
}

static void draw_titles(cnn_tensor *img, const cnn_plot *p, const double box[4], int scale)
{
	int64_t w, h;

	if (p->title) {
		cnn_text_size(p->title, scale, &w, &h);
		cnn_draw_text(img, llround((box[0] + box[1] - w) / 2), 8 * scale, p->title, scale, 0, ink);
	}
	if (p->xlabel) {
		cnn_text_size(p->xlabel, scale, &w, &h);
		cnn_draw_text(img, llround((box[0] + box[1] - w) / 2), p->h - 6 * scale - h,
			      p->xlabel, scale, 0, ink);
	}
	if (p->ylabel) {
		cnn_text_size(p->ylabel, scale, &w, &h);
		cnn_draw_text(img, 6 * scale, llround((box[2] + box[3] + w) / 2), p->ylabel, scale, 1, ink);
	}
}

cnn_tensor *cnn_plot_render(const cnn_plot *p)
{
	int scale = p->w >= 1000 && p->h >= 700 ? 2 : 1, t = scale + 1;
	int64_t text_h = CNN_GLYPH_H * scale, tw, th;
	double top = (p->title ? text_h + 8 * scale : 0) + 10 * scale;
	double bottom = text_h + 10 * scale + (p->xlabel ? text_h + 8 * scale : 0) + 6 * scale;
	double left, box[4];
	struct axis ax, ay;
	cnn_tensor *img;

	/* The y axis first: its labels' width places the x axis. */
	if (axis_setup(p, 1, p->h - top - bottom, 40 * scale, &ay))
		return NULL;
	left = widest_label(&ay, scale) + 10 * scale + (p->ylabel ? text_h + 10 * scale : 0) + 6 * scale;
	cnn_text_size("0000", scale, &tw, &th);
	box[0] = left;
	box[1] = p->w - 1 - tw;
	box[2] = top;
	box[3] = p->h - 1 - bottom;
	if (box[1] - box[0] < 20 || box[3] - box[2] < 20) {
		cnn_error("plot %dx%d: no room left for the data", p->w, p->h);
		return NULL;
	}
	if (axis_setup(p, 0, box[1] - box[0], 80 * scale, &ax))
		return NULL;
	ax.p0 = box[0], ax.p1 = box[1];
	ay.p0 = box[3], ay.p1 = box[2];
	if (!(img = cnn_tensor_new3("image", CNN_U8, 3, p->h, p->w)))
		return NULL;
	memset(img->data, 255, cnn_tensor_bytes(img));
	draw_ticks(img, &ay, 1, box, scale);
	draw_ticks(img, &ax, 0, box, scale);
	for (int i = 0; i < p->ns; i++) {
		uint8_t rgb[3];
		cnn_class_color(i, rgb);
		draw_series(img, &p->s[i], &ax, &ay, box, t, rgb);
	}
	cnn_draw_rect(img, box[0], box[2], box[1] + 1, box[3] + 1, 1, 0, frame_gray);
	draw_legend(img, p, &ax, &ay, box, scale, t);
	draw_titles(img, p, box, scale);
	return img;
}
