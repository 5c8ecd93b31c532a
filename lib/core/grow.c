/*
 * grow.c - buffers that grow as a reader's data arrives (see grow.h).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/grow.h"

#define FIRST_BYTES ((size_t)1 << 20)

static size_t round64(size_t n)
{
	return (n + 63) / 64 * 64;
}

int cnn_grow(void **buf, size_t *cap, size_t need, size_t limit)
{
	size_t want = *cap < FIRST_BYTES / 2 ? FIRST_BYTES : 2 * *cap;
	void *p;

	if (need <= *cap)
		return CNN_OK;
	want = round64(want < need ? need : want > limit ? limit : want);
	/* realloc moves the pages of a large block instead of copying them;
	 * only when it returns a block off the 64-byte grid is a copy made. */
	p = realloc(*buf, want);
	if (!p)
		return cnn_error("out of memory for %zu bytes", want);
	if ((uintptr_t)p % 64) {
		void *aligned = aligned_alloc(64, want);
		if (!aligned) {
			*buf = p;
			return cnn_error("out of memory for %zu bytes", want);
		}
		memcpy(aligned, p, *cap);
		free(p);
		p = aligned;
	}
	*buf = p;
	*cap = want;
	return CNN_OK;
}

cnn_tensor *cnn_tensor_read(const char *name, cnn_dtype dtype, int ndim,
			    const int64_t *dim, cnn_source read, void *ctx)
{
	cnn_tensor *t = cnn_tensor_empty(name, dtype, 0, NULL);
	size_t bytes, have = 0, cap = 64; /* a scalar's buffer */
	int64_t count;

	if (!t)
		return NULL;
	if (cnn_shape_count(ndim, dim, cnn_dtype_size(dtype), cnn_max_tensor_bytes(), &count))
		goto fail;
	bytes = (size_t)count * cnn_dtype_size(dtype);
	while (have < bytes) {
		size_t part;
		if (cnn_grow(&t->data, &cap, have + 1, bytes))
			goto fail;
		part = (cap < bytes ? cap : bytes) - have;
		if (read(ctx, (char *)t->data + have, part))
			goto fail;
		have += part;
	}
	/* The padding is zeros, as cnn_tensor_empty() leaves it. */
	memset((char *)t->data + bytes, 0, cap - bytes);
	t->ndim = ndim;
	memcpy(t->dim, dim, ndim * sizeof *dim);
	return t;
fail:
	cnn_tensor_free(t);
	return NULL;
}

int cnn_image_reserve(cnn_tensor *img, int64_t rows, int64_t h)
{
	size_t c = (size_t)img->dim[0], old = (size_t)img->dim[1];
	size_t row = (size_t)img->dim[2] * cnn_dtype_size(img->dtype);
	size_t cap = old ? round64(c * old * row) : 64, fit;
	unsigned char *p;

	if ((size_t)rows <= old)
		return CNN_OK;
	if (cnn_grow(&img->data, &cap, c * (size_t)rows * row, c * (size_t)h * row))
		return CNN_ERR;
	fit = cap / (c * row);
	fit = fit < (size_t)h ? fit : (size_t)h;
	/* Last plane first: each moves up, past where the next lower one ends. */
	p = img->data;
	for (size_t k = c; k-- > 1;)
		memmove(p + k * fit * row, p + k * old * row, old * row);
	if (fit == (size_t)h)
		memset(p + c * fit * row, 0, cap - c * fit * row);
	img->dim[1] = (int64_t)fit;
	return CNN_OK;
}

char *cnn_read_text(const char *path, size_t *len)
{
	enum { CHUNK = 1 << 16 };
	FILE *f = fopen(path, "rb");
	size_t cap = 0, n;
	void *buf = NULL;

	*len = 0;
	if (!f) {
		cnn_error("%s", strerror(errno));
		return NULL;
	}
	do {
		if (cnn_grow(&buf, &cap, *len + CHUNK + 1, cnn_max_tensor_bytes())) {
			free(buf);
			fclose(f);
			return NULL;
		}
		n = fread((char *)buf + *len, 1, CHUNK, f);
		*len += n;
	} while (n == CHUNK);
	if (ferror(f)) {
		cnn_error("%s", strerror(errno));
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	((char *)buf)[*len] = 0;
	return buf;
}
