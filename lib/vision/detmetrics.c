/*
 * detmetrics.c - average precision of detections against ground truth, as
 * PASCAL VOC and COCO compute it.
 *
 * Matching needs only one image at a time, so cnn_deteval_add() matches
 * an image's detections at once, under VOC's rule and under COCO's at each
 * of its ten IoU thresholds, and keeps per detection just its score, class,
 * arrival order and one bit per rule: whether it matched.  The APs then come
 * from sorting those by score.
 *
 * The rules (cnn-map(1) states them for users):
 *   - within an image, a class's detections are taken by score, best first,
 *     equal scores in row order; only truths of the same class count;
 *   - VOC: the truth of highest IoU (the first of equal ones) matches if
 *     IoU >= 0.5 and it is not yet taken; otherwise the detection is false
 *     (the VOC devkit's rule; it uses >= in MATLAB);
 *   - COCO at t: among the truths not yet taken, the one of highest
 *     IoU >= t (the last of equal ones, as pycocotools' loop does);
 *   - over the whole stream, a class's detections are ranked by score, equal
 *     scores by record, then row; precision p_i = tp_i / i and recall
 *     r_i = tp_i / ntruth after the i best;
 *   - interpolated precision at recall r: the best precision at any rank
 *     whose recall is >= r (0 if none).  VOC11 averages it at r = k/10,
 *     COCO at r = k/100 (k/100.0 exactly: pycocotools' np.linspace values
 *     differ in the last bit), VOC all-point sums (r_i - r_{i-1}) times it
 *     at r_i over the ranks;
 *   - classes without truths get NaN and stay out of the means.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/box.h"

#define COCO_T 10         /* IoU thresholds 0.50, 0.55, .. 0.95 */
#define HIT_VOC (1 << COCO_T)
#define VOC_IOU 0.5

struct det {
	float score;
	int32_t cls;
	int64_t seq; /* arrival: record, then row */
	uint32_t hit; /* bit t: matched at COCO threshold t; HIT_VOC */
};

struct count {
	int32_t cls;
	int64_t ntruth;
};

struct cnn_deteval {
	struct det *det;
	int64_t ndet, cap, seq;
	struct count *count; /* every class seen, ascending */
	int ncount, capcount;
	int sorted;
};

cnn_deteval *cnn_deteval_new(void)
{
	cnn_deteval *ev = calloc(1, sizeof *ev);

	if (!ev)
		cnn_error("out of memory");
	return ev;
}

void cnn_deteval_free(cnn_deteval *ev)
{
	if (!ev)
		return;
	free(ev->det);
	free(ev->count);
	free(ev);
}

static double coco_iou(int t)
{
	return (50 + 5 * t) / 100.0;
}

/* The count of class cls, added if new. */
static struct count *count_of(cnn_deteval *ev, int32_t cls)
{
	int lo = 0, hi = ev->ncount;

	while (lo < hi) {
		int mid = (lo + hi) / 2;
		if (ev->count[mid].cls < cls)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < ev->ncount && ev->count[lo].cls == cls)
		return &ev->count[lo];
	if (ev->ncount == ev->capcount) {
		int cap = 2 * ev->capcount + 16;
		struct count *p = realloc(ev->count, (size_t)cap * sizeof *p);
		if (!p) {
			cnn_error("out of memory");
			return NULL;
		}
		ev->count = p;
		ev->capcount = cap;
	}
	memmove(&ev->count[lo + 1], &ev->count[lo], (size_t)(ev->ncount - lo) * sizeof *ev->count);
	ev->ncount++;
	ev->count[lo] = (struct count){cls, 0};
	return &ev->count[lo];
}

/* Rows sorted by class, then score (best first) when scored, then row. */
static _Thread_local const float *sort_rows;
static _Thread_local int sort_scored;

