/*
 * record.c - a record: the tensors that travel together (an image and its
 * label, later its boxes or mask) in the order they were put.
 */
#include <stdlib.h>
#include <string.h>

#include "cnn.h"

cnn_record *cnn_record_new(void)
{
	cnn_record *r = calloc(1, sizeof *r);

	if (!r)
		cnn_error("out of memory");
	return r;
}

void cnn_record_clear(cnn_record *r)
{
	for (int i = 0; i < r->n; i++)
		cnn_tensor_free(r->tensor[i]);
	r->n = 0;
}

void cnn_record_free(cnn_record *r)
{
	if (r) {
		cnn_record_clear(r);
		free(r->tensor);
		free(r);
	}
}

static int find(const cnn_record *r, const char *name)
{
	for (int i = 0; i < r->n; i++)
		if (strcmp(r->tensor[i]->name, name) == 0)
			return i;
	return -1;
}

cnn_tensor *cnn_record_get(const cnn_record *r, const char *name)
{
	int i = find(r, name);

	return i < 0 ? NULL : r->tensor[i];
}

int cnn_record_put(cnn_record *r, cnn_tensor *t)
{
	int i = find(r, t->name);

	if (i >= 0) {
		cnn_tensor_free(r->tensor[i]);
		r->tensor[i] = t;
		return CNN_OK;
	}
	if (r->n == r->cap) {
		int cap = r->cap ? 2 * r->cap : 8;
		cnn_tensor **grown = realloc(r->tensor, cap * sizeof *grown);
		if (!grown) {
			cnn_tensor_free(t);
			return cnn_error("out of memory");
		}
		r->tensor = grown;
		r->cap = cap;
	}
	r->tensor[r->n++] = t;
	return CNN_OK;
}

cnn_tensor *cnn_record_take(cnn_record *r, const char *name)
{
	int i = find(r, name);
	cnn_tensor *t;

	if (i < 0)
		return NULL;
	t = r->tensor[i];
	memmove(r->tensor + i, r->tensor + i + 1, (r->n - i - 1) * sizeof *r->tensor);
	r->n--;
	return t;
}

static int put_scalar(cnn_record *r, const char *name, cnn_dtype dtype, const void *v)
{
	cnn_tensor *t = cnn_tensor_new(name, dtype, 0, NULL);

	if (!t)
		return CNN_ERR;
	memcpy(t->data, v, cnn_dtype_size(dtype));
	return cnn_record_put(r, t);
}

int cnn_record_put_i64(cnn_record *r, const char *name, int64_t v)
{
	return put_scalar(r, name, CNN_I64, &v);
}

int cnn_record_put_f64(cnn_record *r, const char *name, double v)
{
	return put_scalar(r, name, CNN_F64, &v);
}

static const cnn_tensor *scalar(const cnn_record *r, const char *name)
{
	const cnn_tensor *t = r ? cnn_record_get(r, name) : NULL;

	return t && t->dtype != CNN_TEXT && cnn_tensor_count(t) == 1 ? t : NULL;
}

int64_t cnn_record_i64(const cnn_record *r, const char *name)
{
	const cnn_tensor *t = scalar(r, name);
	double v;

	if (!t)
		return 0;
	/* Through a double only when it is not i64: seeds use all 64 bits. */
	if (t->dtype == CNN_I64)
		return *(const int64_t *)t->data;
	v = cnn_tensor_get(t, 0);
	return v != v ? 0 : v >= 0x1p63 ? INT64_MAX : v < -0x1p63 ? INT64_MIN : (int64_t)v;
}

double cnn_record_f64(const cnn_record *r, const char *name)
{
	const cnn_tensor *t = scalar(r, name);

	return t ? cnn_tensor_get(t, 0) : 0;
}
