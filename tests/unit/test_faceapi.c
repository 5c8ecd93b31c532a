/*
 * test_faceapi.c - face-api's networks imported (cnn-import's library
 * calls: the weights manifest through our cfg and name map) give
 * TensorFlow.js's outputs, within 1e-4, on the photos Debian ships:
 * tests/vectors/tfjs-*.vec, made by tests/vectors/make-tfjs.js under Node.
 *
 * The weights are not in the tree: `make -C examples/pretrained weights`
 * fetches them (npm pack); without them every case skips saying so.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cnn.h"
#include "tap.h"
#include "vectors.h"

#define MODELS "examples/pretrained/npm/face-api/package/model"
#define CFGS "examples/pretrained/face-api"
#define SKIMAGE "/usr/lib/python3/dist-packages/skimage/data"
#define DARKNET "/usr/share/darknet/data"

/* The network at input size x size (0: the cfg's): a copy of the cfg with
 * its height= and width= changed, as for cnn-summary --input. */
static cnn_net *import(const char *name, int size)
{
	char manifest[512], cfg[512], map[512], copy[] = "/tmp/test-faceapi-XXXXXX";
	char *line = NULL;
	size_t len = 0;
	FILE *in, *out;
	cnn_net *net;
	int fd;

	snprintf(manifest, sizeof manifest, "%s/%s_model-weights_manifest.json", MODELS, name);
	snprintf(cfg, sizeof cfg, "%s/%s.cfg", CFGS, name);
	snprintf(map, sizeof map, "%s/%s.map", CFGS, name);
	if (!size)
		return cnn_tfjs_import(cfg, manifest, map);
	if ((fd = mkstemp(copy)) < 0 || !(out = fdopen(fd, "w")) || !(in = fopen(cfg, "r")))
		return NULL;
	while (getline(&line, &len, in) > 0)
		if (strncmp(line, "height=", 7) == 0 || strncmp(line, "width=", 6) == 0)
			fprintf(out, "%.*s=%d\n", (int)strcspn(line, "="), line, size);
		else
			fputs(line, out);
	fclose(in);
	fclose(out);
	free(line);
	net = cnn_tfjs_import(copy, manifest, map);
	unlink(copy);
	return net;
}

/* The image as the network's rule makes it, forward; the output of the
 * layer called tap (NULL: the last layer), C x H x W, and its shape. */
static const float *run(cnn_net *net, const char *path, const char *tap, int *c, int *h,
			int *w)
{
	cnn_tensor *img = cnn_image_load(path, 3, 0), *fit;
	cnn_input_rule rule;
	const float *out = NULL;
	int ic, ih, iw;

	cnn_net_input_shape(net, &ic, &ih, &iw);
	cnn_net_input_rule(net, &rule);
	if (img && (fit = cnn_image_fit(img, ih, iw, &rule))) {
		out = cnn_net_forward(net, fit->data, 1, 0);
		cnn_tensor_free(fit);
	}
	cnn_tensor_free(img);
	return out ? cnn_net_layer_output(net, tap ? cnn_net_layer_find(net, tap)
						   : cnn_net_layers(net) - 1, c, h, w)
		   : NULL;
}

/* face-api's detections (x, y, w, h, score each) against ours after the
 * forward pass on an image of h x w, the model's NMS at IoU want_nms: the
 * boxes (x1, y1, x2, y2) within 0.5 px and the scores within 1e-3 (the
 * acceptance), in the same order; the largest differences into *px and
 * *score. */
static int same_detections(const cnn_net *net, const float *want, int n, double thresh,
			   float want_nms, int64_t h, int64_t w, double *px, double *score)
{
	cnn_input_rule rule;
	cnn_nms_opts o;
	double nms;
	int ih, iw, ic, good;
	cnn_tensor *found = cnn_net_detections(net, 0, thresh, &nms), *kept = NULL;

	*px = *score = 0;
	cnn_net_input_shape(net, &ic, &ih, &iw);
	cnn_net_input_rule(net, &rule);
	cnn_nms_defaults(&o);
	o.iou = nms;
	o.score = thresh;
	if (found) {
		cnn_image_fit_boxes(&rule, h, w, ih, iw, found->data, found->dim[0]);
		kept = cnn_nms_boxes(found, &o);
	}
	good = kept && kept->dim[0] == n && (float)nms == want_nms;
	for (int i = 0; good && i < n; i++) {
		const float *b = (const float *)kept->data + 6 * i, *f = want + 5 * i;
		const double theirs[4] = {f[0], f[1], f[0] + f[2], f[1] + f[3]};
		for (int k = 0; k < 4; k++)
			*px = fmax(*px, fabs(b[k] - theirs[k]));
		*score = fmax(*score, fabs(b[4] - f[4]));
		good = b[5] == 0;
	}
	cnn_tensor_free(found);
	cnn_tensor_free(kept);
	return good && *px <= 0.5 && *score <= 1e-3;
}