static int by_class_score(const void *pa, const void *pb)
{
	int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
	const float *ra = sort_rows + a * CNN_BOX_FIELDS, *rb = sort_rows + b * CNN_BOX_FIELDS;

	if (ra[5] != rb[5])
		return ra[5] < rb[5] ? -1 : 1;
	if (sort_scored && ra[4] != rb[4])
		return ra[4] > rb[4] ? -1 : 1;
	return (a > b) - (a < b);
}

static int64_t *sorted_rows(const float *rows, int64_t n, int scored)
{
	int64_t *idx = malloc((size_t)n * sizeof *idx + 1);

	if (!idx) {
		cnn_error("out of memory");
		return NULL;
	}
	for (int64_t i = 0; i < n; i++)
		idx[i] = i;
	sort_rows = rows;
	sort_scored = scored;
	qsort(idx, (size_t)n, sizeof *idx, by_class_score);
	return idx;
}

/* VOC: the truth of highest IoU, first of equals; a taken one makes the
 * detection false. */
static int match_voc(const float *iou, int64_t nt, uint8_t *taken)
{
	int64_t best = -1;

	for (int64_t g = 0; g < nt; g++)
		if (best < 0 || iou[g] > iou[best])
			best = g;
	if (best < 0 || !(iou[best] >= VOC_IOU) || taken[best])
		return 0;
	taken[best] = 1;
	return 1;
}

/* COCO: the untaken truth of highest IoU >= t, last of equals. */
static int match_coco(const float *iou, int64_t nt, uint8_t *taken, double t)
{
	int64_t best = -1;
	double at = t;

	for (int64_t g = 0; g < nt; g++) {
		if (taken[g] || iou[g] < at)
			continue;
		at = iou[g];
		best = g;
	}
	if (best < 0)
		return 0;
	taken[best] = 1;
	return 1;
}

/* Match the nd detections and nt truths of one class of one image (rows
 * in the order to take them) and record the detections. */
static int match_class(cnn_deteval *ev, const float *det, const int64_t *di, int64_t nd,
		       const float *truth, const int64_t *ti, int64_t nt)
{
	float *iou = malloc((size_t)(nd * nt) * sizeof *iou + 1);
	uint8_t *taken = calloc((size_t)(nt * (COCO_T + 1)) + 1, 1);

	if (!iou || !taken) {
		free(iou);
		free(taken);
		return cnn_error("out of memory");
	}
	for (int64_t d = 0; d < nd; d++)
		for (int64_t g = 0; g < nt; g++)
			iou[d * nt + g] = cnn_box_iou(det + di[d] * CNN_BOX_FIELDS,
						      truth + ti[g] * CNN_BOX_FIELDS);
	for (int64_t d = 0; d < nd; d++) {
		const float *row = det + di[d] * CNN_BOX_FIELDS;
		struct det *e = &ev->det[ev->ndet++];
		e->score = row[4];
		e->cls = (int32_t)row[5];
		e->seq = ev->seq + di[d];
		e->hit = match_voc(iou + d * nt, nt, taken + COCO_T * nt) ? HIT_VOC : 0;
		for (int t = 0; t < COCO_T; t++)
			if (match_coco(iou + d * nt, nt, taken + t * nt, coco_iou(t)))
				e->hit |= 1u << t;
	}
	free(iou);
	free(taken);
	return CNN_OK;
}

static int reserve(cnn_deteval *ev, int64_t n)
{
	if (n > ev->cap - ev->ndet) {
		int64_t cap = ev->cap ? ev->cap : 4096;
		struct det *p;
		while (cap - ev->ndet < n)
			cap *= 2;
		if (!(p = realloc(ev->det, (size_t)cap * sizeof *p)))
			return cnn_error("out of memory");
		ev->det = p;
		ev->cap = cap;
	}
	return CNN_OK;
}

