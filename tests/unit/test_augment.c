/*
 * test_augment.c - augmentation: boxes and masks follow every geometric
 * operation (a bright square, its box and its mask), each colour operation
 * does what it says on known values, mixing keeps images and labels in
 * step, the statistics are right, and bad arguments are refused.  The
 * colour operations are checked on whole planes too (the vector kernels and
 * their tails), and a chain gives the same bits on every instruction set.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cnn.h"
#include "simd/simd.h"
#include "tap.h"

enum { H = 60, W = 80, SX0 = 20, SY0 = 12, SX1 = 36, SY1 = 30 };

/* A black image with a white square, its box (class 3) and its mask. */
static cnn_record *square_record(void)
{
	cnn_record *rec = cnn_record_new();
	cnn_tensor *img = cnn_tensor_new3("image", CNN_U8, 1, H, W);
	cnn_tensor *mask = cnn_tensor_new("mask", CNN_U8, 2, (int64_t[]){H, W});
	cnn_tensor *boxes = cnn_boxes_new("boxes", 1);
	float *b = boxes->data;

	for (int y = SY0; y < SY1; y++)
		for (int x = SX0; x < SX1; x++) {
			((uint8_t *)img->data)[y * W + x] = 255;
			((uint8_t *)mask->data)[y * W + x] = 1;
		}
	b[0] = SX0, b[1] = SY0, b[2] = SX1, b[3] = SY1, b[4] = 1, b[5] = 3;
	cnn_record_put(rec, img);
	cnn_record_put(rec, boxes);
	cnn_record_put(rec, mask);
	return rec;
}

static cnn_augment *chain(const char *name, const char *args)
{
	cnn_augment *a = cnn_augment_new();

	if (cnn_augment_add(a, name, args))
		printf("# %s %s: %s\n", name, args, cnn_errmsg());
	return a;
}

/* After the chain: is every bright pixel inside the box (within tol
 * pixels), does the box hug them (within slack, when the map keeps lines
 * axis-aligned), and does the mask agree with the image wherever bilinear
 * and nearest sampling must agree? */
static void follows(const char *name, const char *args, double tol, double slack)
{
	cnn_record *in = square_record();
	int bad_box = 0, bad_mask = 0, bad_tight = 0, runs = 0, kept = 0;

	for (uint64_t seed = 1; seed <= 20; seed++) {
		cnn_augment *a = chain(name, args);
		cnn_record *out = cnn_augment_record(a, in, seed, NULL, 0);
		const cnn_tensor *img = out ? cnn_record_get(out, "image") : NULL;
		const cnn_tensor *mask = out ? cnn_record_get(out, "mask") : NULL;
		const cnn_tensor *boxes = out ? cnn_record_get(out, "boxes") : NULL;
		double lox = INFINITY, loy = INFINITY, hix = -INFINITY, hiy = -INFINITY;
		int64_t h, w, bright = 0;

		cnn_augment_free(a);
		if (!img || !mask || !boxes) {
			printf("# %s: %s\n", name, out ? "a tensor is missing" : cnn_errmsg());
			cnn_record_free(out);
			bad_box++;
			continue;
		}
		h = img->dim[1], w = img->dim[2];
		for (int64_t y = 0; y < h; y++)
			for (int64_t x = 0; x < w; x++) {
				double v = cnn_tensor_get(img, y * w + x);
				double m = cnn_tensor_get(mask, y * w + x);
				if (v > 128) {
					bright++;
					lox = fmin(lox, x), hix = fmax(hix, x + 1);
					loy = fmin(loy, y), hiy = fmax(hiy, y + 1);
				}
				/* Nearest takes the pixel the sample point falls in,
				 * whose bilinear weight is at least 1/4. */
				if ((m == 1 && v < 63) || (m == 0 && v > 192))
					bad_mask++;
			}
		runs++;
		if (boxes->dim[0] == 1) {
			const float *b = boxes->data;
			kept++;
			if (bright && (lox < b[0] - tol || loy < b[1] - tol || hix > b[2] + tol ||
				       hiy > b[3] + tol))
				bad_box++, printf("# %s seed %d: box %g %g %g %g, bright %g %g %g %g\n",
						  name, (int)seed, b[0], b[1], b[2], b[3], lox, loy, hix, hiy);
			if (slack >= 0 && bright &&
			    (b[0] < lox - slack || b[1] < loy - slack || b[2] > hix + slack ||
			     b[3] > hiy + slack))
				bad_tight++;
			if (b[4] != 1 || b[5] != 3)
				bad_box++;
		} else if (bright > 4) {
			/* A box may go only when its object has (nearly) gone. */
			bad_box++;
			printf("# %s seed %d: box dropped with %lld bright pixels\n", name,
			       (int)seed, (long long)bright);
		}
		cnn_record_free(out);
	}
	tap_ok(runs == 20 && bad_box == 0, "%s %s: the box encloses the square (%d of %d kept)",
	       name, args, kept, runs);
	if (slack >= 0)
		tap_ok(bad_tight == 0, "%s %s: and fits it within %g px", name, args, slack);
	tap_ok(bad_mask == 0, "%s %s: the mask stays on the square (%d pixels off)", name, args,
	       bad_mask);
	cnn_record_free(in);
}

