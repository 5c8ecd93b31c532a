/*
 * test_multiscale.c - darknet's multi-scale training: cnn_net_resize()
 * against networks built at the other size, the sizes of
 * cnn_multi_scale_size() against darknet's rule (multiscale.c), and a
 * batch rescaled with its boxes.
 *
 * A network resized from 32 x 32 to 48 x 48 trains three Adam steps as
 * one built at 48 x 48 with the same weights does, to the bit (weights,
 * moments, running statistics), and back at 32 x 32 it computes what one
 * built there with those weights computes.  Networks whose parameters or
 * truth depend on the input size are refused and left working.
 */
#include <stdlib.h>
#include <string.h>

#include "nn/example.h"
#include "tap.h"

#define NET(h, w)                                                                            \
	"[net]\nbatch=2\nchannels=3\nheight=" #h "\nwidth=" #w "\noptimizer=adam\n"          \
	"learning_rate=0.01\nresize_step=16\n"
#define BODY                                                                                 \
	"[convolutional]\nbatch_normalize=1\nfilters=8\nsize=3\npad=1\nactivation=leaky\n"   \
	"[maxpool]\nsize=2\nstride=2\n"                                                      \
	"[convolutional]\nfilters=14\nsize=1\nactivation=linear\n"                          \
	"[yolo]\nmask=0,1\nanchors=6,6,12,12\nnum=2\nclasses=2\nrandom=1\n"

static cnn_net *make(const char *text)
{
	cnn_cfg *cfg = cnn_cfg_parse(text, "t.cfg");
	cnn_net *net = cfg ? cnn_net_new(cfg, 0, 3) : NULL;

	if (!net)
		tap_ok(0, "build: %s", cnn_errmsg());
	return net;
}

/* A random size x size image with one box of class k, in 1/6ths of it. */
static cnn_record *record(uint64_t seed, int size, int k)
{
	cnn_record *r = cnn_record_new();
	cnn_tensor *img = cnn_tensor_new3("image", CNN_U8, 3, size, size);
	cnn_tensor *b = cnn_boxes_new("boxes_true", 1);
	float *row = (float *)b->data, s = size / 6.0f;
	cnn_rng rng;

	cnn_rng_seed(&rng, seed);
	for (int i = 0; i < 3 * size * size; i++)
		((uint8_t *)img->data)[i] = (uint8_t)cnn_rng_below(&rng, 256);
	row[0] = s;
	row[1] = 2 * s;
	row[2] = 4 * s;
	row[3] = 5 * s;
	row[4] = 1;
	row[5] = (float)k;
	cnn_record_put(r, img);
	cnn_record_put(r, b);
	return r;
}

static cnn_batch *batch_at(const cnn_net *net, int size)
{
	cnn_batch *b = cnn_batch_new(net, NULL);
	cnn_record *r0 = record(1, size, 0), *r1 = record(2, size, 1);

	if (!b || cnn_batch_add(b, r0) || cnn_batch_add(b, r1))
		tap_ok(0, "batch: %s", cnn_errmsg());
	cnn_record_free(r0);
	cnn_record_free(r1);
	return b;
}

/* Are every parameter and moment of a and b the same bits? */
static int same_params(const cnn_net *a, const cnn_net *b)
{
	for (int i = 0; i < a->nlayers; i++)
		for (int p = 0; p < a->layer[i].nparam; p++) {
			const cnn_param *x = &a->layer[i].param[p], *y = &b->layer[i].param[p];
			size_t n = sizeof(float) * x->count;
			if (memcmp(x->value, y->value, n) || (!x->m) != (!y->m) ||
			    (x->m && (memcmp(x->m, y->m, n) || memcmp(x->v, y->v, n))))
				return 0;
		}
	return 1;
}

static int train(cnn_net *net, const cnn_batch *b, int steps)
{
	double loss;

	for (int i = 0; i < steps; i++)
		if (cnn_net_gradients(net, b, &loss) || cnn_net_update(net, cnn_batch_count(b)))
			return CNN_ERR;
	return CNN_OK;
}

