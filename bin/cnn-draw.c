/*
 * cnn-draw - draw each record's boxes, labelled, onto its image.
 */
#include <string.h>

#include "tool.h"

static const char help[] =
	"Usage: cnn-draw [OPTION]... [FILE]...\n"
	"Draw the boxes of each record of the stream in FILEs (or standard input)\n"
	"onto its image, each class in a colour of its own with a label of its name\n"
	"and score, and write the stream with the drawn image (u8) in the image's\n"
	"place: '| cnn-save -o out.jpg' makes the picture.\n\n"
	"  -N, --names FILE      class names, one per line (darknet's coco.names)\n"
	"  -T, --truth           also draw the ground truth (boxes_true), dashed\n"
	"  -w, --thickness N     line width in pixels (default: 1 per 250 pixels of\n"
	"                        the image's shorter side)\n"
	"  -s, --font-scale N    label letters N times 5 x 9 pixels (default: 1 per\n"
	"                        320 pixels of the shorter side)\n"
	"      --no-labels       no labels\n"
	"      --no-scores       labels without scores\n"
	"      --gray            keep gray images gray (default: make them RGB)\n"
	"  -f, --field NAME      the boxes (default: boxes)\n"
	"      --truth-field NAME  the ground truth (default: boxes_true)\n"
	"      --image NAME      the image (default: image)\n"
	TOOL_OUTPUT_HELP TOOL_COMMON_HELP;

enum { OPT_NO_LABELS = 256, OPT_NO_SCORES, OPT_GRAY, OPT_TRUTH_FIELD, OPT_IMAGE };

struct options {
	cnn_names *names;
	cnn_draw_style style;
	int truth, gray;
	const char *field, *truth_field, *image;
};

/* The image as u8 C x H x W, C 3 (or 1 with --gray): what drawing takes. */
static cnn_tensor *canvas(const struct options *o, const tool_input *in, const cnn_tensor *img)
{
	cnn_tensor *u8, *out;
	char desc[128];
	int channels;

	if (img->ndim != 3 || img->dim[0] < 1 || img->dim[0] > 4)
		die_record(in, "tensor \"%s\" is %s; want an image, C x H x W with C 1..4",
			   img->name, cnn_tensor_describe(img, desc, sizeof desc));
	channels = o->gray && img->dim[0] <= 2 ? 1 : 3;
	if (!(u8 = cnn_tensor_convert(img, CNN_U8)))
		die_lib();
	if (u8->dim[0] == channels)
		return u8;
	if (!(out = cnn_image_channels(u8, channels)))
		die_lib();
	cnn_tensor_free(u8);
	return out;
}

static void draw(const struct options *o, const tool_input *in, cnn_record *rec)
{
	cnn_tensor *img = cnn_record_get(rec, o->image), *boxes = cnn_record_get(rec, o->field);
	cnn_tensor *truth = o->truth ? cnn_record_get(rec, o->truth_field) : NULL;
	cnn_draw_style dashed = o->style;

	if (!img)
		die_record(in, "no tensor \"%s\"", o->image);
	if (!boxes)
		die_record(in, "no tensor \"%s\"", o->field);
	if (o->truth && !truth)
		die_record(in, "no tensor \"%s\"", o->truth_field);
	img = canvas(o, in, img);
	dashed.dashed = 1;
	dashed.labels = 0;
	if ((truth && cnn_draw_boxes(img, truth, o->names, &dashed)) ||
	    cnn_draw_boxes(img, boxes, o->names, &o->style))
		die_record(in, "%s", cnn_errmsg());
	if (cnn_tensor_rename(img, o->image) || cnn_record_put(rec, img))
		die_lib();
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"names", required_argument, 0, 'N'},
		{"truth", no_argument, 0, 'T'},
		{"thickness", required_argument, 0, 'w'},
		{"font-scale", required_argument, 0, 's'},
		{"no-labels", no_argument, 0, OPT_NO_LABELS},
		{"no-scores", no_argument, 0, OPT_NO_SCORES},
		{"gray", no_argument, 0, OPT_GRAY},
		{"field", required_argument, 0, 'f'},
		{"truth-field", required_argument, 0, OPT_TRUTH_FIELD},
		{"image", required_argument, 0, OPT_IMAGE},
		TOOL_OUTPUT_OPTIONS, TOOL_COMMON_OPTIONS, {0, 0, 0, 0}};
	struct options o = {
		.style = {.labels = 1, .scores = 1},
		.field = "boxes", .truth_field = "boxes_true", .image = "image",
	};
	const char *names = NULL, *output = "-";
	int level = CNN_LEVEL_DEFAULT, c;
	cnn_record *rec;
	cnn_writer *wr;
	tool_input in;

	tool_init("cnn-draw");
	while ((c = getopt_long(argc, argv, "N:Tw:s:f:o:z:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'N': names = optarg; break;
		case 'T': o.truth = 1; break;
		case 'w': o.style.thickness = (int)tool_long("--thickness", optarg, 1, 1000); break;
		case 's': o.style.font_scale = (int)tool_long("--font-scale", optarg, 1, 100); break;
		case OPT_NO_LABELS: o.style.labels = 0; break;
		case OPT_NO_SCORES: o.style.scores = 0; break;
		case OPT_GRAY: o.gray = 1; break;
		case 'f': o.field = optarg; break;
		case OPT_TRUTH_FIELD: o.truth_field = optarg; break;
		case OPT_IMAGE: o.image = optarg; break;
		case 'o': output = optarg; break;
		case 'z': level = (int)tool_long("--level", optarg, 0, 22); break;
		case 'h': tool_help(help);
		case 'V': tool_version();
		default: usage_error(NULL);
		}
	}
	if (names && !(o.names = cnn_names_load(names)))
		die_lib();

	tool_input_init(&in, argc - optind, argv + optind);
	wr = tool_output(output, level);
	if (!(rec = cnn_record_new()))
		die_lib();
	while (tool_read(&in, rec, 0)) {
		draw(&o, &in, rec);
		tool_write(wr, rec);
	}
	tool_output_close(wr);
	cnn_record_free(rec);
	cnn_names_free(o.names);
	return 0;
}
