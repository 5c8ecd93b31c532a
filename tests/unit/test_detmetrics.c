/*
 * test_detmetrics.c - average precision: a hand-worked example, the VOC and
 * COCO matching rules where they differ, edge cases, and agreement with the
 * independent numpy implementation of make-nms-vectors.py (map.vec).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "boxgen.h"
#include "tap.h"

#define CAT 0
#define DOG 1

static int near(double got, double want)
{
	return (isnan(got) && isnan(want)) || fabs(got - want) <= 1e-9;
}

static void check_ap(const cnn_ap *a, double voc11, double voc, double coco, double ap50,
		     double ap75, const char *what)
{
	tap_ok(near(a->voc11, voc11) && near(a->voc, voc) && near(a->coco, coco) &&
	       near(a->ap50, ap50) && near(a->ap75, ap75),
	       "%s: VOC11 %.6f VOC %.6f COCO %.6f AP50 %.6f AP75 %.6f", what, a->voc11, a->voc,
	       a->coco, a->ap50, a->ap75);
}

/*
 * The hand-worked example: two images, classes cat (0) and dog (1).
 *
 * image 1: truths T1 cat (0,0,10,10), T2 dog (20,0,30,10)
 *   D1 cat (0,0,10,10) 0.9   IoU(T1) = 1: true at every threshold
 *   D2 cat (1,0,11,10) 0.8   IoU(T1) = 90/110 = 0.818, but T1 is taken: false
 *   D3 dog (20,0,30,12) 0.7  IoU(T2) = 100/120 = 0.833: true up to t = 0.80
 * image 2: truths T3 cat (0,0,20,20), T4 dog (50,50,60,60)
 *   D4 cat (0,0,20,10) 0.6   IoU(T3) = 200/400 = 0.5: true at t = 0.5 only
 *   D5 dog (0,0,10,10) 0.95  overlaps no dog: false
 *
 * cat, 2 truths, ranked D1 D2 D4.
 *   At 0.5: true, false, true; precision 1, 1/2, 2/3; recall 1/2, 1/2, 1;
 *   interpolated precision 1, 2/3, 2/3.
 *   VOC all-point = 1/2 * 1 + 0 + 1/2 * 2/3 = 5/6.
 *   VOC11: recalls 0 .. 0.5 (6 points) at 1, 0.6 .. 1 (5) at 2/3:
 *   (6 + 10/3) / 11 = 28/33.
 *   COCO at 0.5: recalls 0 .. 0.50 (51 points) at 1, 0.51 .. 1 (50) at
 *   2/3: (51 + 100/3) / 101 = 253/303 = AP50.
 *   At 0.55 .. 0.95 (9 thresholds): true, false, false; recall stops at
 *   1/2: 51 points at 1, the rest 0: 51/101 = AP75.
 *   AP@[.5:.95] = (253/303 + 9 * 51/101) / 10 = 163/303.
 * dog, 2 truths, ranked D5 D3.
 *   At 0.5 .. 0.80 (7 thresholds): false, true; precision 0, 1/2; recall
 *   0, 1/2; interpolated 1/2, 1/2.
 *   VOC all-point = 1/2 * 1/2 = 1/4.  VOC11: 0 .. 0.5 at 1/2: 3/11.
 *   COCO: 51 points at 1/2: 51/202 = AP50 = AP75.
 *   At 0.85 .. 0.95: no true detection, AP 0.
 *   AP@[.5:.95] = 7 * 51/202 / 10 = 357/2020.
 * mean: VOC11 (28/33 + 3/11) / 2 = 37/66, VOC (5/6 + 1/4) / 2 = 13/24,
 *   COCO (163/303 + 357/2020) / 2 = 4331/12120,
 *   AP50 (253/303 + 51/202) / 2 = 659/1212, AP75 (51/101 + 51/202) / 2 = 153/404.
 */
