/*
 * nms.c - non-max suppression: greedy (by IoU or DIoU) and soft (linear or
 * Gaussian), per class or over all classes.
 *
 * With a threshold of 0 or more, boxes that do not intersect neither
 * suppress nor decay each other, so a box only needs comparing with the
 * boxes it overlaps.  The boxes go into a uniform grid of cells about the
 * size of a typical box, and a box is compared only with the boxes listed
 * in the cells it covers: two boxes that intersect share at least the cell
 * of a point of their intersection, since a box's cells run from the cell
 * of its x1 to that of its x2 (and y likewise) and the cell of a coordinate
 * never decreases as the coordinate grows.
 *
 * Greedy NMS lists only the kept boxes and asks, box by box in score order,
 * whether a kept box suppresses it.  A box is dropped exactly when a better
 * kept box overlaps it by more than the threshold, as in torchvision's loop
 * over all later boxes, but the work is the overlapping pairs, not all
 * pairs.  Soft-NMS lists every box, takes the best one off a heap of
 * scores, and decays the boxes listed with it.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/box.h"

/* A box that passed the score threshold, in score order. */
struct cand {
	float b[4];
	float area;
	float score;
	int32_t cls;
	int32_t row; /* in the input */
};

/* One box listed in one cell. */
struct node {
	float b[4];
	float area;
	int32_t cls;
	int32_t rank; /* in score order */
	int32_t next; /* in the same cell, or -1 */
};

/* Lists are per cell and class (one class for all when agnostic), found
 * through a hash: a box walks only the boxes that can affect it, plus the
 * rare ones of another cell or class that share the hash. */
struct grid {
	double x0, y0, inv; /* origin and 1 / cell size */
	int32_t nx, ny;
	int agnostic;
	uint32_t mask;  /* lists - 1, a power of 2 less 1 */
	int32_t *head;  /* first node of each list, -1 when empty */
	struct node *node;
	int64_t n, cap;
};

void cnn_nms_defaults(cnn_nms_opts *o)
{
	*o = (cnn_nms_opts){
		.method = CNN_NMS_GREEDY,
		.iou = 0.5,
		.score = 0.6,
		.sigma = 0.5,
		.final_score = 0.001,
		.diou_beta = 1,
	};
}

static int check_opts(const cnn_nms_opts *o)
{
	if (o->method < CNN_NMS_GREEDY || o->method > CNN_NMS_GAUSSIAN)
		return cnn_error("unknown NMS method %d", (int)o->method);
	if (!(o->iou >= 0 && o->iou <= 1))
		return cnn_error("IoU threshold %g is not in 0..1", o->iou);
	if (isnan(o->score) || isnan(o->final_score))
		return cnn_error("a score threshold is NaN");
	if (o->method == CNN_NMS_GAUSSIAN && !(o->sigma > 0 && isfinite(o->sigma)))
		return cnn_error("sigma %g is not positive", o->sigma);
	if (o->diou && o->method != CNN_NMS_GREEDY)
		return cnn_error("DIoU-NMS is greedy only");
	if (o->diou && !(o->diou_beta > 0 && isfinite(o->diou_beta)))
		return cnn_error("DIoU beta %g is not positive", o->diou_beta);
	if (o->topk < 0 || o->max < 0)
		return cnn_error("negative topk or max");
	return CNN_OK;
}

/* Sort keys that put higher scores first.  -0 and +0 must tie, as they
 * compare equal. */
static uint32_t score_key(float s)
{
	uint32_t u;

	s += 0.0f;
	memcpy(&u, &s, sizeof u);
	u = u & 0x80000000u ? ~u : u | 0x80000000u; /* ascending with s */
	return ~u;
}

/* Stable LSD radix sort of idx by key, ascending: equal scores keep their
 * input order, as torch's stable sort does. */
