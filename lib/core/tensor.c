/*
 * tensor.c - named n-dimensional arrays and their element types.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cnn.h"
#include "simd/simd.h"

static const struct {
	const char *name;
	size_t size;
} dtypes[CNN_DTYPE_MAX + 1] = {
	[CNN_U8] = {"u8", 1},   [CNN_U16] = {"u16", 2}, [CNN_I32] = {"i32", 4},
	[CNN_I64] = {"i64", 8}, [CNN_F32] = {"f32", 4}, [CNN_F64] = {"f64", 8},
	[CNN_TEXT] = {"text", 1},
};

size_t cnn_dtype_size(cnn_dtype t)
{
	return t >= 1 && t <= CNN_DTYPE_MAX ? dtypes[t].size : 0;
}

const char *cnn_dtype_name(cnn_dtype t)
{
	return t >= 1 && t <= CNN_DTYPE_MAX ? dtypes[t].name : "?";
}

int cnn_dtype_parse(const char *name)
{
	for (int t = 1; t <= CNN_DTYPE_MAX; t++)
		if (strcmp(name, dtypes[t].name) == 0)
			return t;
	return cnn_error("unknown dtype \"%s\" (u8, u16, i32, i64, f32, f64, text)", name);
}

int cnn_shape_count(int ndim, const int64_t *dim, size_t elem_size,
		    uint64_t max_bytes, int64_t *count)
{
	uint64_t limit = max_bytes / (elem_size ? elem_size : 1), n = 1;

	if (ndim < 0 || ndim > CNN_MAX_DIMS)
		return cnn_error("%d dimensions (at most %d)", ndim, CNN_MAX_DIMS);
	for (int i = 0; i < ndim; i++) {
		if (dim[i] < 0)
			return cnn_error("negative dimension %lld", (long long)dim[i]);
		if (dim[i] == 0)
			n = 0;
		else if (n > limit / (uint64_t)dim[i])
			return cnn_error("shape too large (over %llu bytes)",
					 (unsigned long long)max_bytes);
		else
			n *= (uint64_t)dim[i];
	}
	if (n > limit)
		return cnn_error("shape too large (over %llu bytes)",
				 (unsigned long long)max_bytes);
	*count = (int64_t)n;
	return CNN_OK;
}

int cnn_tensor_rename(cnn_tensor *t, const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > CNN_MAX_NAME)
		return cnn_error("tensor name of %zu bytes (1 to %d)", len, CNN_MAX_NAME);
	memcpy(t->name, name, len + 1);
	return CNN_OK;
}

cnn_tensor *cnn_tensor_empty(const char *name, cnn_dtype dtype, int ndim,
			     const int64_t *dim)
{
	size_t esize = cnn_dtype_size(dtype), bytes;
	int64_t count;
	cnn_tensor *t;

	if (esize == 0) {
		cnn_error("unknown dtype %d", (int)dtype);
		return NULL;
	}
	if (cnn_shape_count(ndim, dim, esize, cnn_max_tensor_bytes(), &count))
		return NULL;
	t = calloc(1, sizeof *t);
	if (!t) {
		cnn_error("out of memory");
		return NULL;
	}
	if (cnn_tensor_rename(t, name)) {
		free(t);
		return NULL;
	}
	t->dtype = dtype;
	t->ndim = ndim;
	if (ndim)
		memcpy(t->dim, dim, ndim * sizeof *dim);
	/* Round up so that SIMD loops may read whole vectors past the end. */
	bytes = ((size_t)count * esize + 63) / 64 * 64;
	t->data = aligned_alloc(64, bytes ? bytes : 64);
	if (!t->data) {
		free(t);
		cnn_error("out of memory for a tensor of %zu bytes", bytes);
		return NULL;
	}
	/* The padding is zeroed, so that vectors read past the end see numbers
	 * that are always the same. */
	memset((char *)t->data + (size_t)count * esize, 0,
	       (bytes ? bytes : 64) - (size_t)count * esize);
	return t;
}

cnn_tensor *cnn_tensor_new(const char *name, cnn_dtype dtype, int ndim,
			   const int64_t *dim)
{
	cnn_tensor *t = cnn_tensor_empty(name, dtype, ndim, dim);

	if (t)
		memset(t->data, 0, cnn_tensor_bytes(t));
	return t;
}

cnn_tensor *cnn_tensor_new3(const char *name, cnn_dtype dtype, int64_t d0,
			    int64_t d1, int64_t d2)
{
	int64_t dim[3] = {d0, d1, d2};

	return cnn_tensor_new(name, dtype, 3, dim);
}

void cnn_tensor_free(cnn_tensor *t)
{
	if (t) {
		free(t->data);
		free(t);
	}
}

int64_t cnn_tensor_count(const cnn_tensor *t)
{
	int64_t n = 1;

	for (int i = 0; i < t->ndim; i++)
		n *= t->dim[i];
	return n;
}

