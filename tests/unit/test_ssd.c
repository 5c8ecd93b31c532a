/*
 * test_ssd.c - [ssd] against torchvision (tests/vectors/make-ssd.py,
 * ssd.vec): SSD300's 8,732 default boxes and their corners, a small
 * head's default boxes, and on a batch of three (two, none and three
 * truths) SSD.compute_loss's loss and its gradient by autograd, and the
 * decoding of example 0; then a whole network's gradient check, and the
 * cfg's errors.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/example.h"
#include "nn/ssd.h"
#include "tap.h"
#include "vectors.h"

/* A head on maps made by 1x1 convolutions of the input at strides: one
 * loc and one conf layer for each, named l0, c0, l1, c1, ... */
static cnn_net *head(int h, int w, const int *stride, const int *boxes, int nmaps,
		     int logits, const char *keys)
{
	char text[8192], loc[256] = "", conf[256] = "";
	int at = snprintf(text, sizeof text,
			  "[net]\nbatch=3\nchannels=1\nheight=%d\nwidth=%d\n"
			  "[convolutional]\nfilters=2\nsize=1\nactivation=linear\nname=base\n",
			  h, w);
	cnn_cfg *cfg;
	cnn_net *net;

	for (int k = 0; k < nmaps; k++) {
		at += snprintf(text + at, sizeof text - at,
			       "[route]\nlayers=base\n[convolutional]\nname=l%d\nfilters=%d\nsize=1\n"
			       "stride=%d\nactivation=linear\n[route]\nlayers=base\n"
			       "[convolutional]\nname=c%d\nfilters=%d\nsize=1\nstride=%d\n"
			       "activation=linear\n",
			       k, 4 * boxes[k], stride[k], k, logits * boxes[k], stride[k]);
		snprintf(loc + strlen(loc), sizeof loc - strlen(loc), "%sl%d", k ? "," : "", k);
		snprintf(conf + strlen(conf), sizeof conf - strlen(conf), "%sc%d", k ? "," : "", k);
	}
	snprintf(text + at, sizeof text - at, "[ssd]\nloc=%s\nconf=%s\n%s", loc, conf, keys);
	cfg = cnn_cfg_parse(text, "t.cfg");
	net = cfg ? cnn_net_new(cfg, 0, 7) : NULL;
	return net;
}

static struct ssd *ssd_of(cnn_net *net)
{
	return net->layer[net->nlayers - 1].state;
}

/* The default boxes' corners against a priors record. */
static void check_priors(struct vec_file *v, const char *line, cnn_net *net, const char *what)
{
	struct ssd *s = ssd_of(net);
	int n, every;
	long picked;
	float *want;
	double worst = 0;

	vec_ints(v, line, "n", &n, 1);
	vec_ints(v, line, "every", &every, 1);
	picked = (n - 1) / every + 1 + ((n - 1) % every != 0);
	want = vec_floats(v, 4 * picked);
	for (long r = 0; r < picked; r++) {
		long i = r * every < n ? r * every : n - 1;
		float box[4];
		cnn_ssd_prior_corners(s, i < s->boxes ? i : 0, net->h, net->w, box);
		for (int k = 0; k < 4; k++)
			worst = fmax(worst, fabs(box[k] - want[4 * r + k]));
	}
	tap_ok(s->boxes == n && worst < 1e-4, "%s: %ld default boxes (torchvision's %d), the "
					      "corners of %ld within %.1e px",
	       what, s->boxes, n, picked, worst);
	free(want);
}

/* A batch of records: a blank image and the truths. */
static cnn_batch *batch_of(const cnn_net *net, float **truth, const int *count, int n)
{
	cnn_batch *b = cnn_batch_new(net, NULL);

	for (int e = 0; e < n; e++) {
		cnn_record *r = cnn_record_new();
		cnn_tensor *img = cnn_tensor_new3("image", CNN_F32, 1, net->h, net->w);
		cnn_tensor *boxes = cnn_boxes_new("boxes_true", count[e]);
		for (int j = 0; j < count[e]; j++) {
			float *row = (float *)boxes->data + j * CNN_BOX_FIELDS;
			memcpy(row, truth[e] + 5 * j, 4 * sizeof *row);
			row[4] = 1;
			row[5] = truth[e][5 * j + 4];
		}
		memset(img->data, 0, cnn_tensor_bytes(img));
		cnn_record_put(r, img);
		cnn_record_put(r, boxes);
		if (cnn_batch_add(b, r))
			tap_ok(0, "batch: %s", cnn_errmsg());
		cnn_record_free(r);
	}
	return b;
}

