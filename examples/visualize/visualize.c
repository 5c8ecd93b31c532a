/*
 * visualize.c - what a unit of a trained network looks for: the input that
 * excites it most, found by gradient ascent on the image with the weights
 * frozen (cnn_net_input_gradient), one image per channel of a layer.
 *
 *   visualize [-s STEPS] [-r RATE] [-d DECAY] [-z ZOOM] MODEL LAYER > units.cnn
 *   visualize -k [-z ZOOM] MODEL LAYER > kernels.cnn
 *
 * Every channel k of LAYER (a name or a number, as cnn-summary shows them)
 * is one example of the batch: example k starts from a grey image and
 * climbs the output of channel k at the centre of the layer's map, each
 * step RATE times the gradient divided by its largest magnitude, then
 * DECAY of the way back to grey, then clipped to 0..1.  A unit that is off
 * (a ReLU below 0) has no gradient: its image starts again from noise
 * (black and white pixels, which reach further than grey ones) until the
 * unit comes on.  The examples are independent in inference mode, so one
 * pass climbs for all the channels.
 *
 * The output is a stream, a record per channel: "image", the part of the
 * input the unit sees (the pixels its gradient ever reached), "unit" (i64)
 * and "activation" (f64, the value reached).  With -k, for a layer that
 * sees the image itself, the records are its filters instead, to compare:
 * "image" the weights mapped to 0..1 with 0.5 for 0, and "unit".  Images
 * are f32 in 0..1, each pixel repeated ZOOM times each way (default 16),
 * since cnn-montage would blur them when it scales.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cnn.h"

struct options {
	int steps, zoom;
	float rate, decay;
};

/* The tapped layer's output, one example's. */
struct unit_loss {
	int c, h, w;
};

/* Rows y0..y1 and columns x0..x1 of an image, inclusive. */
struct box {
	int y0, y1, x0, x1;
};

static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "visualize: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* The sum over the examples of example k's channel k at the centre; its
 * gradient is 1 there and 0 elsewhere. */
static double centre_loss(void *ctx, int ntaps, const int *taps, const float *const *out,
			  float *const *grads, int n)
{
	const struct unit_loss *u = ctx;
	long plane = (long)u->h * u->w, centre = (long)(u->h / 2) * u->w + u->w / 2;
	double sum = 0;

	(void)ntaps;
	(void)taps;
	for (int k = 0; k < n; k++) {
		long at = ((long)k * u->c + k) * plane + centre;
		sum += out[0][at];
		grads[0][at] = 1;
	}
	return sum;
}

/* One step of ascent on each example's image, or noise for a unit off. */
static void climb(float *x, const float *dx, int n, long size, const struct options *o,
		  cnn_rng *rng)
{
	for (int k = 0; k < n; k++) {
		float *xi = x + k * size, most = 0;
		const float *g = dx + k * size;
		for (long i = 0; i < size; i++)
			most = fabsf(g[i]) > most ? fabsf(g[i]) : most;
		for (long i = 0; i < size; i++) {
			float v = most > 0 ? xi[i] + o->rate * g[i] / most
					   : cnn_rng_uniform(rng) < 0.5 ? 0 : 1;
			v = 0.5f + (1 - o->decay) * (v - 0.5f);
			xi[i] = v < 0 ? 0 : v > 1 ? 1 : v;
		}
	}
}

/* The bounding box of the pixels (of any channel) marked in reach, or the
 * whole image when none is. */
static struct box reach_box(const unsigned char *reach, int c, int h, int w)
{
	struct box b = {h, -1, w, -1};

	for (int ch = 0; ch < c; ch++)
		for (int y = 0; y < h; y++)
			for (int x = 0; x < w; x++)
				if (reach[((long)ch * h + y) * w + x]) {
					b.y0 = y < b.y0 ? y : b.y0;
					b.y1 = y > b.y1 ? y : b.y1;
					b.x0 = x < b.x0 ? x : b.x0;
					b.x1 = x > b.x1 ? x : b.x1;
				}
	return b.y1 < 0 ? (struct box){0, h - 1, 0, w - 1} : b;
}

