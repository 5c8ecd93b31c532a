/*
 * test_compose.c - copy-paste composition: the scene's rules on masks
 * placed by hand, then whole records made from known objects on a black
 * background, where the image, the boxes, the mask and the instances
 * must agree pixel for pixel; the overlap limits, the pool's sample, the
 * seed, and the objects that are refused.
 */
#include <stdlib.h>
#include <string.h>

#include "cnn.h"
#include "tap.h"
#include "vision/compose.h"

static const uint8_t ones[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
static const uint8_t checker[16] = {1, 0, 1, 0, 0, 1, 0, 1, 1, 0, 1, 0, 0, 1, 0, 1};

static int box_is(const scene *s, int i, int64_t x1, int64_t y1, int64_t x2, int64_t y2)
{
	const int64_t *b = s->obj[i].box;

	return b[0] == x1 && b[1] == y1 && b[2] == x2 && b[3] == y2;
}

static void scene_rules(void)
{
	scene s;

	cnn_scene_init(&s, 10, 10, 1, 0.5);
	tap_ok(cnn_scene_place(&s, ones, 4, 4, 0, 0) == 1 && box_is(&s, 0, 0, 0, 4, 4),
	       "scene: the first object goes in, its box its mask's");
	tap_ok(cnn_scene_place(&s, ones, 4, 4, 1, 1) == 0,
	       "scene: covering 9 of 16 pixels (more than half) is refused");
	tap_ok(cnn_scene_place(&s, ones, 4, 4, 2, 0) == 1 && box_is(&s, 0, 0, 0, 2, 4) &&
	       s.obj[0].visible == 8 && box_is(&s, 1, 2, 0, 6, 4),
	       "scene: covering 8 of 16 is not; the covered box shrinks to what shows");
	tap_ok(cnn_scene_place(&s, ones, 2, 2, 0, 0) == 0,
	       "scene: nor may a later object take the half that is left below half");
	cnn_scene_free(&s);

	/* The boxes after covering decide: A shrunk to 0..2 no longer
	 * overlaps B at 2..6 at all, though their full boxes did (IoU 1/3). */
	cnn_scene_init(&s, 10, 10, 0.3, 0.5);
	cnn_scene_place(&s, ones, 4, 4, 0, 0);
	tap_ok(cnn_scene_place(&s, ones, 4, 4, 2, 0) == 1, "scene: IoU of the boxes as they become");
	tap_ok(cnn_scene_place(&s, checker, 4, 4, 3, 0) == 0,
	       "scene: a mask with holes leaves B its box, and overlaps it by IoU 0.6: refused");
	tap_ok(cnn_scene_place(&s, checker, 4, 4, 6, 6) == 1 && s.n == 3 && box_is(&s, 2, 6, 6, 10, 10),
	       "scene: one clear of all goes in");
	cnn_scene_free(&s);
}

/* A 1 x h x w u8 image of value v inside the rectangle (x0, y0, w1, h1). */
static cnn_tensor *object(int64_t h, int64_t w, int64_t x0, int64_t y0, int64_t w1, int64_t h1,
			  uint8_t v)
{
	cnn_tensor *t = cnn_tensor_new3("image", CNN_U8, 1, h, w);

	for (int64_t y = y0; y < y0 + h1; y++)
		memset((uint8_t *)t->data + y * w + x0, v, (size_t)w1);
	return t;
}

static cnn_tensor *label(double cls, cnn_dtype dtype)
{
	cnn_tensor *t = cnn_tensor_new("label", dtype, 0, NULL);

	cnn_tensor_set(t, 0, cls);
	return t;
}

static void add(cnn_compose *c, cnn_tensor *img, int cls)
{
	cnn_tensor *l = label(cls, CNN_I32);

	if (cnn_compose_add_object(c, img, l))
		printf("# add: %s\n", cnn_errmsg());
	cnn_tensor_free(img);
	cnn_tensor_free(l);
}

/* A composer of images on black, objects at their own size. */
static cnn_compose *black(cnn_compose_opts *o, int channels, int64_t h, int64_t w)
{
	cnn_tensor *bg = cnn_tensor_new3("image", CNN_U8, channels, 32, 32);
	cnn_compose *c;

	o->height = h, o->width = w, o->channels = channels;
	o->scale[0] = o->scale[1] = 1;
	if (!(c = cnn_compose_new(o)))
		printf("# new: %s\n", cnn_errmsg());
	cnn_compose_add_background(c, bg);
	cnn_tensor_free(bg);
	return c;
}

/* Do the image, the boxes, the mask and the instances of a record agree:
 * a pixel is bright exactly where an instance is, each box is the box of
 * its instance's pixels, the mask is its class + 1 there?  Also the
 * largest IoU of two boxes and the fewest pixels of an instance. */
static int agrees(const cnn_record *rec, float *max_iou, int64_t *fewest)
{
	const cnn_tensor *img = cnn_record_get(rec, "image"), *b = cnn_record_get(rec, "boxes_true");
	const cnn_tensor *mask = cnn_record_get(rec, "mask"), *inst = cnn_record_get(rec, "instances");
	int64_t n = b->dim[0], w = img->dim[2], h = img->dim[1];
	const float *box = b->data;
	const uint8_t *in = inst->data, *px = img->data;

	for (int64_t i = 0; i < n; i++) {
		int64_t x1 = w, y1 = h, x2 = 0, y2 = 0, count = 0;
		for (int64_t y = 0; y < h; y++)
			for (int64_t x = 0; x < w; x++) {
				int64_t p = y * w + x;
				if (in[p] != i + 1)
					continue;
				count++;
				x1 = x < x1 ? x : x1, y1 = y < y1 ? y : y1;
				x2 = x + 1 > x2 ? x + 1 : x2, y2 = y + 1 > y2 ? y + 1 : y2;
				if (cnn_tensor_get(mask, p) != box[i * 6 + 5] + 1)
					return 0;
			}
		if (box[i * 6] != x1 || box[i * 6 + 1] != y1 || box[i * 6 + 2] != x2 ||
		    box[i * 6 + 3] != y2 || box[i * 6 + 4] != 1)
			return 0;
		*fewest = count < *fewest ? count : *fewest;
		for (int64_t j = 0; j < i; j++) {
			float v = cnn_box_iou(box + i * 6, box + j * 6);
			*max_iou = v > *max_iou ? v : *max_iou;
		}
	}
	for (int64_t p = 0; p < w * h; p++)
		if ((px[p] != 0) != (in[p] != 0) || (in[p] == 0 && cnn_tensor_get(mask, p) != 0))
			return 0;
	return 1;
}

static void records(void)
{
	cnn_compose_opts o;
	cnn_compose *c;
	int bad = 0, boxes = 0, many = 0;
	int64_t fewest = INT64_MAX;
	float worst = 0;

	cnn_compose_defaults(&o);
	o.min_objects = 3, o.max_objects = 6, o.instances = 1;
	c = black(&o, 1, 40, 40);
	add(c, object(12, 12, 2, 3, 8, 5, 200), 4); /* cut to its 8 x 5 */
	add(c, object(6, 6, 0, 0, 6, 6, 90), 7);
	for (int64_t i = 0; i < 50; i++) {
		cnn_record *rec = cnn_compose_record(c, i);
		const cnn_tensor *b = cnn_record_get(rec, "boxes_true");
		bad += !agrees(rec, &worst, &fewest);
		for (int64_t k = 0; k < b->dim[0]; k++) {
			const float *r = (const float *)b->data + k * 6;
			/* Whole objects: the box is the object's size. */
			if (r[5] == 4 && !(r[2] - r[0] <= 8 && r[3] - r[1] <= 5))
				bad++;
		}
		boxes += (int)b->dim[0];
		many += b->dim[0] >= 3;
		cnn_record_free(rec);
	}
	tap_ok(bad == 0, "50 records: pixels, boxes, mask and instances agree exactly");
	tap_ok(worst <= 0.3f && fewest >= 18, "the largest IoU is %.3f (limit 0.3); the fewest "
	       "pixels left of an object %lld (at least half of 36)", worst, (long long)fewest);
	tap_ok(many > 25, "%d boxes in all; %d images keep 3 or more", boxes, many);
	cnn_compose_free(c);

	/* Neither overlap nor cover allowed, and objects a third of the
	 * image: placements fail, and the images have fewer objects. */
	cnn_compose_defaults(&o);
	o.min_objects = o.max_objects = 4, o.max_iou = 0, o.min_visible = 1, o.instances = 1;
	c = black(&o, 1, 10, 10);
	add(c, object(6, 6, 0, 0, 6, 6, 255), 1);
	bad = 0;
	for (int64_t i = 0; i < 20; i++) {
		cnn_record *rec = cnn_compose_record(c, i);
		int64_t n = cnn_record_get(rec, "boxes_true")->dim[0];
		bad += n != 1 || !agrees(rec, &worst, &fewest);
		cnn_record_free(rec);
	}
	tap_ok(bad == 0, "6x6 objects in 10x10, none covered: one fits, the rest are left out");
	cnn_compose_free(c);
}

static int same_record(const cnn_record *a, const cnn_record *b)
{
	if (a->n != b->n)
		return 0;
	for (int i = 0; i < a->n; i++)
		if (strcmp(a->tensor[i]->name, b->tensor[i]->name) ||
		    cnn_tensor_bytes(a->tensor[i]) != cnn_tensor_bytes(b->tensor[i]) ||
		    memcmp(a->tensor[i]->data, b->tensor[i]->data, cnn_tensor_bytes(a->tensor[i])))
			return 0;
	return 1;
}

static cnn_compose *photo_composer(uint64_t seed)
{
	cnn_compose_opts o;
	cnn_compose *c;
	cnn_tensor *bg = cnn_tensor_new3("image", CNN_F32, 1, 50, 70);

	cnn_compose_defaults(&o);
	o.seed = seed, o.tint = 1, o.height = 32, o.width = 48;
	c = cnn_compose_new(&o);
	for (int64_t i = 0; i < 50 * 70; i++)
		((float *)bg->data)[i] = (float)(i % 251);
	cnn_compose_add_background(c, bg);
	cnn_tensor_free(bg);
	for (int k = 0; k < 30; k++)
		add(c, object(9, 7, k % 3, k % 4, 4, 5, (uint8_t)(100 + k)), k % 5);
	return c;
}

static void seeds(void)
{
	cnn_compose *a = photo_composer(5), *b = photo_composer(5), *d = photo_composer(6);
	cnn_record *ra = cnn_compose_record(a, 3), *rb = cnn_compose_record(b, 3);
	cnn_record *rd = cnn_compose_record(d, 3), *r4 = cnn_compose_record(a, 4);
	const cnn_tensor *img = cnn_record_get(ra, "image");

	tap_ok(same_record(ra, rb), "the same seed and index give the same record");
	tap_ok(!same_record(ra, rd) && !same_record(ra, r4), "another seed or index another");
	tap_ok(img->dtype == CNN_U8 && img->dim[0] == 3 && img->dim[1] == 32 && img->dim[2] == 48,
	       "a gray background becomes the RGB image's size");
	cnn_record_free(ra), cnn_record_free(rb), cnn_record_free(rd), cnn_record_free(r4);
	cnn_compose_free(a), cnn_compose_free(b), cnn_compose_free(d);
}

/* Every object pasted pure (value 200, at its size, unflipped) and
 * tinted: each channel is 200 * t / 255 with t 64..255. */
static void tint(void)
{
	cnn_compose_opts o;
	cnn_compose *c;
	int bad = 0, coloured = 0;

	cnn_compose_defaults(&o);
	o.tint = 1, o.flip = 0, o.instances = 1;
	c = black(&o, 3, 20, 20);
	add(c, object(5, 5, 0, 0, 5, 5, 200), 0);
	for (int64_t i = 0; i < 20; i++) {
		cnn_record *rec = cnn_compose_record(c, i);
		const uint8_t *p = cnn_record_get(rec, "image")->data;
		const uint8_t *in = cnn_record_get(rec, "instances")->data;
		for (int64_t q = 0; q < 400; q++) {
			if (!in[q])
				continue;
			for (int k = 0; k < 3; k++)
				bad += p[k * 400 + q] < 200 * 64 / 255 || p[k * 400 + q] > 200;
			coloured += p[q] != p[400 + q] || p[q] != p[800 + q];
		}
		cnn_record_free(rec);
	}
	tap_ok(bad == 0 && coloured > 0, "tint: gray objects in colours, 200 scaled by 64..255 / 255");
	cnn_compose_free(c);
}

/* Past the pool's size the objects kept are a uniform sample: over many
 * seeds each of 100 objects is kept in about a tenth of them.  Which
 * ones a seed keeps shows in the classes of 200 records of one object. */
static void pool(void)
{
	int kept[100] = {0}, lo = 1 << 30, hi = 0, bad = 0;

	for (uint64_t seed = 1; seed <= 1000; seed++) {
		cnn_compose_opts o;
		cnn_compose *c;
		int seen[100] = {0}, distinct = 0;
		cnn_compose_defaults(&o);
		o.pool = 10, o.seed = seed, o.min_objects = o.max_objects = 1;
		c = black(&o, 1, 8, 8);
		for (int k = 0; k < 100; k++)
			add(c, object(1, 1, 0, 0, 1, 1, 1), k);
		bad += cnn_compose_objects(c) != 10;
		for (int64_t i = 0; i < 200; i++) {
			cnn_record *rec = cnn_compose_record(c, i);
			int k = (int)((float *)cnn_record_get(rec, "boxes_true")->data)[5];
			distinct += !seen[k]++;
			kept[k] += seen[k] == 1;
			cnn_record_free(rec);
		}
		bad += distinct != 10;
		cnn_compose_free(c);
	}
	for (int k = 0; k < 100; k++)
		lo = kept[k] < lo ? kept[k] : lo, hi = kept[k] > hi ? kept[k] : hi;
	tap_ok(bad == 0, "1000 seeds: the pool keeps 10 of 100 objects");
	/* 100 each on average, a standard deviation of 9.5: 5 of them. */
	tap_ok(lo > 52 && hi < 148, "each object is kept by 52 to 148 seeds: %d to %d", lo, hi);
}

static void refused(void)
{
	cnn_compose_opts o;
	cnn_compose *c;
	cnn_tensor *img = object(4, 4, 1, 1, 2, 2, 50), *empty = object(4, 4, 0, 0, 0, 0, 0);
	cnn_tensor *f = label(2.5, CNN_F32), *big = label(300, CNN_I32), *two;
	cnn_tensor *five = cnn_tensor_new3("image", CNN_U8, 5, 2, 2);
	const cnn_tensor *mask;
	cnn_record *rec;
	double top = 0;

	cnn_compose_defaults(&o);
	o.tint = 1, o.channels = 1;
	tap_ok(!cnn_compose_new(&o) && strstr(cnn_errmsg(), "tint"), "tint of gray images: \"%s\"",
	       cnn_errmsg());
	cnn_compose_defaults(&o);
	o.min_objects = 3, o.max_objects = 2;
	tap_ok(!cnn_compose_new(&o), "objects 3:2: \"%s\"", cnn_errmsg());
	cnn_compose_defaults(&o);
	o.threshold = 60;
	c = cnn_compose_new(&o);
	tap_ok(cnn_compose_record(c, 0) == NULL && strcmp(cnn_errmsg(), "compose: no backgrounds "
	       "to compose with") == 0, "nothing to compose with: \"%s\"", cnn_errmsg());
	tap_ok(cnn_compose_add_object(c, img, big) == CNN_ERR &&
	       strcmp(cnn_errmsg(), "tensor \"image\" has no pixel above 60: an object needs a "
			  "mask") == 0, "an object below the threshold: \"%s\"", cnn_errmsg());
	tap_ok(cnn_compose_add_object(c, empty, big) == CNN_ERR, "an empty object");
	tap_ok(cnn_compose_add_object(c, img, f) == CNN_ERR &&
	       strcmp(cnn_errmsg(), "tensor \"label\" holds 2.5; a class is a whole number "
			  "0..16777214") == 0, "a class of 2.5: \"%s\"", cnn_errmsg());
	two = cnn_tensor_new("label", CNN_F32, 1, (int64_t[]){2});
	tap_ok(cnn_compose_add_object(c, img, two) == CNN_ERR &&
	       strstr(cnn_errmsg(), "want a class, a scalar"), "a soft label: \"%s\"", cnn_errmsg());
	tap_ok(cnn_compose_add_object(c, five, big) == CNN_ERR &&
	       strstr(cnn_errmsg(), "want an image"), "5 channels: \"%s\"", cnn_errmsg());
	cnn_compose_free(c);

	/* A class past 254 does not fit a u8 mask. */
	cnn_compose_defaults(&o);
	o.instances = 0;
	c = black(&o, 1, 8, 8);
	cnn_compose_add_object(c, img, big);
	rec = cnn_compose_record(c, 0);
	mask = cnn_record_get(rec, "mask");
	for (int64_t i = 0; i < 64; i++)
		top = cnn_tensor_get(mask, i) > top ? cnn_tensor_get(mask, i) : top;
	tap_ok(mask->dtype == CNN_I32 && top == 301 && !cnn_record_get(rec, "instances"),
	       "class 300: an i32 mask holding 301");
	cnn_record_free(rec);
	cnn_compose_free(c);
	cnn_tensor_free(img), cnn_tensor_free(empty), cnn_tensor_free(five);
	cnn_tensor_free(f), cnn_tensor_free(big), cnn_tensor_free(two);
}

int main(void)
{
	scene_rules();
	records();
	seeds();
	tint();
	pool();
	refused();
	return tap_done();
}
