/*
 * text.c - fuzz what people type as numbers: the kernels written out for
 * cnn-conv -k SPEC (names and literal kernels, for 1, 2 and 3 spatial
 * dimensions, lib/ops/filters.c) and cnn-load --text's matrices
 * (lib/io/textmatrix.c).
 */
#include <stdio.h>
#include <stdlib.h>

#include "cnn.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *spec = fuzz_string(data, size);

	FILE *f = fmemopen((void *)data, size, "r");

	for (int nd = 1; nd <= CNN_MAX_SPATIAL; nd++)
		cnn_tensor_free(cnn_filter_bank(spec, nd, 2));
	if (f) {
		cnn_tensor_free(cnn_text_matrix_read(f, "matrix"));
		fclose(f);
	}
	free(spec);
	return 0;
}
