/*
 * ssd_loss.c - [ssd]'s loss, torchvision's SSD.compute_loss:
 *
 *   matching   each default box takes the truth it overlaps most (IoU in
 *              the input's pixels) when that IoU is at least iou_thresh=
 *              (0.5), and each truth the default box it overlaps most,
 *              whatever the IoU (SSDMatcher; a later truth wins a box two
 *              want)
 *   positives  the matched boxes: smooth L1 (beta 1) of their 4 offsets
 *              against the truth's encoding (BoxCoder.encode_single: dx =
 *              (cx - cx_a) / (w_a v0), dw = log(w / w_a) / v2, ...), and
 *              the cross-entropy of their logits against the truth's class
 *              + 1
 *   negatives  of the others, the neg_pos= (3) x positives of the example
 *              with the highest cross-entropy against the background
 *              (class 0): hard-negative mining; an example without truths
 *              adds nothing
 *
 *   loss = (sum of the cross-entropies + alpha x sum of the smooth L1s) / N
 *
 * N the positives of the whole batch (at least 1), alpha= the paper's
 * weight of the boxes (1, as torchvision).  The gradient is exact but at
 * the ties of the mining's order.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/ssd.h"

/* torchvision's box_iou, in float. */
static float iou(const float *a, const float *b)
{
	float w = fminf(a[2], b[2]) - fmaxf(a[0], b[0]);
	float h = fminf(a[3], b[3]) - fmaxf(a[1], b[1]);
	float inter = fmaxf(w, 0) * fmaxf(h, 0);
	float area_a = (a[2] - a[0]) * (a[3] - a[1]), area_b = (b[2] - b[0]) * (b[3] - b[1]);

	return inter / (area_a + area_b - inter);
}

/* s->match for the nt truths of an example. */
static int match(struct ssd *s, const cnn_net *net, const float *truth, int64_t nt)
{
	float *best = malloc(sizeof *best * nt);
	long *box = malloc(sizeof *box * nt);

	if (!best || !box) {
		free(best);
		free(box);
		return cnn_error("out of memory");
	}
	for (int64_t j = 0; j < nt; j++)
		best[j] = -1;
	for (long i = 0; i < s->boxes; i++) {
		float a[4], top = -1;
		int who = -1;
		cnn_ssd_prior_corners(s, i, net->h, net->w, a);
		for (int64_t j = 0; j < nt; j++) {
			float v = iou(truth + j * CNN_BOX_FIELDS, a);
			if (v > top) {
				top = v;
				who = (int)j;
			}
			if (v > best[j]) {
				best[j] = v;
				box[j] = i;
			}
		}
		s->match[i] = top >= s->iou_thresh ? who : -1;
	}
	for (int64_t j = 0; j < nt; j++)
		s->match[box[j]] = (int)j;
	free(best);
	free(box);
	return CNN_OK;
}

/* The truth's offsets from default box i, in the code's order. */
static void encode(const struct ssd *s, const cnn_net *net, long i, const float *t, float *code)
{
	float a[4], aw, ah, tw = t[2] - t[0], th = t[3] - t[1];
	int yx = s->code == SSD_YXHW;

	cnn_ssd_prior_corners(s, i, net->h, net->w, a);
	aw = a[2] - a[0];
	ah = a[3] - a[1];
	code[yx ? 1 : 0] = s->weight[0] * ((t[0] + 0.5f * tw) - (a[0] + 0.5f * aw)) / aw;
	code[yx ? 0 : 1] = s->weight[1] * ((t[1] + 0.5f * th) - (a[1] + 0.5f * ah)) / ah;
	code[yx ? 3 : 2] = s->weight[2] * logf(tw / aw);
	code[yx ? 2 : 3] = s->weight[3] * logf(th / ah);
}

/* Cross-entropy of the logits z against class c; its gradient (softmax -
 * one-hot) into g when g is not NULL. */
