/*
 * vectors.h - reading the reference vectors of tests/vectors (the format is
 * described in tests/vectors/make-vectors.py): records of a key=value
 * header line followed by float32 little-endian arrays.  The directory is
 * $CNN_TEST_DATA, by default tests/vectors under the current directory.
 */
#ifndef VECTORS_H
#define VECTORS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnn.h"

struct vec_file {
	FILE *f;
	int bad; /* a field or an array was missing */
};

static int __attribute__((unused)) vec_open(struct vec_file *v, const char *name)
{
	const char *dir = getenv("CNN_TEST_DATA");
	char path[4096];

	snprintf(path, sizeof path, "%s/%s", dir ? dir : "tests/vectors", name);
	v->bad = 0;
	v->f = fopen(path, "rb");
	return v->f ? CNN_OK : cnn_error("%s: cannot open", path);
}

static void __attribute__((unused)) vec_close(struct vec_file *v)
{
	fclose(v->f);
}

/* The next header line, without its newline; 0 at the end. */
static int __attribute__((unused)) vec_header(struct vec_file *v, char *line, size_t size)
{
	if (!fgets(line, (int)size, v->f))
		return 0;
	line[strcspn(line, "\n")] = 0;
	return 1;
}

/* n comma-separated ints of field key. */
static void __attribute__((unused))
vec_ints(struct vec_file *v, const char *line, const char *key, int *val, int n)
{
	size_t len = strlen(key);
	const char *p = line;

	while ((p = strstr(p, key)) && ((p > line && p[-1] != ' ') || p[len] != '='))
		p += len;
	if (!p) {
		v->bad = 1;
		memset(val, 0, n * sizeof *val);
		return;
	}
	p += len + 1;
	for (int i = 0; i < n; i++) {
		char *end;

		val[i] = (int)strtol(p, &end, 10);
		v->bad |= end == p;
		p = *end == ',' ? end + 1 : end;
	}
}

/* The number of field key. */
static double __attribute__((unused))
vec_double(struct vec_file *v, const char *line, const char *key)
{
	size_t len = strlen(key);
	const char *p = line;
	char *end;
	double val;

	while ((p = strstr(p, key)) && ((p > line && p[-1] != ' ') || p[len] != '='))
		p += len;
	if (!p) {
		v->bad = 1;
		return 0;
	}
	val = strtod(p + len + 1, &end);
	v->bad |= end == p + len + 1;
	return val;
}

/* The next n floats, in memory the caller frees. */
static float *__attribute__((unused)) vec_floats(struct vec_file *v, long n)
{
	float *a = calloc(n ? n : 1, sizeof *a);

	if (fread(a, sizeof *a, n, v->f) != (size_t)n)
		v->bad = 1;
	return a;
}

#endif
