/*
 * test_box.c - IoU, GIoU and DIoU values; greedy, soft and DIoU NMS on the
 * course notes' examples and on edge cases; 100,000 boxes in one go.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cnn.h"
#include "tap.h"

static int close_to(float got, double want)
{
	return fabs(got - want) <= 1e-6;
}

static void overlaps(void)
{
	static const struct {
		float a[4], b[4];
		double iou, giou, diou;
		const char *what;
	} cases[] = {
		/* C = 3 x 3 = 9, union 7; centres 1,1 and 2,2: d^2 = 2, c^2 = 18. */
		{{0, 0, 2, 2}, {1, 1, 3, 3}, 1.0 / 7, 1.0 / 7 - 2.0 / 9, 1.0 / 7 - 2.0 / 18, "offset by 1,1"},
		{{0, 0, 4, 4}, {2, 0, 6, 4}, 1.0 / 3, 1.0 / 3, 1.0 / 3 - 4.0 / 52, "half overlapping"},
		{{0, 0, 10, 10}, {0, 0, 10, 10}, 1, 1, 1, "identical"},
		{{1, 1, 3, 3}, {0, 0, 4, 4}, 0.25, 0.25, 0.25, "one inside the other"},
		/* Touching: C = 2 x 1 = union, centres 1 apart, c^2 = 5. */
		{{0, 0, 1, 1}, {1, 0, 2, 1}, 0, 0, -1.0 / 5, "touching"},
		/* Apart: C = 3, union 2; d^2 = 4, c^2 = 10. */
		{{0, 0, 1, 1}, {2, 0, 3, 1}, 0, -1.0 / 3, -0.4, "apart"},
		{{5, 5, 5, 5}, {5, 5, 5, 5}, 0, 0, 0, "two empty boxes at one point"},
		{{2, 2, 2, 8}, {0, 0, 4, 4}, 0, -0.5, -9.0 / 80, "an empty box across a box"},
	};

	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		float iou = cnn_box_iou(cases[i].a, cases[i].b);
		float giou = cnn_box_giou(cases[i].a, cases[i].b);
		float diou = cnn_box_diou(cases[i].a, cases[i].b);
		tap_ok(close_to(iou, cases[i].iou) && close_to(giou, cases[i].giou) &&
		       close_to(diou, cases[i].diou) && cnn_box_iou(cases[i].b, cases[i].a) == iou,
		       "%s: IoU %g GIoU %g DIoU %g", cases[i].what, iou, giou, diou);
	}
}

/* NMS of rows with the options given; the kept rows in order, as "0 2 4". */
static const char *nms(const float *rows, int64_t n, const cnn_nms_opts *o, float *scores)
{
	static char out[256];
	int64_t keep[64], k;
	size_t len = 0;

	k = cnn_nms(rows, n, o, keep, scores);
	if (k < 0)
		return cnn_errmsg();
	out[0] = 0;
	for (int64_t i = 0; i < k; i++)
		len += snprintf(out + len, sizeof out - len, "%s%lld", i ? " " : "", (long long)keep[i]);
	return out;
}

static void check(const char *got, const char *want, const char *what)
{
	tap_ok(strcmp(got, want) == 0, "%s: [%s]", what, got);
}

static void greedy(void)
{
	/* The course notes' worked vector (TV-14): B1..B6. */
	static const float b[] = {
		10, 10, 50, 50, 0.9f, 0,
		12, 12, 52, 52, 0.7f, 0,
		100, 100, 140, 140, 0.8f, 0,
		102, 98, 142, 138, 0.6f, 0,
		45, 45, 85, 85, 0.65f, 0,
		200, 200, 220, 220, 0.3f, 0,
	};
	/* The slides' A-F story: scores A < B < C < D < E < F.  F keeps and
	 * drops B and D; of A, C, E, E keeps and drops A; C keeps. */
	static const float af[] = {
		31, 0, 41, 10, 0.3f, 0, /* A: IoU 90/110 with E */
		1, 1, 11, 11, 0.5f, 0,  /* B: IoU 81/119 with F */
		60, 0, 70, 10, 0.6f, 0, /* C: apart */
		0, 1, 10, 11, 0.7f, 0,  /* D: IoU 90/110 with F */
		30, 0, 40, 10, 0.8f, 0, /* E */
		0, 0, 10, 10, 0.9f, 0,  /* F */
	};
	cnn_nms_opts o;

	cnn_nms_defaults(&o);
	tap_ok(o.iou == 0.5 && o.score == 0.6 && !o.agnostic && o.method == CNN_NMS_GREEDY,
	       "defaults: IoU 0.5, score 0.6, per class, greedy");
	tap_ok(close_to(cnn_box_iou(b, b + 6), 1444.0 / 1756) &&
	       close_to(cnn_box_iou(b, b + 24), 25.0 / 3175), "IoU(B1,B2) = 0.8223, IoU(B1,B5) = 0.0079");
	check(nms(b, 6, &o, NULL), "0 2 4", "notes: keep B1 B3 B5 (B6 below the score)");
	o.score = -INFINITY;
	check(nms(b, 6, &o, NULL), "0 2 4 5", "without the score threshold B6 stays");
	o.iou = 0.9;
	check(nms(b, 6, &o, NULL), "0 2 1 4 3 5", "IoU threshold 0.9: all six, best first");
	o.iou = 0.5;
	check(nms(af, 6, &o, NULL), "5 4 2", "slides: F, then E, then C");
	o.score = 0.6;
	check(nms(af, 6, &o, NULL), "5 4 2", "a score equal to the threshold stays (C at 0.6)");
}

