/*
 * cnn-compose - detection and segmentation training data by copy-paste:
 * the objects of a stream pasted onto crops of background photos, with
 * their boxes and masks.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "tool.h"

static const char help[] =
	"Usage: cnn-compose -B BACKGROUND [OPTION]... [FILE]...\n"
	"Make N images for detection and segmentation by pasting objects, the\n"
	"records of the stream in FILEs (or standard input: an image and a class\n"
	"label each), onto random crops of background photos.  Each record made\n"
	"holds image, boxes_true (the box of each object's visible pixels) and\n"
	"mask (0 background, class + 1 on each object's pixels, later objects over\n"
	"earlier ones).  An object is its pixels above the threshold (its alpha\n"
	"above it, for an image with alpha).  RANGE is A:B, or A for A:A.\n\n"
	"  -B, --background PATH  a photo, or a folder of them (.png, .jpg); repeat\n"
	"                         for more; each image's crop is of one of them\n"
	"  -n, --count N          images to make (default 100)\n"
	"  -s, --size HxW         their size (default 96x96; N: N x N)\n"
	"  -c, --channels 1|3     gray or RGB (default 3)\n"
	"  -k, --objects RANGE    objects per image (default 1:4, at most 255)\n"
	"      --object-size RANGE   an object's longer side in pixels (default 24:48)\n"
	"      --object-scale RANGE  or a factor of its own size\n"
	"      --background-scale RANGE  the photo is resized by a factor in RANGE\n"
	"                         before the crop (default 0.25:1)\n"
	"      --flip P           mirror an object left-right with probability P (0.5)\n"
	"      --tint P           colour a gray object with probability P (0)\n"
	"      --max-iou T        no two boxes of an image overlap by more (0.3)\n"
	"      --min-visible F    no object keeps less than F of its pixels in view\n"
	"                         (0.5)\n"
	"      --tries N          places tried per object before it is left out (20)\n"
	"  -t, --threshold T      an object is its pixels above T, 0..254 (default 0)\n"
	"  -p, --pool N           keep at most N objects in memory, a uniform sample of\n"
	"                         the input when it holds more (default 65536)\n"
	"      --instances        add instances: 0, or the object's row of boxes_true\n"
	"                         counted from 1\n"
	"  -f, --field NAME       the objects' image (default: image)\n"
	"  -l, --label NAME       their class (default: label)\n"
	"  -S, --seed N           the seed (default 1): the same seed, the same stream\n"
	TOOL_OUTPUT_HELP TOOL_COMMON_HELP;

enum { OPT_OBJECT_SIZE = 256, OPT_OBJECT_SCALE, OPT_BACKGROUND_SCALE, OPT_FLIP, OPT_TINT,
       OPT_MAX_IOU, OPT_MIN_VISIBLE, OPT_TRIES, OPT_INSTANCES };

#define MAX_BACKGROUND_ARGS 64

struct options {
	cnn_compose_opts c;
	const char *background[MAX_BACKGROUND_ARGS];
	int nbackground;
	long count;
	const char *field, *label, *output;
	int level;
};

/* A range A:B (or A alone) of numbers from min to max. */
static void parse_range(const char *opt, const char *arg, double min, double max, double r[2])
{
	char a[64], *colon;

	if (strlen(arg) >= sizeof a)
		usage_error("%s: '%s' is not a range A:B", opt, arg);
	strcpy(a, arg);
	colon = strchr(a, ':');
	if (colon)
		*colon = 0;
	r[0] = tool_double(opt, a, min, max);
	r[1] = colon ? tool_double(opt, colon + 1, min, max) : r[0];
	if (r[0] > r[1])
		usage_error("%s: '%s' is not a range A:B with A <= B", opt, arg);
}

