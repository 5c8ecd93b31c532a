/*
 * boxjson.c - fuzz the JSON box reader: our records and darknet's -out
 * JSON, and through them the JSON parser.
 */
#include "boxes.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_read_boxes(fuzz_file(data, size), CNN_BOXES_JSON);
	return 0;
}
