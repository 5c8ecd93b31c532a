/*
 * array.c - fuzz the IDX and .npy readers (cnn_array_open, lib/io/arrayfile.c):
 * every item of the input, read as it is and again gzipped, so that
 * mutations of the array also reach the inflating path, which mutated gzip
 * data seldom gets through (its CRC).
 */
#include <stdlib.h>
#include <zlib.h>

#include "cnn.h"
#include "fuzz.h"

static void read_all(const char *path)
{
	cnn_array_reader *ar = cnn_array_open(path);
	cnn_tensor *item;

	if (!ar)
		return;
	cnn_array_count(ar);
	while (cnn_array_read(ar, "x", &item) == CNN_OK)
		cnn_tensor_free(item);
	cnn_array_close(ar);
}

/* data as a gzip member, into a new buffer of *len bytes. */
static unsigned char *gzip(const uint8_t *data, size_t size, size_t *len)
{
	z_stream z = {0};
	uLong cap;
	unsigned char *out;

	/* 15 + 16: a 32 KiB window and a gzip header and trailer. */
	if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		abort();
	cap = deflateBound(&z, size);
	if (!(out = malloc(cap)))
		abort();
	z.next_in = (Bytef *)data;
	z.avail_in = size;
	z.next_out = out;
	z.avail_out = cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END)
		abort();
	*len = z.total_out;
	deflateEnd(&z);
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t len;
	unsigned char *gz;

	read_all(fuzz_file(data, size));
	gz = gzip(data, size, &len);
	read_all(fuzz_file(gz, len));
	free(gz);
	return 0;
}
