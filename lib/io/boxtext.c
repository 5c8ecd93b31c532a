/*
 * boxtext.c - boxes as text, so that boxes from other tools enter the
 * stream and ours leave it: CSV, JSON (ours, and darknet's -out JSON),
 * darknet label files, darknet's -ext_output log; and class names.
 *
 * A reader hands out one record of boxes at a time.  Formats that number
 * their records (CSV with a record column, JSON with "record" or
 * "frame_id") may skip numbers: the records between come out empty.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "io/json.h"

/* The whole of f, malloc'ed, into *text. */
static int read_all(FILE *f, const char *path, char **text, size_t *len)
{
	size_t cap = 0, got;

	*text = NULL;
	*len = 0;
	do {
		if (*len == cap) {
			char *t = realloc(*text, cap = 2 * cap + 65536);
			if (!t)
				return cnn_error("out of memory");
			*text = t;
		}
		got = fread(*text + *len, 1, cap - *len, f);
		*len += got;
	} while (got > 0);
	return ferror(f) ? cnn_error("%s: %s", path, strerror(errno)) : CNN_OK;
}

/* ----------------------------------------------------------- class names */

static cnn_names *names_new(void)
{
	cnn_names *nm = calloc(1, sizeof *nm);

	if (!nm)
		cnn_error("out of memory");
	return nm;
}

static int names_add(cnn_names *nm, const char *s, size_t len)
{
	char **name = realloc(nm->name, ((size_t)nm->n + 1) * sizeof *name), *copy;

	if (!name)
		return cnn_error("out of memory");
	nm->name = name;
	if (!(copy = malloc(len + 1)))
		return cnn_error("out of memory");
	memcpy(copy, s, len);
	copy[len] = 0;
	nm->name[nm->n++] = copy;
	return CNN_OK;
}

cnn_names *cnn_names_parse(const char *text, size_t len, const char *what)
{
	cnn_names *nm = names_new();
	size_t at = 0;

	while (nm && at < len) {
		const char *s = text + at, *nl = memchr(s, '\n', len - at);
		size_t n = nl ? (size_t)(nl - s) : len - at;
		at += n + 1;
		if (n > 0 && s[n - 1] == '\r')
			n--;
		if (memchr(s, 0, n)) {
			cnn_error("%s: line %d: a NUL byte", what, nm->n + 1);
			cnn_names_free(nm);
			return NULL;
		}
		if (names_add(nm, s, n)) {
			cnn_names_free(nm);
			return NULL;
		}
	}
	return nm;
}

cnn_names *cnn_names_load(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *text = NULL;
	size_t len;
	cnn_names *nm = NULL;

	if (!f) {
		cnn_error("%s: %s", path, strerror(errno));
		return NULL;
	}
	if (read_all(f, path, &text, &len) == CNN_OK)
		nm = cnn_names_parse(text, len, path);
	free(text);
	fclose(f);
	return nm;
}

void cnn_names_free(cnn_names *nm)
{
	if (!nm)
		return;
	for (int i = 0; i < nm->n; i++)
		free(nm->name[i]);
	free(nm->name);
	free(nm);
}

const char *cnn_names_get(const cnn_names *nm, int cls)
{
	return nm && cls >= 0 && cls < nm->n ? nm->name[cls] : NULL;
}

int cnn_names_find(const cnn_names *nm, const char *name)
{
	for (int i = 0; nm && i < nm->n; i++)
		if (strcmp(nm->name[i], name) == 0)
			return i;
	return cnn_error("class \"%s\" is not among the names", name);
}

/* --------------------------------------------------------------- formats */

static const char *const format_names[] = {
	[CNN_BOXES_CSV] = "csv",
	[CNN_BOXES_JSON] = "json",
	[CNN_BOXES_DARKNET] = "darknet",
	[CNN_BOXES_DARKNET_EXT] = "darknet-ext",
};

int cnn_box_format_parse(const char *name)
{
	for (int f = CNN_BOXES_CSV; f <= CNN_BOXES_DARKNET_EXT; f++)
		if (strcmp(name, format_names[f]) == 0)
			return f;
	return cnn_error("unknown box format \"%s\" (csv, json, darknet, darknet-ext)", name);
}