static void hand_worked(void)
{
	static const float truth1[] = {0, 0, 10, 10, 1, CAT, 20, 0, 30, 10, 1, DOG};
	static const float det1[] = {
		1, 0, 11, 10, 0.8f, CAT,
		20, 0, 30, 12, 0.7f, DOG,
		0, 0, 10, 10, 0.9f, CAT,
	};
	static const float truth2[] = {0, 0, 20, 20, 1, CAT, 50, 50, 60, 60, 1, DOG};
	static const float det2[] = {0, 0, 20, 10, 0.6f, CAT, 0, 0, 10, 10, 0.95f, DOG};
	cnn_deteval *ev = cnn_deteval_new();
	cnn_detmetrics *m;
	cnn_pr_point pt[3];

	tap_ok(cnn_deteval_add(ev, det1, 3, truth1, 2) == CNN_OK &&
	       cnn_deteval_add(ev, det2, 2, truth2, 2) == CNN_OK, "add the two images");
	m = cnn_deteval_metrics(ev);
	tap_ok(m && m->nclass == 2 && m->cls[0].cls == CAT && m->cls[1].cls == DOG &&
	       m->cls[0].ntruth == 2 && m->cls[0].ndet == 3 && m->cls[1].ndet == 2,
	       "two classes, their truths and detections counted");
	check_ap(&m->cls[0], 28.0 / 33, 5.0 / 6, 163.0 / 303, 253.0 / 303, 51.0 / 101, "cat");
	check_ap(&m->cls[1], 3.0 / 11, 1.0 / 4, 357.0 / 2020, 51.0 / 202, 51.0 / 202, "dog");
	check_ap(&m->mean, 37.0 / 66, 13.0 / 24, 4331.0 / 12120, 659.0 / 1212, 153.0 / 404, "mean");
	tap_ok(cnn_deteval_pr(ev, CAT, pt) == 3 && pt[0].score == 0.9f && pt[0].tp == 1 &&
	       pt[1].fp == 1 && near(pt[1].precision, 0.5) && near(pt[1].recall, 0.5) &&
	       pt[2].tp == 2 && near(pt[2].precision, 2.0 / 3) && near(pt[2].recall, 1),
	       "cat's precision-recall curve: 1/0.5, 0.5/0.5, 0.667/1");
	cnn_detmetrics_free(m);
	cnn_deteval_free(ev);
}

static cnn_detmetrics *one_image(const float *det, int64_t nd, const float *truth, int64_t nt)
{
	cnn_deteval *ev = cnn_deteval_new();
	cnn_detmetrics *m = NULL;

	if (cnn_deteval_add(ev, det, nd, truth, nt) == CNN_OK)
		m = cnn_deteval_metrics(ev);
	cnn_deteval_free(ev);
	return m;
}

/* Truths A (0,0,10,10) and B (2,0,12,10) side by side, IoU 80/120. */
static void matching_rules(void)
{
	static const float truth[] = {0, 0, 10, 10, 1, 0, 2, 0, 12, 10, 1, 0};
	/* D1 takes A.  D2 overlaps A by 95/105 and B by 85/115 = 0.739: VOC
	 * counts it false (its best truth, A, is taken), COCO matches B. */
	static const float det[] = {0, 0, 10, 10, 0.9f, 0, 0.5f, 0, 10.5f, 10, 0.8f, 0};
	/* E1 overlaps A and B equally, 90/110 = 0.818: COCO takes the later,
	 * B, so that E2 still finds A (IoU 1) at every threshold.  Taking A
	 * would leave E2 only B at 0.667, false from t = 0.70. */
	static const float tie[] = {1, 0, 11, 10, 0.9f, 0, 0, 0, 10, 10, 0.8f, 0};
	cnn_detmetrics *m = one_image(det, 2, truth, 2);

	tap_ok(m && near(m->cls[0].voc, 0.5) && near(m->cls[0].ap50, 1),
	       "VOC counts a detection whose best truth is taken false (AP %.3f), COCO "
	       "matches the next truth (AP50 %.3f)", m ? m->cls[0].voc : NAN,
	       m ? m->cls[0].ap50 : NAN);
	cnn_detmetrics_free(m);
	m = one_image(tie, 2, truth, 2);
	/* t = 0.50 .. 0.80: both true, AP 1; 0.85 .. 0.95: E1 false, E2
	 * true, recall 1/2 at precision 1/2: 51/202. */
	tap_ok(m && near(m->cls[0].coco, (7 + 3 * 51.0 / 202) / 10),
	       "COCO takes the last of equally overlapping truths (AP@[.5:.95] %.6f)",
	       m ? m->cls[0].coco : NAN);
	cnn_detmetrics_free(m);
}