static void resize_trains_as_built(void)
{
	cnn_net *a = make(NET(32, 32) BODY), *big = make(NET(48, 48) BODY);
	cnn_net *small = make(NET(32, 32) BODY);
	cnn_batch *b48 = NULL, *b32 = NULL;
	int c, h, w;

	if (!a || !big || !small)
		goto done;
	cnn_net_copy_params(big, a, -1);
	tap_ok(cnn_net_resize(a, 48, 48) == CNN_OK, "resize 32 x 32 to 48 x 48");
	cnn_net_input_shape(a, &c, &h, &w);
	tap_ok(c == 3 && h == 48 && w == 48 && cnn_net_outputs(a) == cnn_net_outputs(big),
	       "the input is 3 x %d x %d, the output %ld values (built there: %ld)", h, w,
	       cnn_net_outputs(a), cnn_net_outputs(big));
	b48 = batch_at(a, 48);
	tap_ok(train(a, b48, 3) == CNN_OK && train(big, b48, 3) == CNN_OK,
	       "three Adam steps at 48 x 48 on each");
	tap_ok(same_params(a, big),
	       "weights, Adam's moments and the running statistics are the same bits");
	tap_ok(cnn_net_resize(a, 32, 32) == CNN_OK, "back to 32 x 32");
	cnn_net_copy_params(small, a, -1);
	b32 = batch_at(a, 32);
	const float *ya = cnn_net_forward(a, cnn_batch_input(b32), 2, 0);
	const float *ys = ya ? cnn_net_forward(small, cnn_batch_input(b32), 2, 0) : NULL;
	tap_ok(ys && !memcmp(ya, ys, sizeof(float) * 2 * cnn_net_outputs(a)),
	       "its output is that of one built at 32 x 32 with its weights");
done:
	cnn_batch_free(b48);
	cnn_batch_free(b32);
	cnn_net_free(a);
	cnn_net_free(big);
	cnn_net_free(small);
}

/* A loss of the tests' own that reads a mask of the input's size. */
static int build_mask(cnn_layer *l, cnn_net *net, cnn_cfg_section *s)
{
	(void)net;
	(void)s;
	l->truth = (cnn_truth_field){"mask", CNN_TRUTH_MASK, (long)l->h * l->w};
	return CNN_OK;
}

static int forward_copy(cnn_layer *l, cnn_net *net)
{
	memcpy(l->output, l->input, sizeof(float) * net->n * l->inputs);
	return CNN_OK;
}

static int no_loss(cnn_layer *l, cnn_net *net, double *loss)
{
	memset(l->delta, 0, sizeof(float) * net->n * l->outputs);
	*loss = 0;
	return CNN_OK;
}

static const cnn_layer_type mask_test = {
	.name = "mask_test", .build = build_mask, .forward = forward_copy, .loss = no_loss,
};

static void refusals(void)
{
	cnn_net *fc = make(NET(32, 32) "[convolutional]\nfilters=2\nsize=3\nstride=2\n"
				       "[connected]\noutput=4\n[softmax]\n");
	cnn_net *mask = make(NET(32, 32) "[convolutional]\nfilters=1\nsize=1\n[mask_test]\n");
	const char *e;
	int c, h, w;

	if (!fc || !mask)
		goto done;
	tap_ok(cnn_net_resize(fc, 48, 48) == CNN_ERR, "a [connected] network does not resize");
	e = cnn_errmsg();
	tap_ok(strstr(e, "layer 1 [connected]") && strstr(e, "fully convolutional"), "%s", e);
	cnn_net_input_shape(fc, &c, &h, &w);
	float x[3 * 32 * 32] = {0};
	tap_ok(h == 32 && w == 32 && cnn_net_forward(fc, x, 1, 0),
	       "and it still runs at 32 x 32");
	tap_ok(cnn_net_resize(mask, 48, 48) == CNN_ERR && strstr(cnn_errmsg(), "\"mask\""),
	       "nor one whose truth is a mask: %s", cnn_errmsg());
	tap_ok(cnn_net_resize(fc, 0, 32) == CNN_ERR, "nor to 0 x 32: %s", cnn_errmsg());
done:
	cnn_net_free(fc);
	cnn_net_free(mask);
}

