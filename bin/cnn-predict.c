/*
 * cnn-predict - run trained models over a stream and add their predictions
 * to each record, or print them; or add one layer's outputs, the features.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

static const char help[] =
	"Usage: cnn-predict -m MODEL [OPTION]... [FILE]...\n"
	"Run MODEL on the image of every record of the stream in FILEs (or standard\n"
	"input) and add \"probabilities\" (f32, one per class) and \"prediction\" (i32,\n"
	"the most probable class), or print them.\n\n"
	"  -m, --model MODEL  a model file (cnn-train); repeat for an ensemble, whose\n"
	"                     probabilities are averaged\n"
	"  -f, --features LAYER  add \"features\" instead, the outputs of LAYER (its\n"
	"                     name, or its number as cnn-summary shows it, or -1 for\n"
	"                     the last): C x H x W, or C when H and W are 1; the model\n"
	"                     runs only up to LAYER\n"
	"  -i, --input NAME   the records' input tensor (default \"image\"; e.g.\n"
	"                     \"features\" for a head trained on them)\n"
	"  -r, --resize       resize and convert images to the model's input\n"
	"                     (otherwise a different size is an error)\n"
	"  -c, --crops N      average over N crops: 1 (the image), 5 (the centre and\n"
	"                     the 4 corners of the image enlarged by --crop-scale), or\n"
	"                     10 (those and their mirror images)\n"
	"      --crop-scale X enlargement before cropping (default 1.143, 256/224)\n"
	"  -t, --text         print a line per record instead: the record number, then\n"
	"                     the top classes and their probabilities\n"
	"  -k, --top K        how many classes --text prints (default 1)\n"
	"  -n, --names FILE   class names, one per line, for --text\n"
	"  -b, --batch N      images per forward pass (default 64)\n"
	"  -j, --threads N    threads (default: all processors)\n"
	TOOL_OUTPUT_HELP TOOL_COMMON_HELP;

static struct {
	const char *models[16], *features, *input;
	int nmodels, resize, crops, text, top, batch;
	double crop_scale;
	cnn_names *names;
} opt = {.crops = 1, .top = 1, .batch = 64, .crop_scale = 256.0 / 224, .input = "image"};

static cnn_net *nets[16];
static int in_c, in_h, in_w;
static cnn_input_rule rule;  /* the models' own input rule, when they have one */
static int has_rule;
static long classes;

/* --features: the layer, and the shape of one record's features. */
static int feature_layer;
static int feature_ndim;
static int64_t feature_dim[3];
static long feature_size;

static void load_models(void)
{
	for (int i = 0; i < opt.nmodels; i++) {
		cnn_input_rule other;
		int c, h, w;
		tool_note_input(opt.models[i]);
		if (!(nets[i] = cnn_net_load(opt.models[i], opt.batch * opt.crops, NULL)))
			die_lib();
		cnn_net_input_shape(nets[i], &c, &h, &w);
		if (i == 0) {
			in_c = c, in_h = h, in_w = w;
			classes = cnn_net_outputs(nets[i]);
			cnn_net_input_rule(nets[i], &rule);
			has_rule = cnn_net_has_input_rule(nets[i]);
		} else if (cnn_net_has_input_rule(nets[i]) != has_rule ||
			   (cnn_net_input_rule(nets[i], &other), other.resize != rule.resize ||
			    other.pad_square != rule.pad_square)) {
			die("%s and %s make their inputs by different rules (resize=, "
			    "pad_square=)", opt.models[i], opt.models[0]);
		} else if (c != in_c || h != in_h || w != in_w ||
			   cnn_net_outputs(nets[i]) != classes) {
			die("%s takes %dx%dx%d to %ld outputs, unlike %s (%dx%dx%d to %ld)",
			    opt.models[i], c, h, w, cnn_net_outputs(nets[i]), opt.models[0],
			    in_c, in_h, in_w, classes);
		}
	}
}

/* The layer --features names, and the shape of its output: a vector when
 * H and W are 1, as PyTorch's linear layers give it. */
