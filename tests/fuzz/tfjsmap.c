/*
 * tfjsmap.c - fuzz the map of a TF.js import (cnn_tfjs_import): the input
 * is the map's text, which places the tensors of a fixed manifest (every
 * kind: quantized, float16, int32, a constant to keep) into a fixed cfg
 * whose layers have every kind of parameter.  The manifest, its shard and
 * the cfg are files at /proc/self/fd/201..203.
 */
#include <string.h>

#include "cnn.h"
#include "fuzz.h"

#define MANIFEST_FD 201
#define SHARD_FD 202
#define CFG_FD 203

static const char manifest[] =
	"[{\"paths\": [\"202\"], \"weights\": [\n"
	" {\"name\": \"conv1/kernel\", \"shape\": [3, 3, 1, 2], \"dtype\": \"float32\",\n"
	"  \"quantization\": {\"dtype\": \"uint8\", \"scale\": 0.01, \"min\": -1}},\n"
	" {\"name\": \"conv1/bias\", \"shape\": [2], \"dtype\": \"float32\",\n"
	"  \"quantization\": {\"dtype\": \"float16\"}},\n"
	" {\"name\": \"bn/gamma\", \"shape\": [2], \"dtype\": \"float32\"},\n"
	" {\"name\": \"bn/beta\", \"shape\": [2], \"dtype\": \"float32\"},\n"
	" {\"name\": \"bn/moving_mean\", \"shape\": [2], \"dtype\": \"float32\"},\n"
	" {\"name\": \"bn/moving_variance\", \"shape\": [2], \"dtype\": \"float32\"},\n"
	" {\"name\": \"fc/kernel\", \"shape\": [18, 2], \"dtype\": \"float32\"},\n"
	" {\"name\": \"anchors\", \"shape\": [2, 2], \"dtype\": \"float32\"},\n"
	" {\"name\": \"step\", \"shape\": [], \"dtype\": \"int32\"}]}]\n";

static const char cfg[] =
	"[net]\nchannels=1\nheight=3\nwidth=3\n\n"
	"[convolutional]\nname=conv1\nfilters=2\nsize=3\npad=1\nactivation=linear\n\n"
	"[batchnorm]\nname=bn\n\n"
	"[connected]\nname=fc\noutput=2\nactivation=linear\n";

/* 18 quantized bytes, two halves of 1.0, then 6 + 2 + 36 + 4 floats of
 * 0.25, then the int32 7. */
enum { QUANT = 18, HALVES = 4, FLOATS = 48, SHARD = QUANT + HALVES + 4 * FLOATS + 4 };

static void write_inputs(void)
{
	static const uint8_t quarter[4] = {0x00, 0x00, 0x80, 0x3e}, seven[4] = {7, 0, 0, 0};
	uint8_t shard[SHARD];
	size_t at = 0;

	for (int i = 0; i < QUANT; i++)
		shard[at++] = (uint8_t)(i * 13);
	for (int i = 0; i < 2; i++) {
		shard[at++] = 0x00;
		shard[at++] = 0x3c;
	}
	for (int i = 0; i < FLOATS; i++, at += 4)
		memcpy(shard + at, quarter, 4);
	memcpy(shard + at, seven, 4);
	fuzz_fd(MANIFEST_FD, manifest, strlen(manifest));
	fuzz_fd(SHARD_FD, shard, sizeof shard);
	fuzz_fd(CFG_FD, cfg, strlen(cfg));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	cnn_net *net;

	if (!ready) {
		write_inputs();
		ready = 1;
	}
	net = cnn_tfjs_import("/proc/self/fd/203", "/proc/self/fd/201", fuzz_file(data, size));
	if (net) {
		float x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
		cnn_net_forward(net, x, 1, 0);
		cnn_net_free(net);
	}
	return 0;
}
