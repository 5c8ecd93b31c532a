/*
 * compose.h - libcnn's private interface between copy-paste composition
 * (compose.c) and the scene it places objects in (compose_scene.c): who
 * is on top at each pixel, and the rules that keep every object's box
 * true to what can be seen of it.
 */
#ifndef COMPOSE_H
#define COMPOSE_H

#include "cnn.h"

#ifndef CNN_HIDDEN
#define CNN_HIDDEN __attribute__((visibility("hidden")))
#endif

/* The objects of one image are numbered 1..255 in the map of who is on
 * top, 0 being the background. */
#define COMPOSE_MAX_OBJECTS 255

/* An object in the scene: its mask (w x h bytes, not 0 on its pixels)
 * with its top-left corner at x, y; its pixels, how many of them are
 * still on top, and their bounding box x1, y1, x2, y2 (pixel edges). */
typedef struct scene_object {
	int64_t x, y, w, h;
	uint8_t *mask;
	int64_t pixels, visible;
	int64_t box[4];
} scene_object;

typedef struct scene {
	int64_t h, w;
	uint8_t *owner;   /* h x w: the object on top, or 0 */
	int n;
	scene_object obj[COMPOSE_MAX_OBJECTS];
	double max_iou, min_visible;
	/* What a new object would leave of the others, before it is let in. */
	int64_t trial_visible[COMPOSE_MAX_OBJECTS];
	int64_t trial_box[COMPOSE_MAX_OBJECTS][4];
} scene;

CNN_HIDDEN int cnn_scene_init(scene *s, int64_t h, int64_t w, double max_iou,
			       double min_visible);
CNN_HIDDEN void cnn_scene_free(scene *s);
/* Put an object (mask of w x h, at least one pixel set, inside the
 * scene, which holds fewer than COMPOSE_MAX_OBJECTS) on top at x, y when
 * the rules allow it: afterwards no two objects' visible boxes have an IoU
 * above max_iou, and every object
 * keeps at least min_visible of its pixels (and one pixel) on top.
 * Returns 1 when placed (it is then object s->n), 0 when the rules
 * refuse, CNN_ERR when out of memory. */
CNN_HIDDEN int cnn_scene_place(scene *s, const uint8_t *mask, int64_t w, int64_t h, int64_t x,
				int64_t y);

#endif