static void classes_and_limits(void)
{
	static const float two[] = {0, 0, 10, 10, 0.9f, 1, 1, 0, 11, 10, 0.8f, 2};
	static const float row5[] = {
		0, 0, 1, 1, 0.1f, 0, 2, 0, 3, 1, 0.5f, 0, 4, 0, 5, 1, 0.3f, 0,
		6, 0, 7, 1, 0.4f, 0, 8, 0, 9, 1, 0.2f, 0,
	};
	static const float same[] = {
		0, 0, 10, 10, 0.5f, 0, 0, 0, 10, 10, 0.5f, 0, 0, 0, 10, 10, 0.5f, 0,
	};
	static const float empty[] = {3, 3, 3, 3, 0.9f, 0, 3, 3, 3, 3, 0.8f, 0};
	cnn_nms_opts o;

	cnn_nms_defaults(&o);
	o.score = 0;
	check(nms(two, 2, &o, NULL), "0 1", "per class, overlapping boxes of two classes both stay");
	o.agnostic = 1;
	check(nms(two, 2, &o, NULL), "0", "class-agnostic, the better one stays");
	o.topk = 3;
	check(nms(row5, 5, &o, NULL), "1 3 2", "--topk 3: the three best enter");
	o.topk = 0;
	o.max = 2;
	check(nms(row5, 5, &o, NULL), "1 3", "--max 2: the two best leave");
	o.max = 0;
	check(nms(same, 3, &o, NULL), "0", "identical boxes, equal scores: the first row stays");
	check(nms(empty, 2, &o, NULL), "0 1", "empty boxes suppress nothing");
	check(nms(NULL, 0, &o, NULL), "", "no boxes");
}

static void soft_and_diou(void)
{
	/* X overlaps M by 50/100; Y overlaps nothing. */
	static const float b[] = {
		0, 0, 10, 10, 0.9f, 0,  /* M */
		0, 0, 10, 5, 0.8f, 0,   /* X */
		20, 0, 30, 10, 0.45f, 0, /* Y */
	};
	/* IoU 80/120 = 0.667; DIoU 0.667 - 4/244 = 0.650. */
	static const float d[] = {0, 0, 10, 10, 0.9f, 0, 2, 0, 12, 10, 0.8f, 0};
	float s[3];
	cnn_nms_opts o;

	cnn_nms_defaults(&o);
	o.score = 0;
	o.method = CNN_NMS_LINEAR;
	o.iou = 0.3;
	check(nms(b, 3, &o, s), "0 2 1", "linear soft-NMS re-ranks X below Y");
	tap_ok(close_to(s[0], 0.9) && close_to(s[1], 0.45) && close_to(s[2], 0.4),
	       "linear: X's score 0.8 * (1 - 0.5) = 0.4 (%g)", s[2]);
	o.final_score = 0.42;
	check(nms(b, 3, &o, s), "0 2", "linear: X at 0.4 falls below a final threshold of 0.42");
	o.method = CNN_NMS_GAUSSIAN;
	check(nms(b, 3, &o, s), "0 1 2", "Gaussian soft-NMS keeps X above Y");
	tap_ok(close_to(s[1], 0.8 * exp(-0.25 / 0.5)),
	       "Gaussian, sigma 0.5: X's score 0.8 * exp(-0.5^2 / 0.5) = 0.485225 (%g)", s[1]);
	o.sigma = 0.1;
	o.final_score = 0.001;
	check(nms(b, 3, &o, s), "0 2 1", "a smaller sigma decays more: 0.8 * exp(-2.5) = 0.0657");
	o.method = CNN_NMS_GREEDY;
	o.iou = 0.66;
	check(nms(d, 2, &o, NULL), "0", "greedy by IoU 0.667 > 0.66 drops the second");
	o.diou = 1;
	check(nms(d, 2, &o, NULL), "0 1", "DIoU-NMS: 0.650 < 0.66 keeps it");
	o.diou_beta = 0.6;
	check(nms(d, 2, &o, NULL), "0 1", "DIoU-NMS with darknet's beta 0.6: 0.667 - 0.0164^0.6 = 0.582");
	o.method = CNN_NMS_GAUSSIAN;
	check(nms(d, 2, &o, NULL), "DIoU-NMS is greedy only", "DIoU with soft-NMS is refused");
}

