/*
 * test_draw.c - rectangles, lines, the bitmap font, labelled boxes and
 * plots, pixel by pixel where it matters.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cnn.h"
#include "tap.h"

static const uint8_t red[3] = {255, 0, 0}, white[3] = {255, 255, 255};

/* A gray image as rows of '#' (not 0) and '.' (0). */
static const char *picture(const cnn_tensor *img)
{
	static char out[4096];
	const uint8_t *p = img->data;
	size_t n = 0;

	for (int64_t y = 0; y < img->dim[1]; y++) {
		for (int64_t x = 0; x < img->dim[2]; x++)
			out[n++] = p[y * img->dim[2] + x] ? '#' : '.';
		out[n++] = '/';
	}
	out[n] = 0;
	return out;
}

static void check(const char *got, const char *want, const char *what)
{
	tap_ok(strcmp(got, want) == 0, "%s: %s", what, got);
}

static void rectangles(void)
{
	cnn_tensor *img = cnn_tensor_new3("image", CNN_U8, 1, 5, 6);

	cnn_draw_rect(img, 1, 1, 5, 4, 1, 0, red);
	check(picture(img), "....../.####./.#..#./.####./....../",
	      "a 1-pixel outline of (1,1)-(5,4): pixels 1..4 by 1..3");
	memset(img->data, 0, 30);
	cnn_draw_rect(img, -3, -3, 2.6, 10, 2, 0, red);
	check(picture(img), ".##.../.##.../.##.../.##.../.##.../",
	      "2 pixels thick inside the edges, clipped: only the right side shows");
	tap_ok(((uint8_t *)img->data)[1] == 76, "a gray image gets red's luma, 76");
	cnn_tensor_free(img);
	img = cnn_tensor_new3("image", CNN_U8, 1, 1, 20);
	cnn_draw_rect(img, 0, 0, 20, 1, 1, 1, red);
	check(picture(img), "####....####....####/", "dashed: stretches of 4 on, 4 off");
	cnn_tensor_free(img);
	img = cnn_tensor_new3("image", CNN_U8, 1, 5, 5);
	cnn_draw_line(img, 0, 0, 4, 2, 1, red);
	check(picture(img), "#..../.##../...##/...../...../", "a line from (0,0) to (4,2)");
	cnn_tensor_free(img);
	img = cnn_tensor_new3("image", CNN_F32, 3, 4, 4);
	tap_ok(cnn_draw_rect(img, 0, 0, 1, 1, 1, 0, red) == CNN_ERR &&
	       strcmp(cnn_errmsg(), "tensor \"image\" is f32 3x4x4; drawing wants u8 1 x H x W "
				    "or 3 x H x W") == 0, "an f32 image is refused: \"%s\"", cnn_errmsg());
	cnn_tensor_free(img);
}

static void text(void)
{
	cnn_tensor *img = cnn_tensor_new3("image", CNN_U8, 1, 9, 5);
	int64_t w, h;

	cnn_draw_text(img, 0, 0, "A", 1, 0, white);
	check(picture(img), ".###./#...#/#...#/#####/#...#/#...#/#...#/...../...../",
	      "the glyph of A");
	memset(img->data, 0, 45);
	cnn_draw_text(img, 0, 0, "g", 1, 0, white);
	check(picture(img), "...../...../.####/#...#/#...#/.####/....#/#...#/.###./",
	      "g reaches down to row 8");
	cnn_tensor_free(img);
	img = cnn_tensor_new3("image", CNN_U8, 1, 5, 9);
	cnn_draw_text(img, 0, 4, "L", 1, 1, white);
	check(picture(img), "......#../......#../......#../......#../#######../",
	      "vertical text reads upwards: L turned a quarter left");
	cnn_tensor_free(img);
	cnn_text_size("ab\ncd", 2, &w, &h);
	tap_ok(w == 22 && h == 40, "\"ab\\ncd\" at scale 2 is 22 x 40 pixels (%lld x %lld)",
	       (long long)w, (long long)h);
	img = cnn_tensor_new3("image", CNN_U8, 1, 9, 5);
	cnn_draw_text(img, 0, 0, "\xe9", 1, 0, white);
	check(picture(img), ".###./#...#/....#/...#./..#../...../..#../...../...../",
	      "a byte outside ASCII shows as '?'");
	cnn_tensor_free(img);
}

/* Do the colours of classes 0..n-1 differ by at least apart (the sum of
 * the channels' differences)? */
static int distinct_colors(int n, int apart)
{
	uint8_t c[256][3];

	for (int i = 0; i < n; i++) {
		cnn_class_color(i, c[i]);
		for (int j = 0; j < i; j++)
			if (abs(c[i][0] - c[j][0]) + abs(c[i][1] - c[j][1]) + abs(c[i][2] - c[j][2]) < apart)
				return 0;
	}
	return 1;
}

