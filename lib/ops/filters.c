/*
 * filters.c - named image filters and kernels written on a command line.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "cnn.h"

struct named {
	const char *name;
	int size;            /* square kernel side */
	float scale;         /* every value is multiplied by it */
	float v[25];
};

/* The edge filters follow the course notes: "vertical" is bright-left
 * positive; Sobel and Scharr (as OpenCV and the notes write them) are
 * dark-left positive. */
static const struct named named[] = {
	{"vertical", 3, 1, {1, 0, -1, 1, 0, -1, 1, 0, -1}},
	{"horizontal", 3, 1, {1, 1, 1, 0, 0, 0, -1, -1, -1}},
	{"sobel-x", 3, 1, {-1, 0, 1, -2, 0, 2, -1, 0, 1}},
	{"sobel-y", 3, 1, {-1, -2, -1, 0, 0, 0, 1, 2, 1}},
	{"scharr-x", 3, 1, {-3, 0, 3, -10, 0, 10, -3, 0, 3}},
	{"scharr-y", 3, 1, {-3, -10, -3, 0, 0, 0, 3, 10, 3}},
	{"box", 3, 1.0f / 9, {1, 1, 1, 1, 1, 1, 1, 1, 1}},
	{"box5", 5, 1.0f / 25, {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
	{"gaussian", 3, 1.0f / 16, {1, 2, 1, 2, 4, 2, 1, 2, 1}},
	{"gaussian5", 5, 1.0f / 256, {1, 4, 6, 4, 1, 4, 16, 24, 16, 4, 6, 24, 36, 24, 6,
				     4, 16, 24, 16, 4, 1, 4, 6, 4, 1}},
	{"sharpen", 3, 1, {0, -1, 0, -1, 5, -1, 0, -1, 0}},
	{"laplacian", 3, 1, {0, 1, 0, 1, -4, 1, 0, 1, 0}},
	{"laplacian8", 3, 1, {1, 1, 1, 1, -8, 1, 1, 1, 1}},
	{"emboss", 3, 1, {-2, -1, 0, -1, 1, 1, 0, 1, 2}},
	{"identity", 1, 1, {1}},
};

const char *cnn_filter_names(void)
{
	return "vertical horizontal sobel-x sobel-y scharr-x scharr-y box box5 "
	       "gaussian gaussian5 sharpen laplacian laplacian8 emboss identity";
}

static const struct named *find_named(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof named / sizeof *named; i++)
		if (strlen(named[i].name) == len && strncmp(named[i].name, name, len) == 0)
			return &named[i];
	return NULL;
}

/* Parse "a,b,c;d,e,f|..." into values and its shape (planes, rows, cols):
 * every row as long as the first, every plane as tall. */
static int parse_literal(const char *spec, float **values, int shape[3])
{
	int planes = 1, rows = 1, height = -1, cols = -1, col = 0, n = 0, cap = 64;
	const char *p = spec;
	float *v = malloc(cap * sizeof *v);

	if (!v)
		return cnn_error("out of memory");
	for (;;) {
		char *end;
		double x;

		while (*p == ' ' || *p == '\t')
			p++;
		x = strtod(p, &end);
		if (end == p)
			goto bad_number;
		if (n == cap) {
			float *grown = realloc(v, (cap *= 2) * sizeof *v);
			if (!grown)
				goto nomem;
			v = grown;
		}
		v[n++] = (float)x;
		col++;
		p = end;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == ',' || isdigit((unsigned char)*p) || (*p && strchr("+-.", *p))) {
			p += *p == ',';
			continue;
		}
		if (cols < 0)
			cols = col;
		if (col != cols) {
			free(v);
			return cnn_error("kernel '%s': rows of %d and %d values", spec, cols, col);
		}
		col = 0;
		if (*p == ';') {
			rows++;
		} else if (*p == '|' || *p == 0) {
			if (height < 0)
				height = rows;
			if (rows != height) {
				free(v);
				return cnn_error("kernel '%s': planes of %d and %d rows", spec,
						 height, rows);
			}
			if (*p == 0)
				break;
			planes++;
			rows = 1;
		} else {
			free(v);
			return cnn_error("kernel '%s': unexpected '%c'", spec, *p);
		}
		p++;
	}
	shape[0] = planes;
	shape[1] = height;
	shape[2] = cols;
	*values = v;
	return CNN_OK;
bad_number:
	free(v);
	return cnn_error("kernel '%s': expected a number at '%.10s'", spec, p);
nomem:
	free(v);
	return cnn_error("out of memory");
}

