/*
 * cnn-head - the first N records of a stream, after skipping some.
 */
#include <stdlib.h>

#include "tool.h"

static const char help[] =
	"Usage: cnn-head [OPTION]... [FILE]...\n"
	"Copy the first N records of the stream in FILEs (or standard input),\n"
	"after skipping the first S.\n\n"
	"  -n, --records N    how many records to copy (default: all)\n"
	"  -s, --skip S       how many records to skip first (default 0)\n"
	TOOL_OUTPUT_HELP TOOL_COMMON_HELP;

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"records", required_argument, 0, 'n'},
		{"skip", required_argument, 0, 's'},
		TOOL_OUTPUT_OPTIONS, TOOL_COMMON_OPTIONS, {0, 0, 0, 0}};
	long long take = -1, skip = 0;
	const char *output = "-";
	int level = CNN_LEVEL_DEFAULT, c;
	cnn_record *rec;
	cnn_writer *wr;
	tool_input in;

	tool_init("cnn-head");
	while ((c = getopt_long(argc, argv, "n:s:o:z:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'n': take = tool_long("--records", optarg, 0, 1L << 62); break;
		case 's': skip = tool_long("--skip", optarg, 0, 1L << 62); break;
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
	/* Stop reading once done, so that `cnn-head -n 1` of a huge stream is quick. */
	while ((take < 0 || in.records < skip + take) && tool_read(&in, rec, 1))
		if (in.records > skip)
			tool_write(wr, rec);
	tool_output_close(wr);
	tool_input_close(&in);
	cnn_record_free(rec);
	return 0;
}
