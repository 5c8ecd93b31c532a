/*
 * cnn-montage - the images of a stream tiled into one picture, a contact
 * sheet, with captions, boxes and masks.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "tool.h"

static const char help[] =
	"Usage: cnn-montage [OPTION]... [FILE]...\n"
	"Tile the images of the first records of the stream in FILEs (or standard\n"
	"input) into one picture, in rows from the top left, to look at a data set or\n"
	"at what augmentation does to it.\n\n"
	"  -o, --output FILE     the picture: .png or .jpg, or - for PNG on standard\n"
	"                        output (default: -, which must not be a terminal)\n"
	"  -n, --count N         at most N records, then stop reading (default 64)\n"
	"  -c, --columns N       tiles per row (default: the square root of the count,\n"
	"                        rounded up)\n"
	"  -t, --tile HxW        scale each image to fit H x W pixels, centred\n"
	"                        (default: the largest image's size, at most 256x256)\n"
	"  -g, --gap N           pixels between tiles (default 2)\n"
	"  -B, --background C    the colour of gaps and captions: V or R,G,B, 0..255\n"
	"                        (default 255, white)\n"
	"  -l, --labels          caption each tile with its label: the class's name or\n"
	"                        number, or for class probabilities the best and its\n"
	"                        probability\n"
	"      --caption FIELD   caption from FIELD instead (text such as path, or a\n"
	"                        class such as prediction)\n"
	"      --captions FILE   caption tile N with line N of FILE\n"
	"  -N, --names FILE      class names, one per line, for captions and boxes\n"
	"  -b, --boxes           draw the boxes, and the ground truth (boxes_true)\n"
	"                        dashed\n"
	"  -m, --mask            blend the mask's classes in their colours, half over\n"
	"      --range LO:HI     map image values LO..HI to 0..255 (default: u8 as it\n"
	"                        is; others 0..255 if they lie in it, else each image's\n"
	"                        own min..max)\n"
	"  -f, --field NAME      the image (default: image)\n"
	TOOL_COMMON_HELP;

enum { OPT_CAPTION = 256, OPT_CAPTIONS, OPT_RANGE };

struct options {
	const char *field, *caption;
	int boxes, mask;
	cnn_names *names, *captions;
};

/* Has the name one of the picture endings? */
static int picture_name(const char *s)
{
	static const char *const ends[] = {".png", ".jpg", ".jpeg"};
	size_t len = strlen(s);

	for (int i = 0; i < 3; i++) {
		size_t n = strlen(ends[i]);
		if (len > n && strcasecmp(s + len - n, ends[i]) == 0)
			return 1;
	}
	return strcmp(s, "-") == 0;
}

static void parse_range(const char *arg, double *lo, double *hi)
{
	char *end, *end2;

	*lo = strtod(arg, &end);
	if (end != arg && *end == ':') {
		*hi = strtod(end + 1, &end2);
		if (end2 != end + 1 && !*end2 && isfinite(*lo) && isfinite(*hi) && *lo < *hi)
			return;
	}
	usage_error("--range %s: want LO:HI, two numbers with LO < HI", arg);
}

