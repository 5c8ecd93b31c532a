/*
 * augment.c - chains of random augmentations: the operations' names and
 * arguments, and the run of a chain over one record.
 *
 * An operation is written NAME or NAME ARGS, ARGS being comma-separated
 * positional values and key=value pairs ("rotate 15,p=0.5,fill=edge");
 * cnn-augment(1) documents every one.  Each kind of operation declares
 * how its positional value reads, which keys it takes and their defaults,
 * so that one parser serves all.
 *
 * Consecutive affine operations (rotate, shear, translate, scale, jitter)
 * compose into one matrix and resample the image once, so that a chain of
 * them blurs no more than one.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vision/augment.h"

/* How a positional value X reads as a range. */
typedef enum aug_range {
	RANGE_NONE,   /* takes none */
	RANGE_SYM,    /* -X..X */
	RANGE_ONE,    /* max(0, 1 - X)..1 + X: a factor around 1 */
	RANGE_SCALE,  /* 1..X, darknet's saturation and exposure */
	RANGE_FIXED,  /* X..X */
	RANGE_SIZE    /* H or HxW: a size */
} aug_range;

typedef struct cnn_augment cnn_augment;

struct aug_kind {
	const char *name;
	aug_range range;
	int max_pos;          /* positional values it takes (0, 1 or 2) */
	int needs_pos;        /* at least one is required */
	const char *keys;     /* the keys it takes besides p, space-separated */
	const char *defaults; /* arguments parsed before the user's */
	int (*apply)(const aug_op *op, aug_item *it);
	/* Affine operations give their matrix instead. */
	void (*matrix)(const aug_op *op, aug_item *it, double m[6]);
	/* Operations that combine records. */
	int (*mix)(const cnn_augment *a, int at, aug_item *it,
		   const cnn_record *const *pool, int npool);
};

struct cnn_augment {
	aug_op *op;
	int n, cap;
	char field[CNN_MAX_NAME + 1];
	float min_visible;
};

static const char *const box_fields[AUG_BOX_FIELDS] = {"boxes", "boxes_true"};

/* ------------------------------------------------------------ geometry */

static int flip_h(const aug_op *op, aug_item *it)
{
	(void)op;
	aug_flip(it, 1);
	return CNN_OK;
}

static int flip_v(const aug_op *op, aug_item *it)
{
	(void)op;
	aug_flip(it, 0);
	return CNN_OK;
}

/* A window's start on a line of n pixels padded by pad on both sides:
 * uniform over the places it fits, centred when asked or when it cannot
 * fit (then it reaches past both ends alike). */
static int64_t window_start(aug_item *it, int64_t n, int64_t size, int64_t pad, int center)
{
	int64_t room = n + 2 * pad - size;

	if (center || room < 0)
		return (n - size) / 2 - (n - size < 0 && (n - size) % 2);
	return (int64_t)cnn_rng_below(&it->rng, (uint64_t)room + 1) - pad;
}

static int crop(const aug_op *op, aug_item *it)
{
	int center = op->random_value; /* the flag "center" */
	int64_t y0 = window_start(it, aug_height(it), op->h, op->pad, center);
	int64_t x0 = window_start(it, aug_width(it), op->w, op->pad, center);

	return aug_crop(it, x0, y0, op->h, op->w, &op->fill);
}

static int resized_crop(const aug_op *op, aug_item *it)
{
	int64_t ih = aug_height(it), iw = aug_width(it), h = ih, w = iw, x0, y0;
	double area = (double)ih * iw, lr0 = log(op->ratio[0]), lr1 = log(op->ratio[1]);
	aug_fill none = {AUG_EDGE, 0};
	int attempt;

	/* torchvision's RandomResizedCrop: ten tries at an area fraction and an
	 * aspect ratio (uniform in its logarithm) that fit; then the central
	 * crop of the nearest ratio in range. */
	for (attempt = 0; attempt < 10; attempt++) {
		double a = area * aug_uniform(it, op->scale[0], op->scale[1]);
		double ratio = exp(aug_uniform(it, lr0, lr1));
		w = (int64_t)lround(sqrt(a * ratio));
		h = (int64_t)lround(sqrt(a / ratio));
		if (w > 0 && h > 0 && w <= iw && h <= ih)
			break;
	}
	if (attempt == 10) {
		double ratio = (double)iw / ih;
		w = iw, h = ih;
		if (ratio < op->ratio[0])
			h = (int64_t)lround(w / op->ratio[0]);
		else if (ratio > op->ratio[1])
			w = (int64_t)lround(h * op->ratio[1]);
		y0 = (ih - h) / 2;
		x0 = (iw - w) / 2;
	} else {
		y0 = (int64_t)cnn_rng_below(&it->rng, ih - h + 1);
		x0 = (int64_t)cnn_rng_below(&it->rng, iw - w + 1);
	}
	if (aug_crop(it, x0, y0, h, w, &none))
		return CNN_ERR;
	return aug_resize(it, op->h, op->w);
}

static int resize(const aug_op *op, aug_item *it)
{
	return aug_resize(it, op->h, op->w);
}

static int elastic(const aug_op *op, aug_item *it)
{
	return aug_elastic(it, aug_uniform(it, op->lo, op->hi), op->sigma, &op->fill);
}