static void find_features(void)
{
	cnn_layer_info li;

	if ((feature_layer = cnn_net_layer_find(nets[0], opt.features)) < 0)
		die("--features %s: %s", opt.features, cnn_errmsg());
	cnn_net_layer_info(nets[0], feature_layer, &li);
	feature_size = (long)li.out_c * li.out_h * li.out_w;
	feature_ndim = li.out_h == 1 && li.out_w == 1 ? 1 : 3;
	feature_dim[0] = li.out_c;
	feature_dim[1] = li.out_h;
	feature_dim[2] = li.out_w;
}

/* The image as the model wants it: channels and size converted when
 * --resize allows, else exactly the model's input or an error.  An image
 * of another rank holding the model's number of values (a flat vector, say)
 * is taken as cnn-train takes it, through *view, which shares its data. */
static cnn_tensor *fit(const tool_input *in, cnn_tensor *img, int64_t h, int64_t w,
		       cnn_tensor *view)
{
	char desc[128];
	cnn_tensor *t = img;

	if (img->dtype == CNN_TEXT)
		die_record(in, "tensor \"%s\" is text", img->name);
	if (img->ndim != 3) {
		if (cnn_tensor_count(img) != (int64_t)in_c * in_h * in_w)
			die_record(in, "tensor \"%s\" is %s, neither C x H x W nor the "
				   "model's %lld values (%dx%dx%d)", img->name,
				   cnn_tensor_describe(img, desc, sizeof desc),
				   (long long)in_c * in_h * in_w, in_c, in_h, in_w);
		*view = *img;
		view->ndim = 3;
		view->dim[0] = in_c, view->dim[1] = in_h, view->dim[2] = in_w;
		t = img = view;
	}
	if (img->dim[0] == in_c && img->dim[1] == h && img->dim[2] == w)
		return img;
	/* A model's own rule sizes its input; channels are the user's call. */
	if (!opt.resize && (!has_rule || img->dim[0] != in_c))
		die_record(in, "tensor \"%s\" is %s, the model takes %dx%dx%d (--resize "
			   "converts)", img->name, cnn_tensor_describe(img, desc, sizeof desc), in_c,
			   in_h, in_w);
	if (t->dim[0] != in_c && !(t = cnn_image_channels(img, in_c)))
		die_record(in, "%s", cnn_errmsg());
	if (t->dim[1] != h || t->dim[2] != w) {
		cnn_tensor *r = has_rule ? cnn_image_fit(t, h, w, &rule) : cnn_image_resize(t, h, w);
		if (!r)
			die_record(in, "%s", cnn_errmsg());
		if (t != img)
			cnn_tensor_free(t);
		t = r;
	}
	return t;
}

/* Crop k of the image (C x H x W) into x as floats: 0 the whole image,
 * then the centre and the four corners; k >= 5 mirrors crop k - 5. */
static void crop(const cnn_tensor *img, int k, float *x)
{
	int64_t h = img->dim[1], w = img->dim[2];
	int which = opt.crops == 1 ? -1 : k % 5, mirror = k >= 5;
	int64_t top = which <= 0 ? (h - in_h) / 2 : which <= 2 ? 0 : h - in_h;
	int64_t left = which <= 0 ? (w - in_w) / 2 : which % 2 ? 0 : w - in_w;

	for (int c = 0; c < in_c; c++)
		for (int y = 0; y < in_h; y++)
			for (int i = 0; i < in_w; i++) {
				int64_t sx = left + (mirror ? in_w - 1 - i : i);
				*x++ = cnn_input_value(img, ((int64_t)c * h + top + y) * w + sx);
			}
}

/* Held records and their probabilities, a batch at a time. */
static cnn_record **held;
static int nheld;

static void predict_batch(float *x, float *probs)
{
	int n = nheld * opt.crops;

	memset(probs, 0, sizeof *probs * nheld * classes);
	for (int m = 0; m < opt.nmodels; m++) {
		const float *out = cnn_net_forward(nets[m], x, n, 0);
		if (!out)
			die_lib();
		for (int i = 0; i < n; i++)
			for (long j = 0; j < classes; j++)
				probs[(i / opt.crops) * classes + j] +=
					out[i * classes + j] / (opt.nmodels * opt.crops);
	}
}