static void bad_input(void)
{
	static const float nan_score[] = {0, 0, 1, 1, 0.5f, 0, 0, 0, 1, 1, NAN, 0};
	static const float flipped[] = {5, 0, 1, 1, 0.5f, 0};
	static const float half[] = {0, 0, 1, 1, 0.5f, 1.5f};
	int64_t dim[2] = {5, 4};
	cnn_tensor *t = cnn_tensor_new("boxes", CNN_F32, 2, dim);
	cnn_nms_opts o;

	cnn_nms_defaults(&o);
	check(nms(nan_score, 2, &o, NULL), "box 2: score is nan", "a NaN score");
	check(nms(flipped, 1, &o, NULL), "box 1: x2 1 < x1 5", "x2 < x1");
	check(nms(half, 1, &o, NULL), "box 1: class 1.5 is not a whole number 0..16777215",
	      "a class of 1.5");
	o.iou = 1.5;
	check(nms(half, 0, &o, NULL), "IoU threshold 1.5 is not in 0..1", "an IoU threshold of 1.5");
	tap_ok(cnn_boxes_check(t, 0) == CNN_ERR &&
	       strcmp(cnn_errmsg(), "tensor \"boxes\" is f32 5x4, want N x 6") == 0,
	       "wrong shape: \"%s\"", cnn_errmsg());
	cnn_tensor_free(t);
	t = cnn_tensor_new("boxes", CNN_U8, 2, (int64_t[]){2, 6});
	tap_ok(cnn_boxes_check(t, 0) == CNN_ERR &&
	       strcmp(cnn_errmsg(), "tensor \"boxes\" is u8 2x6, want f32 N x 6") == 0,
	       "wrong dtype: \"%s\"", cnn_errmsg());
	cnn_tensor_free(t);
}

/* The processor time of this process, not the wall clock: other programs
 * on a busy machine must not fail the test (NMS runs on one thread). */
static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* 100,000 boxes of 10 to 60 pixels scattered over 2000 x 2000, in well
 * under a second (under the sanitizers, in ten). */
static void many(void)
{
	double limit = getenv("CNN_SANITIZE") ? 10 : 1;
	int64_t n = 100000, *keep = malloc((size_t)n * sizeof *keep), k[2];
	float *rows = malloc((size_t)n * 6 * sizeof *rows);
	cnn_rng rng;
	cnn_nms_opts o;
	double t;

	cnn_rng_seed(&rng, 7);
	for (int64_t i = 0; i < n; i++) {
		float *r = rows + i * 6, x = (float)(cnn_rng_uniform(&rng) * 2000);
		float y = (float)(cnn_rng_uniform(&rng) * 2000);
		r[0] = x;
		r[1] = y;
		r[2] = x + 10 + (float)(cnn_rng_uniform(&rng) * 50);
		r[3] = y + 10 + (float)(cnn_rng_uniform(&rng) * 50);
		r[4] = (float)cnn_rng_uniform(&rng);
		r[5] = (float)cnn_rng_below(&rng, 20);
	}
	cnn_nms_defaults(&o);
	o.score = 0;
	t = now();
	k[0] = cnn_nms(rows, n, &o, keep, NULL);
	o.agnostic = 1;
	k[1] = cnn_nms(rows, n, &o, keep, NULL);
	t = now() - t;
	tap_ok(k[0] > k[1] && k[1] > 0 && t < limit,
	       "100,000 boxes, per class and agnostic: %lld and %lld kept in %.0f ms",
	       (long long)k[0], (long long)k[1], t * 1000);
	free(rows);
	free(keep);
}

int main(void)
{
	overlaps();
	greedy();
	classes_and_limits();
	soft_and_diou();
	bad_input();
	many();
	return tap_done();
}
