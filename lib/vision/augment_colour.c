/*
 * augment_colour.c - the operations of augmentation that change pixel
 * values but move nothing: colour, noise, blur, erasing, normalisation.
 *
 * Values are in the image's own units, white being it->full (255 for u8),
 * and every colour operation clamps its result to 0..full as torchvision
 * and darknet do, so that a chain of them never leaves the range.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vision/augment.h"
#include "simd/simd.h"

/* The whole image scaled by a and clamped to 0..white. */
static void scale_values(aug_item *it, float a)
{
	cnn_simd_pixels()->affine(it->img->data, cnn_tensor_count(it->img), a, 0, 0, 0, it->full);
}

/* darknet's rand_scale: a factor in 1..s, or its inverse, each half the
 * time, so that s = 1.5 brightens and darkens alike. */
static double rand_scale(aug_item *it, const aug_op *op)
{
	double f = aug_uniform(it, op->lo, op->hi);

	return cnn_rng_uniform(&it->rng) < 0.5 ? f : 1 / f;
}

int aug_brightness(const aug_op *op, aug_item *it)
{
	scale_values(it, (float)aug_uniform(it, op->lo, op->hi));
	return CNN_OK;
}

int aug_exposure(const aug_op *op, aug_item *it)
{
	/* Scaling HSV's value, max(r, g, b), with hue and saturation kept is
	 * scaling every channel. */
	scale_values(it, (float)rand_scale(it, op));
	return CNN_OK;
}

static const float luma_weight[3] = {0.299f, 0.587f, 0.114f};

/* ITU-R BT.601 luma of pixel i (the channel itself when gray). */
static float luma(const float *v, int64_t c, int64_t plane, int64_t i)
{
	if (c < 3)
		return v[i];
	return luma_weight[0] * v[i] + luma_weight[1] * v[plane + i] +
	       luma_weight[2] * v[2 * plane + i];
}

int aug_contrast(const aug_op *op, aug_item *it)
{
	const struct cnn_simd_pixels *px = cnn_simd_pixels();
	int64_t c = aug_channels(it), plane = aug_height(it) * aug_width(it);
	float f = (float)aug_uniform(it, op->lo, op->hi), *v = it->img->data;
	double mean = 0;

	/* As torchvision: blend with the mean gray level of the image, the
	 * mean of the luma being the luma of the channels' means. */
	if (c < 3)
		mean = px->sum(v, plane) / plane;
	else
		for (int k = 0; k < 3; k++)
			mean += luma_weight[k] * px->sum(v + k * plane, plane) / plane;
	for (int64_t k = 0; k < (c < 3 ? c : 3); k++)
		px->affine(v + k * plane, plane, f, (float)mean, (float)mean, 0, it->full);
	return CNN_OK;
}

/* fmaxf and fminf (a NaN loses), without the call to libm. */
static inline float maxf(float a, float b)
{
	return a != a ? b : a > b || b != b ? a : b;
}

static inline float minf(float a, float b)
{
	return a != a ? b : a < b || b != b ? a : b;
}

int aug_saturation(const aug_op *op, aug_item *it)
{
	int64_t plane = aug_height(it) * aug_width(it);
	float f = (float)rand_scale(it, op), *r = it->img->data;
	float *g = r + plane, *b = g + plane;

	if (aug_channels(it) < 3)
		return CNN_OK;
	/* HSV's saturation (max - min) / max scaled with hue and value kept:
	 * every channel's distance below the maximum scales. */
	for (int64_t i = 0; i < plane; i++) {
		float v = maxf(r[i], maxf(g[i], b[i]));
		r[i] = v - f * (v - r[i]);
		g[i] = v - f * (v - g[i]);
		b[i] = v - f * (v - b[i]);
	}
	scale_values(it, 1);
	return CNN_OK;
}

int aug_hue(const aug_op *op, aug_item *it)
{
	int64_t plane = aug_height(it) * aug_width(it);
	float shift = (float)aug_uniform(it, op->lo, op->hi), *r = it->img->data;
	float *g = r + plane, *b = g + plane;

	if (aug_channels(it) < 3)
		return CNN_OK;
	for (int64_t i = 0; i < plane; i++) {
		float mx = maxf(r[i], maxf(g[i], b[i]));
		float mn = minf(r[i], minf(g[i], b[i])), d = mx - mn, h, f, p, q, t;
		int sector;
		if (d <= 0)
			continue; /* a gray has no hue to turn */
		if (mx == r[i])
			h = (g[i] - b[i]) / d;
		else if (mx == g[i])
			h = 2 + (b[i] - r[i]) / d;
		else
			h = 4 + (r[i] - g[i]) / d;
		h += 6 * shift;
		h -= 6 * floorf(h / 6);
		sector = (int)h % 6;
		f = h - floorf(h);
		p = mn;
		q = mx - d * f;
		t = mn + d * f;
		switch (sector) {
		case 0: r[i] = mx, g[i] = t, b[i] = p; break;
		case 1: r[i] = q, g[i] = mx, b[i] = p; break;
		case 2: r[i] = p, g[i] = mx, b[i] = t; break;
		case 3: r[i] = p, g[i] = q, b[i] = mx; break;
		case 4: r[i] = t, g[i] = p, b[i] = mx; break;
		default: r[i] = mx, g[i] = p, b[i] = q; break;
		}
	}
	return CNN_OK;
}