static void emit_features(cnn_writer *wr, cnn_record *rec, const float *f, int64_t index)
{
	int64_t bad = cnn_floats_nonfinite(f, feature_size);
	cnn_tensor *t;

	if (bad >= 0)
		die("record %lld: feature %lld of layer %d is %s", (long long)index,
		    (long long)bad, feature_layer, isnan(f[bad]) ? "nan" : "infinite");
	if (!(t = cnn_tensor_new("features", CNN_F32, feature_ndim, feature_dim)))
		die_lib();
	memcpy(t->data, f, sizeof *f * feature_size);
	if (cnn_record_put(rec, t))
		die_lib();
	tool_write(wr, rec);
}

/* The held records, through the model up to the features' layer. */
static void features_batch(cnn_writer *wr, const float *x, int64_t *index)
{
	const float *out = cnn_net_forward_to(nets[0], x, nheld, feature_layer);

	if (!out)
		die_lib();
	for (int i = 0; i < nheld; i++)
		emit_features(wr, held[i], out + i * feature_size, ++*index);
}

static void emit(cnn_writer *wr, cnn_record *rec, const float *p, int64_t index)
{
	int best = 0;
	int64_t bad = cnn_floats_nonfinite(p, classes);

	/* A model trained into NaN would otherwise predict class 0 for all. */
	if (bad >= 0)
		die("record %lld: the model's output for class %lld is %s", (long long)index,
		    (long long)bad, isnan(p[bad]) ? "nan" : "infinite");

	for (long j = 1; j < classes; j++)
		best = p[j] > p[best] ? (int)j : best;
	if (opt.text) {
		int *order = malloc(sizeof *order * classes), k = opt.top < classes ? opt.top : (int)classes;
		if (!order)
			die("out of memory");
		for (long j = 0; j < classes; j++)
			order[j] = (int)j;
		/* Partial selection sort: k is small. */
		for (int a = 0; a < k; a++)
			for (long b = a + 1; b < classes; b++)
				if (p[order[b]] > p[order[a]]) {
					int t = order[a];
					order[a] = order[b];
					order[b] = t;
				}
		printf("%lld", (long long)index);
		for (int a = 0; a < k; a++) {
			const char *name = opt.names ? cnn_names_get(opt.names, order[a]) : NULL;
			if (name)
				printf(" %s %.6f", name, p[order[a]]);
			else
				printf(" %d %.6f", order[a], p[order[a]]);
		}
		putchar('\n');
		free(order);
		return;
	}
	cnn_tensor *pt = cnn_tensor_new("probabilities", CNN_F32, 1, &classes);
	cnn_tensor *pred = cnn_tensor_new("prediction", CNN_I32, 0, NULL);
	if (!pt || !pred)
		die_lib();
	memcpy(pt->data, p, sizeof *p * classes);
	*(int32_t *)pred->data = best;
	if (cnn_record_put(rec, pt) || cnn_record_put(rec, pred))
		die_lib();
	tool_write(wr, rec);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"model", required_argument, 0, 'm'},
		{"features", required_argument, 0, 'f'},
		{"input", required_argument, 0, 'i'},
		{"resize", no_argument, 0, 'r'},
		{"crops", required_argument, 0, 'c'},
		{"crop-scale", required_argument, 0, 256},
		{"text", no_argument, 0, 't'},
		{"top", required_argument, 0, 'k'},
		{"names", required_argument, 0, 'n'},
		{"batch", required_argument, 0, 'b'},
		{"threads", required_argument, 0, 'j'},
		TOOL_OUTPUT_OPTIONS, TOOL_COMMON_OPTIONS, {0, 0, 0, 0}};
	const char *output = "-";
	int level = CNN_LEVEL_DEFAULT, c;
	int64_t index = 0;
	cnn_writer *wr = NULL;
	cnn_record *rec;
	tool_input in;
	float *x, *probs;

	tool_init("cnn-predict");
	while ((c = getopt_long(argc, argv, "m:f:i:rc:tk:n:b:j:o:z:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (opt.nmodels == 16)
				usage_error("at most 16 models");
			opt.models[opt.nmodels++] = optarg;
			break;
		case 'f': opt.features = optarg; break;
		case 'i': opt.input = optarg; break;
		case 'r': opt.resize = 1; break;
		case 'c':
			opt.crops = (int)tool_long("--crops", optarg, 1, 10);
			if (opt.crops != 1 && opt.crops != 5 && opt.crops != 10)
				usage_error("--crops %s: 1, 5 or 10", optarg);
			break;
		case 256: opt.crop_scale = tool_double("--crop-scale", optarg, 1, 4); break;
		case 't': opt.text = 1; break;
		case 'k': opt.top = (int)tool_long("--top", optarg, 1, 1 << 20); break;
		case 'n':
			if (!(opt.names = cnn_names_load(optarg)))
				die_lib();
			break;
		case 'b': opt.batch = (int)tool_long("--batch", optarg, 1, 1 << 14); break;
		case 'j': cnn_set_threads((int)tool_long("--threads", optarg, 1, 1024)); break;
		case 'o': output = optarg; break;
		case 'z': level = (int)tool_long("--level", optarg, 0, 22); break;
		case 'h': tool_help(help);
		case 'V': tool_version();
		default: usage_error(NULL);
		}
	}
	if (opt.nmodels == 0)
		usage_error("no --model");
	if (opt.crops > 1 && !opt.resize)
		usage_error("--crops enlarges the image: it needs --resize");
	if (opt.features && (opt.nmodels > 1 || opt.crops > 1 || opt.text))
		usage_error("--features takes one model, no --crops and no --text");
	load_models();
	if (opt.features)
		find_features();
	tool_input_init(&in, argc - optind, argv + optind);
	if (!opt.text)
		wr = tool_output(output, level);
	held = malloc(sizeof *held * opt.batch);
	x = malloc(sizeof *x * opt.batch * opt.crops * in_c * in_h * in_w);
	probs = malloc(sizeof *probs * opt.batch * classes);
	if (!held || !x || !probs)
		die("out of memory");
	for (;;) {
		int more = (rec = cnn_record_new()) && tool_read(&in, rec, 0);
		if (more) {
			cnn_tensor *img = cnn_record_get(rec, opt.input), *fitted, view;
			int64_t h = opt.crops > 1 ? (int64_t)(in_h * opt.crop_scale + 0.5) : in_h;
			int64_t w = opt.crops > 1 ? (int64_t)(in_w * opt.crop_scale + 0.5) : in_w;
			char desc[300];
			int64_t bad;
			if (!img)
				die_record(&in, "no tensor \"%s\"", opt.input);
			if ((bad = cnn_tensor_nonfinite(img)) >= 0)
				die_record(&in, "%s", cnn_nonfinite_describe(img, bad, desc, sizeof desc));
			fitted = fit(&in, img, h, w, &view);
			for (int k = 0; k < opt.crops; k++)
				crop(fitted, k, x + ((long)nheld * opt.crops + k) * in_c * in_h * in_w);
			if (fitted != img && fitted != &view)
				cnn_tensor_free(fitted);
			held[nheld++] = rec;
		} else {
			cnn_record_free(rec);
		}
		if (nheld == opt.batch || (!more && nheld)) {
			if (opt.features)
				features_batch(wr, x, &index);
			else
				predict_batch(x, probs);
			for (int i = 0; i < nheld; i++) {
				if (!opt.features)
					emit(wr, held[i], probs + i * classes, ++index);
				cnn_record_free(held[i]);
			}
			nheld = 0;
		}
		if (!more)
			break;
	}
	if (wr)
		tool_output_close(wr);
	for (int i = 0; i < opt.nmodels; i++)
		cnn_net_free(nets[i]);
	cnn_names_free(opt.names);
	free(held);
	free(x);
	free(probs);
	return 0;
}
