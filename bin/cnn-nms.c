/*
 * cnn-nms - non-max suppression of each record's boxes.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

static const char help[] =
	"Usage: cnn-nms [OPTION]... [FILE]...\n"
	"Non-max suppression of the boxes of each record of the stream in FILEs (or\n"
	"standard input): drop the boxes scoring below the score threshold, then keep\n"
	"the best box and drop every box overlapping it by more than the IoU\n"
	"threshold, and so on down the list; per class unless -c.\n\n"
	"  -i, --iou T           the IoU threshold (default 0.5)\n"
	"  -s, --score T         first drop boxes scoring below T (default 0.6)\n"
	"  -c, --class-agnostic  one NMS over all classes (default: one per class)\n"
	"      --soft linear|gaussian  soft-NMS: decay the scores of overlapping boxes\n"
	"                        (by 1 - IoU past the IoU threshold, or by\n"
	"                        exp(-IoU^2 / sigma)) instead of dropping them\n"
	"      --sigma S         Gaussian soft-NMS's sigma (default 0.5)\n"
	"      --final T         soft-NMS: then drop boxes decayed below T (default 0.001)\n"
	"      --diou            greedy NMS by DIoU: IoU less (d / c)^2, d the distance of\n"
	"                        the centres, c the diagonal of the box enclosing both\n"
	"      --beta B          DIoU's penalty to the power B (default 1; darknet 0.6)\n"
	"  -k, --topk K          only the K best boxes enter NMS (default: all)\n"
	"  -m, --max M           keep at most M boxes per record (default: all)\n"
	"      --field NAME      the boxes tensor (default: boxes)\n"
	TOOL_OUTPUT_HELP TOOL_COMMON_HELP;

enum { OPT_SOFT = 256, OPT_SIGMA, OPT_FINAL, OPT_DIOU, OPT_BETA, OPT_FIELD };

static cnn_nms_method soft_method(const char *arg)
{
	if (strcmp(arg, "linear") == 0)
		return CNN_NMS_LINEAR;
	if (strcmp(arg, "gaussian") == 0)
		return CNN_NMS_GAUSSIAN;
	usage_error("--soft: '%s' is not linear or gaussian", arg);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"iou", required_argument, 0, 'i'},
		{"score", required_argument, 0, 's'},
		{"class-agnostic", no_argument, 0, 'c'},
		{"soft", required_argument, 0, OPT_SOFT},
		{"sigma", required_argument, 0, OPT_SIGMA},
		{"final", required_argument, 0, OPT_FINAL},
		{"diou", no_argument, 0, OPT_DIOU},
		{"beta", required_argument, 0, OPT_BETA},
		{"topk", required_argument, 0, 'k'},
		{"max", required_argument, 0, 'm'},
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
	while ((c = getopt_long(argc, argv, "i:s:ck:m:o:z:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'i': o.iou = tool_double("--iou", optarg, 0, 1); break;
		case 's': o.score = tool_double("--score", optarg, -HUGE_VAL, HUGE_VAL); break;
		case 'c': o.agnostic = 1; break;
		case OPT_SOFT: o.method = soft_method(optarg); break;
		case OPT_SIGMA: o.sigma = tool_double("--sigma", optarg, 1e-6, 1e6); break;
		case OPT_FINAL: o.final_score = tool_double("--final", optarg, -HUGE_VAL, HUGE_VAL); break;
		case OPT_DIOU: o.diou = 1; break;
		case OPT_BETA: o.diou_beta = tool_double("--beta", optarg, 1e-3, 1e3); break;
		case 'k': o.topk = tool_long("--topk", optarg, 1, INT32_MAX); break;
		case 'm': o.max = tool_long("--max", optarg, 1, INT32_MAX); break;
		case OPT_FIELD: field = optarg; break;
		case 'o': output = optarg; break;
		case 'z': level = (int)tool_long("--level", optarg, 0, 22); break;
		case 'h': tool_help(help);
		case 'V': tool_version();
		default: usage_error(NULL);
		}
	}
	if (o.diou && o.method != CNN_NMS_GREEDY)
		usage_error("--diou is greedy NMS: not with --soft");

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
