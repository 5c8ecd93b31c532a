/*
 * cnn-nms - non-max suppression of each record's boxes.
 */
#include "tool.h"

static const char help[] =
	"Usage: cnn-nms [OPTION]... [FILE]...\n"
	"Non-max suppression of the boxes of each record of the stream in FILEs (or\n"
	"standard input): drop the boxes scoring below the score threshold, then keep\n"
	"the best box and drop every box overlapping it by more than the IoU\n"
	"threshold, and so on down the list; per class unless -c.\n\n"
	"  -i, --iou T           the IoU threshold (default 0.5)\n"
	"  -s, --score T         first drop boxes scoring below T (default 0.6)\n"
	TOOL_NMS_HELP
	"  -m, --max M           keep at most M boxes per record (default: all)\n"
	"      --field NAME      the boxes tensor (default: boxes)\n"
	TOOL_OUTPUT_HELP TOOL_COMMON_HELP;

enum { OPT_FIELD = 256 };

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		TOOL_NMS_OPTIONS,
		{"field", required_argument, 0, OPT_FIELD},
		TOOL_OUTPUT_OPTIONS, TOOL_COMMON_OPTIONS, {0, 0, 0, 0}};
	const char *field = "boxes", *output = "-";
	int level = CNN_LEVEL_DEFAULT, c;
	cnn_nms_opts o;
	cnn_record *rec;
	cnn_writer *wr;
	tool_input in;

	tool_init("cnn-nms");
	cnn_nms_defaults(&o);
	while ((c = getopt_long(argc, argv, TOOL_NMS_SHORT "m:o:z:hV", longopts, NULL)) != -1) {
		if (tool_nms_option(c == 'm' ? TOOL_NMS_MAX : c, optarg, &o))
			continue;
		switch (c) {
		case OPT_FIELD: field = optarg; break;
		case 'o': output = optarg; break;
		case 'z': level = (int)tool_long("--level", optarg, 0, 22); break;
		case 'h': tool_help(help);
		case 'V': tool_version();
		default: usage_error(NULL);
		}
	}
	tool_nms_check(&o);

	tool_input_init(&in, argc - optind, argv + optind);
	wr = tool_output(output, level);
	if (!(rec = cnn_record_new()))
		die_lib();
	while (tool_read(&in, rec, 0)) {
		cnn_tensor *boxes = cnn_record_get(rec, field), *kept;
		if (!boxes)
			die_record(&in, "no tensor \"%s\"", field);
		if (!(kept = cnn_nms_boxes(boxes, &o)) || cnn_record_put(rec, kept))
			die_record(&in, "%s", cnn_errmsg());
		tool_write(wr, rec);
	}
	tool_output_close(wr);
	cnn_record_free(rec);
	return 0;
}
