/*
 * compose_scene.c - the scene of one composed image: objects put on top
 * of each other, and the rules a new one must keep (see compose.h).
 *
 * A box is only truth while it matches what can be seen, so the boxes
 * are those of each object's visible pixels, and a new object is judged
 * by what it would leave of the others: the boxes shrink as it covers
 * them, and both rules are checked on the boxes as they would become.
 */
#include <stdlib.h>
#include <string.h>

#include "vision/compose.h"

int cnn_scene_init(scene *s, int64_t h, int64_t w, double max_iou, double min_visible)
{
	s->h = h;
	s->w = w;
	s->n = 0;
	s->max_iou = max_iou;
	s->min_visible = min_visible;
	if (!(s->owner = calloc((size_t)(h * w), 1)))
		return cnn_error("compose: out of memory");
	return CNN_OK;
}

void cnn_scene_free(scene *s)
{
	for (int i = 0; i < s->n; i++)
		free(s->obj[i].mask);
	free(s->owner);
	s->owner = NULL;
	s->n = 0;
}

static void box_empty(int64_t b[4])
{
	b[0] = b[1] = INT64_MAX;
	b[2] = b[3] = INT64_MIN;
}

/* Grow box b to take in the pixel at x, y. */
static void box_add(int64_t b[4], int64_t x, int64_t y)
{
	b[0] = x < b[0] ? x : b[0];
	b[1] = y < b[1] ? y : b[1];
	b[2] = x + 1 > b[2] ? x + 1 : b[2];
	b[3] = y + 1 > b[3] ? y + 1 : b[3];
}

static int overlaps(const scene_object *o, int64_t x, int64_t y, int64_t w, int64_t h)
{
	return o->x < x + w && x < o->x + o->w && o->y < y + h && y < o->y + o->h;
}

/* What would stay on top of object i if the new mask went on top at x, y:
 * its pixels in *visible and their box in box. */
static void what_stays(const scene *s, int i, const uint8_t *mask, int64_t x, int64_t y,
		       int64_t w, int64_t h, int64_t *visible, int64_t box[4])
{
	const scene_object *o = &s->obj[i];

	*visible = 0;
	box_empty(box);
	for (int64_t py = o->y; py < o->y + o->h; py++)
		for (int64_t px = o->x; px < o->x + o->w; px++) {
			int covered = px >= x && px < x + w && py >= y && py < y + h &&
				      mask[(py - y) * w + (px - x)];
			if (s->owner[py * s->w + px] == i + 1 && !covered) {
				++*visible;
				box_add(box, px, py);
			}
		}
}

static float iou(const int64_t a[4], const int64_t b[4])
{
	float fa[4] = {(float)a[0], (float)a[1], (float)a[2], (float)a[3]};
	float fb[4] = {(float)b[0], (float)b[1], (float)b[2], (float)b[3]};

	return cnn_box_iou(fa, fb);
}

int cnn_scene_place(scene *s, const uint8_t *mask, int64_t w, int64_t h, int64_t x, int64_t y)
{
	int64_t pixels = 0, box[4];
	int n = s->n;
	scene_object *o;

	box_empty(box);
	for (int64_t py = 0; py < h; py++)
		for (int64_t px = 0; px < w; px++)
			if (mask[py * w + px]) {
				pixels++;
				box_add(box, x + px, y + py);
			}
	for (int i = 0; i < n; i++) {
		int64_t *tb = s->trial_box[i];
		if (!overlaps(&s->obj[i], x, y, w, h)) {
			s->trial_visible[i] = s->obj[i].visible;
			memcpy(tb, s->obj[i].box, sizeof s->obj[i].box);
			continue;
		}
		what_stays(s, i, mask, x, y, w, h, &s->trial_visible[i], tb);
		if (s->trial_visible[i] == 0 ||
		    (double)s->trial_visible[i] < s->min_visible * (double)s->obj[i].pixels)
			return 0;
	}
	/* Every pair, not only the new box's: covering an object moves its
	 * box, and so its overlap with the rest. */
	memcpy(s->trial_box[n], box, sizeof box);
	for (int i = 0; i <= n; i++)
		for (int j = i + 1; j <= n; j++)
			if (iou(s->trial_box[i], s->trial_box[j]) > s->max_iou)
				return 0;

	o = &s->obj[n];
	if (!(o->mask = malloc((size_t)(w * h))))
		return cnn_error("compose: out of memory");
	memcpy(o->mask, mask, (size_t)(w * h));
	o->x = x, o->y = y, o->w = w, o->h = h;
	o->pixels = o->visible = pixels;
	memcpy(o->box, box, sizeof box);
	for (int i = 0; i < n; i++) {
		s->obj[i].visible = s->trial_visible[i];
		memcpy(s->obj[i].box, s->trial_box[i], sizeof box);
	}
	for (int64_t py = 0; py < h; py++)
		for (int64_t px = 0; px < w; px++)
			if (mask[py * w + px])
				s->owner[(y + py) * s->w + x + px] = (uint8_t)(n + 1);
	s->n = n + 1;
	return 1;
}
