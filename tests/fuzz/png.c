/*
 * png.c - fuzz the PNG decoder.  Its flags follow the input's length
 * (keep16, and the indices of masks), so that mutations reach every path
 * without a byte of their own in front of the file's signature.
 */
#include "cnn.h"
#include "fuzz.h"
#include "io/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cnn_tensor_free(cnn_png_decode(data, size, "fuzz.png", (int)(size & 3)));
	return 0;
}
