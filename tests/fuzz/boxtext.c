/*
 * boxtext.c - fuzz the line-based box readers: the input as CSV, as a
 * darknet label file and as darknet's -ext_output log, and as a class
 * names file.  Text is cheap to parse, so every input goes through all.
 */
#include "boxes.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_file(data, size);

	fuzz_read_boxes(path, CNN_BOXES_CSV);
	fuzz_read_boxes(path, CNN_BOXES_DARKNET);
	fuzz_read_boxes(path, CNN_BOXES_DARKNET_EXT);
	cnn_names_free(cnn_names_parse((const char *)data, size, "fuzz.names"));
	return 0;
}
