/*
 * weights.c - fuzz the darknet .weights reader, loading into the small
 * network of weights.h.
 */
#include <stdlib.h>

#include "cnn.h"
#include "fuzz.h"
#include "weights.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cnn_cfg *cfg = cnn_cfg_parse(fuzz_weights_cfg, "weights.cfg");
	cnn_net *net = cfg ? cnn_net_build(cfg, 1) : NULL;

	/* The cfg is the harness's own: failing to build it is a harness bug. */
	if (!net)
		abort();
	cnn_darknet_load(net, fuzz_file(data, size));
	cnn_net_free(net);
	return 0;
}