/* The box of a C x H x W array as a tensor, each pixel zoom x zoom. */
static cnn_tensor *crop_zoom(const char *name, const float *v, int c, int h, int w,
			     struct box b, int zoom)
{
	int rh = (b.y1 - b.y0 + 1) * zoom, rw = (b.x1 - b.x0 + 1) * zoom;
	cnn_tensor *t = cnn_tensor_new3(name, CNN_F32, c, rh, rw);
	float *out;

	if (!t)
		die("%s", cnn_errmsg());
	out = t->data;
	for (int ch = 0; ch < c; ch++)
		for (int y = 0; y < rh; y++)
			for (int x = 0; x < rw; x++)
				*out++ = v[((long)ch * h + b.y0 + y / zoom) * w + b.x0 + x / zoom];
	return t;
}

static void put(cnn_record *rec, cnn_tensor *t)
{
	if (!t || cnn_record_put(rec, t))
		die("%s", cnn_errmsg());
}

struct kernels {
	char name[32];          /* "0.weight" */
	cnn_writer *wr;
	int zoom, found;
};

/* Each filter of the layer's weights as an image, 0.5 + w / (2 max |w|). */
static int write_kernels(void *ctx, const char *name, float *values, int ndim,
			 const int64_t *dim, int trained)
{
	struct kernels *k = ctx;
	int64_t count;
	float *image;

	(void)trained;
	if (strcmp(name, k->name) || ndim != 4)
		return CNN_OK;
	count = dim[1] * dim[2] * dim[3];
	if (!(image = malloc(sizeof *image * count)))
		return cnn_error("out of memory");
	for (int64_t f = 0; f < dim[0]; f++) {
		const float *w = values + f * count;
		cnn_record *rec = cnn_record_new();
		float most = 0;
		if (!rec)
			die("%s", cnn_errmsg());
		for (int64_t i = 0; i < count; i++)
			most = fabsf(w[i]) > most ? fabsf(w[i]) : most;
		for (int64_t i = 0; i < count; i++)
			image[i] = 0.5f + (most > 0 ? w[i] / (2 * most) : 0);
		put(rec, crop_zoom("image", image, (int)dim[1], (int)dim[2], (int)dim[3],
				   (struct box){0, (int)dim[2] - 1, 0, (int)dim[3] - 1}, k->zoom));
		if (cnn_record_put_i64(rec, "unit", f) || cnn_write(k->wr, rec))
			die("%s", cnn_errmsg());
		cnn_record_free(rec);
		k->found = 1;
	}
	free(image);
	return CNN_OK;
}

/* A record per unit. */
static void write_units(cnn_writer *wr, const float *x, const unsigned char *reach,
			const float *act, int n, int c, int h, int w, int zoom)
{
	long size = (long)c * h * w;

	for (int u = 0; u < n; u++) {
		cnn_record *rec = cnn_record_new();
		if (!rec)
			die("%s", cnn_errmsg());
		put(rec, crop_zoom("image", x + u * size, c, h, w,
				   reach_box(reach + u * size, c, h, w), zoom));
		if (cnn_record_put_i64(rec, "unit", u) ||
		    cnn_record_put_f64(rec, "activation", act[u]) || cnn_write(wr, rec))
			die("%s", cnn_errmsg());
		cnn_record_free(rec);
	}
}

/* The ascent: x (n images) climbs; reach marks the pixels the gradient
 * touched; act receives each unit's value at the end. */