/* Kernels of a bank, kept while parsing the spec. */
struct kernel {
	int shape[3];
	float *v;
	float scale;
	int owned;   /* v was parsed here and must be freed */
};

static int spec_kernels(const char *spec, struct kernel **out, int *count)
{
	struct kernel *k = NULL;
	int n = 0;

	/* A spec that starts like a number is one literal kernel. */
	if (strchr("0123456789+-.", spec[0]) && spec[0]) {
		k = calloc(1, sizeof *k);
		if (!k)
			return cnn_error("out of memory");
		if (parse_literal(spec, &k->v, k->shape)) {
			free(k);
			return CNN_ERR;
		}
		k->scale = 1;
		k->owned = 1;
		*out = k;
		*count = 1;
		return CNN_OK;
	}
	for (const char *p = spec;;) {
		size_t len = strcspn(p, ",");
		const struct named *f = find_named(p, len);
		struct kernel *grown;
		if (!f) {
			free(k);
			return cnn_error("unknown filter '%.*s' (known: %s)", (int)len, p,
					 cnn_filter_names());
		}
		grown = realloc(k, (n + 1) * sizeof *k);
		if (!grown) {
			free(k);
			return cnn_error("out of memory");
		}
		k = grown;
		k[n] = (struct kernel){{1, f->size, f->size}, (float *)f->v, f->scale, 0};
		n++;
		if (p[len] == 0)
			break;
		p += len + 1;
	}
	*out = k;
	*count = n;
	return CNN_OK;
}

cnn_tensor *cnn_filter_bank(const char *spec, int nd, int channels)
{
	struct kernel *k = NULL;
	int count = 0, h = 0, w = 0, d = 0;
	int64_t dim[2 + CNN_MAX_SPATIAL];
	cnn_tensor *bank = NULL;

	if (nd < 1 || nd > CNN_MAX_SPATIAL || channels < 1) {
		cnn_error("filter bank for %d spatial dimensions and %d channels", nd, channels);
		return NULL;
	}
	if (spec_kernels(spec, &k, &count))
		return NULL;
	d = k[0].shape[0];
	h = k[0].shape[1];
	w = k[0].shape[2];
	for (int i = 1; i < count; i++)
		if (k[i].shape[1] != h || k[i].shape[2] != w) {
			cnn_error("filters '%s' have different sizes", spec);
			goto done;
		}
	if ((nd < 3 && d > 1) || (nd < 2 && h > 1)) {
		cnn_error("kernel '%s' is %dx%dx%d but the input has %d spatial dimension%s",
			  spec, d, h, w, nd, nd == 1 ? "" : "s");
		goto done;
	}
	dim[0] = count;
	dim[1] = channels;
	{
		int spatial[3] = {d, h, w};
		for (int i = 0; i < nd; i++)
			dim[2 + i] = spatial[3 - nd + i];
	}
	bank = cnn_tensor_new("weight", CNN_F32, 2 + nd, dim);
	if (bank) {
		int64_t per = (int64_t)d * h * w;
		float *out = bank->data;
		for (int f = 0; f < count; f++) {
			for (int c = 0; c < channels; c++, out += per)
				for (int64_t i = 0; i < per; i++)
					out[i] = k[f].v[i] * k[f].scale;
		}
	}
done:
	for (int i = 0; i < count; i++)
		if (k[i].owned)
			free(k[i].v);
	free(k);
	return bank;
}
