/*
 * detect.c - the boxes a network's detection layers find (cnn.h's
 * cnn_net_detections), gathered from each layer's own decoding (the detect
 * hook of its type: [detection], [region], [yolo], [ssd]).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/grow.h"
#include "nn/head.h"

int cnn_box_rows_add(cnn_box_rows *r, double x1, double y1, double x2, double y2,
		     double score, int cls)
{
	const double v[CNN_BOX_FIELDS] = {x1, y1, x2, y2, score, cls};
	size_t cap = (size_t)r->cap * sizeof(float);

	for (int i = 0; i < CNN_BOX_FIELDS; i++)
		if (!isfinite(v[i]) || fabs(v[i]) > 3e38)
			return cnn_error("box %lld: %s is not finite", (long long)r->n + 1,
					 (const char *[]){"x1", "y1", "x2", "y2", "score", "class"}[i]);
	if ((r->n + 1) * CNN_BOX_FIELDS > r->cap) {
		if (cnn_grow((void **)&r->row, &cap, (size_t)(r->n + 1) * CNN_BOX_FIELDS * sizeof(float),
			     cnn_max_tensor_bytes()))
			return CNN_ERR;
		r->cap = (int64_t)(cap / sizeof(float));
	}
	for (int i = 0; i < CNN_BOX_FIELDS; i++)
		r->row[r->n * CNN_BOX_FIELDS + i] = (float)v[i];
	r->n++;
	return CNN_OK;
}

int cnn_head_truths(const cnn_layer *l, const cnn_net *net, int b, int classes,
		    struct cbox **t, int **cls, int64_t *n)
{
	const float *row = cnn_layer_truth(l, net, b, n);

	*t = malloc(sizeof **t * (size_t)(*n ? *n : 1));
	*cls = malloc(sizeof **cls * (size_t)(*n ? *n : 1));
	if (!*t || !*cls)
		return cnn_error("out of memory");
	for (int64_t i = 0; i < *n; i++, row += CNN_BOX_FIELDS) {
		if (!(row[5] >= 0 && row[5] < classes))
			return cnn_error("box %lld is of class %g; [%s] has classes=%d",
					 (long long)i + 1, row[5], l->type->name, classes);
		(*t)[i] = (struct cbox){(row[0] + row[2]) / 2 / net->w,
					(row[1] + row[3]) / 2 / net->h, (row[2] - row[0]) / net->w,
					(row[3] - row[1]) / net->h};
		(*cls)[i] = (int)row[5];
	}
	return CNN_OK;
}

int cnn_head_anchors(cnn_cfg_section *s, float *anchor, int max, int num, const char *unit)
{
	int n;

	if (cnn_cfg_list(s, "anchors", anchor, max, &n))
		return CNN_ERR;
	if (n == 0)
		for (int i = 0; i < 2 * num; i++)
			anchor[i] = 0.5f; /* darknet's default biases */
	else if (n != 2 * num)
		return cnn_cfg_error(s, "anchors= has %d numbers; num=%d wants %d (w,h pairs)", n,
				     num, 2 * num);
	for (int i = 0; i < 2 * num; i++)
		if (!(anchor[i] > 0))
			return cnn_cfg_error(s, "anchors= must be positive (in %s)", unit);
	return CNN_OK;
}

int cnn_head_multi_scale(cnn_net *net, cnn_cfg_section *s)
{
	float random;

	if (cnn_cfg_float(s, "random", 0, 0, 10, &random))
		return CNN_ERR;
	if (random > 0 && random < 1)
		return cnn_cfg_error(s, "random=%g: 0 (off), 1 (sizes 1/1.4 to 1.4 times the "
				     "input's) or the largest factor, above 1", random);
	/* darknet trains at the last detection layer's. */
	net->hp.multi_scale = random == 1 ? 1.4f : random;
	return CNN_OK;
}