/* m := the map about the image's centre: translate, apply a, translate back. */
static void about_centre(const aug_item *it, const double a[4], double m[6])
{
	double cx = aug_width(it) / 2.0, cy = aug_height(it) / 2.0;

	m[0] = a[0], m[1] = a[1], m[3] = a[2], m[4] = a[3];
	m[2] = cx - a[0] * cx - a[1] * cy;
	m[5] = cy - a[2] * cx - a[3] * cy;
}

static void rotate_matrix(const aug_op *op, aug_item *it, double m[6])
{
	/* Counter-clockwise on the screen for a positive angle, as torchvision
	 * and PIL (y points down). */
	double t = aug_uniform(it, op->lo, op->hi) * M_PI / 180;
	double a[4] = {cos(t), sin(t), -sin(t), cos(t)};

	about_centre(it, a, m);
}

static void shear_matrix(const aug_op *op, aug_item *it, double m[6])
{
	double sx = tan(aug_uniform(it, op->lo, op->hi) * M_PI / 180);
	double sy = op->has2 ? tan(aug_uniform(it, op->lo2, op->hi2) * M_PI / 180) : 0;
	double a[4] = {1, sx, sy, 1};

	about_centre(it, a, m);
}

static void translate_matrix(const aug_op *op, aug_item *it, double m[6])
{
	double tx = aug_uniform(it, op->lo, op->hi) * aug_width(it);
	double ty = op->has2 ? aug_uniform(it, op->lo2, op->hi2) : aug_uniform(it, op->lo, op->hi);

	m[0] = 1, m[1] = 0, m[2] = tx;
	m[3] = 0, m[4] = 1, m[5] = ty * aug_height(it);
}

static void scale_matrix(const aug_op *op, aug_item *it, double m[6])
{
	double s = aug_uniform(it, op->lo, op->hi), a[4] = {s, 0, 0, s};

	about_centre(it, a, m);
}

static void jitter_matrix(const aug_op *op, aug_item *it, double m[6])
{
	/* darknet's jitter: each side of the source window moves by up to
	 * jitter times the size, and the window fills the image. */
	double w = aug_width(it), h = aug_height(it);
	double left = aug_uniform(it, op->lo, op->hi) * w, right = aug_uniform(it, op->lo, op->hi) * w;
	double top = aug_uniform(it, op->lo, op->hi) * h, bottom = aug_uniform(it, op->lo, op->hi) * h;
	double sx = w / fmax(w - left - right, 1), sy = h / fmax(h - top - bottom, 1);

	m[0] = sx, m[1] = 0, m[2] = -left * sx;
	m[3] = 0, m[4] = sy, m[5] = -top * sy;
}

/* ---------------------------------------------------------------- items */

static void item_free(aug_item *it)
{
	cnn_tensor_free(it->img);
	for (int f = 0; f < AUG_BOX_FIELDS; f++)
		cnn_tensor_free(it->boxes[f]);
	cnn_tensor_free(it->mask);
	cnn_tensor_free(it->label);
	memset(it, 0, sizeof *it);
}

static cnn_tensor *copy_tensor(const cnn_tensor *t)
{
	return cnn_tensor_convert(t, t->dtype);
}

/* The working copy of a record: its image as f32 C x H x W and private
 * copies of what follows it. */
static int item_load(const cnn_augment *a, const cnn_record *rec, uint64_t seed,
		     aug_item *it)
{
	const cnn_tensor *img = cnn_record_get(rec, a->field), *mask, *label;
	char desc[128];

	memset(it, 0, sizeof *it);
	cnn_rng_seed(&it->rng, seed);
	it->min_visible = a->min_visible;
	if (!img)
		return cnn_error("no tensor \"%s\"", a->field);
	if (img->ndim != 3 || img->dtype == CNN_TEXT || cnn_tensor_count(img) == 0)
		return cnn_error("tensor \"%s\" is %s; augmentation wants an image C x H x W",
				 a->field, cnn_tensor_describe(img, desc, sizeof desc));
	it->dtype = img->dtype;
	it->full = img->dtype == CNN_U16 ? 65535 : 255;
	if (!(it->img = cnn_tensor_convert(img, CNN_F32)))
		return CNN_ERR;
	for (int f = 0; f < AUG_BOX_FIELDS; f++) {
		const cnn_tensor *b = cnn_record_get(rec, box_fields[f]);
		if (b && (cnn_boxes_check(b, f == 1) || !(it->boxes[f] = copy_tensor(b))))
			goto fail;
	}
	if ((mask = cnn_record_get(rec, "mask"))) {
		int nd = mask->ndim;
		if ((nd != 2 && !(nd == 3 && mask->dim[0] == 1)) ||
		    mask->dim[nd - 2] != img->dim[1] || mask->dim[nd - 1] != img->dim[2] ||
		    !(mask->dtype == CNN_U8 || mask->dtype == CNN_U16 ||
		      mask->dtype == CNN_I32 || mask->dtype == CNN_I64)) {
			cnn_error("tensor \"mask\" is %s; with an image %lldx%lld it must be an integer H x W of that size",
				  cnn_tensor_describe(mask, desc, sizeof desc),
				  (long long)img->dim[1], (long long)img->dim[2]);
			goto fail;
		}
		if (!(it->mask = copy_tensor(mask)))
			goto fail;
	}
	if ((label = cnn_record_get(rec, "label")) && !(it->label = copy_tensor(label)))
		goto fail;
	return CNN_OK;
fail:
	item_free(it);
	return CNN_ERR;
}