/* --------------------------------------------------------------- reading */

struct cnn_box_reader {
	char *path;
	cnn_box_format fmt;
	const cnn_names *names;
	int64_t want;  /* the number of the record to hand out next, from 1 */
	/* Line formats. */
	FILE *f;
	char *line;
	size_t cap;
	int64_t lineno;
	int held;      /* line holds the first line of a later record */
	int columns;   /* CSV: 6 or 7, once known */
	/* The boxes of the record being read. */
	float *rows;
	int64_t n, room;
	/* JSON: the whole text, the records of the value last parsed, and the
	 * next record object with its number. */
	char *text;
	size_t len, pos;
	int jline;
	struct json array, object;
	int next_item, have_object;
	int64_t object_number;
};

/* How far a record number may jump: the records it skips come out empty,
 * and a few bytes must not stand for billions of them. */
#define MAX_SKIPPED_RECORDS (1 << 20)

static int is_next_number(double v, int64_t want)
{
	return v >= want && v == floor(v) && v - want <= MAX_SKIPPED_RECORDS;
}

/* "path:line: what detail", for the line formats. */
static int line_error(cnn_box_reader *br, const char *what, const char *detail)
{
	return cnn_error("%s:%lld: %s%s", br->path, (long long)br->lineno, what,
			 detail ? detail : "");
}

static int add_box(cnn_box_reader *br, double x1, double y1, double x2, double y2,
		   double score, double cls)
{
	float *b;

	if (br->n == br->room) {
		int64_t room = 2 * br->room + 64;
		float *p = realloc(br->rows, (size_t)room * CNN_BOX_FIELDS * sizeof *p);
		if (!p)
			return cnn_error("out of memory");
		br->rows = p;
		br->room = room;
	}
	b = br->rows + br->n++ * CNN_BOX_FIELDS;
	b[0] = (float)x1;
	b[1] = (float)y1;
	b[2] = (float)x2;
	b[3] = (float)y2;
	b[4] = (float)score;
	b[5] = (float)cls;
	return CNN_OK;
}

/* The next line into br->line without its line end: 1, or 0 at the end. */
static int next_line(cnn_box_reader *br)
{
	ssize_t n;

	if (br->held) {
		br->held = 0;
		return 1;
	}
	if ((n = getline(&br->line, &br->cap, br->f)) < 0)
		return 0;
	br->lineno++;
	while (n > 0 && (br->line[n - 1] == '\n' || br->line[n - 1] == '\r'))
		br->line[--n] = 0;
	return 1;
}

/* Empty, or a '#' comment. */
static int blank(const char *s)
{
	s += strspn(s, " \t");
	return *s == 0 || *s == '#';
}

/* Split s at sep (or at white space when sep is 0) into numbers, at most
 * max; returns the count, max + 1 for more, or -1 when one is not a
 * number. */
static int numbers(const char *s, char sep, double *v, int max)
{
	for (int n = 0;; n++) {
		char *end;
		if (n == max)
			return max + 1;
		errno = 0;
		v[n] = strtod(s, &end);
		if (end == s || errno)
			return -1;
		end += strspn(end, " \t");
		if (*end == 0)
			return n + 1;
		if (sep && *end != sep)
			return -1;
		s = end + (sep != 0);
	}
}

/* Each format's reader adds the boxes of record br->want and returns 1,
 * or 0 when no record is left, or CNN_ERR. */

/* CSV: "record,x1,y1,x2,y2,score,class", or the last six fields alone
 * for a single record; a first line that is not numbers is a header. */
