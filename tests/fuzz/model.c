/*
 * model.c - fuzz the model file reader (cnn-model(5)): a stream whose
 * records hold a cfg, the weights and maybe the training state.
 */
#include "cnn.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cnn_record *extra = NULL;
	cnn_net *net = cnn_net_load(fuzz_file(data, size), 1, &extra);

	cnn_net_free(net);
	cnn_record_free(extra);
	return 0;
}