static void geometry(void)
{
	follows("flip", "p=1", 0, 0);
	follows("vflip", "p=1", 0, 0);
	follows("crop", "40x50", 0, 0);
	follows("crop", "40x50,pad=8,fill=reflect", 0, 0);
	follows("crop", "70x90,center", 0, 0);
	follows("resized-crop", "32x40", 0.5, 1.5);
	follows("resize", "30x100", 0.5, 1.5);
	follows("rotate", "45", 0.5, -1);
	follows("shear", "20,10", 0.5, -1);
	follows("translate", "0.3", 0.5, 1);
	follows("scale", "0.5", 0.5, 1.5);
	follows("jitter", "0.2", 0.5, 1.5);
	follows("elastic", "8,sigma=3", 1, -1);
}

/* A chain of several, mosaic included, on a pool of squares. */
static void chains(void)
{
	cnn_record *in = square_record();
	const cnn_record *pool[3] = {in, in, in};
	cnn_augment *a = cnn_augment_new();
	int64_t total = 0, runs = 0;

	cnn_augment_add(a, "rotate", "30");
	cnn_augment_add(a, "translate", "0.1");
	cnn_augment_add(a, "flip", NULL);
	cnn_augment_add(a, "mosaic", "64x64");
	cnn_augment_add(a, "crop", "48");
	for (uint64_t seed = 1; seed <= 20; seed++) {
		cnn_record *out = cnn_augment_record(a, in, seed, pool, 3);
		const cnn_tensor *img = out ? cnn_record_get(out, "image") : NULL;
		const cnn_tensor *boxes = out ? cnn_record_get(out, "boxes") : NULL;
		if (!img || !boxes || img->dim[1] != 48 || img->dim[2] != 48)
			break;
		/* Every bright pixel inside some box. */
		for (int64_t y = 0; y < 48; y++)
			for (int64_t x = 0; x < 48; x++) {
				int inside = 0;
				if (cnn_tensor_get(img, y * 48 + x) <= 128)
					continue;
				for (int64_t i = 0; i < boxes->dim[0]; i++) {
					const float *b = (const float *)boxes->data + 6 * i;
					inside |= x + 0.5 > b[0] - 0.5 && x + 0.5 < b[2] + 0.5 &&
						  y + 0.5 > b[1] - 0.5 && y + 0.5 < b[3] + 0.5;
				}
				total += !inside;
			}
		runs++;
		cnn_record_free(out);
	}
	tap_ok(runs == 20 && total == 0,
	       "rotate, translate, flip, mosaic of 4, crop: every bright pixel in a box (%lld outside, %lld runs)",
	       (long long)total, (long long)runs);
	cnn_augment_free(a);
	cnn_record_free(in);
}

/* ------------------------------------------------------------- colour */

/* One pixel of an RGB u8 image through one operation. */
static void pixel(const char *name, const char *args, const uint8_t in[3], uint8_t out[3])
{
	cnn_record *rec = cnn_record_new();
	cnn_tensor *img = cnn_tensor_new3("image", CNN_U8, 3, 1, 1);
	cnn_augment *a = chain(name, args);
	cnn_record *res;

	memcpy(img->data, in, 3);
	cnn_record_put(rec, img);
	res = cnn_augment_record(a, rec, 7, NULL, 0);
	memset(out, 0xEE, 3);
	if (res)
		memcpy(out, cnn_record_get(res, "image")->data, 3);
	else
		printf("# %s: %s\n", name, cnn_errmsg());
	cnn_record_free(res);
	cnn_record_free(rec);
	cnn_augment_free(a);
}