/* The loss record: torchvision's loss, gradient and decoding. */
static void check_loss(struct vec_file *v, const char *line, cnn_net *net)
{
	cnn_layer *l = &net->layer[net->nlayers - 1];
	struct ssd *s = l->state;
	int classes, batch, count[3];
	float *truth[3];
	cnn_batch *b;
	double loss, worst = 0, worst_box = 0, worst_p = 0, worst_back = 0;
	long per;

	vec_ints(v, line, "classes", &classes, 1);
	vec_ints(v, line, "batch", &batch, 1);
	vec_ints(v, line, "truths", count, 3);
	per = 4 + classes + 1;
	for (int e = 0; e < 3; e++)
		truth[e] = vec_floats(v, 5L * count[e]);
	float *out = vec_floats(v, batch * s->boxes * per), *want_loss = vec_floats(v, 1);
	float *grad = vec_floats(v, batch * s->boxes * per);
	float *box = vec_floats(v, s->boxes * 4), *prob = vec_floats(v, s->boxes * (classes + 1));
	b = batch_of(net, truth, count, 3);
	/* The head's values as the gathering leaves them; then the loss. */
	net->n = batch;
	net->in_hand = b;
	memcpy(l->output, out, sizeof *out * batch * s->boxes * per);
	tap_ok(!v->bad && l->type->loss(l, net, &loss) == CNN_OK, "the loss of the batch runs%s",
	       v->bad ? " (the vectors are short)" : "");
	for (long i = 0; i < batch * s->boxes * per; i++)
		worst = fmax(worst, fabs(l->delta[i] - grad[i]));
	tap_ok(fabs(loss - *want_loss) < 1e-4 * fabs(*want_loss) && worst < 1e-6,
	       "torchvision's SSD loss %.6f: ours %.6f; its gradient within %.1e (3 examples, "
	       "2, 0 and 3 truths, hard negatives 3:1)",
	       *want_loss, loss, worst);
	/* Backward hands each value's gradient to its map's layer. */
	for (int k = 0; k < s->nmaps; k++) {
		memset(s->map[k].loc->delta, 0, sizeof(float) * batch * s->map[k].loc->outputs);
		memset(s->map[k].conf->delta, 0, sizeof(float) * batch * s->map[k].conf->outputs);
	}
	l->type->backward(l, net);
	for (int k = 0; k < s->nmaps; k++) {
		cnn_layer *loc = s->map[k].loc, *conf = s->map[k].conf;
		memcpy(loc->output, loc->delta, sizeof(float) * batch * loc->outputs);
		memcpy(conf->output, conf->delta, sizeof(float) * batch * conf->outputs);
	}
	l->type->forward(l, net);
	for (long i = 0; i < batch * s->boxes * per; i++)
		worst_back = fmax(worst_back, fabs(l->output[i] - grad[i]));
	tap_ok(worst_back < 1e-6, "backward puts each gradient where forward took its value "
				  "(within %.1e)",
	       worst_back);
	/* Example 0 decoded, every box and class. */
	memcpy(l->output, out, sizeof *out * batch * s->boxes * per);
	cnn_box_rows rows = {0};
	double nms;
	if (l->type->detect(l, net, 0, -1, &rows, &nms) == CNN_OK &&
	    rows.n == s->boxes * classes) {
		for (long i = 0; i < s->boxes; i++)
			for (int k = 0; k < classes; k++) {
				const float *r = rows.row + (i * classes + k) * CNN_BOX_FIELDS;
				for (int c = 0; c < 4; c++)
					worst_box = fmax(worst_box, fabs(r[c] - box[4 * i + c]));
				worst_p = fmax(worst_p, fabs(r[4] - prob[i * (classes + 1) + k + 1]));
				worst_p = fmax(worst_p, r[5] == k ? 0 : 1);
			}
	} else {
		worst_box = INFINITY;
	}
	tap_ok(worst_box < 1e-4 && worst_p < 1e-6 && fabs(nms - 0.45) < 1e-6,
	       "example 0 decoded as torchvision decodes it: %ld rows, boxes within %.1e px, "
	       "scores within %.1e, NMS at %.2f",
	       rows.n, worst_box, worst_p, nms);
	free(rows.row);
	net->in_hand = NULL;
	cnn_batch_free(b);
	for (int e = 0; e < 3; e++)
		free(truth[e]);
	free(out);
	free(want_loss);
	free(grad);
	free(box);
	free(prob);
}