static int radix_sort(uint32_t *key, int32_t *idx, int32_t n)
{
	uint32_t *kbuf = malloc((size_t)n * sizeof *kbuf + 1), *ks = key, *kd = kbuf, *kt;
	int32_t *ibuf = malloc((size_t)n * sizeof *ibuf + 1), *is = idx, *id = ibuf, *it;

	if (!kbuf || !ibuf) {
		free(kbuf);
		free(ibuf);
		return cnn_error("out of memory");
	}
	for (int shift = 0; shift < 32; shift += 8) {
		int32_t count[257] = {0};

		for (int32_t i = 0; i < n; i++)
			count[(ks[i] >> shift & 0xff) + 1]++;
		if (n == 0 || count[(ks[0] >> shift & 0xff) + 1] == n)
			continue; /* one digit for all: the pass would change nothing */
		for (int d = 0; d < 256; d++)
			count[d + 1] += count[d];
		for (int32_t i = 0; i < n; i++) {
			int32_t to = count[ks[i] >> shift & 0xff]++;
			kd[to] = ks[i];
			id[to] = is[i];
		}
		kt = ks, ks = kd, kd = kt;
		it = is, is = id, id = it;
	}
	if (is != idx)
		memcpy(idx, is, (size_t)n * sizeof *idx);
	free(kbuf);
	free(ibuf);
	return CNN_OK;
}

/* The candidates: boxes scoring at least o->score, best first, at most
 * o->topk of them.  Returns the count or -1. */
static int32_t candidates(const float *boxes, int32_t n, const cnn_nms_opts *o,
			  struct cand **out)
{
	uint32_t *key = malloc((size_t)n * sizeof *key + 1);
	int32_t *idx = malloc((size_t)n * sizeof *idx + 1), m = 0;
	struct cand *c = NULL;

	if (!key || !idx)
		goto fail;
	for (int32_t i = 0; i < n; i++) {
		float s = boxes[i * CNN_BOX_FIELDS + 4];
		if (s >= o->score) {
			key[m] = score_key(s);
			idx[m++] = i;
		}
	}
	if (radix_sort(key, idx, m))
		goto fail;
	if (o->topk > 0 && m > o->topk)
		m = (int32_t)o->topk;
	if (!(c = malloc((size_t)m * sizeof *c + 1)))
		goto fail;
	for (int32_t r = 0; r < m; r++) {
		const float *b = boxes + (int64_t)idx[r] * CNN_BOX_FIELDS;
		memcpy(c[r].b, b, sizeof c[r].b);
		c[r].area = cnn_box_area(b);
		c[r].score = b[4];
		c[r].cls = (int32_t)b[5];
		c[r].row = idx[r];
	}
	free(key);
	free(idx);
	*out = c;
	return m;
fail:
	free(key);
	free(idx);
	cnn_error("out of memory");
	return -1;
}

/* Size the cells to the median of the boxes' longer sides, rounded down to
 * a power of 2, so that a typical box spans 2 or 3 cells each way; but no
 * more than about 2 cells per box in all, so that no box spans more than
 * that.  Then empty the lists. */
static int grid_init(struct grid *g, const struct cand *c, int32_t n, int agnostic)
{
	int64_t hist[320] = {0}, seen = 0, lists = 64;
	double x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY, size;
	int e = 0;

	memset(g, 0, sizeof *g);
	for (int32_t i = 0; i < n; i++) {
		float side = cnn_maxf(c[i].b[2] - c[i].b[0], c[i].b[3] - c[i].b[1]);
		/* A side of over FLT_MAX (x2 - x1 overflowing) counts as huge. */
		hist[!(side > 0) ? 0 : isfinite(side) ? ilogbf(side) + 160 : 319]++;
		x0 = fmin(x0, c[i].b[0]);
		y0 = fmin(y0, c[i].b[1]);
		x1 = fmax(x1, c[i].b[2]);
		y1 = fmax(y1, c[i].b[3]);
	}
	while (e < 319 && (seen += hist[e]) * 2 < n)
		e++;
	size = ldexp(1, e - 160);
	for (;;) {
		double nx = n ? floor((x1 - x0) / size) + 1 : 1;
		double ny = n ? floor((y1 - y0) / size) + 1 : 1;
		if (nx * ny <= 2.0 * n + 16) {
			g->nx = (int32_t)nx;
			g->ny = (int32_t)ny;
			break;
		}
		size *= 2;
	}
	g->x0 = x0;
	g->y0 = y0;
	g->inv = 1 / size;
	g->agnostic = agnostic;
	while (lists < 2 * (int64_t)n)
		lists *= 2;
	g->mask = (uint32_t)(lists - 1);
	if (!(g->head = malloc((size_t)lists * sizeof *g->head)))
		return cnn_error("out of memory");
	memset(g->head, 0xff, (size_t)lists * sizeof *g->head);
	return CNN_OK;
}