/* Hand *t (if any) to the record, which frees it on failure. */
static int put_owned(cnn_record *r, cnn_tensor **t)
{
	cnn_tensor *moved = *t;

	*t = NULL;
	return moved ? cnn_record_put(r, moved) : CNN_OK;
}

/* The output record: the input's tensors in their order, the augmented
 * ones in their places, and new ones (a label that mixing made soft, boxes
 * from a partner) at the end. */
static cnn_record *item_store(const cnn_augment *a, const cnn_record *in, aug_item *it)
{
	cnn_record *out = cnn_record_new();
	/* An f32 image is handed over as it is; others are converted back. */
	cnn_tensor *img = it->dtype == CNN_F32 ? it->img : cnn_tensor_convert(it->img, it->dtype);
	cnn_tensor **ours[] = {&img, &it->boxes[0], &it->boxes[1], &it->mask, &it->label};
	const char *names[] = {a->field, box_fields[0], box_fields[1], "mask", "label"};
	int n = (int)(sizeof ours / sizeof ours[0]), rc = out && img ? CNN_OK : CNN_ERR;

	if (img == it->img)
		it->img = NULL;
	for (int i = 0; i < in->n && rc == CNN_OK; i++) {
		const cnn_tensor *t = in->tensor[i];
		cnn_tensor *copy = NULL;
		int j = 0;
		while (j < n && strcmp(t->name, names[j]) != 0)
			j++;
		if (j < n)
			rc = put_owned(out, ours[j]);
		else if (!(copy = copy_tensor(t)))
			rc = CNN_ERR;
		else
			rc = cnn_record_put(out, copy);
	}
	for (int j = 0; j < n && rc == CNN_OK; j++)
		rc = put_owned(out, ours[j]);
	cnn_tensor_free(img);
	if (rc) {
		cnn_record_free(out);
		return NULL;
	}
	return out;
}

/* --------------------------------------------------------------- mixing */

/* A label as a soft f32 vector of classes. */
static cnn_tensor *soft_label(const cnn_tensor *label, int classes)
{
	int64_t k;
	cnn_tensor *t;

	if (label->ndim == 1) {
		if (classes && label->dim[0] != classes) {
			cnn_error("label has %lld values, classes=%d", (long long)label->dim[0], classes);
			return NULL;
		}
		return cnn_tensor_convert(label, CNN_F32);
	}
	if (label->ndim != 0 || label->dtype == CNN_F32 || label->dtype == CNN_F64) {
		cnn_error("label must be an integer class or a vector of class probabilities");
		return NULL;
	}
	if (!classes) {
		cnn_error("records with class labels need classes=K (the label becomes a vector of K)");
		return NULL;
	}
	k = (int64_t)cnn_tensor_get(label, 0);
	if (k < 0 || k >= classes) {
		cnn_error("label %lld is not a class of 0..%d", (long long)k, classes - 1);
		return NULL;
	}
	if ((t = cnn_tensor_new("label", CNN_F32, 1, (int64_t[]){classes})))
		((float *)t->data)[k] = 1;
	return t;
}

/* it's label := weight * it's + (1 - weight) * other's. */
static int mix_labels(aug_item *it, const aug_item *other, double weight, int classes)
{
	cnn_tensor *a, *b;
	int64_t n;

	if (!it->label && !other->label)
		return CNN_OK;
	if (!it->label || !other->label)
		return cnn_error("one record has a label and the other none");
	if (!(a = soft_label(it->label, classes)))
		return CNN_ERR;
	if (!(b = soft_label(other->label, classes)) || cnn_tensor_count(a) != cnn_tensor_count(b)) {
		if (b)
			cnn_error("labels of %lld and %lld classes", (long long)cnn_tensor_count(a),
				  (long long)cnn_tensor_count(b));
		cnn_tensor_free(a);
		cnn_tensor_free(b);
		return CNN_ERR;
	}
	n = cnn_tensor_count(a);
	for (int64_t i = 0; i < n; i++)
		((float *)a->data)[i] = (float)(weight * ((float *)a->data)[i] +
						(1 - weight) * ((float *)b->data)[i]);
	cnn_tensor_free(b);
	cnn_tensor_free(it->label);
	it->label = a;
	return CNN_OK;
}

/* Append other's boxes, moved by (dx, dy), to it's. */
static int add_boxes(aug_item *it, const aug_item *other, double dx, double dy)
{
	for (int f = 0; f < AUG_BOX_FIELDS; f++) {
		cnn_tensor *a = it->boxes[f], *b = other->boxes[f], *t;
		int64_t na = a ? a->dim[0] : 0, nb = b ? b->dim[0] : 0;
		float *v;

		if (!b)
			continue;
		if (!(t = cnn_boxes_new(box_fields[f], na + nb)))
			return CNN_ERR;
		v = t->data;
		if (na)
			memcpy(v, a->data, na * CNN_BOX_FIELDS * sizeof *v);
		memcpy(v + na * CNN_BOX_FIELDS, b->data, nb * CNN_BOX_FIELDS * sizeof *v);
		for (int64_t i = na; i < na + nb; i++) {
			v[i * CNN_BOX_FIELDS + 0] += (float)dx, v[i * CNN_BOX_FIELDS + 2] += (float)dx;
			v[i * CNN_BOX_FIELDS + 1] += (float)dy, v[i * CNN_BOX_FIELDS + 3] += (float)dy;
		}
		cnn_tensor_free(a);
		it->boxes[f] = t;
	}
	return CNN_OK;
}

