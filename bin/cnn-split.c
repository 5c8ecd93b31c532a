/*
 * cnn-split - divide a stream into a training part and a validation part.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

static const char help[] =
	"Usage: cnn-split [OPTION]... -v VALIDATION [FILE]...\n"
	"Send part of the records of the stream in FILEs (or standard input) to the\n"
	"VALIDATION file and the rest to the output.  With --fraction, the chosen\n"
	"records are spread evenly through the stream (every 10th for 0.1); shuffle\n"
	"first (cnn-shuffle) for a random split.\n\n"
	"  -v, --validation FILE  where the validation records go\n"
	"  -f, --fraction F       the share of records for validation, 0..1\n"
	"  -n, --count N          the first N records go to validation\n"
	TOOL_OUTPUT_HELP TOOL_COMMON_HELP;

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"validation", required_argument, 0, 'v'},
		{"fraction", required_argument, 0, 'f'},
		{"count", required_argument, 0, 'n'},
		TOOL_OUTPUT_OPTIONS, TOOL_COMMON_OPTIONS, {0, 0, 0, 0}};
	const char *output = "-", *validation = NULL;
	double fraction = -1;
	long long count = -1;
	int level = CNN_LEVEL_DEFAULT, c;
	cnn_writer *train, *val;
	cnn_record *rec;
	tool_input in;

	tool_init("cnn-split");
	while ((c = getopt_long(argc, argv, "v:f:n:o:z:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'v': validation = optarg; break;
		case 'f': fraction = tool_double("--fraction", optarg, 0, 1); break;
		case 'n': count = tool_long("--count", optarg, 0, 1L << 62); break;
		case 'o': output = optarg; break;
		case 'z': level = (int)tool_long("--level", optarg, 0, 22); break;
		case 'h': tool_help(help);
		case 'V': tool_version();
		default: usage_error(NULL);
		}
	}
	if (!validation)
		usage_error("no --validation file");
	if ((fraction < 0) == (count < 0))
		usage_error("give one of --fraction and --count");
	if (strcmp(validation, output) == 0)
		usage_error("--validation and --output are both %s", output);
	tool_input_init(&in, argc - optind, argv + optind);
	val = tool_output(validation, level);
	train = tool_output(output, level);
	if (!(rec = cnn_record_new()))
		die_lib();
	while (tool_read(&in, rec, 0)) {
		long long i = in.records - 1;
		/* Record i is the one that raises floor(n * fraction) to its next value. */
		int to_val = count >= 0 ? i < count
					: floor((i + 1) * fraction) > floor(i * fraction);
		tool_write(to_val ? val : train, rec);
	}
	tool_output_close(val);
	tool_output_close(train);
	cnn_record_free(rec);
	return 0;
}