static void expect_pixel(const char *name, const char *args, const uint8_t in[3],
			 int r, int g, int b)
{
	uint8_t out[3];

	pixel(name, args, in, out);
	tap_ok(out[0] == r && out[1] == g && out[2] == b,
	       "%s %s: (%d,%d,%d) -> (%d,%d,%d), want (%d,%d,%d)", name, args, in[0], in[1],
	       in[2], out[0], out[1], out[2], r, g, b);
}

/* exposure 2:2 doubles or halves, each about half the time. */
static void exposure_both_ways(const uint8_t in[3])
{
	cnn_record *rec = cnn_record_new();
	cnn_tensor *img = cnn_tensor_new3("image", CNN_U8, 3, 1, 1);
	cnn_augment *a = chain("exposure", "2:2");
	int doubled = 0, halved = 0;

	memcpy(img->data, in, 3);
	cnn_record_put(rec, img);
	for (uint64_t seed = 1; seed <= 16; seed++) {
		cnn_record *res = cnn_augment_record(a, rec, seed, NULL, 0);
		const uint8_t *o = res ? cnn_record_get(res, "image")->data : NULL;
		doubled += o && o[0] == 255 && o[1] == 2 * in[1] && o[2] == 2 * in[2];
		halved += o && o[0] == in[0] / 2 && o[1] == in[1] / 2 && o[2] == in[2] / 2;
		cnn_record_free(res);
	}
	tap_ok(doubled + halved == 16 && doubled > 0 && halved > 0,
	       "exposure 2:2: doubles (%d of 16) or halves (%d)", doubled, halved);
	cnn_record_free(rec);
	cnn_augment_free(a);
}

static void colour(void)
{
	static const uint8_t red[3] = {255, 0, 0}, some[3] = {200, 100, 50};

	expect_pixel("brightness", "0.5:0.5", some, 100, 50, 25);
	expect_pixel("brightness", "1.5:1.5", some, 255, 150, 75);
	expect_pixel("exposure", "1", some, 200, 100, 50);
	exposure_both_ways(some);
	expect_pixel("hue", "0.333333:0.333333", red, 0, 255, 0);
	expect_pixel("hue", "-0.333333:-0.333333", red, 0, 0, 255);
	/* Saturation 0 keeps only the value: max(r, g, b). */
	expect_pixel("saturation", "1", some, 200, 100, 50);
	expect_pixel("color-shift", "0.1:0.1", some, 226, 126, 76);
	expect_pixel("grayscale", "p=1", some, 124, 124, 124);
	expect_pixel("pca-color", "0,eig=imagenet", some, 200, 100, 50);
}

