/*
 * compose.c - detection and segmentation data by copy-paste: objects
 * pasted onto crops of background photos, with their boxes and masks
 * (cnn.h's composition section; cnn-compose(1) has every rule).
 *
 * An image is made from its own generator, seeded by the seed and the
 * image's number, so records can be made in any order; the objects kept
 * are drawn from a generator of their own, as they are added.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vision/compose.h"

typedef struct object {
	cnn_tensor *img;  /* u8, cut to the mask's box: 1 or 3 colour planes,
			   * then alpha when it has one */
	int colours, alpha;
	int64_t cls;
} object;

struct cnn_compose {
	cnn_compose_opts o;
	cnn_tensor **background;
	int nbackground;
	object *pool;
	int64_t npool, cap, seen;
	int64_t max_class;  /* over every object added, kept or not */
	cnn_rng rng;        /* which objects are kept */
};

void cnn_compose_defaults(cnn_compose_opts *o)
{
	*o = (cnn_compose_opts){
		.height = 96, .width = 96, .channels = 3, .min_objects = 1, .max_objects = 4,
		.size = {24, 48}, .background_scale = {0.25, 1}, .flip = 0.5, .max_iou = 0.3,
		.min_visible = 0.5, .tries = 20, .pool = 65536, .seed = 1,
	};
}

static int bad_range(const char *what, const double r[2], double min, double max)
{
	if (r[0] >= min && r[0] <= r[1] && r[1] <= max)
		return CNN_OK;
	return cnn_error("compose: %s %g:%g is not a range A:B with %g <= A <= B <= %g", what,
			 r[0], r[1], min, max);
}

static int bad_options(const cnn_compose_opts *o)
{
	if (o->height < 1 || o->width < 1 || o->height > 65536 || o->width > 65536)
		return cnn_error("compose: the size %lldx%lld is not 1..65536 each",
				 (long long)o->height, (long long)o->width);
	if (o->channels != 1 && o->channels != 3)
		return cnn_error("compose: %d channels; want 1 or 3", o->channels);
	if (o->min_objects < 0 || o->min_objects > o->max_objects ||
	    o->max_objects > COMPOSE_MAX_OBJECTS)
		return cnn_error("compose: objects %d:%d is not a range A:B with 0 <= A <= B <= %d",
				 o->min_objects, o->max_objects, COMPOSE_MAX_OBJECTS);
	if (o->scale[1] > 0 ? bad_range("the object scale", o->scale, 1e-6, 1e6)
			    : bad_range("the object size", o->size, 1, 65536))
		return CNN_ERR;
	if (bad_range("the background scale", o->background_scale, 1e-6, 1e6))
		return CNN_ERR;
	if (!(o->flip >= 0 && o->flip <= 1) || !(o->tint >= 0 && o->tint <= 1) ||
	    !(o->max_iou >= 0 && o->max_iou <= 1) || !(o->min_visible >= 0 && o->min_visible <= 1))
		return cnn_error("compose: flip, tint, max IoU and min visible are 0..1");
	if (o->tint > 0 && o->channels == 1)
		return cnn_error("compose: tint makes colours, and the images are gray");
	if (o->tries < 1 || o->threshold < 0 || o->threshold > 254 || o->pool < 1)
		return cnn_error("compose: tries and the pool are at least 1, the threshold 0..254");
	return CNN_OK;
}

cnn_compose *cnn_compose_new(const cnn_compose_opts *o)
{
	cnn_compose *c;

	if (bad_options(o))
		return NULL;
	if (!(c = calloc(1, sizeof *c))) {
		cnn_error("compose: out of memory");
		return NULL;
	}
	c->o = *o;
	cnn_rng_seed(&c->rng, o->seed ^ 0x636f6d706f7365u); /* "compose" */
	return c;
}

void cnn_compose_free(cnn_compose *c)
{
	if (!c)
		return;
	for (int i = 0; i < c->nbackground; i++)
		cnn_tensor_free(c->background[i]);
	for (int64_t i = 0; i < c->npool; i++)
		cnn_tensor_free(c->pool[i].img);
	free(c->background);
	free(c->pool);
	free(c);
}

int64_t cnn_compose_objects(const cnn_compose *c)
{
	return c->npool;
}

/* ---------------------------------------------------------------- adding */

