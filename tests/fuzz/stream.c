/*
 * stream.c - fuzz the tensor stream reader (cnn-stream(5)): every record
 * of the input, read as it is and again as one zstd frame of it, so that
 * mutations of the records also reach the decompressing path, which a
 * mutated frame seldom gets through.
 */
#include <stdlib.h>
#include <zstd.h>

#include "cnn.h"
#include "fuzz.h"

static void read_all(const char *path)
{
	cnn_reader *rd = cnn_reader_open(path);
	cnn_record *rec = cnn_record_new();

	if (rd && rec)
		while (cnn_read(rd, rec) == CNN_OK)
			;
	cnn_record_free(rec);
	cnn_reader_close(rd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t cap = ZSTD_compressBound(size), n;
	void *frame = malloc(cap);

	read_all(fuzz_file(data, size));
	if (!frame)
		abort();
	n = ZSTD_compress(frame, cap, data, size, 1);
	if (ZSTD_isError(n))
		abort();
	read_all(fuzz_file(frame, n));
	free(frame);
	return 0;
}