static void parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{"background", required_argument, 0, 'B'},
		{"count", required_argument, 0, 'n'},
		{"size", required_argument, 0, 's'},
		{"channels", required_argument, 0, 'c'},
		{"objects", required_argument, 0, 'k'},
		{"object-size", required_argument, 0, OPT_OBJECT_SIZE},
		{"object-scale", required_argument, 0, OPT_OBJECT_SCALE},
		{"background-scale", required_argument, 0, OPT_BACKGROUND_SCALE},
		{"flip", required_argument, 0, OPT_FLIP},
		{"tint", required_argument, 0, OPT_TINT},
		{"max-iou", required_argument, 0, OPT_MAX_IOU},
		{"min-visible", required_argument, 0, OPT_MIN_VISIBLE},
		{"tries", required_argument, 0, OPT_TRIES},
		{"threshold", required_argument, 0, 't'},
		{"pool", required_argument, 0, 'p'},
		{"instances", no_argument, 0, OPT_INSTANCES},
		{"field", required_argument, 0, 'f'},
		{"label", required_argument, 0, 'l'},
		{"seed", required_argument, 0, 'S'},
		TOOL_OUTPUT_OPTIONS, TOOL_COMMON_OPTIONS, {0, 0, 0, 0}};
	int v[2], n, c, size_given = 0, scale_given = 0;
	double r[2];

	while ((c = getopt_long(argc, argv, "B:n:s:c:k:t:p:f:l:S:o:z:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'B':
			if (o->nbackground == MAX_BACKGROUND_ARGS)
				usage_error("--background: more than %d (name a folder)",
					    MAX_BACKGROUND_ARGS);
			o->background[o->nbackground++] = optarg;
			break;
		case 'n': o->count = tool_long("--count", optarg, 0, LONG_MAX); break;
		case 's':
			n = tool_ints("--size", optarg, v, 2, 1, 65536);
			o->c.height = v[0];
			o->c.width = v[n - 1];
			break;
		case 'c':
			o->c.channels = (int)tool_long("--channels", optarg, 1, 3);
			if (o->c.channels == 2)
				usage_error("--channels: want 1 or 3");
			break;
		case 'k':
			parse_range("--objects", optarg, 0, 255, r);
			if (r[0] != (int)r[0] || r[1] != (int)r[1])
				usage_error("--objects: '%s' is not a range of whole numbers", optarg);
			o->c.min_objects = (int)r[0];
			o->c.max_objects = (int)r[1];
			break;
		case OPT_OBJECT_SIZE:
			parse_range("--object-size", optarg, 1, 65536, o->c.size);
			size_given = 1;
			break;
		case OPT_OBJECT_SCALE:
			parse_range("--object-scale", optarg, 1e-6, 1e6, o->c.scale);
			scale_given = 1;
			break;
		case OPT_BACKGROUND_SCALE:
			parse_range("--background-scale", optarg, 1e-6, 1e6, o->c.background_scale);
			break;
		case OPT_FLIP: o->c.flip = tool_double("--flip", optarg, 0, 1); break;
		case OPT_TINT: o->c.tint = tool_double("--tint", optarg, 0, 1); break;
		case OPT_MAX_IOU: o->c.max_iou = tool_double("--max-iou", optarg, 0, 1); break;
		case OPT_MIN_VISIBLE:
			o->c.min_visible = tool_double("--min-visible", optarg, 0, 1);
			break;
		case OPT_TRIES: o->c.tries = (int)tool_long("--tries", optarg, 1, 1000000); break;
		case 't': o->c.threshold = (int)tool_long("--threshold", optarg, 0, 254); break;
		case 'p': o->c.pool = tool_long("--pool", optarg, 1, INT32_MAX); break;
		case OPT_INSTANCES: o->c.instances = 1; break;
		case 'f': o->field = optarg; break;
		case 'l': o->label = optarg; break;
		case 'S': o->c.seed = (uint64_t)tool_long("--seed", optarg, 0, LONG_MAX); break;
		case 'o': o->output = optarg; break;
		case 'z': o->level = (int)tool_long("--level", optarg, 0, 22); break;
		case 'h': tool_help(help);
		case 'V': tool_version();
		default: usage_error(NULL);
		}
	}
	if (size_given && scale_given)
		usage_error("--object-size and --object-scale: give one");
	if (o->nbackground == 0)
		usage_error("no background given (-B PHOTO or -B FOLDER)");
	if (o->c.tint > 0 && o->c.channels == 1)
		usage_error("--tint colours objects: not with --channels 1");
}