/* img as u8 C x H x W with C 1..4, and as `channels` channels unless 0. */
static cnn_tensor *u8_image(const cnn_tensor *img, int channels)
{
	cnn_tensor *u8, *conv;
	char desc[128];

	if (img->dtype == CNN_TEXT || img->ndim < 2 || img->ndim > 3 ||
	    (img->ndim == 3 && (img->dim[0] < 1 || img->dim[0] > 4)) ||
	    cnn_tensor_count(img) == 0) {
		cnn_error("tensor \"%s\" is %s; want an image, C x H x W with C 1..4, or H x W",
			  img->name, cnn_tensor_describe(img, desc, sizeof desc));
		return NULL;
	}
	if (!(u8 = cnn_tensor_convert(img, CNN_U8)))
		return NULL;
	if (u8->ndim == 2) {
		/* The same bytes as one plane. */
		u8->dim[2] = u8->dim[1], u8->dim[1] = u8->dim[0], u8->dim[0] = 1;
		u8->ndim = 3;
	}
	if (!channels || u8->dim[0] == channels)
		return u8;
	conv = cnn_image_channels(u8, channels);
	cnn_tensor_free(u8);
	return conv;
}

int cnn_compose_add_background(cnn_compose *c, const cnn_tensor *img)
{
	cnn_tensor **more, *bg;

	if (!(more = realloc(c->background, (c->nbackground + 1) * sizeof *more)))
		return cnn_error("compose: out of memory");
	c->background = more;
	if (!(bg = u8_image(img, c->o.channels)))
		return CNN_ERR;
	c->background[c->nbackground++] = bg;
	return CNN_OK;
}

static int class_of(const cnn_tensor *label, int64_t *cls)
{
	char desc[128];
	double v;

	if (label->dtype == CNN_TEXT || cnn_tensor_count(label) != 1)
		return cnn_error("tensor \"%s\" is %s; want a class, a scalar", label->name,
				 cnn_tensor_describe(label, desc, sizeof desc));
	v = cnn_tensor_get(label, 0);
	/* class + 1 marks the mask, which holds whole numbers up to the
	 * largest class. */
	if (!(v >= 0 && v < CNN_BOX_MAX_CLASS) || v != floor(v))
		return cnn_error("tensor \"%s\" holds %g; a class is a whole number 0..%d",
				 label->name, v, CNN_BOX_MAX_CLASS - 1);
	*cls = (int64_t)v;
	return CNN_OK;
}

/* Is the pixel at i (of n per plane) part of the object? */
static int in_mask(const uint8_t *p, int64_t i, int64_t n, int colours, int alpha, int threshold)
{
	if (alpha)
		return p[colours * n + i] > threshold;
	for (int k = 0; k < colours; k++)
		if (p[k * n + i] > threshold)
			return 1;
	return 0;
}

/* The object cut to the bounding box of its mask; NULL with an error
 * when the mask is empty. */
static cnn_tensor *cut_to_mask(const cnn_tensor *img, int colours, int alpha, int threshold)
{
	int64_t ch = img->dim[0], h = img->dim[1], w = img->dim[2], n = h * w;
	int64_t x1 = w, y1 = h, x2 = -1, y2 = -1;
	const uint8_t *p = img->data;
	cnn_tensor *cut;

	for (int64_t y = 0; y < h; y++)
		for (int64_t x = 0; x < w; x++)
			if (in_mask(p, y * w + x, n, colours, alpha, threshold)) {
				x1 = x < x1 ? x : x1, x2 = x > x2 ? x : x2;
				y1 = y < y1 ? y : y1, y2 = y > y2 ? y : y2;
			}
	if (x2 < 0) {
		cnn_error("tensor \"%s\" has no %spixel above %d: an object needs a mask",
			  img->name, alpha ? "alpha " : "", threshold);
		return NULL;
	}
	if (!(cut = cnn_tensor_new3(img->name, CNN_U8, ch, y2 - y1 + 1, x2 - x1 + 1)))
		return NULL;
	for (int64_t k = 0; k < ch; k++)
		for (int64_t y = y1; y <= y2; y++)
			memcpy((uint8_t *)cut->data + (k * (y2 - y1 + 1) + y - y1) * (x2 - x1 + 1),
			       p + k * n + y * w + x1, (size_t)(x2 - x1 + 1));
	return cut;
}

