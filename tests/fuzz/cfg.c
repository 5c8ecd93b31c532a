/*
 * cfg.c - fuzz the cfg parser and the building of a network from what it
 * parsed, as cnn-train does with batch 1 (weights drawn, so that every
 * layer's initialisation runs too), layer names and references
 * (layerref.c) and the layers' own small parsers (layer_ssd.c's
 * aspect_ratios=) included; then, as multi-scale training does, the
 * network resized larger and back (cnn_net_resize).
 */
#include <stdlib.h>

#include "cnn.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_string(data, size);
	cnn_cfg *cfg = cnn_cfg_parse(text, "fuzz.cfg");

	free(text);
	cnn_net *net = cfg ? cnn_net_new(cfg, 1, 1) : NULL;
	int c, h, w;

	if (net) {
		cnn_net_input_shape(net, &c, &h, &w);
		if (cnn_net_resize(net, h + 16, w + 8) == CNN_OK)
			cnn_net_resize(net, h, w);
	}
	cnn_net_free(net);
	return 0;
}
