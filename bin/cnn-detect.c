/*
 * cnn-detect - run a detector over each record's image and add the boxes
 * it finds, in the image's own pixels.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tool.h"

static const char help[] =
	"Usage: cnn-detect -m MODEL [OPTION]... [FILE]...\n"
	"Run the detector MODEL (a network with detection layers: [detection],\n"
	"[region], [yolo], [ssd]) on the image of every record of the stream in FILEs (or\n"
	"standard input), of any size, and add \"boxes\" (x1, y1, x2, y2, score,\n"
	"class, in the image's pixels) after non-max suppression; or print them.\n\n"
	"  -m, --model MODEL     a model file (cnn-train, cnn-import)\n"
	"  -s, --score T         keep boxes scoring above T (default 0.5)\n"
	"  -i, --iou T           NMS's IoU threshold (default: the model's nms=, 0.45\n"
	"                        unless its cfg says)\n"
	TOOL_NMS_HELP
	"      --max M           keep at most M boxes per image (default: all)\n"
	"      --raw             every box scoring above T, no NMS (for cnn-nms)\n"
	"      --input NAME      the records' image tensor (default \"image\")\n"
	"      --windows STRIDE  MODEL is a classifier: slide windows of its input size\n"
	"                        over the image, STRIDE pixels apart, each through it\n"
	"                        (--windows conv: once over the whole image made fully\n"
	"                        convolutional, the windows its stride apart); a box for\n"
	"                        each window whose best class scores above T\n"
	"      --scales S,...    with --windows: the image at these scales (default 1)\n"
	"      --background K    with --windows: class K is no object (default: none)\n"
	"      --size WxH        run the network at this input size instead of its\n"
	"                        cfg's (a fully convolutional one: darknet's\n"
	"                        width= and height= changed)\n"
	"  -t, --text            print darknet's -ext_output lines instead: a line\n"
	"                        \"N: Predicted in MS milli-seconds.\" for record N,\n"
	"                        then \"name: 98%\\t(left_x: ... height: ...)\" for each box\n"
	"  -n, --names FILE      class names, one per line, for --text\n"
	"  -b, --batch N         images per forward pass (default 8)\n"
	"  -j, --threads N       threads (default: all processors)\n"
	TOOL_OUTPUT_HELP TOOL_COMMON_HELP;

enum { OPT_RAW = 256, OPT_INPUT, OPT_SIZE, OPT_WINDOWS, OPT_SCALES, OPT_BACKGROUND };

static struct {
	const char *model, *input;
	int raw, text, batch, iou_given, size[2];
	cnn_names *names;
	cnn_nms_opts nms;
	int windows;
	cnn_windows_opts win;
} opt = {.input = "image", .batch = 8, .win = {.nscales = 1, .scale = {1}, .background = -1}};

static cnn_net *net;
static int in_c, in_h, in_w;
static cnn_input_rule rule;

/* The image as the network takes it: its channels, then its size by the
 * model's rule (stretched when it has none), as floats on its scale. */
static cnn_tensor *fit(const tool_input *in, const cnn_tensor *img)
{
	char desc[128];
	cnn_tensor *t = (cnn_tensor *)img, *r;

	if (img->ndim != 3 || img->dtype == CNN_TEXT)
		die_record(in, "tensor \"%s\" is %s, not an image C x H x W", img->name,
			   cnn_tensor_describe(img, desc, sizeof desc));
	if (img->dim[0] != in_c && !(t = cnn_image_channels(img, in_c)))
		die_record(in, "%s", cnn_errmsg());
	if (!(r = cnn_image_fit(t, in_h, in_w, &rule)))
		die_record(in, "%s", cnn_errmsg());
	if (t != img)
		cnn_tensor_free(t);
	return r;
}

static void print_box(const float *b)
{
	const char *name = opt.names ? cnn_names_get(opt.names, (int)b[5]) : NULL;

	if (name)
		printf("%s: %.0f%%", name, b[4] * 100.0);
	else
		printf("%d: %.0f%%", (int)b[5], b[4] * 100.0);
	printf("\t(left_x: %4.0f   top_y: %4.0f   width: %4.0f   height: %4.0f)\n", round(b[0]),
	       round(b[1]), round((double)b[2] - b[0]), round((double)b[3] - b[1]));
}