static int csv_record(cnn_box_reader *br)
{
	int found = 0;

	while (next_line(br)) {
		double v[7];
		int k;

		if (blank(br->line))
			continue;
		k = numbers(br->line, ',', v, 7);
		if (k < 0 && br->lineno == 1)
			continue;
		if (k != 6 && k != 7)
			return line_error(br, "want 6 or 7 numbers separated by commas", NULL);
		if (br->columns && k != br->columns)
			return line_error(br, k == 7 ? "a record number in a file without them" :
						       "no record number in a file with them", NULL);
		br->columns = k;
		if (k == 7) {
			if (!is_next_number(v[0], br->want))
				return line_error(br, "records out of order, not whole numbers, or "
						  "more than 1048576 empty ones skipped", NULL);
			if (v[0] > br->want) {
				br->held = 1;
				return 1;
			}
		}
		found = 1;
		if (add_box(br, v[k - 6], v[k - 5], v[k - 4], v[k - 3], v[k - 2], v[k - 1]))
			return CNN_ERR;
	}
	return found;
}

/* darknet's labels out of their ranges, the mistakes its users make most:
 * a class past the names, a box not relative to the image. */
static int darknet_ranges(cnn_box_reader *br, const double *v)
{
	static const char *const what[] = {"cx", "cy", "w", "h"};
	char detail[96];

	if (!(v[0] >= 0 && v[0] == floor(v[0])))
		return line_error(br, "the class is not a whole number from 0: ", br->line);
	if (br->names && v[0] >= br->names->n) {
		snprintf(detail, sizeof detail, "%g, and the names have %d (0 to %d)", v[0],
			 br->names->n, br->names->n - 1);
		return line_error(br, "class ", detail);
	}
	for (int k = 1; k < 5; k++)
		if (!(v[k] >= 0 && v[k] <= 1) || (k > 2 && v[k] == 0)) {
			snprintf(detail, sizeof detail, "%s %g (darknet's labels are relative to the "
				 "image: %s)", what[k - 1], v[k], k > 2 ? "0 < w, h <= 1" : "0..1");
			return line_error(br, "", detail);
		}
	return CNN_OK;
}

/* darknet's label files, "class cx cy w h [score]" relative to the image
 * size w x h: the whole file is one record. */
static int darknet_record(cnn_box_reader *br, double w, double h)
{
	if (br->want > 1)
		return 0;
	while (next_line(br)) {
		double v[6];
		int k;

		if (blank(br->line))
			continue;
		if (!(w > 0 && h > 0))
			return line_error(br, "darknet labels are relative to the image, "
					      "whose size is unknown", NULL);
		k = numbers(br->line, 0, v, 6);
		if (k != 5 && k != 6)
			return line_error(br, "want \"class cx cy w h\" and maybe a score", NULL);
		if (darknet_ranges(br, v))
			return CNN_ERR;
		if (add_box(br, (v[1] - v[3] / 2) * w, (v[2] - v[4] / 2) * h,
			    (v[1] + v[3] / 2) * w, (v[2] + v[4] / 2) * h, k == 6 ? v[5] : 1, v[0]))
			return CNN_ERR;
	}
	return 1;
}

/* One "name: 87%" of a darknet -ext_output line, moving *s past it. */
static int ext_class(cnn_box_reader *br, char **s, double *cls, double *score)
{
	char *item = *s, *pct = strchr(item, '%'), *colon = NULL;
	int c;

	if (pct) {
		*pct = 0;
		colon = strrchr(item, ':');
	}
	if (!colon)
		return line_error(br, "no \"name: NN%\" before (left_x:", NULL);
	*colon = 0;
	*score = strtod(colon + 1, NULL) / 100;
	if ((c = cnn_names_find(br->names, item)) < 0)
		return line_error(br, "a class not among the names: ", item);
	*cls = c;
	*s = pct + 1 + strspn(pct + 1, ", \t");
	return CNN_OK;
}

/* darknet's detector test -ext_output log: lines "dog: 98%\t(left_x: 129
 * top_y: 225 width: 184 height: 317)", with several "name: NN%" when
 * several classes pass; a "...: Predicted in" line starts each image.
 * Other lines are darknet's chatter. */