static void values(void)
{
	cnn_record *rec = cnn_record_new(), *out;
	cnn_tensor *img = cnn_tensor_new3("image", CNN_U8, 2, 40, 50);
	cnn_augment *a;
	const cnn_tensor *t;
	double sum = 0, sq = 0;
	int64_t n = 2 * 40 * 50, zeros = 0;

	memset(img->data, 128, n);
	((uint8_t *)img->data)[0] = 0;
	cnn_record_put(rec, img);

	a = chain("normalize", "mean=0.5/0.25,std=0.5/2");
	out = cnn_augment_record(a, rec, 1, NULL, 0);
	t = out ? cnn_record_get(out, "image") : NULL;
	tap_ok(t && t->dtype == CNN_F32 && fabs(cnn_tensor_get(t, 0) + 1) < 1e-6 &&
		       fabs(cnn_tensor_get(t, 1) - (128 / 255.0 - 0.5) / 0.5) < 1e-6 &&
		       fabs(cnn_tensor_get(t, 2000) - (128 / 255.0 - 0.25) / 2) < 1e-6,
	       "normalize: (x / 255 - mean) / std per channel, as f32");
	cnn_record_free(out);
	cnn_augment_free(a);

	((uint8_t *)img->data)[0] = 128;
	a = chain("noise", "0.1");
	out = cnn_augment_record(a, rec, 1, NULL, 0);
	t = cnn_record_get(out, "image");
	for (int64_t i = 0; i < n; i++) {
		double v = cnn_tensor_get(t, i) - 128;
		sum += v, sq += v * v;
	}
	tap_ok(fabs(sum / n) < 1.5 && fabs(sqrt(sq / n) - 25.5) < 1.5,
	       "noise 0.1: mean %.2f, standard deviation %.2f (want 0, 25.5)", sum / n,
	       sqrt(sq / n));
	cnn_record_free(out);
	cnn_augment_free(a);

	a = chain("blur", "2");
	out = cnn_augment_record(a, rec, 1, NULL, 0);
	t = cnn_record_get(out, "image");
	for (int64_t i = 0; i < n; i++)
		zeros += cnn_tensor_get(t, i) != 128;
	tap_ok(zeros == 0, "blur: a flat image stays flat");
	cnn_record_free(out);
	cnn_augment_free(a);

	a = chain("cutout", "10x12,value=0");
	out = cnn_augment_record(a, rec, 3, NULL, 0);
	t = cnn_record_get(out, "image");
	zeros = 0;
	for (int64_t i = 0; i < n; i++)
		zeros += cnn_tensor_get(t, i) == 0;
	tap_ok(zeros > 0 && zeros <= 2 * 10 * 12 && zeros % 2 == 0,
	       "cutout 10x12: %lld pixels blanked in both channels", (long long)zeros);
	cnn_record_free(out);
	cnn_augment_free(a);

	a = chain("erase", "p=1,scale=0.1:0.1,ratio=1:1");
	out = cnn_augment_record(a, rec, 3, NULL, 0);
	t = cnn_record_get(out, "image");
	zeros = 0;
	for (int64_t i = 0; i < n; i++)
		zeros += cnn_tensor_get(t, i) == 0;
	tap_ok(zeros == 2 * 14 * 14, "erase a tenth, square: 14 x 14 in both channels (%lld)",
	       (long long)zeros);
	cnn_record_free(out);
	cnn_augment_free(a);
	cnn_record_free(rec);
}

/* ---------------------------------------------------------------- mixing */

static cnn_record *flat_record(int value, int label)
{
	cnn_record *rec = cnn_record_new();
	cnn_tensor *img = cnn_tensor_new3("image", CNN_F32, 1, 8, 8);
	cnn_tensor *lab = cnn_tensor_new("label", CNN_I32, 0, NULL);

	for (int i = 0; i < 64; i++)
		((float *)img->data)[i] = (float)value;
	*(int32_t *)lab->data = label;
	cnn_record_put(rec, img);
	cnn_record_put(rec, lab);
	return rec;
}

static void mixing(void)
{
	cnn_record *a = flat_record(0, 0), *b = flat_record(100, 1);
	const cnn_record *pool[2] = {a, b};
	cnn_augment *ch = chain("mixup", "1,classes=3");
	int good = 0, mixed = 0;

	for (uint64_t seed = 1; seed <= 20; seed++) {
		cnn_record *out = cnn_augment_record(ch, a, seed, pool, 2);
		const cnn_tensor *img = out ? cnn_record_get(out, "image") : NULL;
		const cnn_tensor *lab = out ? cnn_record_get(out, "label") : NULL;
		if (img && lab && lab->dtype == CNN_F32 && lab->ndim == 1 && lab->dim[0] == 3) {
			const float *l = lab->data;
			good += fabsf(l[0] + l[1] - 1) < 1e-6f && l[2] == 0 &&
				fabs(cnn_tensor_get(img, 17) - 100 * l[1]) < 1e-3;
			mixed += l[1] > 0;
		}
		cnn_record_free(out);
	}
	tap_ok(good == 20 && mixed > 0,
	       "mixup: image = lambda a + (1 - lambda) b and the soft label says so (%d partnered with b)",
	       mixed);
	cnn_augment_free(ch);

	ch = chain("mosaic", "16x16,classes=2");
	good = 0;
	for (uint64_t seed = 1; seed <= 20; seed++) {
		cnn_record *out = cnn_augment_record(ch, a, seed, pool, 2);
		const cnn_tensor *img = out ? cnn_record_get(out, "image") : NULL;
		const cnn_tensor *lab = out ? cnn_record_get(out, "label") : NULL;
		double bright = 0;
		if (!img || !lab)
			continue;
		for (int i = 0; i < 256; i++)
			bright += cnn_tensor_get(img, i) == 100;
		good += fabs(bright / 256 - ((float *)lab->data)[1]) < 1e-6;
		cnn_record_free(out);
	}
	tap_ok(good == 20, "mosaic: the soft label is each class's share of the area");
	cnn_augment_free(ch);

	ch = chain("mixup", "");
	{
		cnn_record *out = cnn_augment_record(ch, a, 1, pool, 2);
		tap_ok(!out && strstr(cnn_errmsg(), "classes=K"),
		       "mixup of class labels without classes=: %s", cnn_errmsg());
		cnn_record_free(out);
	}
	cnn_augment_free(ch);
	cnn_record_free(a);
	cnn_record_free(b);
}