/* ---------------------------------------------------------- backgrounds */

static void add_background(cnn_compose *c, const char *path, int channels)
{
	cnn_tensor *img = cnn_image_load(path, channels, 0);

	if (!img)
		die_lib();
	if (cnn_compose_add_background(c, img))
		die("%s: %s", path, cnn_errmsg());
	cnn_tensor_free(img);
}

static int is_photo_name(const char *name)
{
	static const char *const ends[] = {".png", ".jpg", ".jpeg"};
	size_t len = strlen(name);

	for (int i = 0; i < 3; i++) {
		size_t n = strlen(ends[i]);
		if (len > n && strcasecmp(name + len - n, ends[i]) == 0)
			return 1;
	}
	return 0;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The photos of a folder, in the order of their names, so that the seed
 * picks the same ones wherever the folder was copied. */
static void add_folder(cnn_compose *c, const char *dir, int channels)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL, path[PATH_MAX];
	int n = 0;

	if (!d)
		die("%s: %s", dir, strerror(errno));
	while ((e = readdir(d)))
		if (is_photo_name(e->d_name)) {
			if (!(names = realloc(names, (n + 1) * sizeof *names)) ||
			    !(names[n++] = strdup(e->d_name)))
				die("out of memory");
		}
	closedir(d);
	if (n == 0)
		die("%s: no .png or .jpg file in the folder", dir);
	qsort(names, n, sizeof *names, compare_names);
	for (int i = 0; i < n; i++) {
		if (snprintf(path, sizeof path, "%s/%s", dir, names[i]) >= (int)sizeof path)
			die("%s/%s: name too long", dir, names[i]);
		add_background(c, path, channels);
		free(names[i]);
	}
	free(names);
}

static void load_backgrounds(cnn_compose *c, const struct options *o)
{
	struct stat st;

	for (int i = 0; i < o->nbackground; i++) {
		tool_note_input(o->background[i]);
		if (stat(o->background[i], &st) == 0 && S_ISDIR(st.st_mode))
			add_folder(c, o->background[i], o->c.channels);
		else
			add_background(c, o->background[i], o->c.channels);
	}
}

/* ------------------------------------------------------------------ main */

static void read_objects(cnn_compose *c, const struct options *o, tool_input *in)
{
	cnn_record *rec = cnn_record_new();

	if (!rec)
		die("out of memory");
	while (tool_read(in, rec, 0)) {
		const cnn_tensor *img = cnn_record_get(rec, o->field);
		const cnn_tensor *label = cnn_record_get(rec, o->label);
		if (!img || !label)
			die_record(in, "no tensor \"%s\"", img ? o->label : o->field);
		if (cnn_compose_add_object(c, img, label))
			die_record(in, "%s", cnn_errmsg());
	}
	tool_input_close(in);
	cnn_record_free(rec);
}

int main(int argc, char **argv)
{
	struct options o = {.count = 100, .field = "image", .label = "label", .output = "-",
			    .level = CNN_LEVEL_DEFAULT};
	cnn_compose *c;
	cnn_writer *wr;
	tool_input in;

	tool_init("cnn-compose");
	cnn_compose_defaults(&o.c);
	parse_options(argc, argv, &o);
	if (!(c = cnn_compose_new(&o.c)))
		usage_error("%s", cnn_errmsg());
	load_backgrounds(c, &o);
	tool_input_init(&in, argc - optind, argv + optind);
	wr = tool_output(o.output, o.level);
	read_objects(c, &o, &in);
	for (long i = 0; i < o.count; i++) {
		cnn_record *rec = cnn_compose_record(c, i);
		if (!rec)
			die_lib();
		tool_write(wr, rec);
		cnn_record_free(rec);
	}
	tool_output_close(wr);
	cnn_compose_free(c);
	return 0;
}