static int run(const cnn_augment *a, int from, int to, aug_item *it,
	       const cnn_record *const *pool, int npool);

/* A partner from the pool, augmented by the chain before position at
 * with numbers of its own, at size h x w. */
static int partner(const cnn_augment *a, int at, aug_item *it, const cnn_record *const *pool,
		   int npool, int64_t h, int64_t w, aug_item *other)
{
	const cnn_record *rec = pool[cnn_rng_below(&it->rng, (uint64_t)npool)];

	if (item_load(a, rec, cnn_rng_next(&it->rng), other) ||
	    run(a, 0, at, other, pool, npool) || aug_resize(other, h, w))
		goto fail;
	if (aug_channels(other) != aug_channels(it)) {
		cnn_error("images of %lld and %lld channels", (long long)aug_channels(it),
			  (long long)aug_channels(other));
		goto fail;
	}
	if (!it->mask != !other->mask) {
		cnn_error("one record has a mask and the other none");
		goto fail;
	}
	return CNN_OK;
fail:
	item_free(other);
	return CNN_ERR;
}

static int mixup(const cnn_augment *a, int at, aug_item *it, const cnn_record *const *pool,
		 int npool)
{
	const aug_op *op = &a->op[at];
	double lambda = cnn_rng_beta(&it->rng, op->lo, op->lo);
	aug_item other;
	int64_t n = cnn_tensor_count(it->img);
	float *x = it->img->data, *y;

	if (it->mask)
		return cnn_error("masks cannot be blended (use mosaic for segmentation)");
	if (partner(a, at, it, pool, npool, aug_height(it), aug_width(it), &other))
		return CNN_ERR;
	y = other.img->data;
	for (int64_t i = 0; i < n; i++)
		x[i] = (float)(lambda * x[i] + (1 - lambda) * y[i]);
	/* Detection keeps the objects of both images (as YOLOv4's mixup). */
	if (mix_labels(it, &other, lambda, op->classes) || add_boxes(it, &other, 0, 0)) {
		item_free(&other);
		return CNN_ERR;
	}
	item_free(&other);
	return CNN_OK;
}

/* Copy other's image and mask into it's at (x0, y0). */
static void paste(aug_item *it, const aug_item *other, int64_t x0, int64_t y0)
{
	int64_t c = aug_channels(it), h = aug_height(it), w = aug_width(it);
	int64_t oh = aug_height(other), ow = aug_width(other);
	size_t msize = it->mask ? cnn_dtype_size(it->mask->dtype) : 0;

	for (int64_t k = 0; k < c; k++)
		for (int64_t y = 0; y < oh; y++)
			memcpy((float *)it->img->data + (k * h + y0 + y) * w + x0,
			       (float *)other->img->data + (k * oh + y) * ow, ow * sizeof(float));
	for (int64_t y = 0; msize && y < oh; y++)
		memcpy((char *)it->mask->data + ((y0 + y) * w + x0) * msize,
		       (char *)other->mask->data + y * ow * msize, ow * msize);
}

static int mosaic(const cnn_augment *a, int at, aug_item *it, const cnn_record *const *pool,
		  int npool)
{
	const aug_op *op = &a->op[at];
	int64_t h = op->h ? op->h : aug_height(it), w = op->w ? op->w : aug_width(it);
	int64_t cx = (int64_t)lround(aug_uniform(it, 0.25, 0.75) * w);
	int64_t cy = (int64_t)lround(aug_uniform(it, 0.25, 0.75) * h);
	int64_t qx[4] = {0, cx, 0, cx}, qy[4] = {0, 0, cy, cy};
	int64_t qw[4] = {cx, w - cx, cx, w - cx}, qh[4] = {cy, cy, h - cy, h - cy};
	aug_item self = *it, part[4] = {{0}};
	aug_fill none = {AUG_CONSTANT, 0};
	int rc = CNN_ERR;

	/* Four images, this record's and three partners', each scaled to the
	 * mosaic's size and cut at random to its quarter, around a centre
	 * drawn in the middle half (YOLOv4). */
	memset(it, 0, sizeof *it);
	it->rng = self.rng, it->full = self.full, it->dtype = self.dtype;
	it->min_visible = self.min_visible;
	part[0] = self;
	if (aug_resize(&part[0], h, w)) {
		it->rng = part[0].rng;
		goto out;
	}
	for (int q = 1; q < 4; q++)
		if (partner(a, at, &part[0], pool, npool, h, w, &part[q]))
			goto out;
	if (!(it->img = cnn_tensor_new(part[0].img->name, CNN_F32, 3,
				       (int64_t[]){aug_channels(&part[0]), h, w})))
		goto out;
	if (part[0].mask && !(it->mask = cnn_tensor_new(part[0].mask->name, part[0].mask->dtype,
						      part[0].mask->ndim, part[0].mask->dim)))
		goto out;
	for (int q = 0; q < 4; q++) {
		int64_t x0 = (int64_t)cnn_rng_below(&part[0].rng, w - qw[q] + 1);
		int64_t y0 = (int64_t)cnn_rng_below(&part[0].rng, h - qh[q] + 1);
		if (qw[q] == 0 || qh[q] == 0)
			continue;
		if (aug_crop(&part[q], x0, y0, qh[q], qw[q], &none))
			goto out;
		paste(it, &part[q], qx[q], qy[q]);
		if (add_boxes(it, &part[q], (double)qx[q], (double)qy[q]))
			goto out;
	}
	/* A class label becomes the mixture of the four by area. */
	if (part[0].label) {
		double done = (double)qw[0] * qh[0];
		it->label = part[0].label, part[0].label = NULL;
		for (int q = 1; q < 4; q++) {
			double here = (double)qw[q] * qh[q];
			if (here > 0 && mix_labels(it, &part[q], done / (done + here), op->classes))
				goto out;
			done += here;
		}
	}
	rc = CNN_OK;
out:
	it->rng = part[0].rng;
	for (int q = 0; q < 4; q++)
		item_free(&part[q]);
	return rc;
}

