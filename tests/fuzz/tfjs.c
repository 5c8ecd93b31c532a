/*
 * tfjs.c - fuzz the TF.js weights reader: a manifest, a NUL, then the
 * bytes of one shard, which the manifest names "200" (the shard is
 * /proc/self/fd/200, beside the manifest's own /proc/self/fd/N); every
 * tensor that opens is decoded.  The same text is then a layers model's
 * model.json for the Keras converter (keras.c), whose map places the
 * weights (tfjs_load.c).
 */
#include <string.h>

#include "cnn.h"
#include "fuzz.h"

#define SHARD_FD 200

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t text = nul ? (size_t)(nul - data) : size;
	cnn_tfjs *w;
	const char *path;

	fuzz_fd(SHARD_FD, nul ? nul + 1 : data, nul ? size - text - 1 : 0);
	if (!(w = cnn_tfjs_open(path = fuzz_file(data, text))))
		return 0;
	for (int i = 0; i < cnn_tfjs_count(w); i++)
		cnn_tensor_free(cnn_tfjs_tensor(w, i));
	cnn_tfjs_close(w);
	cnn_net_free(cnn_keras_import(path, NULL, NULL));
	return 0;
}