/* Add delta[k] (image units) to channel k, clamped to 0..white. */
static void shift_channels(aug_item *it, const float *delta, int64_t channels)
{
	int64_t plane = aug_height(it) * aug_width(it);
	float *v = it->img->data;

	for (int64_t k = 0; k < channels; k++)
		cnn_simd_pixels()->affine(v + k * plane, plane, 1, 0, delta[k], 0, it->full);
}

int aug_color_shift(const aug_op *op, aug_item *it)
{
	float delta[AUG_MAX_CHANNELS];
	int64_t c = aug_channels(it);

	c = c < 3 ? c : 3;
	for (int64_t k = 0; k < c; k++)
		delta[k] = (float)(aug_uniform(it, op->lo, op->hi) * it->full);
	shift_channels(it, delta, c);
	return CNN_OK;
}

int aug_pca_color(const aug_op *op, aug_item *it)
{
	float delta[3] = {0};
	double alpha[3];

	if (aug_channels(it) < 3)
		return cnn_error("the image has %lld channel%s, want 3 (RGB)",
				 (long long)aug_channels(it), aug_channels(it) == 1 ? "" : "s");
	/* AlexNet: add sum_i alpha_i lambda_i p_i with alpha_i ~ N(0, sigma),
	 * lambda_i the spread of the data along its i-th principal colour
	 * axis p_i. */
	for (int i = 0; i < 3; i++)
		alpha[i] = cnn_rng_normal01(&it->rng) * op->lo * op->eigval[i];
	for (int k = 0; k < 3; k++)
		for (int i = 0; i < 3; i++)
			delta[k] += (float)(alpha[i] * op->eigvec[i][k] * it->full);
	shift_channels(it, delta, 3);
	return CNN_OK;
}

/* Standard normal numbers, both of each Box-Muller pair used. */
static void fill_normal(cnn_rng *rng, float *v, int64_t n, float scale)
{
	for (int64_t i = 0; i < n; i += 2) {
		double u = 1 - cnn_rng_uniform(rng), a = 2 * M_PI * cnn_rng_uniform(rng);
		double r = sqrt(-2 * log(u)) * scale;
		v[i] = (float)(r * cos(a));
		if (i + 1 < n)
			v[i + 1] = (float)(r * sin(a));
	}
}

int aug_noise(const aug_op *op, aug_item *it)
{
	int64_t n = cnn_tensor_count(it->img);
	float *v = it->img->data, *z = malloc(n * sizeof *z + 1);

	if (!z)
		return cnn_error("out of memory");
	fill_normal(&it->rng, z, n, (float)(aug_uniform(it, op->lo, op->hi) * it->full));
	cnn_simd_pixels()->axpy(v, z, n, 1);
	free(z);
	scale_values(it, 1);
	return CNN_OK;
}

/* One line of n values at stride step blurred by the kernel k[-r..r],
 * mirrored at the ends, through the scratch line tmp. */
static void blur_line(float *v, int64_t n, int64_t step, const float *k, int64_t r,
		      float *tmp)
{
	for (int64_t i = 0; i < n; i++)
		tmp[r + i] = v[i * step];
	for (int64_t i = 1; i <= r; i++) {
		/* Mirror (dcb|abcd|cba); a line shorter than the kernel folds
		 * back and forth. */
		int64_t lo = i, hi = n - 1 - i, period = n > 1 ? 2 * (n - 1) : 1;
		lo %= period, hi = ((hi % period) + period) % period;
		tmp[r - i] = tmp[r + (lo < n ? lo : period - lo)];
		tmp[r + n - 1 + i] = tmp[r + (hi < n ? hi : period - hi)];
	}
	for (int64_t i = 0; i < n; i++) {
		float s = 0;
		for (int64_t j = -r; j <= r; j++)
			s += k[j] * tmp[r + i + j];
		v[i * step] = s;
	}
}

int aug_blur_planes(float *v, int64_t count, int64_t h, int64_t w, double sigma)
{
	int64_t r = (int64_t)ceil(3 * sigma), len = (h > w ? h : w) + 2 * r;
	float *kernel = malloc((2 * r + 1) * sizeof *kernel), *tmp = malloc(len * sizeof *tmp);
	double sum = 0;

	if (!kernel || !tmp) {
		free(kernel);
		free(tmp);
		return cnn_error("out of memory");
	}
	for (int64_t j = -r; j <= r; j++)
		sum += kernel[r + j] = sigma > 0 ? (float)exp(-0.5 * j * j / (sigma * sigma)) : 1;
	for (int64_t j = 0; j <= 2 * r; j++)
		kernel[j] = (float)(kernel[j] / sum);
	for (int64_t p = 0; p < count; p++, v += h * w) {
		for (int64_t y = 0; y < h; y++)
			blur_line(v + y * w, w, 1, kernel + r, r, tmp);
		for (int64_t x = 0; x < w; x++)
			blur_line(v + x, h, w, kernel + r, r, tmp);
	}
	free(kernel);
	free(tmp);
	return CNN_OK;
}