/* ----------------------------------------------------------- the table */

static const struct aug_kind kinds[] = {
	{"flip", RANGE_NONE, 0, 0, "", "p=0.5", flip_h, NULL, NULL},
	{"vflip", RANGE_NONE, 0, 0, "", "p=0.5", flip_v, NULL, NULL},
	{"crop", RANGE_SIZE, 1, 1, "pad fill center", "", crop, NULL, NULL},
	{"resized-crop", RANGE_SIZE, 1, 1, "scale ratio", "scale=0.08:1,ratio=0.75:1.333333",
	 resized_crop, NULL, NULL},
	{"resize", RANGE_SIZE, 1, 1, "", "", resize, NULL, NULL},
	{"rotate", RANGE_SYM, 1, 1, "fill", "", NULL, rotate_matrix, NULL},
	{"shear", RANGE_SYM, 2, 1, "fill", "", NULL, shear_matrix, NULL},
	{"translate", RANGE_SYM, 2, 1, "fill", "", NULL, translate_matrix, NULL},
	{"scale", RANGE_ONE, 1, 1, "fill", "", NULL, scale_matrix, NULL},
	{"jitter", RANGE_SYM, 1, 1, "fill", "", NULL, jitter_matrix, NULL},
	{"elastic", RANGE_FIXED, 1, 0, "sigma fill", "34,sigma=4", elastic, NULL, NULL},
	{"brightness", RANGE_ONE, 1, 1, "", "", aug_brightness, NULL, NULL},
	{"contrast", RANGE_ONE, 1, 1, "", "", aug_contrast, NULL, NULL},
	{"saturation", RANGE_SCALE, 1, 1, "", "", aug_saturation, NULL, NULL},
	{"exposure", RANGE_SCALE, 1, 1, "", "", aug_exposure, NULL, NULL},
	{"hue", RANGE_SYM, 1, 1, "", "", aug_hue, NULL, NULL},
	{"color-shift", RANGE_SYM, 1, 1, "", "", aug_color_shift, NULL, NULL},
	{"pca-color", RANGE_FIXED, 1, 0, "eig", "0.1,eig=data", aug_pca_color, NULL, NULL},
	{"grayscale", RANGE_NONE, 0, 0, "", "p=0.1", aug_grayscale, NULL, NULL},
	{"noise", RANGE_FIXED, 1, 1, "", "", aug_noise, NULL, NULL},
	{"blur", RANGE_FIXED, 1, 1, "", "", aug_blur_op, NULL, NULL},
	{"erase", RANGE_NONE, 0, 0, "scale ratio value",
	 "p=0.5,scale=0.02:0.33,ratio=0.3:3.3,value=0", aug_erase, NULL, NULL},
	{"cutout", RANGE_SIZE, 1, 1, "count value", "count=1,value=0", aug_cutout, NULL, NULL},
	{"normalize", RANGE_NONE, 0, 0, "mean std", "", aug_normalize, NULL, NULL},
	{"mixup", RANGE_FIXED, 1, 0, "classes", "0.2", NULL, NULL, mixup},
	{"mosaic", RANGE_SIZE, 1, 0, "classes", "", NULL, NULL, mosaic},
};

#define NKINDS (int)(sizeof kinds / sizeof kinds[0])

const char *cnn_augment_names(void)
{
	static char names[512];

	if (!names[0])
		for (int i = 0; i < NKINDS; i++) {
			strcat(names, kinds[i].name);
			strcat(names, i + 1 < NKINDS ? " " : "");
		}
	return names;
}

int cnn_augment_needs_value(const char *name)
{
	for (int i = 0; i < NKINDS; i++)
		if (strcmp(kinds[i].name, name) == 0)
			return kinds[i].needs_pos;
	return 0;
}

/* -------------------------------------------------------------- parsing */

static int parse_number(const char *s, size_t len, double *v)
{
	char buf[64], *end;

	if (len == 0 || len >= sizeof buf)
		return CNN_ERR;
	memcpy(buf, s, len);
	buf[len] = 0;
	errno = 0;
	*v = strtod(buf, &end);
	return *end || errno || !isfinite(*v) ? CNN_ERR : CNN_OK;
}

