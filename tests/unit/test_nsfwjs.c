/*
 * test_nsfwjs.c - nsfwjs 4.4.0's Keras models (MobileNet v2 at 224,
 * Inception v3 at 299) imported whole from their TF.js layers model.json
 * (cnn_keras_import, cnn-import --tfjs) give TensorFlow.js's outputs within
 * 1e-4 on the photos Debian ships: the five probabilities, and a named
 * hidden layer's output at the sampled places of tests/vectors/tfjs-nsfwjs.vec
 * (made by tests/vectors/make-tfjs.js under Node; NHWC indices).
 *
 * nsfwjs divides by 255, then resizes bilinearly with align_corners: our
 * [net] resize=align_corners, no mean, which the import is told.
 *
 * The models are not in the tree: `make -C examples/pretrained weights
 * nsfwjs` fetches and unwraps them; without them the test skips saying so.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cnn.h"
#include "tap.h"
#include "vectors.h"

#define MODELS "examples/pretrained/npm/nsfwjs/models"
#define SKIMAGE "/usr/lib/python3/dist-packages/skimage/data"

/* The text of field key (up to the next blank). */
static void field(const char *line, const char *key, char *out, size_t size)
{
	size_t len = strlen(key);
	const char *p = line;

	while ((p = strstr(p, key)) && ((p > line && p[-1] != ' ') || p[len] != '='))
		p += len;
	snprintf(out, size, "%.*s", p ? (int)strcspn(p + len + 1, " ") : 0, p ? p + len + 1 : "");
}

struct state {
	char model[64], image[64];  /* what net has, and what it last ran on */
	cnn_net *net;
	const float *out;           /* its last layer's output, or NULL */
};

static cnn_net *import(const char *model)
{
	char path[512];

	snprintf(path, sizeof path, "%s/%s/model.json", MODELS, model);
	return cnn_keras_import(path, "resize=align_corners\n", NULL);
}

/* The net of model forward on image (once per image). */
static int run(struct state *s, const char *model, const char *image)
{
	char path[512];
	cnn_tensor *img, *fit = NULL;
	cnn_input_rule rule;
	int c, h, w;

	if (strcmp(s->model, model)) {
		cnn_net_free(s->net);
		snprintf(s->model, sizeof s->model, "%s", model);
		s->image[0] = 0;
		if (!(s->net = import(model)))
			tap_ok(0, "nsfwjs %s imported: %s", model, cnn_errmsg());
	}
	if (!s->net)
		return CNN_ERR;
	if (!strcmp(s->image, image))
		return s->out ? CNN_OK : CNN_ERR;
	snprintf(s->image, sizeof s->image, "%s", image);
	snprintf(path, sizeof path, "%s/%s", SKIMAGE, image);
	cnn_net_input_shape(s->net, &c, &h, &w);
	cnn_net_input_rule(s->net, &rule);
	s->out = NULL;
	if ((img = cnn_image_load(path, 3, 0)) && (fit = cnn_image_fit(img, h, w, &rule)))
		s->out = cnn_net_forward(s->net, fit->data, 1, 0);
	cnn_tensor_free(fit);
	cnn_tensor_free(img);
	return s->out ? CNN_OK : CNN_ERR;
}

static void probabilities(struct state *s, struct vec_file *v, const char *line)
{
	char model[64], image[64];
	double worst = INFINITY;
	float *want;
	int n;

	field(line, "model", model, sizeof model);
	field(line, "image", image, sizeof image);
	vec_ints(v, line, "n", &n, 1);
	want = vec_floats(v, n);
	if (!run(s, model, image) && cnn_net_outputs(s->net) == n) {
		worst = 0;
		for (int i = 0; i < n; i++)
			worst = fmax(worst, fabs(s->out[i] - want[i]));
	}
	tap_ok(worst < 1e-4, "nsfwjs %s on %s: the %d probabilities within 1e-4 of "
	       "TensorFlow.js (max abs difference %.2e)", model, image, n, worst);
	free(want);
}

/* The sampled values of a hidden layer: indices into TF's 1 x H x W x C. */
static void hidden_layer(struct state *s, struct vec_file *v, const char *line)
{
	char model[64], image[64], layer[128];
	double worst = INFINITY;
	float *idx, *want;
	const float *ours;
	int shape[4], k, c, h, w;

	field(line, "model", model, sizeof model);
	field(line, "image", image, sizeof image);
	field(line, "layer", layer, sizeof layer);
	vec_ints(v, line, "shape", shape, 4);
	vec_ints(v, line, "samples", &k, 1);
	idx = vec_floats(v, k);
	want = vec_floats(v, k);
	if (!run(s, model, image) &&
	    (ours = cnn_net_layer_output(s->net, cnn_net_layer_find(s->net, layer), &c, &h, &w)) &&
	    h == shape[1] && w == shape[2] && c == shape[3]) {
		worst = 0;
		for (int i = 0; i < k; i++) {
			long j = (long)idx[i], y = j / ((long)w * c), x = j / c % w, ch = j % c;
			worst = fmax(worst, fabs(ours[(ch * h + y) * w + x] - want[i]));
		}
	}
	tap_ok(worst < 1e-4, "nsfwjs %s on %s: %s (%dx%dx%d) at %d places within 1e-4 of "
	       "TensorFlow.js (max abs difference %.2e)", model, image, layer, shape[1], shape[2],
	       shape[3], k, worst);
	free(idx);
	free(want);
}

int main(void)
{
	struct state s = {.net = NULL};
	struct vec_file v;
	char line[2048];

	if (access(MODELS "/mobilenet_v2/model.json", R_OK) != 0 ||
	    access(MODELS "/inception_v3/model.json", R_OK) != 0) {
		printf("ok 1 # skip nsfwjs's models are absent: make -C examples/pretrained "
		       "weights nsfwjs\n1..1\n");
		return 0;
	}
	if (vec_open(&v, "tfjs-nsfwjs.vec")) {
		tap_ok(0, "%s", cnn_errmsg());
		return tap_done();
	}
	while (vec_header(&v, line, sizeof line)) {
		if (!strncmp(line, "nsfw ", 5))
			probabilities(&s, &v, line);
		else if (!strncmp(line, "nsfw_layer ", 11))
			hidden_layer(&s, &v, line);
	}
	tap_ok(!v.bad, "tfjs-nsfwjs.vec read whole");
	vec_close(&v);
	cnn_net_free(s.net);
	return tap_done();
}
