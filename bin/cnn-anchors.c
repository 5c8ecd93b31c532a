/*
 * cnn-anchors - anchors for a detector from the boxes of a data set
 * (darknet's detector calc_anchors).
 */
#include <stdlib.h>
#include <string.h>

#include "tool.h"

static const char help[] =
	"Usage: cnn-anchors [OPTION]... [FILE]...\n"
	"Cluster the sizes of the ground-truth boxes of every record of the stream in\n"
	"FILEs (or standard input), each relative to its record's image and then\n"
	"scaled to the network's input, by k-means with 1 - IoU as the distance (as\n"
	"darknet's detector calc_anchors), and print the anchors= line for the cfg,\n"
	"smallest first, and the mean IoU of each box with its nearest anchor.\n\n"
	"  -n, --anchors K      how many anchors (default 9: yolov3's three scales)\n"
	"  -s, --size WxH       the network's input (default 416x416); for [region],\n"
	"                       whose anchors are in grid cells, give the grid (13x13)\n"
	"  -r, --restarts N     runs from random boxes, the best kept (default 10)\n"
	"  -S, --seed N         (default 1)\n"
	"  -f, --field NAME     the boxes (default: boxes_true)\n"
	"      --image NAME     the image whose size the boxes are in (default: image)\n"
	TOOL_COMMON_HELP;

enum { OPT_IMAGE = 256 };

/* The box sizes of every record, relative to its image and then times the
 * input's size. */
static float *sizes(tool_input *in, const char *field, const char *image, int w, int h,
		    int64_t *n)
{
	cnn_record *rec = cnn_record_new();
	float *wh = NULL;
	int64_t cap = 0;

	*n = 0;
	if (!rec)
		die_lib();
	while (tool_read(in, rec, 0)) {
		const cnn_tensor *b = cnn_record_get(rec, field), *img = cnn_record_get(rec, image);
		const float *row;
		if (!b)
			die_record(in, "no tensor \"%s\"", field);
		if (!img || img->ndim < 2)
			die_record(in, "no image \"%s\" (C x H x W) to give the boxes' scale", image);
		if (cnn_boxes_check(b, 1))
			die_record(in, "%s", cnn_errmsg());
		row = b->data;
		for (int64_t i = 0; i < b->dim[0]; i++, row += CNN_BOX_FIELDS) {
			if (*n == cap && !(wh = realloc(wh, sizeof *wh * 2 * (size_t)(cap = 2 * cap + 4096))))
				die("out of memory");
			wh[2 * *n] = (row[2] - row[0]) / (float)img->dim[img->ndim - 1] * w;
			wh[2 * *n + 1] = (row[3] - row[1]) / (float)img->dim[img->ndim - 2] * h;
			/* An empty box has no shape to fit. */
			if (wh[2 * *n] > 0 && wh[2 * *n + 1] > 0)
				(*n)++;
		}
	}
	cnn_record_free(rec);
	return wh;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"anchors", required_argument, 0, 'n'},
		{"size", required_argument, 0, 's'},
		{"restarts", required_argument, 0, 'r'},
		{"seed", required_argument, 0, 'S'},
		{"field", required_argument, 0, 'f'},
		{"image", required_argument, 0, OPT_IMAGE},
		TOOL_COMMON_OPTIONS, {0, 0, 0, 0}};
	const char *field = "boxes_true", *image = "image";
	int k = 9, restarts = 10, size[2] = {416, 416}, c;
	uint64_t seed = 1;
	double iou;
	int64_t n;
	float *wh, *anchors;
	tool_input in;

	tool_init("cnn-anchors");
	while ((c = getopt_long(argc, argv, "n:s:r:S:f:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'n': k = (int)tool_long("--anchors", optarg, 1, 64); break;
		case 's':
			if (tool_ints("--size", optarg, size, 2, 1, 65536) != 2)
				usage_error("--size %s: want WxH", optarg);
			break;
		case 'r': restarts = (int)tool_long("--restarts", optarg, 1, 10000); break;
		case 'S': seed = (uint64_t)tool_long("--seed", optarg, 0, INT64_MAX); break;
		case 'f': field = optarg; break;
		case OPT_IMAGE: image = optarg; break;
		case 'h': tool_help(help);
		case 'V': tool_version();
		default: usage_error(NULL);
		}
	}
	tool_input_init(&in, argc - optind, argv + optind);
	wh = sizes(&in, field, image, size[0], size[1], &n);
	if (!(anchors = malloc(sizeof *anchors * 2 * (size_t)k)))
		die("out of memory");
	if (cnn_anchors_kmeans(wh, n, k, restarts, seed, anchors, &iou))
		die_lib();
	/* darknet's: whole pixels for an input, 4 decimals for a grid. */
	printf("anchors=");
	for (int i = 0; i < k; i++)
		printf(size[0] > 32 ? "%s%.0f,%.0f" : "%s%.4f,%.4f", i ? ", " : "", anchors[2 * i],
		       anchors[2 * i + 1]);
	printf("\nmean IoU %.4f over %lld boxes, %d anchors at %dx%d\n", iou, (long long)n, k,
	       size[0], size[1]);
	free(wh);
	free(anchors);
	tool_input_close(&in);
	return 0;
}