/* darknet's sizes: at 416 with random=1 (1.4) pjreddie's 320 to 608 in
 * steps of 32, the largest for the first 10 batches and after the last
 * 100; at 96, 96, 128 and 160. */
static void sizes(void)
{
	cnn_train_params hp = {.multi_scale = 1.4f, .resize_step = 32};
	int seen[20] = {0}, bad = 0, h, w, h2, w2, kinds = 0;

	for (int64_t step = 0; step < 20000; step += 7) {
		cnn_multi_scale_size(&hp, 5, 416, 416, step, 20000, &h, &w);
		cnn_multi_scale_size(&hp, 5, 416, 416, step, 20000, &h2, &w2);
		bad += h != w || h % 32 || h < 320 || h > 608 || h != h2 || w != w2;
		if (!bad)
			seen[h / 32] = 1;
		if ((step < 10 || step >= 19910) && h != 608)
			bad++;
	}
	for (int i = 10; i <= 19; i++)
		kinds += seen[i];
	tap_ok(!bad && kinds == 10, "416: every size of 320 to 608 by 32 (%d of 10), 608 first "
				    "and last, the same for the same step",
	       kinds);
	memset(seen, 0, sizeof seen);
	bad = kinds = 0;
	for (int64_t step = 10; step < 5000; step += 10) {
		cnn_multi_scale_size(&hp, 9, 96, 96, step, -1, &h, &w);
		bad += h != w || (h != 96 && h != 128 && h != 160);
		seen[h / 32] = 1;
	}
	tap_ok(!bad && seen[3] && seen[4] && seen[5], "96: 96, 128 and 160 only, each drawn");
	cnn_multi_scale_size(&hp, 9, 96, 64, 4999, -1, &h, &w);
	cnn_multi_scale_size(&hp, 9, 96, 64, 0, 10, &h2, &w2);
	tap_ok(h2 == 160 && w2 == 128, "96 x 64 starts at 160 x 128 (got %d x %d)", h2, w2);
	hp.multi_scale = 0;
	cnn_multi_scale_size(&hp, 9, 96, 64, 0, 10, &h, &w);
	tap_ok(h == 96 && w == 64, "off: the network's own size");
}

static void rescale(void)
{
	cnn_net *net = make(NET(32, 32) BODY);
	cnn_batch *src = NULL, *dst = NULL;
	cnn_input_rule rule;

	if (!net)
		return;
	src = batch_at(net, 32);
	if (cnn_net_resize(net, 48, 48) || !(dst = cnn_batch_new(net, NULL)) ||
	    cnn_batch_rescale(dst, src, net, 3, 32, 32)) {
		tap_ok(0, "rescale: %s", cnn_errmsg());
		goto done;
	}
	int64_t rows;
	const float *box = cnn_batch_truth(dst, 0, 1, &rows);
	float s = 48 / 6.0f;
	tap_ok(cnn_batch_count(dst) == 2 && rows == 1 && fabsf(box[0] - s) < 1e-5f &&
		       fabsf(box[1] - 2 * s) < 1e-5f && fabsf(box[2] - 4 * s) < 1e-5f &&
		       fabsf(box[3] - 5 * s) < 1e-5f && box[5] == 1,
	       "the boxes grow with the image: %g %g %g %g class %g", box[0], box[1], box[2],
	       box[3], box[5]);
	cnn_tensor *img = cnn_tensor_new3("image", CNN_F32, 3, 32, 32), *fit;
	memcpy(img->data, cnn_batch_input(src) + 3 * 32 * 32, sizeof(float) * 3 * 32 * 32);
	cnn_net_input_rule(net, &rule);
	fit = cnn_image_fit(img, 48, 48, &rule);
	tap_ok(fit && !memcmp(fit->data, cnn_batch_input(dst) + 3 * 48 * 48,
			      sizeof(float) * 3 * 48 * 48),
	       "the image is cnn_image_fit's at 48 x 48");
	cnn_tensor_free(img);
	cnn_tensor_free(fit);
done:
	cnn_batch_free(src);
	cnn_batch_free(dst);
	cnn_net_free(net);
}

int main(void)
{
	cnn_layer_type_add(&mask_test);
	resize_trains_as_built();
	refusals();
	sizes();
	rescale();
	return tap_done();
}