/* "A:B" as a range, or a single X read as the kind's rule says. */
static int parse_range(const char *s, size_t len, aug_range rule, double *lo, double *hi)
{
	const char *colon = memchr(s, ':', len);
	double x;

	if (colon) {
		if (parse_number(s, colon - s, lo) ||
		    parse_number(colon + 1, len - (colon + 1 - s), hi))
			return CNN_ERR;
		return *lo <= *hi ? CNN_OK : CNN_ERR;
	}
	if (parse_number(s, len, &x))
		return CNN_ERR;
	switch (rule) {
	case RANGE_SYM: *lo = -fabs(x), *hi = fabs(x); break;
	case RANGE_ONE: *lo = fmax(0, 1 - x), *hi = 1 + x; break;
	case RANGE_SCALE: *lo = 1, *hi = x; return x >= 1 ? CNN_OK : CNN_ERR;
	default: *lo = *hi = x; break;
	}
	return CNN_OK;
}

/* "H" or "HxW". */
static int parse_size(const char *s, size_t len, int64_t *h, int64_t *w)
{
	const char *x = memchr(s, 'x', len);
	double a, b;

	if (parse_number(s, x ? (size_t)(x - s) : len, &a) ||
	    (x && parse_number(x + 1, len - (x + 1 - s), &b)))
		return CNN_ERR;
	if (!x)
		b = a;
	if (a < 1 || b < 1 || a > 65536 || b > 65536 || a != floor(a) || b != floor(b))
		return CNN_ERR;
	*h = (int64_t)a, *w = (int64_t)b;
	return CNN_OK;
}

/* Values separated by '/', e.g. a mean per channel. */
static int parse_list(const char *s, size_t len, float *v, int *n)
{
	*n = 0;
	while (len > 0) {
		const char *slash = memchr(s, '/', len);
		size_t part = slash ? (size_t)(slash - s) : len;
		double x;
		if (*n == AUG_MAX_CHANNELS || parse_number(s, part, &x))
			return CNN_ERR;
		v[(*n)++] = (float)x;
		s += part + (slash != NULL);
		len -= part + (slash != NULL);
	}
	return *n ? CNN_OK : CNN_ERR;
}

static int takes_key(const struct aug_kind *k, const char *key, size_t len)
{
	const char *s = k->keys;

	if (len == 1 && key[0] == 'p')
		return 1;
	while (*s) {
		size_t n = strcspn(s, " ");
		if (n == len && memcmp(s, key, len) == 0)
			return 1;
		s += n + (s[n] == ' ');
	}
	return 0;
}

/* AlexNet's eigen-decomposition of ImageNet's colours on a 0..1 scale, as
 * fb.resnet.torch and most reimplementations use it. */
static const float imagenet_eigval[3] = {0.2175f, 0.0188f, 0.0045f};
static const float imagenet_eigvec[3][3] = {
	{-0.5675f, -0.5808f, -0.5836f},
	{0.7192f, -0.0045f, -0.6948f},
	{0.4009f, -0.8140f, 0.4203f},
};

static int parse_key(aug_op *op, const char *key, size_t klen, const char *val, size_t vlen)
{
	double lo, hi;

#define IS(name) (klen == strlen(name) && memcmp(key, name, klen) == 0)
	if (IS("center"))
		return vlen == 0 ? (op->random_value = 1, CNN_OK) : CNN_ERR;
	if (vlen == 0)
		return CNN_ERR;
	if (IS("p"))
		return parse_number(val, vlen, &op->p) || op->p < 0 || op->p > 1 ? CNN_ERR : CNN_OK;
	if (IS("pad")) {
		if (parse_number(val, vlen, &lo) || lo < 0 || lo > 65536 || lo != floor(lo))
			return CNN_ERR;
		op->pad = (int64_t)lo;
		return CNN_OK;
	}
	if (IS("fill") || IS("value")) {
		op->random_value = 0;
		op->fill.border = AUG_CONSTANT;
		if (vlen == 4 && memcmp(val, "edge", 4) == 0 && IS("fill"))
			op->fill.border = AUG_EDGE;
		else if (vlen == 7 && memcmp(val, "reflect", 7) == 0 && IS("fill"))
			op->fill.border = AUG_REFLECT;
		else if (vlen == 6 && memcmp(val, "random", 6) == 0 && IS("value"))
			op->random_value = 1;
		else if (parse_number(val, vlen, &lo))
			return CNN_ERR;
		else
			op->fill.value = (float)lo;
		return CNN_OK;
	}
	if (IS("scale") || IS("ratio")) {
		double *r = IS("scale") ? op->scale : op->ratio;
		if (parse_range(val, vlen, RANGE_FIXED, &lo, &hi) || lo <= 0 ||
		    (IS("scale") && hi > 1))
			return CNN_ERR;
		r[0] = lo, r[1] = hi;
		return CNN_OK;
	}
	if (IS("sigma"))
		return parse_number(val, vlen, &op->sigma) || op->sigma <= 0 || op->sigma > 1000
			       ? CNN_ERR : CNN_OK;
	if (IS("count") || IS("classes")) {
		if (parse_number(val, vlen, &lo) || lo < 1 || lo > (1 << 24) || lo != floor(lo))
			return CNN_ERR;
		*(IS("count") ? &op->count : &op->classes) = (int)lo;
		return CNN_OK;
	}
	if (IS("mean"))
		return parse_list(val, vlen, op->mean, &op->nmean);
	if (IS("std")) {
		if (parse_list(val, vlen, op->std, &op->nstd))
			return CNN_ERR;
		for (int i = 0; i < op->nstd; i++)
			if (!(op->std[i] > 0))
				return CNN_ERR;
		return CNN_OK;
	}
	if (IS("eig")) {
		if (vlen == 4 && memcmp(val, "data", 4) == 0) {
			op->has_eigen = 0;
			return CNN_OK;
		}
		if (vlen != 8 || memcmp(val, "imagenet", 8) != 0)
			return CNN_ERR;
		op->has_eigen = 1;
		memcpy(op->eigval, imagenet_eigval, sizeof op->eigval);
		memcpy(op->eigvec, imagenet_eigvec, sizeof op->eigvec);
		return CNN_OK;
	}
#undef IS
	return CNN_ERR;
}