static void ascend(cnn_net *net, int layer, const struct unit_loss *u, float *x,
		   unsigned char *reach, float *act, long size, const struct options *o)
{
	float *dx = malloc(sizeof *dx * size * u->c);
	const float *out;
	cnn_rng rng;

	if (!dx)
		die("out of memory");
	cnn_rng_seed(&rng, 1);
	for (int s = 0; s < o->steps; s++) {
		if (cnn_net_input_gradient(net, x, u->c, 1, &layer, centre_loss, (void *)u, dx, NULL))
			die("%s", cnn_errmsg());
		for (long i = 0; i < size * u->c; i++)
			reach[i] |= dx[i] != 0;
		climb(x, dx, u->c, size, o, &rng);
	}
	if (!(out = cnn_net_forward_to(net, x, u->c, layer)))
		die("%s", cnn_errmsg());
	for (int k = 0; k < u->c; k++)
		act[k] = out[((long)k * u->c + k) * u->h * u->w + (u->h / 2) * u->w + u->w / 2];
	free(dx);
}

/* Climb for every channel of the layer and write the images. */
static void visualize(cnn_net *net, int layer, const struct options *o, cnn_writer *wr)
{
	cnn_layer_info li;
	struct unit_loss u;
	unsigned char *reach;
	float *x, *act;
	int c, h, w;
	long size;

	cnn_net_layer_info(net, layer, &li);
	u = (struct unit_loss){li.out_c, li.out_h, li.out_w};
	cnn_net_input_shape(net, &c, &h, &w);
	size = (long)c * h * w;
	x = malloc(sizeof *x * size * u.c);
	reach = calloc(size * u.c, 1);
	act = malloc(sizeof *act * u.c);
	if (!x || !reach || !act)
		die("out of memory");
	for (long i = 0; i < size * u.c; i++)
		x[i] = 0.5f;
	ascend(net, layer, &u, x, reach, act, size, o);
	write_units(wr, x, reach, act, u.c, c, h, w, o->zoom);
	free(x);
	free(reach);
	free(act);
}

static void usage(void)
{
	die("usage: visualize [-k] [-s STEPS] [-r RATE] [-d DECAY] [-z ZOOM] MODEL LAYER");
}

int main(int argc, char **argv)
{
	struct options o = {300, 16, 0.05f, 0.01f};
	int opt, layer, kernels = 0;
	cnn_layer_info li;
	cnn_writer *wr;
	cnn_net *net;

	while ((opt = getopt(argc, argv, "ks:r:d:z:")) != -1) {
		switch (opt) {
		case 'k': kernels = 1; break;
		case 's': o.steps = atoi(optarg); break;
		case 'r': o.rate = (float)atof(optarg); break;
		case 'd': o.decay = (float)atof(optarg); break;
		case 'z': o.zoom = atoi(optarg); break;
		default: usage();
		}
	}
	if (argc - optind != 2 || o.steps < 1 || o.zoom < 1)
		usage();
	/* Load with a batch of one to learn the layer's channels, then with a
	 * batch of one example per channel. */
	if (!(net = cnn_net_load(argv[optind], 1, NULL)) ||
	    (layer = cnn_net_layer_find(net, argv[optind + 1])) < 0)
		die("%s", cnn_errmsg());
	cnn_net_layer_info(net, layer, &li);
	cnn_net_free(net);
	if (!(net = cnn_net_load(argv[optind], li.out_c, NULL)) ||
	    !(wr = cnn_writer_open("-", CNN_LEVEL_DEFAULT)))
		die("%s", cnn_errmsg());
	if (kernels) {
		struct kernels k = {{0}, wr, o.zoom, 0};
		snprintf(k.name, sizeof k.name, "%d.weight", layer);
		if (layer != 0 || cnn_net_visit_params(net, write_kernels, &k) || !k.found)
			die("-k: layer %s is not a convolution of the image", argv[optind + 1]);
	} else {
		visualize(net, layer, &o, wr);
	}
	if (cnn_writer_close(wr))
		die("%s", cnn_errmsg());
	cnn_net_free(net);
	return 0;
}
