/*
 * darknet_weights.c - a .weights file of freshly initialised weights for a
 * darknet cfg (the seed's), so that the detection benchmark runs darknet's
 * own networks in darknet, OpenCV and libcnn with the same weights, where
 * nothing can be downloaded.
 *
 *   bench-darknet-weights CFG OUT.weights [SEED]
 */
#include <stdio.h>
#include <stdlib.h>

#include "cnn.h"

int main(int argc, char **argv)
{
	cnn_cfg *cfg;
	cnn_net *net;

	if (argc < 3) {
		fprintf(stderr, "usage: bench-darknet-weights CFG OUT.weights [SEED]\n");
		return 2;
	}
	if (!(cfg = cnn_cfg_load(argv[1])) ||
	    !(net = cnn_net_new(cfg, 1, argc > 3 ? strtoull(argv[3], NULL, 10) : 1)) ||
	    cnn_darknet_save(net, argv[2], 0)) {
		fprintf(stderr, "bench-darknet-weights: %s\n", cnn_errmsg());
		return 1;
	}
	cnn_net_free(net);
	return 0;
}