/* One comma-separated argument list into op. */
static int parse_args(aug_op *op, const char *args, int *npos)
{
	const struct aug_kind *k = op->kind;

	while (args && *args) {
		size_t len = strcspn(args, ",");
		const char *eq = memchr(args, '=', len);
		if (eq || (len == 6 && memcmp(args, "center", 6) == 0)) {
			size_t klen = eq ? (size_t)(eq - args) : len;
			if (!takes_key(k, args, klen))
				return cnn_error("%s has no key \"%.*s\" (it takes: p%s%s)", k->name,
						 (int)klen, args, *k->keys ? " " : "", k->keys);
			if (parse_key(op, args, klen, eq ? eq + 1 : args + len,
				      eq ? len - klen - 1 : 0))
				return cnn_error("%s: bad value in \"%.*s\"", k->name, (int)len, args);
		} else if (*npos >= k->max_pos) {
			return cnn_error("%s: unexpected \"%.*s\"%s", k->name, (int)len, args,
					 k->max_pos ? " (too many values)" : " (it takes only key=value)");
		} else if (k->range == RANGE_SIZE) {
			if (parse_size(args, len, &op->h, &op->w))
				return cnn_error("%s: bad size \"%.*s\" (want H or HxW)", k->name,
						 (int)len, args);
			(*npos)++;
		} else {
			double *lo = *npos ? &op->lo2 : &op->lo, *hi = *npos ? &op->hi2 : &op->hi;
			if (parse_range(args, len, k->range, lo, hi))
				return cnn_error("%s: bad value \"%.*s\"%s", k->name, (int)len, args,
						 k->range == RANGE_SCALE ? " (want a factor >= 1)" : "");
			op->has2 |= *npos == 1;
			(*npos)++;
		}
		args += len + (args[len] == ',');
	}
	return CNN_OK;
}

cnn_augment *cnn_augment_new(void)
{
	cnn_augment *a = calloc(1, sizeof *a);

	if (!a) {
		cnn_error("out of memory");
		return NULL;
	}
	strcpy(a->field, "image");
	return a;
}

void cnn_augment_free(cnn_augment *a)
{
	if (a)
		free(a->op);
	free(a);
}

int cnn_augment_field(cnn_augment *a, const char *field)
{
	if (!*field || strlen(field) > CNN_MAX_NAME)
		return cnn_error("bad field name \"%s\"", field);
	strcpy(a->field, field);
	return CNN_OK;
}

void cnn_augment_min_visible(cnn_augment *a, double fraction)
{
	a->min_visible = (float)fraction;
}

/* The colour operations work in the image's own units, 0 to white, and
 * clamp to them: after normalize they would cut every negative to 0. */
static int works_in_pixel_units(const struct aug_kind *k)
{
	static int (*const ops[])(const aug_op *, aug_item *) = {
		aug_brightness, aug_exposure, aug_contrast, aug_saturation, aug_hue,
		aug_color_shift, aug_pca_color, aug_noise,
	};

	for (size_t i = 0; i < sizeof ops / sizeof *ops; i++)
		if (k->apply == ops[i])
			return 1;
	return 0;
}

