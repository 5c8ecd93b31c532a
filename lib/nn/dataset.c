/*
 * dataset.c - training examples held for many epochs, encoded as a batch
 * takes them (example.h): in memory while they fit, then in an unlinked
 * temporary file that is mapped for reading.  Examples differ in length
 * (a photo's boxes), so each one's place is kept.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "nn/example.h"

struct cnn_dataset {
	cnn_batch *coder;        /* the batch whose layout the examples have */
	int64_t count;
	uint64_t limit;
	uint64_t *offset;        /* count + 1: where each example starts */
	size_t offset_cap;
	unsigned char *mem;      /* examples in memory, or the mapped file */
	size_t len, cap;
	int fd;                  /* the spill file, or -1 */
	size_t mapped;
};

cnn_dataset *cnn_dataset_new(const cnn_net *net, const char *input, uint64_t memory_limit)
{
	cnn_dataset *ds = calloc(1, sizeof *ds);

	if (!ds || !(ds->coder = cnn_batch_new(net, input)) ||
	    !(ds->offset = calloc(ds->offset_cap = 1024, sizeof *ds->offset))) {
		cnn_dataset_free(ds);
		cnn_error("out of memory");
		return NULL;
	}
	ds->limit = memory_limit;
	ds->fd = -1;
	return ds;
}

void cnn_dataset_free(cnn_dataset *ds)
{
	if (!ds)
		return;
	if (ds->mapped)
		munmap(ds->mem, ds->mapped);
	else
		free(ds->mem);
	if (ds->fd >= 0)
		close(ds->fd);
	cnn_batch_free(ds->coder);
	free(ds->offset);
	free(ds);
}

int64_t cnn_dataset_count(const cnn_dataset *ds)
{
	return ds->count;
}

/* All n bytes, however many write() takes at a time. */
static int write_all(int fd, const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t done = write(fd, p, n);
		if (done < 0 && errno == EINTR)
			continue;
		if (done <= 0)
			return cnn_error("temporary file: %s", done < 0 ? strerror(errno)
								   : "nothing written");
		p += done;
		n -= (size_t)done;
	}
	return CNN_OK;
}

/* Move what is in memory to a temporary file, and append there from now. */
static int spill(cnn_dataset *ds)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];

	snprintf(path, sizeof path, "%s/cnn-dataset-XXXXXX", dir ? dir : "/tmp");
	if ((ds->fd = mkstemp(path)) < 0)
		return cnn_error("%s: %s", path, strerror(errno));
	unlink(path);
	if (write_all(ds->fd, ds->mem, ds->len))
		return CNN_ERR;
	free(ds->mem);
	ds->mem = NULL;
	ds->cap = 0;
	return CNN_OK;
}

static int store(cnn_dataset *ds, const unsigned char *e, size_t n)
{
	if (ds->fd < 0 && ds->len + n > ds->limit && ds->len > 0 && spill(ds))
		return CNN_ERR;
	if (ds->fd >= 0) {
		if (write_all(ds->fd, e, n))
			return CNN_ERR;
	} else {
		if (ds->len + n > ds->cap) {
			size_t cap = ds->cap ? 2 * ds->cap : 64 * n;
			unsigned char *grown;
			while (cap < ds->len + n)
				cap *= 2;
			if (!(grown = realloc(ds->mem, cap)))
				return cnn_error("out of memory for the examples (use a smaller "
						 "memory limit)");
			ds->mem = grown;
			ds->cap = cap;
		}
		memcpy(ds->mem + ds->len, e, n);
	}
	ds->len += n;
	return CNN_OK;
}

int cnn_dataset_add(cnn_dataset *ds, const cnn_record *r)
{
	const unsigned char *e;
	size_t n;

	if ((size_t)ds->count + 2 > ds->offset_cap) {
		uint64_t *grown = realloc(ds->offset, 2 * ds->offset_cap * sizeof *grown);
		if (!grown)
			return cnn_error("out of memory");
		ds->offset = grown;
		ds->offset_cap *= 2;
	}
	if (cnn_example_encode(ds->coder, r, &e, &n) || store(ds, e, n))
		return CNN_ERR;
	ds->offset[++ds->count] = ds->len;
	return CNN_OK;
}

int cnn_dataset_seal(cnn_dataset *ds)
{
	void *map;

	if (ds->fd < 0 || ds->mapped || ds->len == 0)
		return CNN_OK;
	map = mmap(NULL, ds->len, PROT_READ, MAP_PRIVATE, ds->fd, 0);
	if (map == MAP_FAILED)
		return cnn_error("mapping the temporary file: %s", strerror(errno));
	ds->mem = map;
	ds->mapped = ds->len;
	return CNN_OK;
}

int cnn_dataset_batch(const cnn_dataset *ds, const int64_t *idx, int n, cnn_batch *b)
{
	cnn_batch_clear(b);
	if (n > cnn_batch_room(b))
		return cnn_error("%d examples for a batch of %d", n, cnn_batch_room(b));
	for (int i = 0; i < n; i++) {
		uint64_t at = ds->offset[idx[i]];
		if (cnn_example_decode(b, ds->mem + at, ds->offset[idx[i] + 1] - at))
			return CNN_ERR;
	}
	return CNN_OK;
}

int cnn_dataset_identity(const cnn_dataset *ds, int64_t i, int64_t *id)
{
	return cnn_example_identity(ds->coder, ds->mem + ds->offset[i], id);
}
