/*
 * augment.h - libcnn's private interface between the augmentation chain
 * (augment.c) and the transformations it draws on: geometry
 * (augment_geometry.c) and pixel values (augment_colour.c).
 */
#ifndef AUGMENT_H
#define AUGMENT_H

#include "cnn.h"

/* What lies outside the image when geometry reaches past its edge. */
typedef enum aug_border {
	AUG_CONSTANT = 0, /* the fill value */
	AUG_EDGE,         /* the nearest edge pixel */
	AUG_REFLECT       /* mirrored about the edge pixel (dcb|abcd|cba) */
} aug_border;

typedef struct aug_fill {
	aug_border border;
	float value; /* in the image's own units (0..255 for u8) */
} aug_fill;

/* One record under augmentation.  The image is a private f32 copy,
 * C x H x W; boxes (both "boxes" and "boxes_true"), mask and label are
 * private copies too, or NULL when the record has none. */
#define AUG_BOX_FIELDS 2
typedef struct aug_item {
	cnn_tensor *img;
	cnn_tensor *boxes[AUG_BOX_FIELDS];
	cnn_tensor *mask;  /* H x W or 1 x H x W, integer classes */
	cnn_tensor *label; /* i32 scalar or f32 soft vector */
	float full;        /* the value of white: 255 for u8, 65535 for u16 */
	float min_visible; /* drop a box keeping less of its area than this */
	cnn_dtype dtype;   /* of the image written back */
	cnn_rng rng;
} aug_item;

static inline int64_t aug_channels(const aug_item *it) { return it->img->dim[0]; }
static inline int64_t aug_height(const aug_item *it) { return it->img->dim[1]; }
static inline int64_t aug_width(const aug_item *it) { return it->img->dim[2]; }

/* Geometry: each moves the image, the mask and the boxes together. */
void aug_flip(aug_item *it, int horizontal);
/* The h x w window at (x0, y0), which may reach outside the image. */
int aug_crop(aug_item *it, int64_t x0, int64_t y0, int64_t h, int64_t w,
	     const aug_fill *fill);
int aug_resize(aug_item *it, int64_t h, int64_t w);
/* The affine map m (2 x 3, input pixel coordinates to output ones) into an
 * image of h x w, sampled bilinearly (the mask: nearest). */
int aug_affine(aug_item *it, const double m[6], int64_t h, int64_t w,
	       const aug_fill *fill);
/* Simard's elastic distortion: a random field of displacements smoothed
 * by a Gaussian of sigma pixels and scaled by alpha pixels. */
int aug_elastic(aug_item *it, double alpha, double sigma, const aug_fill *fill);

/* A Gaussian blur of the image with standard deviation sigma pixels (the
 * borders mirrored). */
int aug_blur(cnn_tensor *img, double sigma);
/* Blur H x W planes of f32 in place (count of them), sigma in pixels. */
int aug_blur_planes(float *v, int64_t count, int64_t h, int64_t w, double sigma);

/* One operation of a chain, its arguments parsed (augment.c). */
#define AUG_MAX_CHANNELS 16
typedef struct aug_op {
	const struct aug_kind *kind;
	double p;                 /* probability of applying it */
	double lo, hi;            /* its range (rotate: degrees) */
	double lo2, hi2;          /* a second (shear, translate: the y axis) */
	int has2;
	int64_t h, w;             /* the size made (crops, cutout, mosaic) */
	int64_t pad;              /* crop: padding on every side first */
	aug_fill fill;
	double scale[2], ratio[2]; /* area fraction and aspect ranges */
	double sigma;             /* elastic: smoothness */
	int count;                /* cutout: squares */
	int classes;              /* mixup, mosaic: the soft label's length */
	int random_value;         /* erase: noise rather than a value */
	int nmean, nstd;
	float mean[AUG_MAX_CHANNELS], std[AUG_MAX_CHANNELS]; /* 0..1 scale */
	int has_eigen;
	float eigval[3], eigvec[3][3]; /* pca-color: std devs and rows */
} aug_op;

/* A random number in lo..hi. */
static inline double aug_uniform(aug_item *it, double lo, double hi)
{
	return lo + (hi - lo) * cnn_rng_uniform(&it->rng);
}

/* The operations on pixel values (augment_colour.c). */
int aug_brightness(const aug_op *op, aug_item *it);
int aug_contrast(const aug_op *op, aug_item *it);
int aug_saturation(const aug_op *op, aug_item *it);
int aug_exposure(const aug_op *op, aug_item *it);
int aug_hue(const aug_op *op, aug_item *it);
int aug_color_shift(const aug_op *op, aug_item *it);
int aug_pca_color(const aug_op *op, aug_item *it);
int aug_noise(const aug_op *op, aug_item *it);
int aug_blur_op(const aug_op *op, aug_item *it);
int aug_erase(const aug_op *op, aug_item *it);
int aug_cutout(const aug_op *op, aug_item *it);
int aug_normalize(const aug_op *op, aug_item *it);
int aug_grayscale(const aug_op *op, aug_item *it);

/* Affine maps as 2 x 3 matrices (x' = m0 x + m1 y + m2, y' = m3 x + m4 y + m5). */
void aug_affine_then(double m[6], const double next[6]);
int aug_affine_invert(const double m[6], double inv[6]);

#endif