int cnn_augment_add(cnn_augment *a, const char *name, const char *args)
{
	const struct aug_kind *k = NULL;
	aug_op op = {0};
	int npos = 0, ndefault = 0;

	for (int i = 0; i < NKINDS; i++)
		if (strcmp(kinds[i].name, name) == 0)
			k = &kinds[i];
	if (!k)
		return cnn_error("no operation \"%s\" (there are: %s)", name, cnn_augment_names());
	op.kind = k;
	op.p = 1;
	op.hi = op.lo = 0;
	if (parse_args(&op, k->defaults, &ndefault) || parse_args(&op, args, &npos))
		return CNN_ERR;
	if (k->needs_pos && npos == 0)
		return cnn_error("%s needs a value", k->name);
	if ((k->range == RANGE_ONE && op.lo < 0) ||
	    (strcmp(k->name, "elastic") == 0 && op.sigma <= 0) ||
	    ((strcmp(k->name, "noise") == 0 || strcmp(k->name, "blur") == 0) && op.lo < 0) ||
	    /* Each pixel costs 6 sigma multiply-adds; past 64 pixels a blur
	     * is a flat grey, and a typo would take hours. */
	    (strcmp(k->name, "blur") == 0 && op.hi > 64) ||
	    ((strcmp(k->name, "mixup") == 0) && op.lo <= 0) ||
	    /* Half a turn either way is every hue (torchvision's bound). */
	    (k->apply == aug_hue && !(op.lo >= -0.5 && op.hi <= 0.5)))
		return cnn_error("%s: value out of range", k->name);
	if (strcmp(k->name, "normalize") == 0 && (op.nmean > 0) != (op.nstd > 0))
		return cnn_error("normalize: give both mean= and std=, or neither (then they come from the data)");
	for (int i = 0; i < a->n && works_in_pixel_units(k); i++)
		if (a->op[i].kind->apply == aug_normalize)
			return cnn_error("%s after normalize: it works in pixel units (0 to white) "
					 "and would clamp the normalised values; put normalize last",
					 k->name);
	if (a->n == a->cap) {
		int cap = a->cap ? 2 * a->cap : 8;
		aug_op *grown = realloc(a->op, cap * sizeof *grown);
		if (!grown)
			return cnn_error("out of memory");
		a->op = grown, a->cap = cap;
	}
	a->op[a->n++] = op;
	return CNN_OK;
}

static int op_needs_stats(const aug_op *op)
{
	return (op->kind->apply == aug_normalize && op->nmean == 0) ||
	       (op->kind->apply == aug_pca_color && !op->has_eigen);
}

int cnn_augment_needs_stats(const cnn_augment *a)
{
	for (int i = 0; i < a->n; i++)
		if (op_needs_stats(&a->op[i]))
			return 1;
	return 0;
}

int cnn_augment_set_stats(cnn_augment *a, const cnn_image_stats *s)
{
	for (int i = 0; i < a->n; i++) {
		aug_op *op = &a->op[i];
		if (!op_needs_stats(op))
			continue;
		if (op->kind->apply == aug_normalize) {
			op->nmean = op->nstd = s->channels;
			for (int c = 0; c < s->channels; c++) {
				op->mean[c] = (float)s->mean[c];
				op->std[c] = (float)(s->std[c] > 0 ? s->std[c] : 1);
			}
		} else {
			if (s->channels != 3)
				return cnn_error("pca-color: the statistics are of %d channels, want 3 (RGB)",
						 s->channels);
			for (int j = 0; j < 3; j++) {
				op->eigval[j] = (float)s->eigval[j];
				for (int c = 0; c < 3; c++)
					op->eigvec[j][c] = (float)s->eigvec[j][c];
			}
			op->has_eigen = 1;
		}
	}
	return CNN_OK;
}

int cnn_augment_mixes(const cnn_augment *a)
{
	for (int i = 0; i < a->n; i++)
		if (a->op[i].kind->mix)
			return 1;
	return 0;
}

/* ------------------------------------------------------------- running */

static int is_identity(const double m[6])
{
	return m[0] == 1 && m[1] == 0 && m[2] == 0 && m[3] == 0 && m[4] == 1 && m[5] == 0;
}

/* Operations from..to-1 of the chain on it. */
static int run(const cnn_augment *a, int from, int to, aug_item *it,
	       const cnn_record *const *pool, int npool)
{
	double m[6] = {1, 0, 0, 0, 1, 0};
	const aug_op *last_affine = NULL;

	for (int i = from; i <= to; i++) {
		const aug_op *op = i < to ? &a->op[i] : NULL;
		int rc;

		/* Skipped operations draw no numbers beyond the coin, so each
		 * one's chance stays its own. */
		if (op && op->p < 1 && !(cnn_rng_uniform(&it->rng) < op->p))
			continue;
		if (op && op->kind->matrix) {
			double step[6];
			op->kind->matrix(op, it, step);
			aug_affine_then(m, step);
			last_affine = op;
			continue;
		}
		if (last_affine && !is_identity(m)) {
			if (aug_affine(it, m, aug_height(it), aug_width(it), &last_affine->fill))
				return cnn_error_context("%s", last_affine->kind->name);
			memcpy(m, (double[6]){1, 0, 0, 0, 1, 0}, sizeof m);
		}
		last_affine = NULL;
		if (!op)
			break;
		rc = op->kind->mix ? op->kind->mix(a, i, it, pool, npool) : op->kind->apply(op, it);
		if (rc)
			return cnn_error_context("%s", op->kind->name);
	}
	return CNN_OK;
}

cnn_record *cnn_augment_record(const cnn_augment *a, const cnn_record *in, uint64_t seed,
			       const cnn_record *const *pool, int npool)
{
	aug_item it;
	cnn_record *out;

	if (cnn_augment_needs_stats(a)) {
		cnn_error("the chain needs statistics of the data (cnn_augment_set_stats)");
		return NULL;
	}
	if (item_load(a, in, seed, &it))
		return NULL;
	if (!pool || npool < 1)
		pool = &in, npool = 1;
	out = run(a, 0, a->n, &it, pool, npool) ? NULL : item_store(a, in, &it);
	item_free(&it);
	return out;
}