/* The largest difference between ours (C x H x W) and tfjs's (H x W x C). */
static double worst_nhwc(const float *ours, const float *theirs, int c, int h, int w)
{
	double worst = 0;

	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++)
			for (int k = 0; k < c; k++) {
				double d = fabs(ours[((long)k * h + y) * w + x] -
						theirs[((long)y * w + x) * c + k]);
				worst = d > worst ? d : worst;
			}
	return worst;
}

/* Each "tinyface" record (the raw output of an image at a size) is
 * followed by its "tinyface_det" records (face-api's own detections at a
 * score threshold), which the same forward pass decodes. */
static void tiny_face_detector(void)
{
	static const struct {
		const char *image, *path;
	} photos[] = {
		{"astronaut.png", SKIMAGE "/astronaut.png"},
		{"person.jpg", DARKNET "/person.jpg"},
	};
	struct vec_file v;
	char line[1024];
	cnn_net *net = NULL;
	int ran = 0, img_h = 0, img_w = 0;

	if (vec_open(&v, "tfjs-tiny-face.vec"))
		return;
	while (vec_header(&v, line, sizeof line)) {
		int out[3], c, h, w, n, size;
		float *want;
		if (strncmp(line, "tinyface_det ", 13) == 0) {
			double thresh = vec_double(&v, line, "score_thr"), px = INFINITY, score = INFINITY;
			int same;
			vec_ints(&v, line, "n", &n, 1);
			want = vec_floats(&v, 5L * n);
			same = ran && want &&
			       same_detections(net, want, n, thresh, 0.4f, img_h, img_w, &px, &score);
			tap_ok(same, "tiny_face_detector: face-api's %d detections at score > %g (%.60s): "
			       "boxes within %.2g px, scores within %.2g", n, thresh, line + 13, px,
			       score);
			free(want);
			continue;
		}
		cnn_net_free(net);
		ran = 0;
		vec_ints(&v, line, "out", out, 3);
		vec_ints(&v, line, "size", &size, 1);
		vec_ints(&v, line, "w", &img_w, 1);
		vec_ints(&v, line, "h", &img_h, 1);
		want = vec_floats(&v, (long)out[0] * out[1] * out[2]);
		if (!(net = import("tiny_face_detector", size)))
			tap_ok(0, "tiny_face_detector imported at %d: %s", size, cnn_errmsg());
		for (size_t i = 0; net && want && i < sizeof photos / sizeof *photos; i++) {
			const float *ours;
			double worst;
			if (!strstr(line, photos[i].image))
				continue;
			ours = run(net, photos[i].path, "conv8", &c, &h, &w);
			worst = ours && c == out[2] && h == out[0] && w == out[1]
				? worst_nhwc(ours, want, c, h, w) : INFINITY;
			tap_ok(worst < 1e-4, "tiny_face_detector on %s at %d: the raw %dx%dx%d "
			       "within 1e-4 of TensorFlow.js (max abs difference %.2e)",
			       photos[i].image, size, out[0], out[1], out[2], worst);
			ran = ours != NULL;
		}
		free(want);
	}
	cnn_net_free(net);
	vec_close(&v);
}

/* SSD's anchor i of all 5118: its head's layer output (C x G x G), and the
 * channel of its value k of per, the row and the column. */
static const float *ssd_value(cnn_net *net, const char *kind, long i, int per, int k)
{
	static const int grid[6] = {32, 16, 8, 4, 2, 1}, anchors[6] = {3, 6, 6, 6, 6, 6};
	char name[32];
	int h = 0, c, gh, gw;
	const float *out;

	for (; h < 5 && i >= (long)grid[h] * grid[h] * anchors[h]; h++)
		i -= (long)grid[h] * grid[h] * anchors[h];
	snprintf(name, sizeof name, "%s%d", kind, h);
	out = cnn_net_layer_output(net, cnn_net_layer_find(net, name), &c, &gh, &gw);
	if (!out)
		return NULL;
	long cell = i / anchors[h], a = i % anchors[h];
	return out + ((a * per + k) * gh + cell / gw) * gw + cell % gw;
}