/* ----------------------------------------------------- determinism, stats */

static void determinism(void)
{
	cnn_record *in = square_record();
	cnn_augment *a = cnn_augment_new();
	cnn_record *x, *y, *z;

	cnn_augment_add(a, "rotate", "20");
	cnn_augment_add(a, "noise", "0.05");
	cnn_augment_add(a, "elastic", NULL);
	x = cnn_augment_record(a, in, 42, NULL, 0);
	y = cnn_augment_record(a, in, 42, NULL, 0);
	z = cnn_augment_record(a, in, 43, NULL, 0);
	tap_ok(x && y && z && memcmp(cnn_record_get(x, "image")->data,
				    cnn_record_get(y, "image")->data, H * W) == 0,
	       "the same seed, the same image");
	tap_ok(x && z && memcmp(cnn_record_get(x, "image")->data,
			       cnn_record_get(z, "image")->data, H * W) != 0,
	       "another seed, another image");
	cnn_record_free(x);
	cnn_record_free(y);
	cnn_record_free(z);
	cnn_augment_free(a);
	cnn_record_free(in);
}

static void stats(void)
{
	cnn_image_stats st;
	cnn_tensor *img = cnn_tensor_new3("image", CNN_U8, 3, 1, 2);
	uint8_t *p = img->data;
	cnn_record *rec = cnn_record_new();
	cnn_image_stats back;

	/* Two pixels, black and (255, 255, 0): the colours vary along
	 * (1, 1, 0) / sqrt(2) only. */
	p[0] = 0, p[1] = 255, p[2] = 0, p[3] = 255, p[4] = 0, p[5] = 0;
	cnn_image_stats_init(&st);
	cnn_image_stats_add(&st, img);
	tap_ok(cnn_image_stats_finish(&st) == 0 && fabs(st.mean[0] - 0.5) < 1e-12 &&
		       fabs(st.std[1] - 0.5) < 1e-12 && st.std[2] == 0,
	       "mean 0.5 0.5 0, std 0.5 0.5 0");
	tap_ok(fabs(st.eigval[0] - sqrt(0.5)) < 1e-9 && st.eigval[1] < 1e-9 &&
		       fabs(fabs(st.eigvec[0][0]) - sqrt(0.5)) < 1e-9 &&
		       fabs(st.eigvec[0][0] - st.eigvec[0][1]) < 1e-9 && fabs(st.eigvec[0][2]) < 1e-9,
	       "principal axis (1, 1, 0) / sqrt 2 with spread sqrt(0.5): %g (%g %g %g)",
	       st.eigval[0], st.eigvec[0][0], st.eigvec[0][1], st.eigvec[0][2]);
	cnn_image_stats_to_record(&st, rec);
	tap_ok(cnn_image_stats_from_record(&back, rec) == 0 && back.channels == 3 &&
		       fabs(back.eigval[0] - st.eigval[0]) < 1e-6,
	       "statistics as a record and back");
	cnn_record_free(rec);
	cnn_tensor_free(img);
}

static void refused(const char *name, const char *args, const char *want)
{
	cnn_augment *a = cnn_augment_new();
	int rc = cnn_augment_add(a, name, args);

	tap_ok(rc == CNN_ERR && strstr(cnn_errmsg(), want), "%s %s: %s", name,
	       args ? args : "(none)", cnn_errmsg());
	cnn_augment_free(a);
}

static void arguments(void)
{
	refused("rotat", "15", "no operation \"rotat\"");
	refused("rotate", NULL, "needs a value");
	refused("rotate", "15x", "bad value");
	refused("rotate", "20:10", "bad value");
	refused("rotate", "15,pad=3", "no key \"pad\"");
	refused("crop", "0x5", "bad size");
	refused("crop", "24,fill=blue", "bad value");
	refused("flip", "p=2", "bad value");
	refused("saturation", "0.5", "factor >= 1");
	refused("normalize", "mean=0.5", "give both");
	refused("resized-crop", "24,scale=0.5:2", "bad value");
	refused("elastic", "1,2", "too many");
}