static void add(const struct options *o, const tool_input *in, const cnn_record *rec,
		cnn_montage *m)
{
	const cnn_tensor *img = cnn_record_get(rec, o->field), *label = NULL, *boxes = NULL,
			 *truth = NULL, *mask = NULL;
	char caption[256];

	if (!img)
		die_record(in, "no tensor \"%s\"", o->field);
	if (o->captions) {
		const char *line = cnn_names_get(o->captions, (int)cnn_montage_count(m));
		snprintf(caption, sizeof caption, "%s", line ? line : "");
		label = img;
	} else if (o->caption) {
		if (!(label = cnn_record_get(rec, o->caption)))
			die_record(in, "no tensor \"%s\"", o->caption);
		if (cnn_montage_caption(label, o->names, caption, sizeof caption))
			die_record(in, "%s", cnn_errmsg());
	}
	if (o->boxes) {
		boxes = cnn_record_get(rec, "boxes");
		truth = cnn_record_get(rec, "boxes_true");
		if (!boxes && !truth)
			die_record(in, "no tensor \"boxes\" or \"boxes_true\"");
	}
	if (o->mask && !(mask = cnn_record_get(rec, "mask")))
		die_record(in, "no tensor \"mask\"");
	if (cnn_montage_add(m, img, label ? caption : NULL, boxes, truth, mask))
		die_record(in, "%s", cnn_errmsg());
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"output", required_argument, 0, 'o'},
		{"count", required_argument, 0, 'n'},
		{"columns", required_argument, 0, 'c'},
		{"tile", required_argument, 0, 't'},
		{"gap", required_argument, 0, 'g'},
		{"background", required_argument, 0, 'B'},
		{"labels", no_argument, 0, 'l'},
		{"caption", required_argument, 0, OPT_CAPTION},
		{"captions", required_argument, 0, OPT_CAPTIONS},
		{"names", required_argument, 0, 'N'},
		{"boxes", no_argument, 0, 'b'},
		{"mask", no_argument, 0, 'm'},
		{"range", required_argument, 0, OPT_RANGE},
		{"field", required_argument, 0, 'f'},
		TOOL_COMMON_OPTIONS, {0, 0, 0, 0}};
	struct options o = {.field = "image"};
	cnn_montage_opts mo;
	const char *output = "-", *names = NULL, *captions = NULL;
	long count = 64;
	int v[3], n, c;
	cnn_montage *m;
	cnn_record *rec;
	cnn_tensor *pic;
	tool_input in;

	tool_init("cnn-montage");
	cnn_montage_defaults(&mo);
	while ((c = getopt_long(argc, argv, "o:n:c:t:g:B:lN:bmf:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': output = optarg; break;
		case 'n': count = tool_long("--count", optarg, 1, 1000000); break;
		case 'c': mo.columns = (int)tool_long("--columns", optarg, 1, 100000); break;
		case 't':
			n = tool_ints("--tile", optarg, v, 2, 1, 4096);
			mo.tile_h = v[0];
			mo.tile_w = v[n - 1];
			break;
		case 'g': mo.gap = (int)tool_long("--gap", optarg, 0, 1000); break;
		case 'B':
			n = tool_ints("--background", optarg, v, 3, 0, 255);
			if (n == 2)
				usage_error("--background %s: want V or R,G,B", optarg);
			for (int k = 0; k < 3; k++)
				mo.background[k] = (uint8_t)v[n == 1 ? 0 : k];
			break;
		case 'l': o.caption = o.caption ? o.caption : "label"; break;
		case OPT_CAPTION: o.caption = optarg; break;
		case OPT_CAPTIONS: captions = optarg; break;
		case 'N': names = optarg; break;
		case 'b': o.boxes = 1; break;
		case 'm': o.mask = 1; break;
		case OPT_RANGE: parse_range(optarg, &mo.lo, &mo.hi); break;
		case 'f': o.field = optarg; break;
		case 'h': tool_help(help);
		case 'V': tool_version();
		default: usage_error(NULL);
		}
	}
	if (!picture_name(output))
		usage_error("--output %s: name a .png or .jpg file, or -", output);
	/* Checked before reading, so that a forgotten -o fails at once. */
	if (strcmp(output, "-") == 0 && isatty(STDOUT_FILENO))
		die("will not write a picture to a terminal (redirect it or use -o FILE)");
	if ((names && !(o.names = cnn_names_load(names))) ||
	    (captions && !(o.captions = cnn_names_load(captions))))
		die_lib();
	mo.names = o.names;
	if (!(m = cnn_montage_new(&mo)) || !(rec = cnn_record_new()))
		die_lib();

	tool_check_output(output);
	tool_input_init(&in, argc - optind, argv + optind);
	/* Stop at the count without reading on: the input may be endless. */
	while (cnn_montage_count(m) < count && tool_read(&in, rec, 0))
		add(&o, &in, rec, m);
	tool_input_close(&in);
	if (!(pic = cnn_montage_render(m)) || cnn_image_save(output, pic, 0))
		die_lib();
	cnn_tensor_free(pic);
	cnn_montage_free(m);
	cnn_record_free(rec);
	cnn_names_free(o.names);
	cnn_names_free(o.captions);
	return 0;
}