int cnn_deteval_add(cnn_deteval *ev, const float *det, int64_t ndet,
		    const float *truth, int64_t ntruth)
{
	int64_t *di = NULL, *ti = NULL, d = 0, t = 0;
	int ret = CNN_ERR;

	if (cnn_box_rows_check(det, ndet, 0))
		return cnn_error_context("detections");
	if (cnn_box_rows_check(truth, ntruth, 1))
		return cnn_error_context("truths");
	if (reserve(ev, ndet) || !(di = sorted_rows(det, ndet, 1)) ||
	    !(ti = sorted_rows(truth, ntruth, 0)))
		goto done;
	/* Walk both lists class by class. */
	while (d < ndet || t < ntruth) {
		float cd = d < ndet ? det[di[d] * CNN_BOX_FIELDS + 5] : INFINITY;
		float ct = t < ntruth ? truth[ti[t] * CNN_BOX_FIELDS + 5] : INFINITY;
		float cls = cnn_minf(cd, ct);
		int64_t d1 = d, t1 = t;
		struct count *c;
		while (d1 < ndet && det[di[d1] * CNN_BOX_FIELDS + 5] == cls)
			d1++;
		while (t1 < ntruth && truth[ti[t1] * CNN_BOX_FIELDS + 5] == cls)
			t1++;
		if (!(c = count_of(ev, (int32_t)cls)))
			goto done;
		c->ntruth += t1 - t;
		if (match_class(ev, det, di + d, d1 - d, truth, ti + t, t1 - t))
			goto done;
		d = d1;
		t = t1;
	}
	ev->seq += ndet;
	ev->sorted = 0;
	ret = CNN_OK;
done:
	free(di);
	free(ti);
	return ret;
}

static int by_class_rank(const void *pa, const void *pb)
{
	const struct det *a = pa, *b = pb;

	if (a->cls != b->cls)
		return a->cls < b->cls ? -1 : 1;
	if (a->score != b->score)
		return a->score > b->score ? -1 : 1;
	return (a->seq > b->seq) - (a->seq < b->seq);
}

static void sort_dets(cnn_deteval *ev)
{
	if (!ev->sorted && ev->ndet > 0)
		qsort(ev->det, (size_t)ev->ndet, sizeof *ev->det, by_class_rank);
	ev->sorted = 1;
}

/* The detections of class cls, ranked: *n of them from the returned one. */
static struct det *class_dets(cnn_deteval *ev, int32_t cls, int64_t *n)
{
	int64_t lo = 0, hi = ev->ndet, end;