static int ext_record(cnn_box_reader *br)
{
	int found = 0;

	while (next_line(br)) {
		char *coords = strstr(br->line, "(left_x:"), *s = br->line;
		double x, y, w, h;

		if (strstr(br->line, ": Predicted in ")) {
			if (found) {
				br->held = 1;
				return 1;
			}
			found = 1;
			continue;
		}
		if (!coords)
			continue;
		if (sscanf(coords, "(left_x: %lf top_y: %lf width: %lf height: %lf)", &x, &y, &w, &h) != 4)
			return line_error(br, "unreadable (left_x: top_y: width: height:)", NULL);
		*coords = 0;
		found = 1;
		while (*s) {
			double cls = 0, score = 0;
			if (ext_class(br, &s, &cls, &score) || add_box(br, x, y, x + w, y + h, score, cls))
				return CNN_ERR;
		}
	}
	return found;
}

static int json_number(const struct json *obj, const char *key, double dflt, double *v)
{
	const struct json *m = cnn_json_get(obj, key);

	if (!m) {
		*v = dflt;
		return isnan(dflt) ? cnn_error("no \"%s\"", key) : CNN_OK;
	}
	if (m->type != JSON_NUMBER)
		return cnn_error("\"%s\" is not a number", key);
	*v = m->number;
	return CNN_OK;
}

/* The class of a box object: "class" (darknet: "class_id"), or else its
 * "name" among the names. */
static int json_class(cnn_box_reader *br, const struct json *box, double *cls)
{
	const struct json *name = cnn_json_get(box, "name");
	const char *key = cnn_json_get(box, "class") ? "class" : "class_id";
	int c;

	if (cnn_json_get(box, key))
		return json_number(box, key, NAN, cls);
	if (!name || name->type != JSON_STRING)
		return cnn_error("no \"class\" and no \"name\"");
	if ((c = cnn_names_find(br->names, name->string)) < 0)
		return CNN_ERR;
	*cls = c;
	return CNN_OK;
}

static int json_box(cnn_box_reader *br, const struct json *box, double w, double h)
{
	const struct json *rel = cnn_json_get(box, "relative_coordinates");
	double v[4] = {0}, score = 1, cls = 0;

	if (box->type != JSON_OBJECT)
		return cnn_error("a box is not an object");
	if (json_class(br, box, &cls))
		return CNN_ERR;
	if (!rel) {
		if (json_number(box, "x1", NAN, &v[0]) || json_number(box, "y1", NAN, &v[1]) ||
		    json_number(box, "x2", NAN, &v[2]) || json_number(box, "y2", NAN, &v[3]) ||
		    json_number(box, "score", 1, &score))
			return CNN_ERR;
		return add_box(br, v[0], v[1], v[2], v[3], score, cls);
	}
	/* darknet's -out JSON: centre and size relative to the image. */
	if (json_number(rel, "center_x", NAN, &v[0]) || json_number(rel, "center_y", NAN, &v[1]) ||
	    json_number(rel, "width", NAN, &v[2]) || json_number(rel, "height", NAN, &v[3]) ||
	    json_number(box, "confidence", 1, &score))
		return CNN_ERR;
	if (!(w > 0 && h > 0))
		return cnn_error("relative_coordinates need the image size, which is unknown");
	return add_box(br, (v[0] - v[2] / 2) * w, (v[1] - v[3] / 2) * h,
		       (v[0] + v[2] / 2) * w, (v[1] + v[3] / 2) * h, score, cls);
}

/* Parse the next value of the text into br->array as an array of records
 * (a lone object becomes an array of one): 1, or 0 at the end. */
static int json_next_value(cnn_box_reader *br)
{
	struct json *one;
	int ret;

	cnn_json_free(&br->array);
	br->next_item = 0;
	ret = cnn_json_parse(br->text, br->len, &br->pos, &br->jline, &br->array);
	if (ret)
		return ret == CNN_END ? 0 : CNN_ERR;
	if (br->array.type == JSON_ARRAY)
		return 1;
	if (br->array.type != JSON_OBJECT)
		return cnn_error("line %d: a record is not an object", br->jline);
	if (!(one = malloc(sizeof *one)))
		return cnn_error("out of memory");
	*one = br->array;
	br->array = (struct json){.type = JSON_ARRAY, .n = 1, .item = one};
	return 1;
}

/* Take the next record object into br->object, numbered by its "record"
 * or "frame_id", else the next number: 1, or 0 at the end. */