int cnn_head_targets_alloc(cnn_head_targets *ht, const cnn_layer *l, cnn_net *net)
{
	int64_t dim[2] = {net->batch, l->inputs};

	if (cnn_net_claim(net, 2, 2, dim, "targets"))
		return CNN_ERR;
	ht->target = malloc(sizeof(float) * (size_t)(dim[0] * dim[1]));
	ht->weight = malloc(sizeof(float) * (size_t)(dim[0] * dim[1]));
	return ht->target && ht->weight ? CNN_OK : cnn_error("out of memory");
}

void cnn_head_targets_free(cnn_head_targets *ht)
{
	free(ht->target);
	free(ht->weight);
}

int cnn_head_backward_fused(const cnn_head_targets *ht, cnn_layer *l, const cnn_net *net)
{
	if (!ht->fused)
		return 0;
	for (long i = 0; i < (long)net->n * l->outputs; i++)
		l->input_delta[i] += l->delta[i];
	return 1;
}

int cnn_head_place_batch(const cnn_layer *l, const cnn_net *net, cnn_head_targets *ht,
			 int classes, cnn_head_place place, void *head)
{
	memset(ht->weight, 0, sizeof(float) * (size_t)net->n * l->outputs);
	for (int b = 0; b < net->n; b++) {
		struct cbox *t = NULL;
		int *cls = NULL, ret;
		int64_t nt;
		if (!(ret = cnn_head_truths(l, net, b, classes, &t, &cls, &nt)))
			place(l, net, head, b, t, cls, nt);
		free(t);
		free(cls);
		if (ret)
			return cnn_error_context("example %d of the batch", b + 1);
	}
	return CNN_OK;
}

int cnn_head_detect(const cnn_layer *l, const cnn_net *net, int b, double thresh, int num,
		    int classes, const float *anchor, cnn_box_rows *out)
{
	long plane = (long)l->h * l->w, entries = 5 + classes;

	for (long p = 0; p < plane; p++)
		for (int n = 0; n < num; n++) {
			const float *y = l->output + (long)b * l->outputs + n * entries * plane + p;
			double obj = y[4 * plane], cx, cy, w, h;
			if (!(obj > thresh))
				continue;
			cx = (p % l->w + (double)y[0]) / l->w * net->w;
			cy = (p / l->w + (double)y[plane]) / l->h * net->h;
			w = exp(y[2 * plane]) * anchor[2 * n];
			h = exp(y[3 * plane]) * anchor[2 * n + 1];
			for (int k = 0; k < (classes ? classes : 1); k++) {
				double score = classes ? obj * y[(5 + k) * plane] : obj;
				if (score > thresh &&
				    cnn_box_rows_add(out, cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2,
						     score, k))
					return CNN_ERR;
			}
		}
	return CNN_OK;
}

static int detects(const cnn_layer *l)
{
	return l->type->detect != NULL;
}

int cnn_net_detects(const cnn_net *net)
{
	for (int i = 0; i < net->nlayers; i++)
		if (detects(&net->layer[i]))
			return 1;
	return 0;
}

cnn_tensor *cnn_net_detections(const cnn_net *net, int b, double thresh, double *nms)
{
	cnn_box_rows rows = {0};
	cnn_tensor *t = NULL;
	int found = 0;

	*nms = 0;
	if (b < 0 || b >= net->n)
		return cnn_error("example %d of a batch of %d", b, net->n), NULL;
	for (int i = 0; i < net->nlayers; i++) {
		const cnn_layer *l = &net->layer[i];
		double want;
		if (!detects(l))
			continue;
		if (l->type->detect(l, net, b, thresh, &rows, &want)) {
			cnn_error_context("layer %d [%s]", i, l->type->name);
			free(rows.row);
			return NULL;
		}
		/* Several heads: the strictest. */
		*nms = found++ && *nms < want ? *nms : want;
	}
	if (!found)
		cnn_error("the network has no detection layer ([detection], [region], "
			  "[yolo], [ssd])");
	else if ((t = cnn_boxes_new("boxes", rows.n)) && rows.n)
		memcpy(t->data, rows.row, (size_t)rows.n * CNN_BOX_FIELDS * sizeof(float));
	free(rows.row);
	return t;
}
