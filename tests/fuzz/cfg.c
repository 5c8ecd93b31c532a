/*
 * cfg.c - fuzz the cfg parser and the building of a network from what it
 * parsed, as cnn-train does with batch 1 (weights drawn, so that every
 * layer's initialisation runs too), layer names and references
 * (layerref.c) included.
 */
#include <stdlib.h>

#include "cnn.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_string(data, size);
	cnn_cfg *cfg = cnn_cfg_parse(text, "fuzz.cfg");

	free(text);
	if (cfg)
		cnn_net_free(cnn_net_new(cfg, 1, 1));
	return 0;
}