	sort_dets(ev);
	while (lo < hi) {
		int64_t mid = lo + (hi - lo) / 2;
		if (ev->det[mid].cls < cls)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (end = lo; end < ev->ndet && ev->det[end].cls == cls; end++)
		;
	*n = end - lo;
	return ev->det + lo;
}

/* Precision and recall after each rank, for the matches in bit; then the
 * precision made interpolated: the best at this rank or any later one. */
static void curve(const struct det *d, int64_t n, uint32_t bit, int64_t ntruth,
		  double *prec, double *rec)
{
	int64_t tp = 0;

	for (int64_t i = 0; i < n; i++) {
		tp += (d[i].hit & bit) != 0;
		prec[i] = (double)tp / (double)(i + 1);
		rec[i] = (double)tp / (double)ntruth;
	}
	for (int64_t i = n - 1; i > 0; i--)
		prec[i - 1] = fmax(prec[i - 1], prec[i]);
}

/* The mean interpolated precision at recalls k / (points - 1). */
static double ap_points(const double *prec, const double *rec, int64_t n, int points)
{
	double sum = 0;
	int64_t i = 0;

	for (int k = 0; k < points; k++) {
		double r = k / (double)(points - 1);
		while (i < n && rec[i] < r)
			i++;
		if (i == n)
			break;
		sum += prec[i];
	}
	return sum / points;
}

static double ap_all(const double *prec, const double *rec, int64_t n)
{
	double sum = 0, last = 0;

	for (int64_t i = 0; i < n; i++) {
		sum += (rec[i] - last) * prec[i];
		last = rec[i];
	}
	return sum;
}

static int class_ap(cnn_deteval *ev, cnn_ap *ap)
{
	int64_t n;
	struct det *d = class_dets(ev, ap->cls, &n);
	double *prec = malloc((size_t)n * sizeof *prec + 1);
	double *rec = malloc((size_t)n * sizeof *rec + 1), coco = 0;

	if (!prec || !rec) {
		free(prec);
		free(rec);
		return cnn_error("out of memory");
	}
	ap->ndet = n;
	if (ap->ntruth == 0) {
		ap->voc11 = ap->voc = ap->coco = ap->ap50 = ap->ap75 = NAN;
	} else {
		curve(d, n, HIT_VOC, ap->ntruth, prec, rec);
		ap->voc11 = ap_points(prec, rec, n, 11);
		ap->voc = ap_all(prec, rec, n);
		for (int t = 0; t < COCO_T; t++) {
			double a;
			curve(d, n, 1u << t, ap->ntruth, prec, rec);
			a = ap_points(prec, rec, n, 101);
			coco += a;
			if (t == 0)
				ap->ap50 = a;
			if (t == 5)
				ap->ap75 = a;
		}
		ap->coco = coco / COCO_T;
	}
	free(prec);
	free(rec);
	return CNN_OK;
}

static void mean_ap(cnn_detmetrics *m)
{
	cnn_ap *mean = &m->mean;
	int k = 0;

	*mean = (cnn_ap){.cls = -1};
	for (int i = 0; i < m->nclass; i++) {
		const cnn_ap *a = &m->cls[i];
		mean->ntruth += a->ntruth;
		mean->ndet += a->ndet;
		if (a->ntruth == 0)
			continue;
		mean->voc11 += a->voc11;
		mean->voc += a->voc;
		mean->coco += a->coco;
		mean->ap50 += a->ap50;
		mean->ap75 += a->ap75;
		k++;
	}
	mean->voc11 = k ? mean->voc11 / k : NAN;
	mean->voc = k ? mean->voc / k : NAN;
	mean->coco = k ? mean->coco / k : NAN;
	mean->ap50 = k ? mean->ap50 / k : NAN;
	mean->ap75 = k ? mean->ap75 / k : NAN;
}

cnn_detmetrics *cnn_deteval_metrics(cnn_deteval *ev)
{
	cnn_detmetrics *m = calloc(1, sizeof *m);

	if (!m || !(m->cls = malloc((size_t)ev->ncount * sizeof *m->cls + 1))) {
		free(m);
		cnn_error("out of memory");
		return NULL;
	}
	/* Every class seen, in a truth or a detection, has a count. */
	m->nclass = ev->ncount;
	for (int i = 0; i < m->nclass; i++) {
		m->cls[i] = (cnn_ap){.cls = ev->count[i].cls, .ntruth = ev->count[i].ntruth};
		if (class_ap(ev, &m->cls[i])) {
			cnn_detmetrics_free(m);
			return NULL;
		}
	}
	mean_ap(m);
	return m;
}

void cnn_detmetrics_free(cnn_detmetrics *m)
{
	if (!m)
		return;
	free(m->cls);
	free(m);
}

int64_t cnn_deteval_pr(cnn_deteval *ev, int cls, cnn_pr_point *pt)
{
	int64_t n, ntruth = 0, tp = 0;
	struct det *d = class_dets(ev, cls, &n);

	for (int c = 0; c < ev->ncount; c++)
		if (ev->count[c].cls == cls)
			ntruth = ev->count[c].ntruth;
	for (int64_t i = 0; i < n; i++) {
		tp += (d[i].hit & HIT_VOC) != 0;
		pt[i] = (cnn_pr_point){
			.score = d[i].score,
			.tp = tp,
			.fp = i + 1 - tp,
			.precision = (double)tp / (double)(i + 1),
			.recall = ntruth ? (double)tp / (double)ntruth : NAN,
		};
	}
	return n;
}