static int32_t *list_of(const struct grid *g, int32_t x, int32_t y, int32_t cls)
{
	uint32_t h = (uint32_t)x * 0x9E3779B1u ^ (uint32_t)y * 0x85EBCA77u ^
		     (uint32_t)(g->agnostic ? 0 : cls) * 0xC2B2AE3Du;

	return &g->head[(h ^ h >> 15) & g->mask];
}

static void grid_free(struct grid *g)
{
	free(g->head);
	free(g->node);
}

static int32_t cell(double v, double origin, double inv, int32_t n)
{
	double k = (v - origin) * inv;

	return k <= 0 ? 0 : k >= n - 1 ? n - 1 : (int32_t)k;
}

/* The cells a box covers: columns r[0]..r[1], rows r[2]..r[3]. */
static void cells_of(const struct grid *g, const float *b, int32_t r[4])
{
	r[0] = cell(b[0], g->x0, g->inv, g->nx);
	r[1] = cell(b[2], g->x0, g->inv, g->nx);
	r[2] = cell(b[1], g->y0, g->inv, g->ny);
	r[3] = cell(b[3], g->y0, g->inv, g->ny);
}

static int grid_add(struct grid *g, const struct cand *c, int32_t rank)
{
	int32_t r[4];

	cells_of(g, c->b, r);
	for (int32_t y = r[2]; y <= r[3]; y++)
		for (int32_t x = r[0]; x <= r[1]; x++) {
			int32_t *head = list_of(g, x, y, c->cls);
			struct node *nd;
			if (g->n == g->cap) {
				int64_t cap = g->cap ? 2 * g->cap : 1024;
				struct node *p = cap <= INT32_MAX ?
					realloc(g->node, (size_t)cap * sizeof *p) : NULL;
				if (!p)
					return cnn_error("out of memory");
				g->node = p;
				g->cap = cap;
			}
			nd = &g->node[g->n];
			memcpy(nd->b, c->b, sizeof nd->b);
			nd->area = c->area;
			nd->cls = c->cls;
			nd->rank = rank;
			nd->next = *head;
			*head = (int32_t)g->n++;
		}
	return CNN_OK;
}

/* The overlap that greedy NMS compares with its threshold. */
static float overlap(const struct node *nd, const struct cand *c, const cnn_nms_opts *o)
{
	float iou = cnn_box_iou_areas(nd->b, c->b, nd->area, c->area), pen;

	if (!o->diou)
		return iou;
	pen = cnn_box_diou_penalty(nd->b, c->b);
	return iou - (o->diou_beta == 1 ? pen : powf(pen, (float)o->diou_beta));
}

static int suppressed(const struct grid *g, const struct cand *c, const cnn_nms_opts *o)
{
	int32_t r[4];

	cells_of(g, c->b, r);
	for (int32_t y = r[2]; y <= r[3]; y++)
		for (int32_t x = r[0]; x <= r[1]; x++)
			for (int32_t k = *list_of(g, x, y, c->cls); k >= 0; k = g->node[k].next) {
				const struct node *nd = &g->node[k];
				if ((o->agnostic || nd->cls == c->cls) && overlap(nd, c, o) > o->iou)
					return 1;
			}
	return 0;
}