static void vectors(void)
{
	static const int s300[6] = {8, 16, 32, 64, 100, 300}, b300[6] = {4, 6, 6, 6, 4, 4};
	static const int s_small[2] = {8, 16}, b_small[2] = {4, 6};
	cnn_net *big = head(300, 300, s300, b300, 6, 2,
			    "classes=1\naspect_ratios=[[2],[2,3],[2,3],[2,3],[2],[2]]\n"
			    "scales=0.07,0.15,0.33,0.51,0.69,0.87,1.05\nsteps=8,16,32,64,100,300\n");
	cnn_net *small = head(48, 64, s_small, b_small, 2, 4,
			      "classes=3\naspect_ratios=[[2], [2, 3]]\nmin_ratio=0.2\nmax_ratio=0.8\n");
	struct vec_file v;
	char line[1024];

	if (!big || !small || vec_open(&v, "ssd.vec")) {
		tap_ok(0, "ssd.vec: %s", cnn_errmsg());
		goto done;
	}
	while (vec_header(&v, line, sizeof line)) {
		if (strstr(line, "priors name=ssd300"))
			check_priors(&v, line, big, "SSD300 (torchvision's ssd300_vgg16)");
		else if (strstr(line, "priors name=small"))
			check_priors(&v, line, small, "two maps of 8x6 and 4x3 at 64x48");
		else if (!strncmp(line, "loss ", 5))
			check_loss(&v, line, small);
	}
	vec_close(&v);
done:
	cnn_net_free(big);
	cnn_net_free(small);
}

/* The whole network's gradient, through the convolutions, the gathering
 * and the loss, against central differences. */
static void gradient_check(void)
{
	static const int stride[2] = {8, 16}, boxes[2] = {4, 6};
	cnn_net *net = head(48, 64, stride, boxes, 2, 3,
			    "classes=2\naspect_ratios=[[2],[2,3]]\nmin_ratio=0.2\nmax_ratio=0.8\n");
	float t0[10] = {4, 6, 30, 40, 0, 35, 10, 60, 30, 1}, t1[5] = {10, 12, 50, 44, 1};
	float *truth[3] = {t0, t1, t1};
	int count[3] = {2, 1, 0};
	cnn_batch *b;
	double worst;

	if (!net) {
		tap_ok(0, "build: %s", cnn_errmsg());
		return;
	}
	b = batch_of(net, truth, count, 3);
	/* A varied image, so that every output differs. */
	float *x = (float *)cnn_batch_input(b);
	for (long i = 0; i < 3L * net->h * net->w; i++)
		x[i] = (float)sin(0.37 * i) * 0.5f + 0.5f;
	worst = cnn_net_gradcheck(net, b, 0, 1e-3, NULL, NULL);
	tap_ok(worst >= 0 && worst < 2e-3, "gradient check of a network with an [ssd] head "
					   "(worst %.1e)",
	       worst);
	cnn_batch_free(b);
	cnn_net_free(net);
}

static void errors(void)
{
	static const int stride[1] = {8}, boxes[1] = {4};
	static const struct {
		const char *keys, *says;
	} bad[] = {
		{"classes=2\naspect_ratios=[[2,3]]\n", "map 0: 6 boxes a cell want filters=24 in loc layer 2 (it has 16)"},
		{"classes=3\naspect_ratios=[[2]]\n", "map 0: 4 boxes a cell of 4 logits want filters=16 in conf layer 4 (it has 12)"},
		{"classes=2\naspect_ratios=[2]\n", "want torchvision's form"},
		{"classes=2\naspect_ratios=[[2],[3]]\n", "has 2 lists for 1 maps"},
		{"classes=2\n", "needs aspect_ratios= (default boxes made here) or priors="},
		{"classes=2\naspect_ratios=[[2]]\nscales=0.1\n", "scales= has 1 values; 1 maps want 2"},
	};

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		cnn_net *net = head(32, 32, stride, boxes, 1, 3, bad[i].keys);
		tap_ok(!net && strstr(cnn_errmsg(), bad[i].says), "refused: %s", cnn_errmsg());
		cnn_net_free(net);
	}
}

int main(void)
{
	vectors();
	gradient_check();
	errors();
	return tap_done();
}
