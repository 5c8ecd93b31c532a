/*
 * cnn-darknet - convert between darknet's .weights files and model files:
 * a model darknet trained runs in our tools, and ours in darknet.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tool.h"

static const char help[] =
	"Usage: cnn-darknet import MODEL.cfg FILE.weights -o MODEL\n"
	"       cnn-darknet export MODEL -o FILE.weights [--cfg FILE.cfg]\n"
	"Convert between darknet's .weights files and model files.  import builds the\n"
	"network MODEL.cfg describes, reads the weights darknet saved for it and\n"
	"writes the model file MODEL; export writes the weights of MODEL as a .weights\n"
	"file that darknet loads together with MODEL's cfg.\n\n"
	"  -o, --output FILE  the file to write (export: - for standard output)\n"
	"      --cfg FILE     export: also write the model's cfg to FILE\n"
	"      --lossy        export: drop [batchnorm] shifts that are not 0 (darknet's\n"
	"                     [batchnorm] has none) instead of refusing\n"
	TOOL_COMMON_HELP;

enum { OPT_CFG = 256, OPT_LOSSY };

/* The same conversion as cnn-import --darknet. */
static void import(char **args, int nargs, const char *output)
{
	cnn_net *net;

	if (nargs != 2)
		usage_error("import wants MODEL.cfg and FILE.weights");
	tool_note_input(args[0]);
	tool_note_input(args[1]);
	tool_check_output(output);
	if (!(net = cnn_darknet_import(args[0], args[1])) || cnn_net_save(net, output, NULL, 0))
		die_lib();
	cnn_net_free(net);
}

static void write_cfg(cnn_net *net, const char *path)
{
	cnn_outfile *out;
	FILE *f = tool_outfile(path, &out);

	fputs(cnn_cfg_text(cnn_net_cfg(net)), f);
	tool_outfile_commit(out);
}

static void export(char **args, int nargs, const char *output, const char *cfg, int flags)
{
	cnn_net *net;

	if (nargs != 1)
		usage_error("export wants one MODEL");
	tool_note_input(args[0]);
	tool_check_output(output);
	if (cfg)
		tool_check_output(cfg);
	if (strcmp(output, "-") == 0 && isatty(STDOUT_FILENO))
		usage_error("not writing a .weights file to a terminal (use -o FILE)");
	if (!(net = cnn_net_load(args[0], 1, NULL)))
		die_lib();
	if (cnn_darknet_save(net, output, flags))
		die_lib();
	if (cfg)
		write_cfg(net, cfg);
	cnn_net_free(net);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"output", required_argument, 0, 'o'},
		{"cfg", required_argument, 0, OPT_CFG},
		{"lossy", no_argument, 0, OPT_LOSSY},
		TOOL_COMMON_OPTIONS, {0, 0, 0, 0}};
	const char *output = NULL, *cfg = NULL;
	int c, lossy = 0;

	tool_init("cnn-darknet");
	while ((c = getopt_long(argc, argv, "o:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': output = optarg; break;
		case OPT_CFG: cfg = optarg; break;
		case OPT_LOSSY: lossy = 1; break;
		case 'h': tool_help(help);
		case 'V': tool_version();
		default: usage_error(NULL);
		}
	}
	if (optind == argc)
		usage_error("import or export?");
	if (!output)
		usage_error("-o FILE is required");
	if (strcmp(argv[optind], "import") == 0) {
		if (cfg || lossy)
			usage_error("--cfg and --lossy are for export");
		if (strcmp(output, "-") == 0)
			usage_error("import writes a model file: -o FILE, not -");
		import(argv + optind + 1, argc - optind - 1, output);
	} else if (strcmp(argv[optind], "export") == 0) {
		export(argv + optind + 1, argc - optind - 1, output, cfg,
		       lossy ? CNN_DARKNET_LOSSY : 0);
	} else {
		usage_error("'%s': the command is import or export", argv[optind]);
	}
	return 0;
}
