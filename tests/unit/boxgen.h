/*
 * boxgen.h - the random boxes of tests/vectors/make-nms-vectors.py, made
 * again from the same integers (the script's docstring describes them), so
 * that only torchvision's and numpy's answers need storing.
 */
#ifndef BOXGEN_H
#define BOXGEN_H

#include <stdint.h>
#include <stdlib.h>

#include "cnn.h"

struct splitmix {
	uint64_t s;
};

static uint64_t __attribute__((unused)) sm_mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
	return z ^ (z >> 31);
}

static void __attribute__((unused)) sm_seed(struct splitmix *g, uint64_t seed)
{
	g->s = sm_mix(seed);
}

static uint64_t __attribute__((unused)) sm_next(struct splitmix *g)
{
	g->s += 0x9E3779B97F4A7C15u;
	return sm_mix(g->s);
}

static int64_t __attribute__((unused)) clamp64(int64_t v, int64_t lo, int64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static int64_t __attribute__((unused)) jitter(uint64_t v, int64_t b)
{
	return (int64_t)(v % (uint64_t)(2 * b + 1)) - b;
}

/* One record of nms.vec: n rows of 6 floats (malloc'ed) and the IoU
 * threshold. */
struct nms_record {
	int64_t n;
	double iou;
	float *rows;
};

static int __attribute__((unused)) nms_record(int r, struct nms_record *rec)
{
	static const double thresholds[10] = {0.0, 0.1, 0.3, 0.45, 0.5, 0.5, 0.6, 0.7, 0.9, 1.0};
	struct splitmix g;
	uint64_t d[7];
	int64_t W, H, nobj, ncls, (*obj)[4];
	int tied;

	sm_seed(&g, 0x5EED0000u + (uint64_t)r);
	for (int i = 0; i < 7; i++)
		d[i] = sm_next(&g);
	rec->n = (int64_t)(r % 10 == 0 ? d[0] % 20 : d[0] % 5001);
	W = 64 + (int64_t)(d[1] % 961);
	H = 64 + (int64_t)(d[2] % 961);
	nobj = 1 + (int64_t)(d[3] % 50);
	ncls = 1 + (int64_t)(d[4] % 80);
	rec->iou = thresholds[d[5] % 10];
	tied = d[6] % 2 == 0;
	obj = malloc((size_t)nobj * sizeof *obj);
	rec->rows = malloc((size_t)rec->n * CNN_BOX_FIELDS * sizeof *rec->rows + 1);
	if (!obj || !rec->rows)
		return -1;
	for (int64_t k = 0; k < nobj; k++) {
		obj[k][0] = (int64_t)(sm_next(&g) % (uint64_t)(16 * W));
		obj[k][1] = (int64_t)(sm_next(&g) % (uint64_t)(16 * H));
		obj[k][2] = 128 + (int64_t)(sm_next(&g) % (uint64_t)(8 * W));
		obj[k][3] = 128 + (int64_t)(sm_next(&g) % (uint64_t)(8 * H));
	}
	for (int64_t i = 0; i < rec->n; i++) {
		uint64_t e[5];
		int64_t k, kind, jw, jh, X1, X2, Y1, Y2, t;
		float *row = rec->rows + i * CNN_BOX_FIELDS;

		for (int j = 0; j < 5; j++)
			e[j] = sm_next(&g);
		k = (int64_t)(e[0] % (uint64_t)nobj);
		kind = (int64_t)((e[0] >> 32) % 64);
		jw = obj[k][2] / 8 + 1;
		jh = obj[k][3] / 8 + 1;
		X1 = obj[k][0] - obj[k][2] / 2 + (kind ? jitter(e[1], jw) : 0);
		X2 = obj[k][0] + obj[k][2] / 2 + (kind ? jitter(e[1] >> 32, jw) : 0);
		Y1 = obj[k][1] - obj[k][3] / 2 + (kind ? jitter(e[2], jh) : 0);
		Y2 = obj[k][1] + obj[k][3] / 2 + (kind ? jitter(e[2] >> 32, jh) : 0);
		X1 = clamp64(X1, 0, 16 * W);
		X2 = clamp64(X2, 0, 16 * W);
		Y1 = clamp64(Y1, 0, 16 * H);
		Y2 = clamp64(Y2, 0, 16 * H);
		if (kind == 1)
			X2 = X1;
		if (X2 < X1)
			t = X1, X1 = X2, X2 = t;
		if (Y2 < Y1)
			t = Y1, Y1 = Y2, Y2 = t;
		row[0] = (float)X1 / 16;
		row[1] = (float)Y1 / 16;
		row[2] = (float)X2 / 16;
		row[3] = (float)Y2 / 16;
		row[4] = tied ? (float)(e[3] % 16) / 16 : (float)(e[3] >> 40) / (1 << 24);
		row[5] = (float)(e[4] % (uint64_t)ncls);
	}
	free(obj);
	return 0;
}

/* The images of one set of map.vec, each a detections and a truths
 * array of rows. */
struct map_image {
	int64_t nd, nt;
	float det[8 * CNN_BOX_FIELDS], truth[6 * CNN_BOX_FIELDS];
};

static float __attribute__((unused)) unit24(uint64_t v)
{
	return (float)(v % (1u << 24)) / (float)(1 << 24);
}

static void __attribute__((unused)) map_box(uint64_t a, uint64_t b, float *row)
{
	float w, h;

	row[0] = unit24(a) * 400.0f;
	row[1] = unit24(a >> 32) * 400.0f;
	w = 4.0f + unit24(b) * 80.0f;
	h = 4.0f + unit24(b >> 32) * 80.0f;
	row[2] = row[0] + w;
	row[3] = row[1] + h;
}

/* Returns the image count; *ncls gets the class count. */
static int __attribute__((unused)) map_set(int s, struct map_image *img, int *ncls)
{
	struct splitmix g;
	int nimg, tied;

	sm_seed(&g, 0x3A90000u + (uint64_t)s);
	nimg = 1 + (int)(sm_next(&g) % 60);
	*ncls = 1 + (int)(sm_next(&g) % 6);
	tied = sm_next(&g) % 3 == 0;
	for (int i = 0; i < nimg; i++) {
		struct map_image *m = &img[i];
		m->nt = (int64_t)(sm_next(&g) % 7);
		for (int64_t t = 0; t < m->nt; t++) {
			uint64_t t0 = sm_next(&g), t1 = sm_next(&g), t2 = sm_next(&g);
			float *row = m->truth + t * CNN_BOX_FIELDS;
			map_box(t0, t1, row);
			row[4] = 1;
			row[5] = (float)(t2 % (uint64_t)*ncls);
		}
		m->nd = (int64_t)(sm_next(&g) % 9);
		for (int64_t d = 0; d < m->nd; d++) {
			uint64_t u0 = sm_next(&g), u1 = sm_next(&g), u2 = sm_next(&g),
				 u3 = sm_next(&g);
			float *row = m->det + d * CNN_BOX_FIELDS;
			if (m->nt > 0 && u0 % 4 != 0) {
				const float *gt = m->truth + (int64_t)(u0 / 4 % (uint64_t)m->nt) * CNN_BOX_FIELDS;
				float dx = (unit24(u1) - 0.5f) * 8.0f, dy = (unit24(u1 >> 32) - 0.5f) * 8.0f;
				row[0] = gt[0] + dx;
				row[1] = gt[1] + dy;
				row[2] = gt[2] + dx;
				row[3] = gt[3] + dy;
				row[5] = u3 % 5 == 0 ? (float)(u3 / 5 % (uint64_t)*ncls) : gt[5];
			} else {
				map_box(u1, u2, row);
				row[5] = (float)(u3 % (uint64_t)*ncls);
			}
			row[4] = tied ? (float)((u2 >> 40) % 8) / 8 : (float)(u2 >> 40) / (1 << 24);
		}
	}
	return nimg;
}

#endif