static void edge_cases(void)
{
	static const float truth[] = {0, 0, 10, 10, 1, 3};
	static const float det[] = {0, 0, 10, 10, 0.5f, 7};
	static const float nan_score[] = {0, 0, 10, 10, NAN, 0};
	cnn_detmetrics *m = one_image(NULL, 0, truth, 1);
	cnn_deteval *ev;

	tap_ok(m && m->nclass == 1 && m->cls[0].ndet == 0 && near(m->cls[0].voc, 0) &&
	       near(m->mean.coco, 0), "a class with truths and no detections has AP 0");
	cnn_detmetrics_free(m);
	m = one_image(det, 1, truth, 1);
	tap_ok(m && m->nclass == 2 && m->cls[1].cls == 7 && m->cls[1].ntruth == 0 &&
	       isnan(m->cls[1].voc) && near(m->mean.voc, 0),
	       "a class with detections and no truths has no AP and stays out of the mean");
	cnn_detmetrics_free(m);
	m = one_image(NULL, 0, NULL, 0);
	tap_ok(m && m->nclass == 0 && isnan(m->mean.voc11), "no boxes at all: mAP NaN");
	cnn_detmetrics_free(m);
	ev = cnn_deteval_new();
	tap_ok(cnn_deteval_add(ev, nan_score, 1, NULL, 0) == CNN_ERR &&
	       strcmp(cnn_errmsg(), "detections: box 1: score is nan") == 0,
	       "a NaN score is refused: \"%s\"", cnn_errmsg());
	cnn_deteval_free(ev);
}

static int same_ap(const cnn_ap *a, const double *want)
{
	const double got[5] = {a->voc11, a->voc, a->coco, a->ap50, a->ap75};

	for (int k = 0; k < 5; k++)
		if (!((isnan(got[k]) && isnan(want[k])) || fabs(got[k] - want[k]) <= 1e-6))
			return 0;
	return 1;
}

/* map.vec: per set, "class c ntruth ndet 5 APs" lines and a "mean" line. */
static void numpy_agreement(void)
{
	const char *dir = getenv("CNN_TEST_DATA");
	char path[4096], line[1024];
	FILE *f;
	struct map_image *img = malloc(64 * sizeof *img);
	cnn_detmetrics *m = NULL;
	int sets = 0, classes = 0, bad = 0, c = 0;

	snprintf(path, sizeof path, "%s/map.vec", dir ? dir : "tests/vectors");
	if (!tap_ok((f = fopen(path, "r")) != NULL, "open map.vec"))
		return;
	while (fgets(line, sizeof line, f)) {
		double w[5];
		long long nt, nd;
		int s, cls;

		if (sscanf(line, "set %d", &s) == 1) {
			cnn_deteval *ev = cnn_deteval_new();
			int ncls, nimg = map_set(s, img, &ncls);
			for (int i = 0; i < nimg; i++)
				cnn_deteval_add(ev, img[i].det, img[i].nd, img[i].truth, img[i].nt);
			cnn_detmetrics_free(m);
			m = cnn_deteval_metrics(ev);
			cnn_deteval_free(ev);
			sets++;
			c = 0;
		} else if (sscanf(line, "class %d %lld %lld %lf %lf %lf %lf %lf", &cls, &nt, &nd,
				  &w[0], &w[1], &w[2], &w[3], &w[4]) == 8) {
			const cnn_ap *a = c < m->nclass ? &m->cls[c++] : NULL;
			classes++;
			if (!a || a->cls != cls || a->ntruth != nt || a->ndet != nd || !same_ap(a, w))
				bad += tap_ok(0, "set %d class %d differs from numpy", sets - 1, cls) == 0;
		} else if (sscanf(line, "mean %lf %lf %lf %lf %lf", &w[0], &w[1], &w[2], &w[3],
				  &w[4]) == 5) {
			if (c != m->nclass || !same_ap(&m->mean, w))
				bad += tap_ok(0, "set %d: the means differ from numpy", sets - 1) == 0;
		}
	}
	fclose(f);
	tap_ok(sets == 6 && bad == 0,
	       "%d random sets, %d classes: every AP within 1e-6 of numpy's", sets, classes);
	cnn_detmetrics_free(m);
	free(img);
}

int main(void)
{
	hand_worked();
	matching_rules();
	edge_cases();
	numpy_agreement();
	return tap_done();
}
