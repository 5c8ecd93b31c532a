/*
 * text.c - fuzz the kernels written out as text (cnn-conv -k SPEC):
 * names and literal kernels, for 1, 2 and 3 spatial dimensions.
 *
 * cnn-load --text's matrices are parsed in bin/cnn-load.c, which exits on
 * an error, so they are not reachable from a harness.
 */
#include <stdlib.h>

#include "cnn.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *spec = fuzz_string(data, size);

	for (int nd = 1; nd <= CNN_MAX_SPATIAL; nd++)
		cnn_tensor_free(cnn_filter_bank(spec, nd, 2));
	free(spec);
	return 0;
}