static int32_t greedy(const struct cand *c, int32_t n, const cnn_nms_opts *o,
		      struct grid *g, int32_t *kept)
{
	/* The float IoU never exceeds 1 (inter <= min(area) <= union after
	 * rounding too), nor does DIoU, so a threshold of 1 suppresses
	 * nothing: spare the comparisons, all n^2 / 2 of them in a crowd. */
	int compare = o->iou < 1;
	int32_t nk = 0;

	for (int32_t i = 0; i < n && (o->max == 0 || nk < o->max); i++) {
		if (compare && suppressed(g, &c[i], o))
			continue;
		kept[nk++] = i;
		if (grid_add(g, &c[i], i))
			return -1;
	}
	return nk;
}

/* A max-heap of (score, rank): the higher score first, then the lower
 * rank, so that soft-NMS breaks ties by the input order too. */
struct entry {
	float s;
	int32_t r;
};

struct heap {
	struct entry *e;
	int64_t n, cap;
};

static int before(struct entry a, struct entry b)
{
	return a.s > b.s || (a.s == b.s && a.r < b.r);
}

static int heap_push(struct heap *h, float s, int32_t r)
{
	int64_t i = h->n++;

	if (i == h->cap) {
		int64_t cap = 2 * h->cap + 1024;
		struct entry *p = realloc(h->e, (size_t)cap * sizeof *p);
		if (!p)
			return cnn_error("out of memory");
		h->e = p;
		h->cap = cap;
	}
	h->e[i] = (struct entry){s, r};
	while (i > 0 && before(h->e[i], h->e[(i - 1) / 2])) {
		struct entry t = h->e[i];
		h->e[i] = h->e[(i - 1) / 2];
		h->e[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
	return CNN_OK;
}

static struct entry heap_pop(struct heap *h)
{
	struct entry top = h->e[0];
	int64_t i = 0;

	h->e[0] = h->e[--h->n];
	for (;;) {
		int64_t l = 2 * i + 1, best = i;
		struct entry t;
		if (l < h->n && before(h->e[l], h->e[best]))
			best = l;
		if (l + 1 < h->n && before(h->e[l + 1], h->e[best]))
			best = l + 1;
		if (best == i)
			return top;
		t = h->e[i];
		h->e[i] = h->e[best];
		h->e[best] = t;
		i = best;
	}
}

static double decay(float iou, const cnn_nms_opts *o)
{
	if (o->method == CNN_NMS_LINEAR)
		return iou > o->iou ? 1.0 - iou : 1.0;
	return exp(-(double)iou * iou / o->sigma);
}

/* State of soft-NMS: current scores, boxes gone (kept or decayed below
 * the final threshold), and the step that last looked at each box, so that
 * a box listed in several cells decays once per step. */
struct soft {
	float *score;
	uint8_t *gone;
	int32_t *seen;
	struct heap heap;
};

/* Decay the boxes that share a cell with the kept box of rank r. */
static int decay_around(struct soft *st, const struct grid *g, const struct cand *c,
			int32_t r, int32_t step, const cnn_nms_opts *o)
{
	int32_t cr[4];

	cells_of(g, c[r].b, cr);
	for (int32_t y = cr[2]; y <= cr[3]; y++)
		for (int32_t x = cr[0]; x <= cr[1]; x++)
			for (int32_t k = *list_of(g, x, y, c[r].cls); k >= 0; k = g->node[k].next) {
				const struct node *nd = &g->node[k];
				int32_t j = nd->rank;
				float s;
				if (st->gone[j] || st->seen[j] == step ||
				    (!o->agnostic && nd->cls != c[r].cls))
					continue;
				st->seen[j] = step;
				s = (float)(st->score[j] *
					    decay(cnn_box_iou_areas(c[r].b, nd->b, c[r].area, nd->area), o));
				if (!(s < st->score[j]))
					continue;
				st->score[j] = s;
				if (s < o->final_score)
					st->gone[j] = 1;
				else if (heap_push(&st->heap, s, j))
					return CNN_ERR;
			}
	return CNN_OK;
}

static int32_t soft(const struct cand *c, int32_t n, const cnn_nms_opts *o,
		    struct grid *g, int32_t *kept, float *score)
{
	struct soft st = {
		.score = malloc((size_t)n * sizeof *st.score + 1),
		.gone = calloc((size_t)n + 1, 1),
		.seen = malloc((size_t)n * sizeof *st.seen + 1),
	};
	int32_t nk = -1;

	if (!st.score || !st.gone || !st.seen) {
		cnn_error("out of memory");
		goto done;
	}
	for (int32_t i = 0; i < n; i++) {
		st.score[i] = c[i].score;
		st.seen[i] = -1;
		if (grid_add(g, &c[i], i) || heap_push(&st.heap, c[i].score, i))
			goto done;
	}
	nk = 0;
	while (st.heap.n > 0 && (o->max == 0 || nk < o->max)) {
		struct entry e = heap_pop(&st.heap);
		/* Skip boxes gone and entries outdated by a decay. */
		if (st.gone[e.r] || e.s != st.score[e.r])
			continue;
		if (e.s < o->final_score)
			break;
		st.gone[e.r] = 1;
		kept[nk] = e.r;
		score[nk] = e.s;
		if (decay_around(&st, g, c, e.r, nk++, o)) {
			nk = -1;
			break;
		}
	}
done:
	free(st.score);
	free(st.gone);
	free(st.seen);
	free(st.heap.e);
	return nk;
}

int64_t cnn_nms(const float *boxes, int64_t n, const cnn_nms_opts *o,
		int64_t *keep, float *scores)
{
	struct cand *c = NULL;
	struct grid g = {0};
	int32_t m, nk = -1, *kept = NULL;
	float *kscore = NULL;

	if (check_opts(o))
		return -1;
	if (n < 0 || n > INT32_MAX)
		return cnn_error("%lld boxes (at most %d)", (long long)n, INT32_MAX);
	if (cnn_box_rows_check(boxes, n, 0))
		return -1;
	if ((m = candidates(boxes, (int32_t)n, o, &c)) < 0)
		return -1;
	kept = malloc((size_t)m * sizeof *kept + 1);
	kscore = malloc((size_t)m * sizeof *kscore + 1);
	if (!kept || !kscore) {
		cnn_error("out of memory");
		goto done;
	}
	if (grid_init(&g, c, m, o->agnostic))
		goto done;
	if (o->method == CNN_NMS_GREEDY) {
		nk = greedy(c, m, o, &g, kept);
		for (int32_t i = 0; i < nk; i++)
			kscore[i] = c[kept[i]].score;
	} else {
		nk = soft(c, m, o, &g, kept, kscore);
	}
	for (int32_t i = 0; i < nk; i++) {
		keep[i] = c[kept[i]].row;
		if (scores)
			scores[i] = kscore[i];
	}
done:
	grid_free(&g);
	free(c);
	free(kept);
	free(kscore);
	return nk;
}

cnn_tensor *cnn_nms_boxes(const cnn_tensor *boxes, const cnn_nms_opts *o)
{
	int64_t n, nk, *keep = NULL;
	float *score = NULL;
	cnn_tensor *out = NULL;

	if (cnn_boxes_check(boxes, 0))
		return NULL;
	n = boxes->dim[0];
	keep = malloc((size_t)n * sizeof *keep + 1);
	score = malloc((size_t)n * sizeof *score + 1);
	if (!keep || !score) {
		cnn_error("out of memory");
		goto done;
	}
	if ((nk = cnn_nms(boxes->data, n, o, keep, score)) < 0 ||
	    !(out = cnn_boxes_new(boxes->name, nk)))
		goto done;
	for (int64_t i = 0; i < nk; i++) {
		float *row = (float *)out->data + i * CNN_BOX_FIELDS;
		memcpy(row, (const float *)boxes->data + keep[i] * CNN_BOX_FIELDS,
		       CNN_BOX_FIELDS * sizeof *row);
		row[4] = score[i];
	}
done:
	free(keep);
	free(score);
	return out;
}
