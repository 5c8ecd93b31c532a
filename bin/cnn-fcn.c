/*
 * cnn-fcn - make a classifier fully convolutional: its connected layers
 * as the convolutions that compute the same numbers, so that one pass over
 * a larger image scores every window of the size it was trained at.  The
 * rewriting is libcnn's (cnn_net_convolutionalize).
 */
#include <stdlib.h>

#include "tool.h"

static const char help[] =
	"Usage: cnn-fcn -m MODEL -o OUTPUT [OPTION]...\n"
	"Write OUTPUT, the classifier MODEL with its [connected] layers made the\n"
	"convolutions over their inputs that compute the same numbers and its\n"
	"[softmax] one at each position: on a larger input it gives a map of the\n"
	"classes of every window of MODEL's input size, a stride apart (its\n"
	"receptive field and step: cnn-summary).\n\n"
	"  -m, --model MODEL    the classifier (a model file)\n"
	"  -o, --output OUTPUT  the model file to write (atomically)\n"
	"  -s, --size WxH       OUTPUT's input size (default: MODEL's)\n"
	TOOL_COMMON_HELP;

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"model", required_argument, 0, 'm'},
		{"output", required_argument, 0, 'o'},
		{"size", required_argument, 0, 's'},
		TOOL_COMMON_OPTIONS, {0, 0, 0, 0}};
	const char *model = NULL, *output = NULL;
	int size[2] = {0, 0}, c;
	cnn_net *net, *fcn;

	tool_init("cnn-fcn");
	while ((c = getopt_long(argc, argv, "m:o:s:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'm': model = optarg; break;
		case 'o': output = optarg; break;
		case 's':
			if (tool_ints("--size", optarg, size, 2, 1, 1 << 16) != 2)
				usage_error("--size: '%s' is not WxH", optarg);
			break;
		case 'h': tool_help(help);
		case 'V': tool_version();
		default: usage_error(NULL);
		}
	}
	if (!model || !output)
		usage_error("give -m MODEL and -o OUTPUT");
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	tool_note_input(model);
	tool_check_output(output);
	if (!(net = cnn_net_load(model, 1, NULL)))
		die_lib();
	if (!(fcn = cnn_net_convolutionalize(net, size[1], size[0])))
		die("%s: %s", model, cnn_errmsg());
	if (cnn_net_save(fcn, output, NULL, 0))
		die_lib();
	cnn_net_free(fcn);
	cnn_net_free(net);
	return 0;
}
