/*
 * png.c - fuzz the PNG decoder.  keep16 follows the input's length, so
 * that mutations reach both the 16-bit and the 8-bit paths without a
 * byte of their own in front of the file's signature.
 */
#include "cnn.h"
#include "fuzz.h"
#include "io/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cnn_tensor_free(cnn_png_decode(data, size, "fuzz.png", (int)(size & 1)));
	return 0;
}