/* A C x H x W f32 image of random values in 0..255, as the record "image". */
static cnn_record *random_record(int64_t c, int64_t h, int64_t w, uint64_t seed)
{
	cnn_record *rec = cnn_record_new();
	cnn_tensor *img = cnn_tensor_new3("image", CNN_F32, c, h, w);
	cnn_rng rng;

	cnn_rng_seed(&rng, seed);
	for (int64_t i = 0; i < cnn_tensor_count(img); i++)
		((float *)img->data)[i] = (float)(cnn_rng_uniform(&rng) * 300 - 20);
	cnn_record_put(rec, img);
	return rec;
}

static double clamp255(double v)
{
	return v < 0 ? 0 : v > 255 ? 255 : v;
}

/* Brightness, contrast and colour shift over a whole 3 x 17 x 19 plane
 * (vectors and a tail) against the formulas, in double. */
static void colour_planes(void)
{
	static const struct {
		const char *name, *args;
	} ops[] = {{"brightness", "1.3:1.3"}, {"contrast", "0.6:0.6"},
		   {"contrast", "1.7:1.7"}, {"color-shift", "0.1:0.1"}};
	enum { C = 3, PH = 17, PW = 19, N = PH * PW };
	cnn_record *rec = random_record(C, PH, PW, 9);
	const float *x = cnn_record_get(rec, "image")->data;

	for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
		cnn_augment *a = chain(ops[k].name, ops[k].args);
		cnn_record *out = cnn_augment_record(a, rec, 1, NULL, 0);
		const float *y = out ? cnn_record_get(out, "image")->data : NULL;
		double f = atof(ops[k].args), mean = 0, worst = 0;
		for (int i = 0; i < N; i++)
			mean += (0.299 * x[i] + 0.587 * x[N + i] + 0.114 * x[2 * N + i]) / N;
		for (int i = 0; y && i < C * N; i++) {
			double want = k == 0 ? clamp255(f * x[i]) :
				      k == 3 ? clamp255(x[i] + 25.5) :
					       clamp255(f * x[i] + (1 - f) * mean);
			worst = fmax(worst, fabs(y[i] - want));
		}
		tap_ok(y && worst < 1e-3, "%s %s on a 3x17x19 plane: worst difference %.2g",
		       ops[k].name, ops[k].args, worst);
		cnn_record_free(out);
		cnn_augment_free(a);
	}
	cnn_record_free(rec);
}

/* A chain of geometry and colour gives the same bits on every instruction
 * set this processor runs: the seed alone decides the output. */
static void same_on_every_isa(void)
{
	static const char *const isas[] = {"generic", "avx2", "avx512"};
	static const char *const ops[][2] = {
		{"resized-crop", "31x45,scale=0.2:1"}, {"flip", "p=1"}, {"rotate", "20"},
		{"brightness", "0.4"}, {"contrast", "0.4"}, {"saturation", "1.5"},
		{"hue", "0.1"}, {"blur", "0.8"}, {"resize", "40x52"},
		{"normalize", "mean=0.485/0.456/0.406,std=0.229/0.224/0.225"},
	};
	cnn_record *rec = random_record(3, 57, 83, 4);
	cnn_augment *a = cnn_augment_new();
	cnn_record *first = NULL;

	for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++)
		cnn_augment_add(a, ops[k][0], ops[k][1]);
	for (int i = 0; i < 3; i++) {
		cnn_record *out;
		if (cnn_simd_force(isas[i])) {
			printf("# %s: not on this processor\n", isas[i]);
			continue;
		}
		out = cnn_augment_record(a, rec, 77, NULL, 0);
		if (!first) {
			first = out;
			continue;
		}
		tap_ok(out && first && memcmp(cnn_record_get(out, "image")->data,
					      cnn_record_get(first, "image")->data,
					      cnn_tensor_bytes(cnn_record_get(first, "image"))) == 0,
		       "a chain gives the same bits with the %s kernels as with the generic ones",
		       isas[i]);
		cnn_record_free(out);
	}
	cnn_simd_force(NULL);
	cnn_record_free(first);
	cnn_record_free(rec);
	cnn_augment_free(a);
}

int main(void)
{
	geometry();
	chains();
	colour();
	values();
	colour_planes();
	same_on_every_isa();
	mixing();
	determinism();
	stats();
	arguments();
	return tap_done();
}