static double cross_entropy(const float *z, int n, int c, float *g)
{
	double top = z[0], sum = 0;

	for (int k = 1; k < n; k++)
		top = fmax(top, z[k]);
	for (int k = 0; k < n; k++)
		sum += exp(z[k] - top);
	for (int k = 0; g && k < n; k++)
		g[k] = (float)(exp(z[k] - top) / sum - (k == c));
	return log(sum) + top - z[c];
}

static int by_loss(const void *x, const void *y)
{
	const struct ssd_negative *a = x, *b = y;

	return a->ce > b->ce ? -1 : a->ce < b->ce ? 1 : (a->i > b->i) - (a->i < b->i);
}

/* Example b: its raw sums, its gradient (not yet over N) into delta. */
static int example(const cnn_layer *l, const cnn_net *net, struct ssd *s, int b, double *sum,
		   int64_t *positives)
{
	long per = 4 + s->logits, nneg = 0, take;
	const float *out = l->output + (long)b * l->outputs;
	float *delta = l->delta + (long)b * l->outputs;
	int64_t nt, pos = 0;
	const float *truth = cnn_layer_truth(l, net, b, &nt);

	for (int64_t j = 0; j < nt; j++) {
		const float *t = truth + j * CNN_BOX_FIELDS;
		if (!(t[5] >= 0 && t[5] < s->classes))
			return cnn_error("example %d box %lld is of class %g; [ssd] has classes=%d",
					 b + 1, (long long)j + 1, t[5], s->classes);
		if (!(t[2] > t[0] && t[3] > t[1]))
			return cnn_error("example %d box %lld (%g, %g, %g, %g) has no area", b + 1,
					 (long long)j + 1, t[0], t[1], t[2], t[3]);
	}
	memset(delta, 0, sizeof *delta * l->outputs);
	if (nt == 0)
		return CNN_OK;
	if (match(s, net, truth, nt))
		return CNN_ERR;
	for (long i = 0; i < s->boxes; i++) {
		const float *row = out + i * per;
		float *d = delta + i * per;
		int m = s->match[i];
		if (m < 0) {
			s->negative[nneg++] = (struct ssd_negative){cross_entropy(row + 4, s->logits, 0, NULL), i};
			continue;
		}
		const float *t = truth + (long)m * CNN_BOX_FIELDS;
		float code[4];
		pos++;
		*sum += cross_entropy(row + 4, s->logits, (int)t[5] + 1, d + 4);
		encode(s, net, i, t, code);
		for (int v = 0; v < 4; v++) {
			double x = row[v] - code[v], ax = fabs(x);
			*sum += s->alpha * (ax < 1 ? 0.5 * x * x : ax - 0.5);
			d[v] = (float)(s->alpha * (ax < 1 ? x : x > 0 ? 1 : -1));
		}
	}
	take = (long)(s->neg_pos * pos);
	take = take < nneg ? take : nneg;
	qsort(s->negative, nneg, sizeof *s->negative, by_loss);
	for (long n = 0; n < take; n++) {
		long i = s->negative[n].i;
		*sum += s->negative[n].ce;
		cross_entropy(out + i * per + 4, s->logits, 0, delta + i * per + 4);
	}
	*positives += pos;
	return CNN_OK;
}

int cnn_ssd_loss(cnn_layer *l, cnn_net *net, double *loss)
{
	struct ssd *s = l->state;
	int64_t positives = 0;
	double sum = 0, scale;

	if (s->score != SSD_SOFTMAX)
		return cnn_error("[ssd] score=sigmoid runs imported models; training takes "
				 "score=softmax");
	for (int b = 0; b < net->n; b++)
		if (example(l, net, s, b, &sum, &positives))
			return CNN_ERR;
	scale = 1.0 / (positives > 0 ? positives : 1);
	for (long i = 0; i < (long)net->n * l->outputs; i++)
		l->delta[i] = (float)(l->delta[i] * scale);
	*loss = sum * scale;
	return CNN_OK;
}