/* Keep the object while the pool has room; then the k-th one added takes
 * the place of a kept one with probability pool / k, so that the pool is
 * always a uniform sample of what was added. */
static int keep(cnn_compose *c, object ob)
{
	int64_t at = c->npool;

	c->seen++;
	if (c->npool == c->o.pool) {
		at = (int64_t)cnn_rng_below(&c->rng, (uint64_t)c->seen);
		if (at >= c->npool) {
			cnn_tensor_free(ob.img);
			return CNN_OK;
		}
		cnn_tensor_free(c->pool[at].img);
	} else if (c->npool == c->cap) {
		int64_t cap = c->cap ? 2 * c->cap : 1024;
		object *more;
		cap = cap < c->o.pool ? cap : c->o.pool;
		if (!(more = realloc(c->pool, (size_t)cap * sizeof *more))) {
			cnn_tensor_free(ob.img);
			return cnn_error("compose: out of memory");
		}
		c->pool = more;
		c->cap = cap;
	}
	if (at == c->npool)
		c->npool++;
	c->pool[at] = ob;
	return CNN_OK;
}

int cnn_compose_add_object(cnn_compose *c, const cnn_tensor *img, const cnn_tensor *label)
{
	object ob = {0};
	cnn_tensor *u8;
	int64_t ch;

	if (class_of(label, &ob.cls) || !(u8 = u8_image(img, 0)))
		return CNN_ERR;
	ch = u8->dim[0];
	if (c->o.channels == 1 && ch >= 3) {
		cnn_tensor *gray = cnn_image_channels(u8, ch == 4 ? 2 : 1);
		cnn_tensor_free(u8);
		if (!(u8 = gray))
			return CNN_ERR;
		ch = u8->dim[0];
	}
	ob.colours = ch >= 3 ? 3 : 1;
	ob.alpha = ch == 2 || ch == 4;
	ob.img = cut_to_mask(u8, ob.colours, ob.alpha, c->o.threshold);
	cnn_tensor_free(u8);
	if (!ob.img)
		return CNN_ERR;
	if (ob.cls > c->max_class)
		c->max_class = ob.cls;
	return keep(c, ob);
}

/* ---------------------------------------------------------------- making */

static double uniform(cnn_rng *r, const double range[2])
{
	return range[0] + (range[1] - range[0]) * cnn_rng_uniform(r);
}

/* The seed of image `index`: distinct for every (seed, index). */
static uint64_t image_seed(uint64_t seed, int64_t index)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15u ^ (uint64_t)index * 0x94d049bb133111ebu;

	return x ^ (x >> 29);
}

/* A random crop of a random background, resized to the image's size. */
static cnn_tensor *background(const cnn_compose *c, cnn_rng *r)
{
	const cnn_tensor *bg = c->background[cnn_rng_below(r, (uint64_t)c->nbackground)];
	int64_t ch = bg->dim[0], ph = bg->dim[1], pw = bg->dim[2], h = c->o.height, w = c->o.width;
	double s = uniform(r, c->o.background_scale);
	int64_t cy, cx, y0, x0;
	cnn_tensor *crop, *out;

	if (s < (double)h / ph)
		s = (double)h / ph;
	if (s < (double)w / pw)
		s = (double)w / pw;
	cy = (int64_t)lround(h / s), cx = (int64_t)lround(w / s);
	cy = cy < 1 ? 1 : cy > ph ? ph : cy;
	cx = cx < 1 ? 1 : cx > pw ? pw : cx;
	y0 = (int64_t)cnn_rng_below(r, (uint64_t)(ph - cy + 1));
	x0 = (int64_t)cnn_rng_below(r, (uint64_t)(pw - cx + 1));
	if (!(crop = cnn_tensor_new3("image", CNN_U8, ch, cy, cx)))
		return NULL;
	for (int64_t k = 0; k < ch; k++)
		for (int64_t y = 0; y < cy; y++)
			memcpy((uint8_t *)crop->data + (k * cy + y) * cx,
			       (const uint8_t *)bg->data + (k * ph + y0 + y) * pw + x0, (size_t)cx);
	if (cy == h && cx == w)
		return crop;
	out = cnn_image_resize(crop, h, w);
	cnn_tensor_free(crop);
	return out;
}

