/*
 * jpeg.c - fuzz the JPEG decoder.
 */
#include "cnn.h"
#include "fuzz.h"
#include "io/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cnn_tensor_free(cnn_jpeg_decode(data, size, "fuzz.jpg"));
	return 0;
}
