/*
 * test_fcn.c - the course notes' convolutional sliding windows: a
 * classifier of 14 x 14 x 3 windows (conv 5x5 of 16, max pool 2x2, FC 400,
 * FC 400, FC 4 and a softmax), made fully convolutional
 * (cnn_net_convolutionalize) and run on a 16 x 16 x 3 image, gives a
 * 2 x 2 x 4 output whose position (i, j) is the classifier on the 14 x 14
 * crop at (2i, 2j).  Then what is refused.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/example.h"
#include "tap.h"

static const char notes[] =
	"[net]\nchannels=3\nheight=14\nwidth=14\n"
	"[convolutional]\nfilters=16\nsize=5\nactivation=relu\n"
	"[maxpool]\nsize=2\nstride=2\n"
	"[connected]\noutput=400\nactivation=relu\n"
	"[connected]\noutput=400\nactivation=relu\n"
	"[connected]\noutput=4\nactivation=linear\n"
	"[softmax]\n";

static void windows(void)
{
	cnn_cfg *cfg = cnn_cfg_parse(notes, "notes.cfg");
	cnn_net *net = cfg ? cnn_net_new(cfg, 1, 9) : NULL, *fcn = NULL;
	float image[3 * 16 * 16], crop[3 * 14 * 14];
	double worst = 0;
	int c, h, w;
	cnn_rng rng;

	if (!net || !(fcn = cnn_net_convolutionalize(net, 16, 16))) {
		tap_ok(0, "convolutionalize: %s", cnn_errmsg());
		cnn_net_free(net);
		return;
	}
	cnn_net_input_shape(fcn, &c, &h, &w);
	const cnn_layer *last = &fcn->layer[fcn->nlayers - 1];
	tap_ok(c == 3 && h == 16 && w == 16 && last->out_c == 4 && last->out_h == 2 &&
		       last->out_w == 2 && last->jump == 2 && last->rf == 14,
	       "16x16x3 in, %dx%dx%d out: windows of %d pixels, %d apart", last->out_h,
	       last->out_w, last->out_c, last->rf, last->jump);
	tap_ok(!strcmp(fcn->layer[2].type->name, "convolutional") &&
		       fcn->layer[2].param[0].count == 400L * 16 * 5 * 5,
	       "the first FC is a 5x5x16 convolution of 400 filters");
	cnn_rng_seed(&rng, 4);
	for (int i = 0; i < 3 * 16 * 16; i++)
		image[i] = (float)cnn_rng_uniform(&rng);
	const float *map = cnn_net_forward(fcn, image, 1, 0);
	for (int i = 0; map && i < 2; i++)
		for (int j = 0; j < 2; j++) {
			for (int k = 0; k < 3; k++)
				for (int y = 0; y < 14; y++)
					memcpy(crop + (k * 14 + y) * 14,
					       image + (k * 16 + 2 * i + y) * 16 + 2 * j, 14 * sizeof *crop);
			const float *p = cnn_net_forward(net, crop, 1, 0);
			for (int k = 0; p && k < 4; k++)
				worst = fmax(worst, fabs(p[k] - map[(k * 2 + i) * 2 + j]));
			if (!p)
				worst = INFINITY;
		}
	double lo = 1, hi = 0;
	for (int i = 0; map && i < 16; i++) {
		lo = fmin(lo, map[i]);
		hi = fmax(hi, map[i]);
	}
	tap_ok(map && worst < 1e-6 && hi - lo > 0.01, "each of the 2x2 outputs is the classifier "
						      "on its 14x14 crop at stride 2 (worst "
						      "%.1e; probabilities %.3f to %.3f)",
	       worst, lo, hi);
	cnn_net_free(net);
	cnn_net_free(fcn);
}

static void refusals(void)
{
	static const char conv_only[] =
		"[net]\nchannels=1\nheight=8\nwidth=8\n[convolutional]\nfilters=2\nsize=3\n";
	cnn_cfg *cfg = cnn_cfg_parse(conv_only, "c.cfg");
	cnn_net *net = cfg ? cnn_net_build(cfg, 1) : NULL, *small;

	tap_ok(net && !cnn_net_convolutionalize(net, 0, 0) &&
		       strstr(cnn_errmsg(), "fully convolutional already"),
	       "a network without [connected]: %s", cnn_errmsg());
	cnn_net_free(net);
	cfg = cnn_cfg_parse(notes, "notes.cfg");
	net = cfg ? cnn_net_build(cfg, 1) : NULL;
	small = net ? cnn_net_convolutionalize(net, 12, 12) : NULL;
	tap_ok(net && !small, "an input smaller than the window: %s", cnn_errmsg());
	cnn_net_free(small);
	cnn_net_free(net);
}

/* [softmax] spatial=1 as a loss: targets at each position, and its
 * gradient against central differences. */
static void spatial_gradient(const char *tail, const char *what)
{
	char text[512];
	cnn_cfg *cfg;

	snprintf(text, sizeof text, "[net]\nbatch=2\nchannels=2\nheight=3\nwidth=4\n"
		 "[convolutional]\nfilters=3\nsize=3\npad=1\nactivation=tanh\n"
		 "[softmax]\nspatial=1\n%s", tail);
	cfg = cnn_cfg_parse(text, "s.cfg");
	cnn_net *net = cfg ? cnn_net_new(cfg, 0, 5) : NULL;
	cnn_batch *b = net ? cnn_batch_new(net, NULL) : NULL;
	cnn_rng rng;
	double worst = -1;

	cnn_rng_seed(&rng, 6);
	for (int e = 0; b && e < 2; e++) {
		cnn_record *r = cnn_record_new();
		cnn_tensor *img = cnn_tensor_new3("image", CNN_F32, 2, 3, 4);
		cnn_tensor *label = cnn_tensor_new3("label", CNN_F32, 3, 3, 4);
		for (int i = 0; i < 24; i++)
			((float *)img->data)[i] = (float)cnn_rng_uniform(&rng);
		memset(label->data, 0, cnn_tensor_bytes(label));
		for (int p = 0; p < 12; p++)
			((float *)label->data)[(long)cnn_rng_below(&rng, 3) * 12 + p] = 1;
		cnn_record_put(r, img);
		cnn_record_put(r, label);
		if (cnn_batch_add(b, r))
			tap_ok(0, "batch: %s", cnn_errmsg());
		cnn_record_free(r);
	}
	if (b)
		worst = cnn_net_gradcheck(net, b, 0, 1e-3, NULL, NULL);
	tap_ok(worst >= 0 && worst < 2e-3, "gradient check of [softmax] spatial=1 %s (worst %.1e)",
	       what, worst);
	float x[24];
	const float *y = NULL;
	for (int i = 0; net && i < 24; i++)
		x[i] = (float)cnn_rng_uniform(&rng);
	if (net)
		y = cnn_net_forward(net, x, 1, 0);
	double off = y ? 0 : INFINITY;
	for (int p = 0; y && p < 12; p++)
		off = fmax(off, fabs(y[p] + y[12 + p] + y[24 + p] - 1));
	tap_ok(off < 1e-6, "each position's three probabilities sum to 1 (within %.1e)", off);
	cnn_batch_free(b);
	cnn_net_free(net);
}

int main(void)
{
	windows();
	spatial_gradient("", "as the loss");
	spatial_gradient("[cost]\n", "before a [cost]");
	refusals();
	return tap_done();
}