/* One object as it is about to be pasted: resized, maybe mirrored and
 * tinted, with its mask in the pasted orientation. */
typedef struct piece {
	const object *ob;
	cnn_tensor *img;    /* resized, unmirrored */
	uint8_t *mask;      /* w x h, mirrored */
	int64_t w, h;
	int flip;
	int tinted;
	int tint[3];        /* 64..255: never so dark that the object vanishes */
} piece;

/* The object's size when pasted: its longer side drawn from the size
 * range (or its size times a factor from the scale range), no larger
 * than the image. */
static void draw_size(const cnn_compose *c, cnn_rng *r, const object *ob, int64_t *w,
		      int64_t *h)
{
	int64_t ow = ob->img->dim[2], oh = ob->img->dim[1];
	double f = c->o.scale[1] > 0 ? uniform(r, c->o.scale)
				     : uniform(r, c->o.size) / (double)(ow > oh ? ow : oh);

	if (f > (double)c->o.width / ow)
		f = (double)c->o.width / ow;
	if (f > (double)c->o.height / oh)
		f = (double)c->o.height / oh;
	*w = (int64_t)lround(ow * f), *h = (int64_t)lround(oh * f);
	*w = *w < 1 ? 1 : *w > c->o.width ? c->o.width : *w;
	*h = *h < 1 ? 1 : *h > c->o.height ? c->o.height : *h;
}

/* Draw an object and make its piece; *pixels 0 when resizing left none
 * of it above the threshold. */
static int make_piece(const cnn_compose *c, cnn_rng *r, piece *pc, int64_t *pixels)
{
	const object *ob = &c->pool[cnn_rng_below(r, (uint64_t)c->npool)];
	int64_t n;
	const uint8_t *p;

	memset(pc, 0, sizeof *pc);
	*pixels = 0;
	pc->ob = ob;
	draw_size(c, r, ob, &pc->w, &pc->h);
	pc->flip = cnn_rng_uniform(r) < c->o.flip;
	if (ob->colours == 1 && c->o.channels == 3 && cnn_rng_uniform(r) < c->o.tint) {
		pc->tinted = 1;
		for (int k = 0; k < 3; k++)
			pc->tint[k] = 64 + (int)cnn_rng_below(r, 192);
	}
	/* The mask is taken again after resizing, so that it is exactly the
	 * pixels pasted. */
	if (!(pc->img = cnn_image_resize(ob->img, pc->h, pc->w)) ||
	    !(pc->mask = malloc((size_t)(pc->w * pc->h))))
		return cnn_error("compose: out of memory");
	n = pc->w * pc->h;
	p = pc->img->data;
	for (int64_t y = 0; y < pc->h; y++)
		for (int64_t x = 0; x < pc->w; x++) {
			int64_t sx = pc->flip ? pc->w - 1 - x : x;
			uint8_t on = (uint8_t)in_mask(p, y * pc->w + sx, n, ob->colours, ob->alpha,
						      c->o.threshold);
			pc->mask[y * pc->w + x] = on;
			*pixels += on;
		}
	return CNN_OK;
}

static void free_piece(piece *pc)
{
	cnn_tensor_free(pc->img);
	free(pc->mask);
}

/* The piece's pixels onto the canvas at x, y. */
static void paste(cnn_tensor *canvas, const piece *pc, int64_t x, int64_t y)
{
	int64_t ch = canvas->dim[0], h = canvas->dim[1], w = canvas->dim[2], n = pc->w * pc->h;
	const uint8_t *p = pc->img->data;
	uint8_t *out = canvas->data;

	for (int64_t py = 0; py < pc->h; py++)
		for (int64_t px = 0; px < pc->w; px++) {
			int64_t sx = pc->flip ? pc->w - 1 - px : px;
			if (!pc->mask[py * pc->w + px])
				continue;
			for (int64_t k = 0; k < ch; k++) {
				int v = p[(pc->ob->colours == 1 ? 0 : k) * n + py * pc->w + sx];
				if (pc->tinted)
					v = (v * pc->tint[k] + 127) / 255;
				out[(k * h + y + py) * w + x + px] = (uint8_t)v;
			}
		}
}