/* --scales 1,0.75,0.5 */
static void parse_scales(const char *arg)
{
	char *end;
	const char *p = arg;

	opt.win.nscales = 0;
	do {
		double s = strtod(p, &end);
		if (end == p || !(s > 0 && s <= 16) || opt.win.nscales == CNN_WINDOWS_MAX_SCALES)
			usage_error("--scales %s: up to %d scales above 0, at most 16, separated by "
				    "commas", arg, CNN_WINDOWS_MAX_SCALES);
		opt.win.scale[opt.win.nscales++] = s;
		p = end + 1;
	} while (*end == ',');
	if (*end)
		usage_error("--scales %s: up to %d scales separated by commas", arg,
			    CNN_WINDOWS_MAX_SCALES);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

/* The boxes found in a record, in its image's pixels, NMS'd at IoU nms
 * (unless -i) and written or printed; index the record's number. */
static void emit_boxes(cnn_writer *wr, cnn_record *rec, cnn_tensor *found, double nms,
		       int64_t index, double ms)
{
	cnn_nms_opts o = opt.nms;
	cnn_tensor *kept;

	if (!opt.iou_given)
		o.iou = nms;
	kept = opt.raw ? found : cnn_nms_boxes(found, &o);
	if (!kept)
		die("record %lld: %s", (long long)index, cnn_errmsg());
	if (kept != found)
		cnn_tensor_free(found);
	if (opt.text) {
		printf("%lld: Predicted in %f milli-seconds.\n", (long long)index, ms);
		for (int64_t k = 0; k < kept->dim[0]; k++)
			print_box((const float *)kept->data + k * CNN_BOX_FIELDS);
		cnn_tensor_free(kept);
		return;
	}
	if (cnn_record_put(rec, kept))
		die_lib();
	tool_write(wr, rec);
}

/* Example i of the latest forward pass: its detectors' boxes. */
static void emit(cnn_writer *wr, cnn_record *rec, int i, int64_t h, int64_t w, int64_t index,
		 double ms)
{
	double nms;
	cnn_tensor *found = cnn_net_detections(net, i, opt.nms.score, &nms);

	if (!found)
		die("record %lld: %s", (long long)index, cnn_errmsg());
	cnn_image_fit_boxes(&rule, h, w, in_h, in_w, found->data, found->dim[0]);
	emit_boxes(wr, rec, found, nms, index, ms);
}

/* --windows: the classifier over the windows of each record's image. */
static void slide(tool_input *in, cnn_writer *wr)
{
	cnn_record *rec = cnn_record_new();
	int64_t index = 0;

	if (!rec)
		die_lib();
	opt.win.threshold = opt.nms.score;
	while (tool_read(in, rec, 0)) {
		cnn_tensor *img = cnn_record_get(rec, opt.input), *t, *found;
		char desc[128];
		double start = now_ms();
		if (!img)
			die_record(in, "no tensor \"%s\"", opt.input);
		if (img->ndim != 3 || img->dtype == CNN_TEXT)
			die_record(in, "tensor \"%s\" is %s, not an image C x H x W", img->name,
				   cnn_tensor_describe(img, desc, sizeof desc));
		t = img->dim[0] == in_c ? img : cnn_image_channels(img, in_c);
		if (!t || !(found = cnn_sliding_windows(net, t, &opt.win)))
			die_record(in, "%s", cnn_errmsg());
		if (t != img)
			cnn_tensor_free(t);
		emit_boxes(wr, rec, found, 0.45, ++index, now_ms() - start);
	}
	cnn_record_free(rec);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"model", required_argument, 0, 'm'},
		TOOL_NMS_OPTIONS,
		{"raw", no_argument, 0, OPT_RAW},
		{"input", required_argument, 0, OPT_INPUT},
		{"size", required_argument, 0, OPT_SIZE},
		{"windows", required_argument, 0, OPT_WINDOWS},
		{"scales", required_argument, 0, OPT_SCALES},
		{"background", required_argument, 0, OPT_BACKGROUND},
		{"text", no_argument, 0, 't'},
		{"names", required_argument, 0, 'n'},
		{"batch", required_argument, 0, 'b'},
		{"threads", required_argument, 0, 'j'},
		TOOL_OUTPUT_OPTIONS, TOOL_COMMON_OPTIONS, {0, 0, 0, 0}};
	const char *output = "-";
	int level = CNN_LEVEL_DEFAULT, c, nheld = 0;
	int64_t index = 0, (*size)[2];
	cnn_writer *wr = NULL;
	cnn_record *rec, **held;
	tool_input in;
	float *x;

	tool_init("cnn-detect");
	cnn_nms_defaults(&opt.nms);
	opt.nms.score = 0.5;
	while ((c = getopt_long(argc, argv, "m:" TOOL_NMS_SHORT "tn:b:j:o:z:hV", longopts,
				NULL)) != -1) {
		if (tool_nms_option(c, optarg, &opt.nms)) {
			opt.iou_given |= c == 'i';
			continue;
		}
		switch (c) {
		case 'm': opt.model = optarg; break;
		case OPT_RAW: opt.raw = 1; break;
		case OPT_INPUT: opt.input = optarg; break;
		case OPT_WINDOWS:
			opt.windows = 1;
			opt.win.convolutional = !strcmp(optarg, "conv");
			if (!opt.win.convolutional)
				opt.win.stride = (int)tool_long("--windows", optarg, 1, 1 << 16);
			break;
		case OPT_SCALES: parse_scales(optarg); break;
		case OPT_BACKGROUND:
			opt.win.background = (int)tool_long("--background", optarg, 0, CNN_BOX_MAX_CLASS);
			break;
		case OPT_SIZE:
			if (tool_ints("--size", optarg, opt.size, 2, 1, 1 << 16) != 2)
				usage_error("--size: '%s' is not WxH", optarg);
			break;
		case 't': opt.text = 1; break;
		case 'n':
			if (!(opt.names = cnn_names_load(optarg)))
				die_lib();
			break;
		case 'b': opt.batch = (int)tool_long("--batch", optarg, 1, 1 << 12); break;
		case 'j': cnn_set_threads((int)tool_long("--threads", optarg, 1, 1024)); break;
		case 'o': output = optarg; break;
		case 'z': level = (int)tool_long("--level", optarg, 0, 22); break;
		case 'h': tool_help(help);
		case 'V': tool_version();
		default: usage_error(NULL);
		}
	}
	tool_nms_check(&opt.nms);
	if (!opt.model)
		usage_error("no --model");
	tool_note_input(opt.model);
	if (!(net = cnn_net_load(opt.model, opt.batch, NULL)))
		die_lib();
	if (!opt.windows && !cnn_net_detects(net))
		die("%s: the network has no detection layer ([detection], [region], [yolo], [ssd]; "
		    "a classifier takes --windows)", opt.model);
	if (opt.size[0] && cnn_net_resize(net, opt.size[1], opt.size[0]))
		die("--size %dx%d: %s", opt.size[0], opt.size[1], cnn_errmsg());
	cnn_net_input_shape(net, &in_c, &in_h, &in_w);
	cnn_net_input_rule(net, &rule);

	tool_input_init(&in, argc - optind, argv + optind);
	if (!opt.text)
		wr = tool_output(output, level);
	if (opt.windows) {
		slide(&in, wr);
		if (wr)
			tool_output_close(wr);
		cnn_net_free(net);
		cnn_names_free(opt.names);
		return 0;
	}
	held = malloc(sizeof *held * opt.batch);
	size = malloc(sizeof *size * opt.batch);
	x = malloc(sizeof *x * opt.batch * in_c * in_h * in_w);
	if (!held || !size || !x)
		die("out of memory");
	for (;;) {
		int more = (rec = cnn_record_new()) && tool_read(&in, rec, 0);
		if (more) {
			cnn_tensor *img = cnn_record_get(rec, opt.input), *fitted;
			char desc[300];
			int64_t bad;
			if (!img)
				die_record(&in, "no tensor \"%s\"", opt.input);
			if ((bad = cnn_tensor_nonfinite(img)) >= 0)
				die_record(&in, "%s", cnn_nonfinite_describe(img, bad, desc, sizeof desc));
			fitted = fit(&in, img);
			memcpy(x + (long)nheld * in_c * in_h * in_w, fitted->data,
			       sizeof *x * in_c * in_h * in_w);
			cnn_tensor_free(fitted);
			size[nheld][0] = img->dim[1];
			size[nheld][1] = img->dim[2];
			held[nheld++] = rec;
		} else {
			cnn_record_free(rec);
		}
		if (nheld == opt.batch || (!more && nheld)) {
			double start = now_ms(), ms;
			if (!cnn_net_forward(net, x, nheld, 0))
				die_lib();
			ms = (now_ms() - start) / nheld;
			for (int i = 0; i < nheld; i++) {
				emit(wr, held[i], i, size[i][0], size[i][1], ++index, ms);
				cnn_record_free(held[i]);
			}
			nheld = 0;
		}
		if (!more)
			break;
	}
	if (wr)
		tool_output_close(wr);
	cnn_net_free(net);
	cnn_names_free(opt.names);
	free(held);
	free(size);
	free(x);
	return 0;
}
