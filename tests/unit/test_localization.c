/*
 * test_localization.c - [localization], classification with localisation:
 * the notes' loss worked by hand on an example with an object and one
 * without (only p_c counts there), its gradient against central
 * differences through a [connected] layer, the decoding, the refusals.
 */
#include <math.h>
#include <string.h>

#include "nn/example.h"
#include "tap.h"

#define NET(extra) "[net]\nbatch=2\nchannels=1\nheight=8\nwidth=10\n" \
	"[connected]\noutput=8\nactivation=linear\n[localization]\nclasses=3\n" extra

/* An 8 x 10 image of noise and n boxes (x1 y1 x2 y2 class). */
static cnn_record *record(uint64_t seed, int n, const float (*box)[5])
{
	cnn_record *r = cnn_record_new();
	cnn_tensor *img = cnn_tensor_new3("image", CNN_F32, 1, 8, 10), *b = cnn_boxes_new("boxes_true", n);
	cnn_rng rng;

	cnn_rng_seed(&rng, seed);
	for (int i = 0; i < 80; i++)
		((float *)img->data)[i] = (float)cnn_rng_uniform(&rng);
	for (int i = 0; i < n; i++) {
		float *row = (float *)b->data + i * CNN_BOX_FIELDS;
		memcpy(row, box[i], 4 * sizeof *row);
		row[4] = 1;
		row[5] = box[i][4];
	}
	cnn_record_put(r, img);
	cnn_record_put(r, b);
	return r;
}

static cnn_batch *batch_of(cnn_net *net, cnn_record *a, cnn_record *b)
{
	cnn_batch *bt = cnn_batch_new(net, NULL);

	if (!bt || cnn_batch_add(bt, a) || cnn_batch_add(bt, b))
		tap_ok(0, "batch: %s", cnn_errmsg());
	cnn_record_free(a);
	cnn_record_free(b);
	return bt;
}

int main(void)
{
	static const float one[1][5] = {{2, 1, 7, 5, 2}}, two[2][5] = {{0, 0, 1, 1, 0}, {1, 1, 2, 2, 0}};
	cnn_cfg *cfg = cnn_cfg_parse(NET(""), "t.cfg");
	cnn_net *net = cfg ? cnn_net_new(cfg, 0, 3) : NULL;
	cnn_batch *b = net ? batch_of(net, record(1, 1, one), record(2, 0, NULL)) : NULL;
	cnn_layer *l = net ? &net->layer[1] : NULL;
	double loss = NAN, want = 0;

	if (!b || cnn_net_loss(net, b, &loss)) {
		tap_ok(0, "loss: %s", cnn_errmsg());
		return tap_done();
	}
	/* By hand: example 1 has an object of class 2, box centre (4.5 / 10,
	 * 3 / 8), height 4 / 8, width 5 / 10; example 2 none. */
	const float t[4] = {0.45f, 0.375f, 0.5f, 0.5f};
	const float *y = l->output, *z = l->input;
	want += log1p(exp(-z[0]));
	for (int k = 0; k < 4; k++)
		want += (y[1 + k] - t[k]) * (y[1 + k] - t[k]) / 2;
	want -= log(y[5 + 2]);
	want += log1p(exp(z[8]));
	want /= 2;
	tap_ok(fabs(loss - want) < 1e-5, "the notes' loss: %.6f (by hand %.6f): with an object "
					 "p_c, box and class; without, p_c alone",
	       loss, want);
	/* coord_scale=5 weighs the box's term alone: the same weights (the
	 * same seed), the same batch. */
	double box = 0, weighted = NAN;
	for (int k = 0; k < 4; k++)
		box += (y[1 + k] - t[k]) * (y[1 + k] - t[k]) / 2 / 2;
	cnn_cfg *cfg5 = cnn_cfg_parse(NET("coord_scale=5\n"), "t.cfg");
	cnn_net *net5 = cfg5 ? cnn_net_new(cfg5, 0, 3) : NULL;
	int ran = net5 && cnn_net_loss(net5, b, &weighted) == CNN_OK;
	tap_ok(ran && fabs(weighted - (want + 4 * box)) < 1e-5,
	       "coord_scale=5: %.6f, the box's term five times (%.6f)", weighted, want + 4 * box);
	cnn_net_free(net5);
	double worst = cnn_net_gradcheck(net, b, 0, 1e-3, NULL, NULL);
	tap_ok(worst >= 0 && worst < 2e-3, "gradient check through [connected] (worst %.1e)", worst);
	double nms;
	cnn_tensor *found = cnn_net_detections(net, 0, -1, &nms);
	const float *f = found ? found->data : NULL;
	/* A negative size is an empty box. */
	float bh = fmaxf(y[3], 0), bw = fmaxf(y[4], 0);
	tap_ok(f && found->dim[0] == 1 && fabsf(f[0] - (y[1] * 10 - bw * 5)) < 1e-4f &&
		       fabsf(f[3] - (y[2] * 8 + bh * 4)) < 1e-4f &&
		       fabsf(f[4] - y[0] * fmaxf(y[5], fmaxf(y[6], y[7]))) < 1e-6f,
	       "one box, the centre and size in the input's pixels, scored p_c x the best class");
	cnn_tensor_free(found);
	cnn_batch_free(b);
	b = batch_of(net, record(1, 2, two), record(2, 0, NULL));
	tap_ok(b && cnn_net_loss(net, b, &loss) != CNN_OK &&
		       strstr(cnn_errmsg(), "example 1 has 2 boxes; [localization] finds one object"),
	       "two boxes: %s", cnn_errmsg());
	cnn_batch_free(b);
	cnn_net_free(net);
	cfg = cnn_cfg_parse("[net]\nchannels=1\nheight=8\nwidth=10\n[connected]\noutput=7\n"
			    "[localization]\nclasses=3\n", "t.cfg");
	net = cfg ? cnn_net_new(cfg, 0, 3) : NULL;
	tap_ok(!net && strstr(cnn_errmsg(), "its input has 7 values; classes=3 wants 8"),
	       "refused: %s", cnn_errmsg());
	cnn_net_free(net);
	return tap_done();
}
