/*
 * cnn-crop - a record for each box of each record: the image (and every
 * tensor of its size, a mask) cut to the box.
 */
#include <stdlib.h>
#include <string.h>

#include "tool.h"

static const char help[] =
	"Usage: cnn-crop [OPTION]... [FILE]...\n"
	"Write a record for each box of each record of the stream in FILEs (or\n"
	"standard input): its image, and every other tensor of the image's height and\n"
	"width (a mask), cut to the pixels the box covers (clipped to the image, then\n"
	"floored, as face-api cuts a face), with \"box\" (the box, f32 6) and \"source\"\n"
	"(i64: the record and the box, counted from 1); the record's other tensors\n"
	"but the boxes are copied.  A box that covers no whole pixel makes no record.\n\n"
	"  -f, --field NAME     the boxes (default: boxes)\n"
	"      --image NAME     the image (default: image)\n"
	"  -m, --margin F       first enlarge each box by F times its width and height\n"
	"                       on each side (default 0)\n"
	"  -q, --square         first make each box a square of its longer side\n"
	TOOL_OUTPUT_HELP TOOL_COMMON_HELP;

enum { OPT_IMAGE = 256 };

static struct {
	const char *field, *image;
	double margin;
	int square;
} opt = {.field = "boxes", .image = "image"};

/* Does tensor t lie on the image's pixels (its last two axes H x W)? */
static int on_pixels(const cnn_tensor *t, const cnn_tensor *img)
{
	return t->dtype != CNN_TEXT && t->ndim >= 2 && t->dim[t->ndim - 2] == img->dim[1] &&
	       t->dim[t->ndim - 1] == img->dim[2];
}

/* The record of box k (a row of boxes) of rec, or NULL when it covers no
 * pixel. */
static cnn_record *crop(const tool_input *in, const cnn_record *rec, const cnn_tensor *img,
			const float *row, int64_t k)
{
	float box[CNN_BOX_FIELDS];
	int64_t win[4], source[2] = {in->records, k + 1}, two = 2, six = CNN_BOX_FIELDS;
	cnn_tensor *b, *s;
	cnn_record *out;

	memcpy(box, row, sizeof box);
	cnn_box_expand(box, opt.margin, opt.square);
	if (!cnn_box_window(box, img->dim[1], img->dim[2], win))
		return NULL;
	if (!(out = cnn_record_new()))
		die_lib();
	for (int i = 0; i < rec->n; i++) {
		const cnn_tensor *t = rec->tensor[i];
		cnn_tensor *c;
		if (strcmp(t->name, opt.field) == 0)
			continue;
		c = on_pixels(t, img) ? cnn_tensor_window(t, win[0], win[1], win[2], win[3])
				      : cnn_tensor_convert(t, t->dtype);
		if (!c || cnn_record_put(out, c))
			die_record(in, "%s", cnn_errmsg());
	}
	if (!(b = cnn_tensor_new("box", CNN_F32, 1, &six)) ||
	    !(s = cnn_tensor_new("source", CNN_I64, 1, &two)))
		die_lib();
	memcpy(b->data, row, sizeof box);
	memcpy(s->data, source, sizeof source);
	if (cnn_record_put(out, b) || cnn_record_put(out, s))
		die_lib();
	return out;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"field", required_argument, 0, 'f'},
		{"image", required_argument, 0, OPT_IMAGE},
		{"margin", required_argument, 0, 'm'},
		{"square", no_argument, 0, 'q'},
		TOOL_OUTPUT_OPTIONS, TOOL_COMMON_OPTIONS, {0, 0, 0, 0}};
	const char *output = "-";
	int level = CNN_LEVEL_DEFAULT, c;
	cnn_record *rec;
	cnn_writer *wr;
	tool_input in;

	tool_init("cnn-crop");
	while ((c = getopt_long(argc, argv, "f:m:qo:z:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'f': opt.field = optarg; break;
		case OPT_IMAGE: opt.image = optarg; break;
		case 'm': opt.margin = tool_double("--margin", optarg, 0, 100); break;
		case 'q': opt.square = 1; break;
		case 'o': output = optarg; break;
		case 'z': level = (int)tool_long("--level", optarg, 0, 22); break;
		case 'h': tool_help(help);
		case 'V': tool_version();
		default: usage_error(NULL);
		}
	}
	tool_input_init(&in, argc - optind, argv + optind);
	wr = tool_output(output, level);
	if (!(rec = cnn_record_new()))
		die_lib();
	while (tool_read(&in, rec, 0)) {
		cnn_tensor *img = cnn_record_get(rec, opt.image), *boxes = cnn_record_get(rec, opt.field);
		char desc[128];
		if (!img)
			die_record(&in, "no tensor \"%s\"", opt.image);
		if (!boxes)
			die_record(&in, "no tensor \"%s\"", opt.field);
		if (img->ndim != 3 || img->dtype == CNN_TEXT)
			die_record(&in, "tensor \"%s\" is %s, not an image C x H x W", img->name,
				   cnn_tensor_describe(img, desc, sizeof desc));
		if (cnn_boxes_check(boxes, strcmp(opt.field, "boxes_true") == 0))
			die_record(&in, "%s", cnn_errmsg());
		for (int64_t k = 0; k < boxes->dim[0]; k++) {
			cnn_record *out = crop(&in, rec, img,
					       (const float *)boxes->data + k * CNN_BOX_FIELDS, k);
			if (out) {
				tool_write(wr, out);
				cnn_record_free(out);
			}
		}
	}
	tool_output_close(wr);
	cnn_record_free(rec);
	return 0;
}
