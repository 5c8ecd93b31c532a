/*
 * dataset.c - training examples held for many epochs: a network input and
 * its targets per example, in memory while they fit, then in an unlinked
 * temporary file that is mapped for reading.
 *
 * u8 images stay u8 (a quarter of the room) and become 0..1 floats only
 * when a batch is filled, as PyTorch's ToTensor and darknet's loader do.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cnn.h"

struct cnn_dataset {
	long inputs, targets;
	int u8;                  /* inputs stored as bytes */
	size_t entry;            /* bytes per example */
	int64_t count;
	uint64_t limit;
	unsigned char *mem;      /* examples in memory, or the mapped file */
	size_t len, cap;
	int fd;                  /* the spill file, or -1 */
	size_t mapped;
};

cnn_dataset *cnn_dataset_new(long inputs, long targets, int u8, uint64_t memory_limit)
{
	cnn_dataset *ds = calloc(1, sizeof *ds);

	if (!ds) {
		cnn_error("out of memory");
		return NULL;
	}
	ds->inputs = inputs;
	ds->targets = targets;
	ds->u8 = u8;
	ds->entry = (size_t)inputs * (u8 ? 1 : sizeof(float)) + (size_t)targets * sizeof(float);
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
	free(ds);
}

int64_t cnn_dataset_count(const cnn_dataset *ds)
{
	return ds->count;
}

float cnn_input_value(const cnn_tensor *image, int64_t i)
{
	switch (image->dtype) {
	case CNN_U8: return ((const uint8_t *)image->data)[i] / 255.0f;
	case CNN_U16: return ((const uint16_t *)image->data)[i] / 65535.0f;
	default: return (float)cnn_tensor_get(image, i);
	}
}

int cnn_example(const cnn_tensor *image, const cnn_tensor *label, long inputs,
		long targets, float *x, float *t)
{
	char desc[128];
	int64_t bad;

	if (cnn_tensor_count(image) != inputs)
		return cnn_error("tensor \"%s\" is %s: %ld values, the model takes %ld",
				 image->name, cnn_tensor_describe(image, desc, sizeof desc),
				 (long)cnn_tensor_count(image), inputs);
	if (image->dtype == CNN_TEXT)
		return cnn_error("tensor \"%s\" is text", image->name);
	/* One NaN pixel turns every weight into NaN within a step or two. */
	if ((bad = cnn_tensor_nonfinite(image)) >= 0)
		return cnn_error("%s", cnn_nonfinite_describe(image, bad, desc, sizeof desc));
	for (long i = 0; i < inputs; i++)
		x[i] = cnn_input_value(image, i);
	if (!t)
		return CNN_OK;
	if (!label)
		return cnn_error("no tensor \"label\"");
	if (cnn_tensor_count(label) == 1 && label->dtype != CNN_F32 && label->dtype != CNN_F64) {
		double k = cnn_tensor_get(label, 0);
		if (k < 0 || k >= targets)
			return cnn_error("label %g is not a class of this model (0 to %ld)", k,
					 targets - 1);
		memset(t, 0, sizeof *t * targets);
		t[(long)k] = 1;
		return CNN_OK;
	}
	if (cnn_tensor_count(label) != targets)
		return cnn_error("tensor \"%s\" is %s but the model has %ld outputs", label->name,
				 cnn_tensor_describe(label, desc, sizeof desc), targets);
	if ((bad = cnn_tensor_nonfinite(label)) >= 0)
		return cnn_error("%s", cnn_nonfinite_describe(label, bad, desc, sizeof desc));
	for (long i = 0; i < targets; i++)
		t[i] = (float)cnn_tensor_get(label, i);
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
	if (write(ds->fd, ds->mem, ds->len) != (ssize_t)ds->len)
		return cnn_error("temporary file: %s", strerror(errno));
	free(ds->mem);
	ds->mem = NULL;
	ds->cap = 0;
	return CNN_OK;
}

int cnn_dataset_add(cnn_dataset *ds, const cnn_tensor *image, const cnn_tensor *label)
{
	unsigned char *e;
	float *x;

	if (ds->u8 && image->dtype != CNN_U8)
		return cnn_error("tensor \"%s\" is %s after u8 images", image->name,
				 cnn_dtype_name(image->dtype));
	if (ds->fd < 0 && ds->len + ds->entry > ds->limit && ds->len > 0 && spill(ds))
		return CNN_ERR;
	if (ds->fd < 0 && ds->len + ds->entry > ds->cap) {
		size_t cap = ds->cap ? 2 * ds->cap : 64 * ds->entry;
		unsigned char *grown = realloc(ds->mem, cap);
		if (!grown)
			return cnn_error("out of memory for the examples (use a smaller memory limit)");
		ds->mem = grown;
		ds->cap = cap;
	}
	/* In a file, the entry is built in a buffer of its own first. */
	e = ds->fd < 0 ? ds->mem + ds->len : malloc(ds->entry);
	x = ds->u8 ? malloc(sizeof *x * ds->inputs) : (float *)e;
	if (!e || !x)
		return cnn_error("out of memory");
	int ret = cnn_example(image, label, ds->inputs, ds->targets, x,
			      (float *)(e + ds->entry - ds->targets * sizeof(float)));
	if (ret == CNN_OK && ds->u8)
		for (long i = 0; i < ds->inputs; i++)
			e[i] = (unsigned char)(x[i] * 255 + 0.5f);
	if (ret == CNN_OK && ds->fd >= 0 && write(ds->fd, e, ds->entry) != (ssize_t)ds->entry)
		ret = cnn_error("temporary file: %s", strerror(errno));
	if (ds->u8)
		free(x);
	if (ds->fd >= 0)
		free(e);
	if (ret == CNN_OK) {
		ds->len += ds->entry;
		ds->count++;
	}
	return ret;
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

/* b / 255.0f for every byte: a table lookup instead of a division. */
static float byte_value[256];
static pthread_once_t byte_once = PTHREAD_ONCE_INIT;

static void byte_init(void)
{
	for (int b = 0; b < 256; b++)
		byte_value[b] = b / 255.0f;
}

void cnn_dataset_batch(const cnn_dataset *ds, const int64_t *idx, int n, float *x, float *t)
{
	pthread_once(&byte_once, byte_init);
	for (int i = 0; i < n; i++) {
		const unsigned char *e = ds->mem + (size_t)idx[i] * ds->entry;
		float *xi = x + (long)i * ds->inputs;
		if (ds->u8)
			for (long j = 0; j < ds->inputs; j++)
				xi[j] = byte_value[e[j]];
		else
			memcpy(xi, e, sizeof *xi * ds->inputs);
		if (t)
			memcpy(t + (long)i * ds->targets, e + ds->entry - ds->targets * sizeof(float),
			       sizeof(float) * ds->targets);
	}
}