int aug_blur(cnn_tensor *img, double sigma)
{
	return aug_blur_planes(img->data, img->dim[0], img->dim[1], img->dim[2], sigma);
}

int aug_blur_op(const aug_op *op, aug_item *it)
{
	return aug_blur(it->img, aug_uniform(it, op->lo, op->hi));
}

/* Fill the rectangle at (x0, y0), h x w, clipped to the image, with the
 * erasing value (or noise: random values as torchvision's "random"). */
static void erase_rect(const aug_op *op, aug_item *it, int64_t x0, int64_t y0,
		       int64_t h, int64_t w)
{
	int64_t c = aug_channels(it), ih = aug_height(it), iw = aug_width(it);
	int64_t x1 = x0 + w < iw ? x0 + w : iw, y1 = y0 + h < ih ? y0 + h : ih;
	float *v = it->img->data;

	x0 = x0 > 0 ? x0 : 0;
	y0 = y0 > 0 ? y0 : 0;
	for (int64_t k = 0; k < c; k++)
		for (int64_t y = y0; y < y1; y++) {
			float *row = v + (k * ih + y) * iw;
			if (op->random_value) {
				fill_normal(&it->rng, row + x0, x1 - x0, it->full / 4);
				for (int64_t x = x0; x < x1; x++)
					row[x] = minf(maxf(row[x] + it->full / 2, 0), it->full);
			} else {
				for (int64_t x = x0; x < x1; x++)
					row[x] = op->fill.value;
			}
		}
}

int aug_erase(const aug_op *op, aug_item *it)
{
	int64_t ih = aug_height(it), iw = aug_width(it);
	double area = (double)ih * iw, lr0 = log(op->ratio[0]), lr1 = log(op->ratio[1]);

	/* As torchvision's RandomErasing: up to 10 tries at an area fraction
	 * and an aspect ratio (uniform in its logarithm) that fit. */
	for (int attempt = 0; attempt < 10; attempt++) {
		double a = area * aug_uniform(it, op->scale[0], op->scale[1]);
		double ratio = exp(aug_uniform(it, lr0, lr1));
		int64_t h = (int64_t)lround(sqrt(a * ratio)), w = (int64_t)lround(sqrt(a / ratio));
		if (h < 1 || w < 1 || h >= ih || w >= iw)
			continue;
		int64_t y = (int64_t)cnn_rng_below(&it->rng, ih - h + 1);
		int64_t x = (int64_t)cnn_rng_below(&it->rng, iw - w + 1);
		erase_rect(op, it, x, y, h, w);
		return CNN_OK;
	}
	return CNN_OK;
}

int aug_cutout(const aug_op *op, aug_item *it)
{
	int64_t ih = aug_height(it), iw = aug_width(it);

	/* DeVries and Taylor: the centre anywhere in the image, the square
	 * clipped by its edges. */
	for (int i = 0; i < op->count; i++) {
		int64_t cy = (int64_t)cnn_rng_below(&it->rng, ih);
		int64_t cx = (int64_t)cnn_rng_below(&it->rng, iw);
		erase_rect(op, it, cx - op->w / 2, cy - op->h / 2, op->h, op->w);
	}
	return CNN_OK;
}

int aug_grayscale(const aug_op *op, aug_item *it)
{
	int64_t plane = aug_height(it) * aug_width(it);
	float *v = it->img->data;

	(void)op;
	if (aug_channels(it) < 3)
		return CNN_OK;
	/* Three equal channels, as torchvision's RandomGrayscale, so that the
	 * network's input keeps its shape. */
	for (int64_t i = 0; i < plane; i++)
		v[i] = v[plane + i] = v[2 * plane + i] = luma(v, 3, plane, i);
	return CNN_OK;
}

int aug_normalize(const aug_op *op, aug_item *it)
{
	int64_t c = aug_channels(it), plane = aug_height(it) * aug_width(it);
	float *v = it->img->data;

	if ((op->nmean > 1 && op->nmean != c) || (op->nstd > 1 && op->nstd != c))
		return cnn_error("the image has %lld channel%s, mean and std have %d and %d values",
				 (long long)c, c == 1 ? "" : "s", op->nmean, op->nstd);
	for (int64_t k = 0; k < c; k++) {
		float m = op->mean[op->nmean > 1 ? k : 0] * it->full;
		float sd = op->std[op->nstd > 1 ? k : 0] * it->full;
		/* No clamping: lo = hi. */
		cnn_simd_pixels()->affine(v + k * plane, plane, 1 / sd, m, 0, 0, 0);
	}
	it->dtype = CNN_F32;
	return CNN_OK;
}