/* The anchors come with the weights, and stay through a model file. */
static void anchors(cnn_net *net)
{
	const cnn_tensor *a = cnn_net_constant(net, "anchors"), *b;
	char path[] = "/tmp/test-faceapi-XXXXXX";
	cnn_net *again = NULL;
	int fd = mkstemp(path), same;

	tap_ok(a && a->dtype == CNN_F32 && cnn_tensor_count(a) == 5118 * 4 &&
	       fabsf(((float *)a->data)[0] + 0.0344f) < 1e-3f &&
	       fabsf(((float *)a->data)[2] - 0.0656f) < 1e-3f,
	       "ssd_mobilenetv1 keeps its 5118 anchors, the first (%.4f, %.4f, %.4f, %.4f)",
	       a ? ((float *)a->data)[0] : NAN, a ? ((float *)a->data)[1] : NAN,
	       a ? ((float *)a->data)[2] : NAN, a ? ((float *)a->data)[3] : NAN);
	if (fd >= 0)
		close(fd);
	if (a && fd >= 0 && cnn_net_save(net, path, NULL, 0) == CNN_OK)
		again = cnn_net_load(path, 1, NULL);
	b = again ? cnn_net_constant(again, "anchors") : NULL;
	same = b && cnn_tensor_bytes(a) == cnn_tensor_bytes(b) &&
	       memcmp(a->data, b->data, cnn_tensor_bytes(a)) == 0;
	tap_ok(same, "the anchors through a model file, byte for byte");
	cnn_net_free(again);
	unlink(path);
}

/* face-api's k best anchors (index, offsets, logits, anchor, its decoded
 * ymin, xmin, ymax, xmax) against [ssd]'s rows for them: every anchor's
 * box and score, in the input's pixels.  [ssd] clips a box to the input
 * before NMS (torchvision's order), face-api after: clipped alike here. */
static void top_anchors(const cnn_net *net, int ran, const float *want, int k)
{
	double nms, px = INFINITY, score = INFINITY;
	cnn_tensor *all = ran ? cnn_net_detections(net, 0, -1, &nms) : NULL;

	if (all && all->dim[0] == 5118) {
		px = score = 0;
		for (int i = 0; i < k; i++) {
			const float *f = want + 16 * i, *b = (const float *)all->data + 6 * (long)f[0];
			const float theirs[4] = {f[13], f[12], f[15], f[14]};
			for (int c = 0; c < 4; c++)
				px = fmax(px, fabs(b[c] - 512 * fmin(fmax(theirs[c], 0), 1)));
			score = fmax(score, fabs(b[4] - 1 / (1 + exp(-(double)f[6]))));
		}
	}
	tap_ok(px < 1e-3 && score < 1e-6, "ssd_mobilenetv1: the %d best anchors decoded as "
					  "face-api decodes them, within %.2g px and %.2g",
	       k, px, score);
	cnn_tensor_free(all);
}

static void ssd_mobilenetv1(void)
{
	cnn_net *net = import("ssd_mobilenetv1", 0);
	struct vec_file v;
	char line[1024];
	int ran = 0;

	if (!net || vec_open(&v, "tfjs-ssd-mobilenetv1.vec")) {
		tap_ok(0, "ssd_mobilenetv1: %s", cnn_errmsg());
		cnn_net_free(net);
		return;
	}
	anchors(net);
	while (vec_header(&v, line, sizeof line)) {
		int n, per, shape[2], c, h, w;
		float *idx, *want;
		double worst = INFINITY;
		const char *kind = strstr(line, "tensor=box_encoding") ? "box"
				   : strstr(line, "tensor=class_logits") ? "class" : NULL;
		if (strncmp(line, "ssd_top ", 8) == 0) {
			vec_ints(&v, line, "k", &n, 1);
			want = vec_floats(&v, 16L * n);
			top_anchors(net, ran, want, n);
			free(want);
			continue;
		}
		if (strncmp(line, "ssd_det ", 8) == 0) {
			double thresh = vec_double(&v, line, "min_conf"), px = INFINITY, score = INFINITY;
			vec_ints(&v, line, "n", &n, 1);
			want = vec_floats(&v, 5L * n);
			int same = ran && same_detections(net, want, n, thresh, 0.5f, 512, 512, &px,
							  &score);
			tap_ok(same, "ssd_mobilenetv1 through [ssd]: face-api's %d detections of the "
			       "astronaut at score > %g, boxes within %.2g px, scores within %.2g",
			       n, thresh, px, score);
			free(want);
			continue;
		}
		vec_ints(&v, line, "samples", &n, 1);
		vec_ints(&v, line, "shape", shape, 2);
		idx = vec_floats(&v, n);
		want = vec_floats(&v, n);
		if (kind && !ran++)
			run(net, SKIMAGE "/astronaut.png", NULL, &c, &h, &w);
		per = strstr(line, "shape=5118,4") ? 4 : 3;
		if (kind && idx && want) {
			worst = 0;
			for (int j = 0; j < n; j++) {
				long flat = (long)idx[j];
				const float *ours = ssd_value(net, kind, flat / per, per, (int)(flat % per));
				worst = ours ? fmax(worst, fabs(*ours - want[j])) : INFINITY;
			}
			tap_ok(worst < 1e-4, "ssd_mobilenetv1 on astronaut.png at 512: %s [5118,%d], "
			       "%d values sampled, within 1e-4 of TensorFlow.js (max abs difference "
			       "%.2e)", kind, per, n, worst);
		}
		free(idx);
		free(want);
	}
	vec_close(&v);
	cnn_net_free(net);
}