static void boxes(void)
{
	cnn_tensor *img = cnn_tensor_new3("image", CNN_U8, 3, 60, 80), *b = cnn_boxes_new("boxes", 2);
	static const float rows[] = {10, 30, 40, 50, 0.9f, 1, 50, 5, 70, 20, 0.5f, 2};
	cnn_draw_style st = {.thickness = 1, .font_scale = 1, .labels = 1, .scores = 1};
	uint8_t c1[3], c2[3];
	const uint8_t *p = img->data;
	int64_t plane = 60 * 80;

	memcpy(b->data, rows, sizeof rows);
	cnn_class_color(1, c1);
	cnn_class_color(2, c2);
	tap_ok(distinct_colors(20, 80) && distinct_colors(80, 1),
	       "class colours: the first 20 far apart, the first 80 all different");
	tap_ok(cnn_draw_boxes(img, b, NULL, &st) == CNN_OK, "draw two labelled boxes");
	/* Box 1's outline at (10, 49), its label above it: a band of class 1's
	 * colour from row 30 - 11 = 19 to 29 at x = 10. */
	tap_ok(p[49 * 80 + 10] == c1[0] && p[plane + 49 * 80 + 10] == c1[1] &&
	       p[19 * 80 + 10] == c1[0] && p[18 * 80 + 10] == 0,
	       "box 1: outline in its class's colour, label on top of it");
	/* Box 2 is at the top: its label goes inside, at (50, 5). */
	tap_ok(p[5 * 80 + 50] == c2[0] && p[15 * 80 + 50] == c2[0] && p[2 * plane + 15 * 80 + 50] == c2[2],
	       "box 2: no room above, so the label sits inside");
	st.labels = 0;
	memcpy(b->data, (float[]){0, 0, 10, 10, NAN, 1}, 6 * sizeof(float));
	tap_ok(cnn_draw_boxes(img, b, NULL, &(cnn_draw_style){.scores = 0}) == CNN_OK,
	       "without scores a NaN score does not matter (ground truth)");
	tap_ok(cnn_draw_boxes(img, b, NULL, &st) == CNN_ERR &&
	       strcmp(cnn_errmsg(), "tensor \"boxes\": box 1: score is nan") == 0,
	       "with scores it is refused: \"%s\"", cnn_errmsg());
	cnn_tensor_free(img);
	cnn_tensor_free(b);
}

/* Pixels of an RGB image equal to rgb. */
static int64_t count(const cnn_tensor *img, const uint8_t rgb[3])
{
	int64_t plane = img->dim[1] * img->dim[2], n = 0;
	const uint8_t *p = img->data;

	for (int64_t i = 0; i < plane; i++)
		n += p[i] == rgb[0] && p[plane + i] == rgb[1] && p[2 * plane + i] == rgb[2];
	return n;
}

static void plots(void)
{
	double x[100], y[100], z[100];
	cnn_plot *p = cnn_plot_new(400, 300, "loss", "epoch", "value");
	cnn_tensor *img;
	uint8_t c0[3], c1[3];

	for (int i = 0; i < 100; i++) {
		x[i] = i;
		y[i] = exp(-i / 20.0);
		z[i] = i == 50 ? NAN : 0.5 + 0.3 * sin(i / 10.0);
	}
	cnn_class_color(0, c0);
	cnn_class_color(1, c1);
	cnn_plot_series(p, "train", x, y, 100);
	cnn_plot_series(p, "valid", NULL, z, 100);
	img = cnn_plot_render(p);
	tap_ok(img && img->dtype == CNN_U8 && img->dim[0] == 3 && img->dim[1] == 300 &&
	       img->dim[2] == 400 && count(img, c0) > 300 && count(img, c1) > 300,
	       "a plot of two series: u8 3x300x400 with both colours drawn");
	cnn_tensor_free(img);
	cnn_plot_logy(p, 1);
	y[10] = -1;
	cnn_plot_series(p, "with a negative value", x, y, 100);
	img = cnn_plot_render(p);
	tap_ok(img != NULL, "a log scale skips values that are not positive");
	cnn_tensor_free(img);
	cnn_plot_range(p, 5, 5, NAN, NAN);
	tap_ok(cnn_plot_render(p) == NULL && strcmp(cnn_errmsg(), "plot: the x range is empty") == 0,
	       "a fixed empty range is refused: \"%s\"", cnn_errmsg());
	cnn_plot_free(p);
	tap_ok(cnn_plot_new(50, 50, NULL, NULL, NULL) == NULL, "a 50x50 plot is refused: \"%s\"",
	       cnn_errmsg());
	p = cnn_plot_new(200, 150, NULL, NULL, NULL);
	img = cnn_plot_render(p);
	tap_ok(img && count(img, white) > 20000, "an empty plot is axes on white");
	cnn_tensor_free(img);
	cnn_plot_free(p);
}

int main(void)
{
	rectangles();
	text();
	boxes();
	plots();
	return tap_done();
}