static int json_next_object(cnn_box_reader *br)
{
	const struct json *num;
	int ret;

	while (br->next_item >= br->array.n)
		if ((ret = json_next_value(br)) <= 0)
			return ret;
	br->object = br->array.item[br->next_item];
	br->array.item[br->next_item++] = (struct json){0};
	if (br->object.type != JSON_OBJECT)
		return cnn_error("line %d: a record is not an object", br->jline);
	num = cnn_json_get(&br->object, "record");
	num = num ? num : cnn_json_get(&br->object, "frame_id");
	/* Checked before it becomes an integer: 1e19 would not fit. */
	if (num && !(num->type == JSON_NUMBER && is_next_number(num->number, br->want)))
		return cnn_error("line %d: record numbers out of order, not whole numbers, or "
				 "more than 1048576 empty records skipped", br->jline);
	br->object_number = num ? (int64_t)num->number : br->want;
	br->have_object = 1;
	return 1;
}

static int json_boxes(cnn_box_reader *br, double w, double h)
{
	const struct json *list = cnn_json_get(&br->object, "boxes");

	list = list ? list : cnn_json_get(&br->object, "objects");
	if (list && list->type != JSON_ARRAY)
		return cnn_error("line %d: the boxes are not a list", br->jline);
	for (int i = 0; list && i < list->n; i++)
		if (json_box(br, &list->item[i], w, h))
			return cnn_error_context("line %d: record %lld box %d", br->jline,
						 (long long)br->want, i + 1);
	return CNN_OK;
}

/* JSON: objects {"record": N, "boxes": [{"x1": .. "class": ..}, ..]}, one
 * after another or in arrays; darknet's frames {"frame_id": N, "objects":
 * [{"class_id": .., "relative_coordinates": {..}, "confidence": ..}]}. */
static int json_record(cnn_box_reader *br, double w, double h)
{
	int ret;

	if (!br->have_object && (ret = json_next_object(br)) <= 0)
		return ret < 0 ? cnn_error_context("%s", br->path) : 0;
	if (br->object_number > br->want)
		return 1;
	br->have_object = 0;
	ret = json_boxes(br, w, h);
	cnn_json_free(&br->object);
	return ret ? cnn_error_context("%s", br->path) : 1;
}

cnn_box_reader *cnn_box_reader_open(const char *path, cnn_box_format fmt,
				    const cnn_names *names)
{
	cnn_box_reader *br = calloc(1, sizeof *br);
	int is_stdin = strcmp(path, "-") == 0;

	if (!br || !(br->path = strdup(is_stdin ? "<stdin>" : path))) {
		free(br);
		cnn_error("out of memory");
		return NULL;
	}
	br->fmt = fmt;
	br->names = names;
	br->want = 1;
	br->jline = 1;
	if (fmt < CNN_BOXES_CSV || fmt > CNN_BOXES_DARKNET_EXT) {
		cnn_error("unknown box format %d", (int)fmt);
		goto fail;
	}
	if (fmt == CNN_BOXES_DARKNET_EXT && !names) {
		cnn_error("darknet-ext names classes: the class names are needed");
		goto fail;
	}
	if (!(br->f = is_stdin ? stdin : fopen(path, "rb"))) {
		cnn_error("%s: %s", path, strerror(errno));
		goto fail;
	}
	if (fmt == CNN_BOXES_JSON && read_all(br->f, br->path, &br->text, &br->len))
		goto fail;
	return br;
fail:
	cnn_box_reader_close(br);
	return NULL;
}