size_t cnn_tensor_bytes(const cnn_tensor *t)
{
	return (size_t)cnn_tensor_count(t) * cnn_dtype_size(t->dtype);
}

double cnn_tensor_get(const cnn_tensor *t, int64_t i)
{
	switch (t->dtype) {
	case CNN_U8:
	case CNN_TEXT:
		return ((const uint8_t *)t->data)[i];
	case CNN_U16:
		return ((const uint16_t *)t->data)[i];
	case CNN_I32:
		return ((const int32_t *)t->data)[i];
	case CNN_I64:
		return (double)((const int64_t *)t->data)[i];
	case CNN_F32:
		return ((const float *)t->data)[i];
	case CNN_F64:
		return ((const double *)t->data)[i];
	}
	return 0;
}

/* The exponent bits all set: inf or NaN.  Integer tests, so that the loop
 * needs no floating-point compare and vectorises. */
int64_t cnn_floats_nonfinite(const float *v, int64_t n)
{
	const uint32_t *u = (const uint32_t *)v;
	const int64_t block = 1024;

	for (int64_t start = 0; start < n; start += block) {
		int64_t end = n - start < block ? n : start + block;
		uint32_t bad = 0;
		for (int64_t i = start; i < end; i++)
			bad |= (u[i] & 0x7f800000u) == 0x7f800000u;
		if (bad)
			for (int64_t i = start; i < end; i++)
				if (!isfinite(v[i]))
					return i;
	}
	return -1;
}

int64_t cnn_tensor_nonfinite(const cnn_tensor *t)
{
	int64_t n = cnn_tensor_count(t);

	if (t->dtype == CNN_F32)
		return cnn_floats_nonfinite(t->data, n);
	if (t->dtype == CNN_F64)
		for (int64_t i = 0; i < n; i++)
			if (!isfinite(((const double *)t->data)[i]))
				return i;
	return -1;
}

char *cnn_nonfinite_describe(const cnn_tensor *t, int64_t i, char *buf, size_t size)
{
	double v = cnn_tensor_get(t, i);

	snprintf(buf, size, "tensor \"%s\" holds %s at index %lld", t->name,
		 isnan(v) ? "nan" : v > 0 ? "inf" : "-inf", (long long)i);
	return buf;
}

static double saturate(double v, double lo, double hi)
{
	if (v != v)
		return 0;
	v = nearbyint(v);
	return v < lo ? lo : v > hi ? hi : v;
}

void cnn_tensor_set(cnn_tensor *t, int64_t i, double v)
{
	switch (t->dtype) {
	case CNN_U8:
	case CNN_TEXT:
		((uint8_t *)t->data)[i] = (uint8_t)saturate(v, 0, UINT8_MAX);
		break;
	case CNN_U16:
		((uint16_t *)t->data)[i] = (uint16_t)saturate(v, 0, UINT16_MAX);
		break;
	case CNN_I32:
		((int32_t *)t->data)[i] = (int32_t)saturate(v, INT32_MIN, INT32_MAX);
		break;
	case CNN_I64:
		/* 2^63 itself does not fit: stop one double below it. */
		((int64_t *)t->data)[i] = (int64_t)saturate(v, -0x1p63, 0x1.fffffffffffffp62);
		break;
	case CNN_F32:
		((float *)t->data)[i] = (float)v;
		break;
	case CNN_F64:
		((double *)t->data)[i] = v;
		break;
	}
}

cnn_tensor *cnn_tensor_convert(const cnn_tensor *t, cnn_dtype dtype)
{
	cnn_tensor *r = cnn_tensor_empty(t->name, dtype, t->ndim, t->dim);
	int64_t n = cnn_tensor_count(t);

	if (!r)
		return NULL;
	if (dtype == t->dtype) {
		memcpy(r->data, t->data, cnn_tensor_bytes(t));
	} else if (dtype == CNN_F32 && t->dtype == CNN_U8) {
		/* The common image cases, kept out of the generic loop. */
		cnn_simd_pixels()->u8_to_f32(r->data, t->data, n);
	} else if (dtype == CNN_U8 && t->dtype == CNN_F32) {
		cnn_simd_pixels()->f32_to_u8(r->data, t->data, n);
	} else {
		for (int64_t i = 0; i < n; i++)
			cnn_tensor_set(r, i, cnn_tensor_get(t, i));
	}
	return r;
}

char *cnn_tensor_describe(const cnn_tensor *t, char *buf, size_t size)
{
	size_t len = (size_t)snprintf(buf, size, "%s ", cnn_dtype_name(t->dtype));

	if (t->ndim == 0 && len < size)
		len += (size_t)snprintf(buf + len, size - len, "scalar");
	for (int i = 0; i < t->ndim && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%lld",
					i ? "x" : "", (long long)t->dim[i]);
	return buf;
}
