/*
 * textmatrix.c - a matrix of numbers written as text, the way people type
 * one: numbers separated by blanks or commas, a row per line, a blank line
 * between channels, '#' starting a comment line.
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cnn.h"

struct matrix {
	float *v;
	int64_t n, cap;
	int64_t cols, height, channels, rows; /* -1: not known yet */
};

static int add(struct matrix *m, float x)
{
	if (m->n == m->cap) {
		int64_t cap = m->cap ? 2 * m->cap : 256;
		float *grown = realloc(m->v, (size_t)cap * sizeof *grown);
		if (!grown)
			return cnn_error("out of memory");
		m->v = grown;
		m->cap = cap;
	}
	m->v[m->n++] = x;
	return CNN_OK;
}

/* The numbers of one line; *count how many. */
static int parse_line(struct matrix *m, const char *line, const char *name, int64_t lineno,
		      int64_t *count)
{
	const char *p = line;
	char *end;

	*count = 0;
	for (;;) {
		double x;
		while (*p == ' ' || *p == '\t' || *p == ',' || *p == '\r' || *p == '\n')
			p++;
		if (!*p)
			return CNN_OK;
		x = strtod(p, &end);
		if (end == p)
			return cnn_error("%s: line %lld: not a number: '%.*s'", name, (long long)lineno,
					 (int)strcspn(p, " \t\r\n,"), p);
		/* A number past float's range would silently become infinite. */
		if (isfinite(x) && fabs(x) > FLT_MAX)
			return cnn_error("%s: line %lld: %.*s does not fit a 32-bit float", name,
					 (long long)lineno, (int)(end - p), p);
		if (add(m, (float)x))
			return CNN_ERR;
		++*count;
		p = end;
	}
}

/* A blank line or the end closes a channel, which must be as tall as the
 * first. */
static int close_channel(struct matrix *m, const char *name, int64_t lineno)
{
	if (m->rows == 0)
		return CNN_OK;
	if (m->height < 0)
		m->height = m->rows;
	if (m->rows != m->height)
		return cnn_error("%s: line %lld: a channel of %lld rows after channels of %lld",
				 name, (long long)lineno, (long long)m->rows, (long long)m->height);
	m->channels++;
	m->rows = 0;
	return CNN_OK;
}

static int read_all(struct matrix *m, FILE *f, const char *name)
{
	char *line = NULL;
	size_t linecap = 0;
	int64_t lineno = 0;
	int ret = CNN_OK;

	while (ret == CNN_OK) {
		int64_t count = 0;
		int more = getline(&line, &linecap, f) >= 0;
		lineno++;
		if (more && line[strspn(line, " \t")] == '#')
			continue;
		if (more && (ret = parse_line(m, line, name, lineno, &count)))
			break;
		if (count > 0) {
			if (m->cols < 0)
				m->cols = count;
			if (count != m->cols)
				ret = cnn_error("%s: line %lld: %lld numbers after rows of %lld", name,
						(long long)lineno, (long long)count, (long long)m->cols);
			m->rows++;
			continue;
		}
		ret = close_channel(m, name, lineno);
		if (!more)
			break;
	}
	free(line);
	if (ret == CNN_OK && ferror(f))
		ret = cnn_error("%s: %s", name, strerror(errno));
	if (ret == CNN_OK && m->n == 0)
		ret = cnn_error("%s: no numbers", name);
	return ret;
}

cnn_tensor *cnn_text_matrix_read(FILE *f, const char *name)
{
	struct matrix m = {.cols = -1, .height = -1};
	cnn_tensor *t = NULL;

	if (read_all(&m, f, name) == CNN_OK &&
	    (t = cnn_tensor_empty("image", CNN_F32, 3, (int64_t[]){m.channels, m.height, m.cols})))
		memcpy(t->data, m.v, (size_t)m.n * sizeof *m.v);
	free(m.v);
	return t;
}
