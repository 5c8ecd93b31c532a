/*
 * cnn-info - describe a tensor stream: its records, their fields, dtypes,
 * shapes and value ranges.
 */
#include <math.h>
#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

static const char help[] =
	"Usage: cnn-info [OPTION]... [FILE]...\n"
	"Describe the tensor stream in FILEs (or standard input): the record count\n"
	"and, per field, its dtype, shape and minimum, maximum and mean.\n\n"
	"  -r, --records      one line per record instead of the summary\n"
	TOOL_COMMON_HELP;

/* What the summary keeps of one field name across all records. */
struct field {
	char name[CNN_MAX_NAME + 1];
	unsigned dtypes;             /* bit per dtype seen */
	int ndim;                    /* -1 once ranks differ */
	int64_t lo[CNN_MAX_DIMS], hi[CNN_MAX_DIMS];
	int64_t records, elements; /* elements: the finite ones */
	int64_t nans, infs;
	double min, max, sum;
	char text[64];               /* the first text value, shortened */
};

static struct field *fields;
static int nfields;

static struct field *field_for(const char *name)
{
	for (int i = 0; i < nfields; i++)
		if (strcmp(fields[i].name, name) == 0)
			return &fields[i];
	fields = realloc(fields, (nfields + 1) * sizeof *fields);
	if (!fields)
		die("out of memory");
	struct field *f = &fields[nfields++];
	memset(f, 0, sizeof *f);
	strcpy(f->name, name);
	f->ndim = -2; /* not seen yet */
	f->min = DBL_MAX;
	f->max = -DBL_MAX;
	return f;
}

/* The statistics of the finite values; NaNs and infinities are counted
 * apart, so that one of them shows instead of spoiling the rest. */
static void stats(const cnn_tensor *t, struct field *f)
{
	int64_t n = cnn_tensor_count(t);

	for (int64_t i = 0; i < n; i++) {
		double v = cnn_tensor_get(t, i);
		if (!isfinite(v)) {
			f->nans += isnan(v);
			f->infs += !isnan(v);
			continue;
		}
		f->min = v < f->min ? v : f->min;
		f->max = v > f->max ? v : f->max;
		f->sum += v;
		f->elements++;
	}
}

static void text_preview(const cnn_tensor *t, char *buf, size_t size)
{
	size_t n = cnn_tensor_bytes(t), j = 0;
	const unsigned char *s = t->data;

	for (size_t i = 0; i < n && j + 4 < size; i++)
		buf[j++] = s[i] == '\n' ? '|' : s[i] < 32 ? '?' : (char)s[i];
	if (n > j)
		strcpy(buf + j, "...");
	else
		buf[j] = 0;
}

static void add(const cnn_tensor *t)
{
	struct field *f = field_for(t->name);

	f->dtypes |= 1u << t->dtype;
	f->records++;
	if (f->ndim == -2) {
		f->ndim = t->ndim;
		memcpy(f->lo, t->dim, sizeof f->lo);
		memcpy(f->hi, t->dim, sizeof f->hi);
	} else if (f->ndim != t->ndim) {
		f->ndim = -1;
	} else {
		for (int d = 0; d < t->ndim; d++) {
			f->lo[d] = t->dim[d] < f->lo[d] ? t->dim[d] : f->lo[d];
			f->hi[d] = t->dim[d] > f->hi[d] ? t->dim[d] : f->hi[d];
		}
	}
	if (t->dtype == CNN_TEXT) {
		if (!f->text[0])
			text_preview(t, f->text, sizeof f->text);
		return;
	}
	stats(t, f);
}

static void print_shape(const struct field *f)
{
	char buf[256];
	size_t len = 0;

	if (f->ndim < 0) {
		printf("%-18s", "(rank varies)");
		return;
	}
	if (f->ndim == 0)
		len = (size_t)snprintf(buf, sizeof buf, "scalar");
	for (int d = 0; d < f->ndim && len < sizeof buf; d++) {
		const char *x = d ? "x" : "";
		if (f->lo[d] == f->hi[d])
			len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%lld", x,
						(long long)f->lo[d]);
		else
			len += (size_t)snprintf(buf + len, sizeof buf - len, "%s(%lld..%lld)",
						x, (long long)f->lo[d], (long long)f->hi[d]);
	}
	printf("%-18s", buf);
}

static void print_summary(int64_t records)
{
	int width = 12; /* the name column, as wide as the longest name */

	for (int i = 0; i < nfields; i++)
		if ((int)strlen(fields[i].name) > width)
			width = (int)strlen(fields[i].name);
	printf("%lld record%s\n", (long long)records, records == 1 ? "" : "s");
	for (int i = 0; i < nfields; i++) {
		const struct field *f = &fields[i];
		char types[64] = "";
		for (int t = 1; t <= CNN_DTYPE_MAX; t++)
			if (f->dtypes & 1u << t)
				snprintf(types + strlen(types), sizeof types - strlen(types),
					 "%s%s", types[0] ? "|" : "", cnn_dtype_name(t));
		printf("  %-*s %-5s ", width, f->name, types);
		print_shape(f);
		if (f->records < records)
			printf(" in %lld records", (long long)f->records);
		if (f->elements)
			printf(" min %.6g max %.6g mean %.6g", f->min, f->max,
			       f->sum / f->elements);
		if (f->nans)
			printf(" nan %lld", (long long)f->nans);
		if (f->infs)
			printf(" inf %lld", (long long)f->infs);
		if (!f->elements && !f->nans && !f->infs && f->text[0])
			printf(" \"%s\"", f->text);
		putchar('\n');
	}
}

static void print_record(int64_t index, const cnn_record *rec)
{
	printf("%lld:", (long long)index);
	for (int i = 0; i < rec->n; i++) {
		const cnn_tensor *t = rec->tensor[i];
		char desc[128];
		printf(" %s=%s", t->name, cnn_tensor_describe(t, desc, sizeof desc));
		if (t->dtype != CNN_TEXT && cnn_tensor_count(t) == 1)
			printf("(%.6g)", cnn_tensor_get(t, 0));
	}
	putchar('\n');
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"records", no_argument, 0, 'r'}, TOOL_COMMON_OPTIONS, {0, 0, 0, 0}};
	int per_record = 0, c;
	tool_input in;
	cnn_record *rec;

	tool_init("cnn-info");
	while ((c = getopt_long(argc, argv, "rhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'r': per_record = 1; break;
		case 'h': tool_help(help);
		case 'V': tool_version();
		default: usage_error(NULL);
		}
	}
	tool_input_init(&in, argc - optind, argv + optind);
	if (!(rec = cnn_record_new()))
		die_lib();
	while (tool_read(&in, rec, 1)) {
		if (per_record)
			print_record(in.records, rec);
		else
			for (int i = 0; i < rec->n; i++)
				add(rec->tensor[i]);
	}
	if (!per_record)
		print_summary(in.records);
	cnn_record_free(rec);
	free(fields);
	return 0;
}