int cnn_box_read(cnn_box_reader *br, const char *name, double w, double h,
		 cnn_tensor **boxes)
{
	int ret;

	*boxes = NULL;
	br->n = 0;
	switch (br->fmt) {
	case CNN_BOXES_CSV: ret = csv_record(br); break;
	case CNN_BOXES_DARKNET: ret = darknet_record(br, w, h); break;
	case CNN_BOXES_DARKNET_EXT: ret = ext_record(br); break;
	default: ret = json_record(br, w, h); break;
	}
	if (ret <= 0)
		return ret == 0 ? CNN_END : CNN_ERR;
	if (cnn_box_rows_check(br->rows, br->n, 0))
		return cnn_error_context("%s: record %lld", br->path, (long long)br->want);
	if (!(*boxes = cnn_boxes_new(name, br->n)))
		return CNN_ERR;
	if (br->n)
		memcpy((*boxes)->data, br->rows, (size_t)br->n * CNN_BOX_FIELDS * sizeof *br->rows);
	br->want++;
	return CNN_OK;
}

void cnn_box_reader_close(cnn_box_reader *br)
{
	if (!br)
		return;
	if (br->f && br->f != stdin)
		fclose(br->f);
	cnn_json_free(&br->array);
	cnn_json_free(&br->object);
	free(br->text);
	free(br->line);
	free(br->rows);
	free(br->path);
	free(br);
}

/* --------------------------------------------------------------- writing */

const char *cnn_box_header(cnn_box_format fmt)
{
	return fmt == CNN_BOXES_CSV ? "record,x1,y1,x2,y2,score,class\n" : "";
}

static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void write_csv(FILE *f, const float *b, int64_t record)
{
	char v[6][32];

	for (int k = 0; k < 6; k++)
		cnn_format_float(v[k], sizeof v[k], b[k]);
	fprintf(f, "%lld,%s,%s,%s,%s,%s,%s\n", (long long)record, v[0], v[1], v[2], v[3], v[4], v[5]);
}

static void write_json_box(FILE *f, const float *b, const cnn_names *names, int first)
{
	static const char *const key[] = {"x1", "y1", "x2", "y2", "score", "class"};
	const char *name = cnn_names_get(names, (int)b[5]);
	char v[32];

	fputs(first ? "{" : ",{", f);
	for (int k = 0; k < 6; k++)
		fprintf(f, "%s\"%s\":%s", k ? "," : "", key[k], cnn_format_float(v, sizeof v, b[k]));
	if (name) {
		fputs(",\"name\":", f);
		json_string(f, name);
	}
	fputc('}', f);
}

static void write_darknet(FILE *f, const float *b, int truth, double w, double h)
{
	fprintf(f, "%d %.6f %.6f %.6f %.6f", (int)b[5], (b[0] + (double)b[2]) / 2 / w,
		(b[1] + (double)b[3]) / 2 / h, ((double)b[2] - b[0]) / w, ((double)b[3] - b[1]) / h);
	if (!truth)
		fprintf(f, " %.6f", b[4]);
	fputc('\n', f);
}

int cnn_box_write(FILE *f, cnn_box_format fmt, const cnn_tensor *boxes, int truth,
		  int64_t record, double w, double h, const cnn_names *names)
{
	const float *b = boxes->data;
	int64_t n;

	if (cnn_boxes_check(boxes, truth))
		return CNN_ERR;
	n = boxes->dim[0];
	if (fmt == CNN_BOXES_DARKNET && !(w > 0 && h > 0))
		return cnn_error("darknet labels are relative to the image, whose size is unknown");
	if (fmt == CNN_BOXES_DARKNET_EXT || fmt < CNN_BOXES_CSV || fmt > CNN_BOXES_DARKNET_EXT)
		return cnn_error("boxes cannot be written as %s", fmt == CNN_BOXES_DARKNET_EXT ?
				 "darknet-ext (it is darknet's log, read only)" : "that");
	if (fmt == CNN_BOXES_JSON)
		fprintf(f, "{\"record\":%lld,\"boxes\":[", (long long)record);
	for (int64_t i = 0; i < n; i++, b += CNN_BOX_FIELDS) {
		if (fmt == CNN_BOXES_CSV)
			write_csv(f, b, record);
		else if (fmt == CNN_BOXES_JSON)
			write_json_box(f, b, names, i == 0);
		else
			write_darknet(f, b, truth, w, h);
	}
	if (fmt == CNN_BOXES_JSON)
		fputs("]}\n", f);
	return ferror(f) ? cnn_error("write error: %s", strerror(errno)) : CNN_OK;
}