/* Draw an object and try places for it until the scene takes it; it is
 * left out when none of the tries does.  *cls gets its class. */
static int add_one(const cnn_compose *c, cnn_rng *r, scene *s, cnn_tensor *canvas, int64_t *cls)
{
	piece pc;
	int64_t pixels;
	int placed = 0;

	if (make_piece(c, r, &pc, &pixels)) {
		free_piece(&pc);
		return CNN_ERR;
	}
	for (int t = 0; pixels > 0 && t < c->o.tries && placed == 0; t++) {
		int64_t x = (int64_t)cnn_rng_below(r, (uint64_t)(c->o.width - pc.w + 1));
		int64_t y = (int64_t)cnn_rng_below(r, (uint64_t)(c->o.height - pc.h + 1));
		placed = cnn_scene_place(s, pc.mask, pc.w, pc.h, x, y);
		if (placed == 1) {
			paste(canvas, &pc, x, y);
			*cls = pc.ob->cls;
		}
	}
	free_piece(&pc);
	return placed == CNN_ERR ? CNN_ERR : CNN_OK;
}

/* The record of a finished scene: the canvas, and the truth from who is
 * on top where. */
static cnn_record *assemble(const cnn_compose *c, cnn_tensor *canvas, const scene *s,
			    const int64_t *cls)
{
	int64_t dim[2] = {c->o.height, c->o.width}, n = dim[0] * dim[1];
	cnn_record *rec = cnn_record_new();
	cnn_tensor *boxes = NULL, *mask = NULL, *inst = NULL;

	/* Each tensor belongs to the record as soon as it is made (a failed
	 * put frees it), and is filled in there. */
	if (!rec)
		cnn_tensor_free(canvas);
	if (!rec || cnn_record_put(rec, canvas) ||
	    !(boxes = cnn_boxes_new("boxes_true", s->n)) || cnn_record_put(rec, boxes) ||
	    !(mask = cnn_tensor_new("mask", c->max_class < 255 ? CNN_U8 : CNN_I32, 2, dim)) ||
	    cnn_record_put(rec, mask) ||
	    (c->o.instances && (!(inst = cnn_tensor_new("instances", CNN_U8, 2, dim)) ||
				cnn_record_put(rec, inst)))) {
		cnn_record_free(rec);
		return NULL;
	}
	for (int i = 0; i < s->n; i++) {
		float *b = (float *)boxes->data + i * CNN_BOX_FIELDS;
		for (int k = 0; k < 4; k++)
			b[k] = (float)s->obj[i].box[k];
		b[4] = 1;
		b[5] = (float)cls[i];
	}
	for (int64_t i = 0; i < n; i++)
		if (s->owner[i])
			cnn_tensor_set(mask, i, (double)(cls[s->owner[i] - 1] + 1));
	if (inst)
		memcpy(inst->data, s->owner, (size_t)n);
	return rec;
}

cnn_record *cnn_compose_record(const cnn_compose *c, int64_t index)
{
	int64_t cls[COMPOSE_MAX_OBJECTS];
	cnn_tensor *canvas;
	cnn_record *rec = NULL;
	cnn_rng r;
	scene *s;
	int count;

	if (!c->nbackground || (!c->npool && c->o.max_objects > 0)) {
		cnn_error("compose: no %s to compose with", c->nbackground ? "objects" : "backgrounds");
		return NULL;
	}
	/* The scene is large (its bookkeeping for 255 objects): not on the
	 * stack of a thread. */
	if (!(s = malloc(sizeof *s)) || cnn_scene_init(s, c->o.height, c->o.width, c->o.max_iou,
						   c->o.min_visible)) {
		free(s);
		cnn_error("compose: out of memory");
		return NULL;
	}
	cnn_rng_seed(&r, image_seed(c->o.seed, index));
	canvas = background(c, &r);
	count = c->o.min_objects +
		(int)cnn_rng_below(&r, (uint64_t)(c->o.max_objects - c->o.min_objects + 1));
	for (int k = 0; canvas && k < count; k++)
		if (add_one(c, &r, s, canvas, &cls[s->n])) {
			cnn_tensor_free(canvas);
			canvas = NULL;
		}
	if (canvas)
		rec = assemble(c, canvas, s, cls);
	cnn_scene_free(s);
	free(s);
	return rec;
}