/* A w x h crop of an image, at (x, y). */
static cnn_tensor *crop(const cnn_tensor *img, int x, int y, int w, int h)
{
	cnn_tensor *t = cnn_tensor_new3("image", img->dtype, img->dim[0], h, w);

	for (int64_t c = 0; t && c < img->dim[0]; c++)
		for (int r = 0; r < h; r++)
			memcpy((uint8_t *)t->data + (c * h + r) * w,
			       (const uint8_t *)img->data + (c * img->dim[1] + y + r) * img->dim[2] + x,
			       (size_t)w);
	return t;
}

/* Each record "KIND ... crop=x,y,w,h ... n=N" of a vector file: that crop
 * of astronaut.png through the network by its own rule (padded to a square
 * centred, resized), the last layer's N outputs against tfjs's (the first
 * of 1 + more arrays of N). */
static void crop_cases(const char *name, const char *vec, int more, const char *what)
{
	cnn_net *net = import(name, 0);
	cnn_tensor *img = cnn_image_load(SKIMAGE "/astronaut.png", 3, 0);
	struct vec_file v;
	char line[1024];
	cnn_input_rule rule;
	int ih, iw, ic;

	if (!net || !img || vec_open(&v, vec)) {
		tap_ok(0, "%s: %s", name, cnn_errmsg());
		cnn_net_free(net);
		cnn_tensor_free(img);
		return;
	}
	cnn_net_input_shape(net, &ic, &ih, &iw);
	cnn_net_input_rule(net, &rule);
	while (vec_header(&v, line, sizeof line)) {
		int box[4], n;
		float *want;
		cnn_tensor *part = NULL, *fit = NULL;
		const float *ours = NULL;
		double worst = INFINITY;
		vec_ints(&v, line, "crop", box, 4);
		vec_ints(&v, line, "n", &n, 1);
		want = vec_floats(&v, n);
		for (int k = 0; k < more; k++)
			free(vec_floats(&v, n));
		if (want && (part = crop(img, box[0], box[1], box[2], box[3])) &&
		    (fit = cnn_image_fit(part, ih, iw, &rule)))
			ours = cnn_net_forward(net, fit->data, 1, 0);
		if (ours && cnn_net_outputs(net) == n) {
			worst = 0;
			for (int i = 0; i < n; i++)
				worst = fmax(worst, fabs(ours[i] - want[i]));
		}
		tap_ok(worst < 1e-4, "%s of astronaut.png's crop %d,%d %dx%d%s: %d values within "
		       "1e-4 of TensorFlow.js (max abs difference %.2e)", what, box[0], box[1],
		       box[2], box[3], strncmp(line, "facerec_pipeline", 16) ? "" :
		       " (face-api's pipeline)", n, worst);
		free(want);
		cnn_tensor_free(fit);
		cnn_tensor_free(part);
	}
	vec_close(&v);
	cnn_tensor_free(img);
	cnn_net_free(net);
}

int main(void)
{
	if (access(MODELS "/tiny_face_detector_model.bin", R_OK) != 0) {
		printf("ok 1 # skip face-api's weights are absent: make -C examples/pretrained "
		       "weights\n1..1\n");
		return 0;
	}
	tiny_face_detector();
	crop_cases("face_recognition", "tfjs-face-recognition.vec", 0,
		   "face_recognition's descriptor");
	/* Then face-api's landmarks in the crop's pixels: the decoding's. */
	crop_cases("face_landmark_68_tiny", "tfjs-face-landmark68-tiny.vec", 1,
		   "face_landmark_68_tiny's points");
	ssd_mobilenetv1();
	return tap_done();
}
