/*
 * tfjs.c - TensorFlow.js weights: a weights manifest (or the
 * "weightsManifest" of a model.json) and its binary shards, decoded exactly
 * as tfjs's io.decodeWeights decodes them (tfjs-core src/io/io_utils.ts),
 * so that a network built from them computes what the tfjs model computes.
 *
 * The manifest is an array of groups, {"paths": [shard, ..], "weights":
 * [{"name", "shape", "dtype", "quantization": {"dtype", "scale", "min"}},
 * ..]}.  The shards of a group, concatenated in order, hold its tensors one
 * after another with no alignment and no padding, each row-major over its
 * shape, little-endian:
 *   float32, int32          4 bytes each, as they are
 *   uint8, uint16 q         q * scale + min, in double, rounded once to
 *                           float32; an int32 through JavaScript's
 *                           Math.round and ToInt32
 *   float16                 the IEEE half, exactly (float32 tensors only)
 *   bool                    1 byte each (no quantization)
 *   complex64               8 bytes each, listed but not decoded
 *   string                  each element a little-endian uint32 length and
 *                           that many bytes, listed but not decoded
 * Groups follow one another, and so do their bytes: a tensor's offset is
 * into all the shards, concatenated.  Each group's shards must hold exactly
 * its tensors' bytes (tfjs's loadWeights slices a group's shards by the
 * group's own offsets, its http loader the whole concatenation; the two
 * agree only then).  A string tensor's size is in its bytes, not in the
 * manifest, so offsets are laid out once a group's shards are read.
 *
 * Memory follows the input: the shards are read into a buffer that grows
 * as their bytes arrive, up to what the manifest's shapes add up to (and
 * cnn_max_tensor_bytes() for each string tensor), so a shape of 2^40
 * elements costs the bytes that are really there and then an error.
 * Float32 data can start at any byte (face-api's SSD anchors start at 1
 * mod 4): it is copied out with memcpy, never read through a cast.
 *
 * This file is compiled with -ffp-contract=off (the Makefile's EXACT_OBJ):
 * q * scale + min must be a double multiply and then a double add, as in
 * JavaScript; a fused multiply-add rounds once less and can change the
 * float that results.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/grow.h"
#include "io/json.h"

#define CHUNK ((size_t)1 << 16)

enum quant { RAW, QUANT_UINT8, QUANT_UINT16, QUANT_FLOAT16 };

static const struct {
	const char *name;
	int bytes;
} quants[] = {
	[RAW] = {NULL, 4}, [QUANT_UINT8] = {"uint8", 1}, [QUANT_UINT16] = {"uint16", 2},
	[QUANT_FLOAT16] = {"float16", 2},
};

/* The manifest's dtypes; bytes 0 is a string's: its size is in its data. */
static const struct {
	const char *name;
	cnn_dtype dtype;       /* decoded as; 0: not decoded */
	int bytes;
} dtypes[] = {
	{"float32", CNN_F32, 4}, {"int32", CNN_I32, 4}, {"bool", CNN_U8, 1},
	{"complex64", 0, 8}, {"string", 0, 0},
};

struct entry {
	cnn_tfjs_info info;
	enum quant quant;
	int string;            /* its bytes are in its data */
};

/* A group while its shards are read. */
struct group {
	const struct json *paths;
	int64_t start, size;   /* its bytes among all the shards, once laid out */
	int64_t limit;         /* the most its shards may hold */
	int first, count;      /* its tensors */
};

struct cnn_tfjs {
	char *path;
	int n;
	struct entry *entry;
	struct entry **by_name; /* sorted by name, for lookups */
	uint8_t *bytes;        /* the shards, concatenated */
	int64_t size;
};

/* ---------------------------------------------------------- the manifest */

/* The whole file as one JSON value, nothing after it. */
static int parse_json(const char *path, struct json *root)
{
	size_t len, pos = 0;
	int line = 1, ret;
	struct json rest;
	char *text = NULL;

	if (!(text = cnn_read_text(path, &len)))
		return CNN_ERR;
	ret = cnn_json_parse(text, len, &pos, &line, root);
	if (ret == CNN_END) {
		ret = cnn_error("empty: not a TF.js weights manifest");
	} else if (ret == CNN_OK) {
		int end = line, more = cnn_json_parse(text, len, &pos, &line, &rest);
		cnn_json_free(&rest);
		if (more != CNN_END)
			ret = cnn_error("more after the manifest's JSON value, which ends on line %d",
					end);
	}
	free(text);
	return ret;
}

/* The member called key, the last of that name as JavaScript's JSON.parse
 * keeps it (NULL if none, or not an object). */
static const struct json *get(const struct json *obj, const char *key)
{
	const struct json *v = NULL;

	for (int i = 0; obj->type == JSON_OBJECT && i < obj->n; i++)
		if (!strcmp(obj->key[i], key))
			v = &obj->item[i];
	return v;
}

/* The same, when it has that type. */
static const struct json *member(const struct json *obj, const char *key, enum json_type type)
{
	const struct json *v = get(obj, key);

	return v && v->type == type ? v : NULL;
}

/* A manifest is an array of groups; a model.json holds one. */
static const struct json *groups_of(const struct json *root)
{
	const struct json *g = root->type == JSON_OBJECT ? get(root, "weightsManifest") : root;

	if (!g || g->type != JSON_ARRAY) {
		cnn_error("not a TF.js weights manifest (a JSON array of groups) or model.json "
			  "(an object with \"weightsManifest\")");
		return NULL;
	}
	return g;
}

static int parse_shape(const struct json *shape, cnn_tfjs_info *t)
{
	if (!shape || shape->type != JSON_ARRAY || shape->n > CNN_MAX_DIMS)
		return cnn_error("tensor \"%s\": \"shape\" must be an array of at most %d whole "
				 "numbers", t->name, CNN_MAX_DIMS);
	t->ndim = shape->n;
	for (int d = 0; d < shape->n; d++) {
		double v = shape->item[d].number;
		if (shape->item[d].type != JSON_NUMBER || !(v >= 0 && v <= 9007199254740992.0) ||
		    v != floor(v))
			return cnn_error("tensor \"%s\": \"shape\" must be an array of whole numbers "
					 ">= 0", t->name);
		t->dim[d] = (int64_t)v;
	}
	return CNN_OK;
}

/* The bytes of one element, or 0 for a string. */
static int parse_dtype(const struct json *dtype, cnn_tfjs_info *t)
{
	if (!dtype)
		return cnn_error("tensor \"%s\": no \"dtype\"", t->name);
	for (size_t k = 0; k < sizeof dtypes / sizeof *dtypes; k++)
		if (!strcmp(dtype->string, dtypes[k].name)) {
			t->type = dtypes[k].name;
			t->dtype = dtypes[k].dtype;
			return dtypes[k].bytes;
		}
	return cnn_error("tensor \"%s\": dtype \"%s\" is not float32, int32, bool, "
			 "complex64 or string", t->name, dtype->string);
}

/* tfjs's rules: only float32 and int32 are quantized; uint8 and uint16
 * need a scale and a min; float16 holds only float32 tensors. */
static int parse_quantization(const struct json *q, struct entry *e)
{
	cnn_tfjs_info *t = &e->info;
	const struct json *dtype, *scale, *min;

	e->quant = RAW;
	if (!q)
		return CNN_OK;
	if (q->type != JSON_OBJECT || !(dtype = member(q, "dtype", JSON_STRING)))
		return cnn_error("tensor \"%s\": \"quantization\" must be an object with a "
				 "\"dtype\"", t->name);
	for (int k = QUANT_UINT8; k <= QUANT_FLOAT16; k++)
		if (!strcmp(dtype->string, quants[k].name))
			e->quant = k;
	if (e->quant == RAW)
		return cnn_error("tensor \"%s\": quantization dtype \"%s\" is not uint8, uint16 "
				 "or float16", t->name, dtype->string);
	if (t->dtype != CNN_F32 && t->dtype != CNN_I32)
		return cnn_error("tensor \"%s\": a %s tensor cannot be quantized", t->name,
				 t->type);
	t->quantization = quants[e->quant].name;
	if (e->quant == QUANT_FLOAT16)
		return t->dtype == CNN_F32 ? CNN_OK
					   : cnn_error("tensor \"%s\": float16 quantization "
						       "holds float32 tensors, not int32",
						       t->name);
	scale = member(q, "scale", JSON_NUMBER);
	min = member(q, "min", JSON_NUMBER);
	if (!scale || !min)
		return cnn_error("tensor \"%s\": %s quantization needs a \"scale\" and a "
				 "\"min\", both numbers", t->name, t->quantization);
	t->scale = scale->number;
	t->min = min->number;
	return CNN_OK;
}

/* One entry of a group's "weights"; the most its bytes can be is added to
 * g->limit. */
static int parse_weight(const struct json *w, int group, int index, struct entry *e,
			struct group *g)
{
	cnn_tfjs_info *t = &e->info;
	const struct json *name = member(w, "name", JSON_STRING);
	int64_t count;
	int size;

	if (!name)
		return cnn_error("group %d, weight %d: not an object with a \"name\"", group + 1,
				 index + 1);
	if (!*name->string || strlen(name->string) > CNN_MAX_NAME)
		return cnn_error("group %d, weight %d: a name of %zu bytes (1 to %d)", group + 1,
				 index + 1, strlen(name->string), CNN_MAX_NAME);
	if (!(t->name = strdup(name->string)))
		return cnn_error("out of memory");
	if (parse_shape(get(w, "shape"), t) ||
	    (size = parse_dtype(member(w, "dtype", JSON_STRING), t)) < 0 ||
	    parse_quantization(get(w, "quantization"), e))
		return CNN_ERR;
	/* Decoded, every element takes 4 bytes (a string at least its length):
	 * that bounds the shape. */
	if (cnn_shape_count(t->ndim, t->dim, 4, cnn_max_tensor_bytes(), &count))
		return cnn_error_context("tensor \"%s\"", t->name);
	/* A string's elements take what their lengths say, each at most 2^32
	 * bytes; cnn_max_tensor_bytes() is what one tensor may hold. */
	e->string = size == 0;
	t->bytes = e->string ? (int64_t)cnn_max_tensor_bytes()
			     : count * (e->quant == RAW ? size : quants[e->quant].bytes);
	if (g->limit > INT64_MAX / 4 - t->bytes)
		return cnn_error("tensor \"%s\": the tensors take more than 2^61 bytes", t->name);
	g->limit += t->bytes;
	return CNN_OK;
}

static int parse_group(const struct json *g, int index, struct entry *entry, int *n,
		       struct group *grp)
{
	const struct json *weights = member(g, "weights", JSON_ARRAY);

	grp->paths = member(g, "paths", JSON_ARRAY);
	if (!grp->paths || !weights)
		return cnn_error("group %d: not an object with \"paths\" and \"weights\" arrays",
				 index + 1);
	for (int i = 0; i < grp->paths->n; i++)
		if (grp->paths->item[i].type != JSON_STRING || !*grp->paths->item[i].string)
			return cnn_error("group %d: \"paths\" must be file names", index + 1);
	grp->first = *n;
	grp->count = weights->n;
	for (int i = 0; i < weights->n; i++) {
		int ret = parse_weight(&weights->item[i], index, i, &entry[*n], grp);
		(*n)++; /* counted whatever happened, so that its name is freed */
		if (ret)
			return CNN_ERR;
	}
	return CNN_OK;
}

static int count_weights(const struct json *groups, int *n)
{
	int64_t total = 0;

	for (int g = 0; g < groups->n; g++) {
		const struct json *w = member(&groups->item[g], "weights", JSON_ARRAY);
		total += w ? w->n : 0;
	}
	if (total > INT32_MAX / 2)
		return cnn_error("%lld tensors: too many", (long long)total);
	*n = (int)total;
	return CNN_OK;
}

/* ------------------------------------------------------- names, lookups */

static int compare_names(const void *a, const void *b)
{
	const struct entry *x = *(const struct entry *const *)a, *y = *(const struct entry *const *)b;
	int c = strcmp(x->info.name, y->info.name);

	return c ? c : (x > y) - (x < y);
}

/* The entries sorted by name (equal names by place); a name twice is an
 * error, since a map could not say which it means. */
static int index_names(cnn_tfjs *w)
{
	if (!(w->by_name = malloc(sizeof *w->by_name * (w->n ? w->n : 1))))
		return cnn_error("out of memory");
	for (int i = 0; i < w->n; i++)
		w->by_name[i] = &w->entry[i];
	qsort(w->by_name, w->n, sizeof *w->by_name, compare_names);
	for (int i = 1; i < w->n; i++)
		if (!strcmp(w->by_name[i - 1]->info.name, w->by_name[i]->info.name))
			return cnn_error("tensor \"%s\" is listed twice (weights %d and %d)",
					 w->by_name[i]->info.name,
					 (int)(w->by_name[i - 1] - w->entry) + 1,
					 (int)(w->by_name[i] - w->entry) + 1);
	return CNN_OK;
}

int cnn_tfjs_find(const cnn_tfjs *w, const char *name)
{
	int lo = 0, hi = w->n;

	while (lo < hi) {
		int mid = lo + (hi - lo) / 2, c = strcmp(w->by_name[mid]->info.name, name);
		if (c == 0)
			return (int)(w->by_name[mid] - w->entry);
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return cnn_error("%s: no tensor \"%s\"", w->path, name);
}

/* ------------------------------------------------------------ the shards */

struct shards {
	cnn_tfjs *w;
	const char *dir;       /* the manifest's, with its '/' */
	size_t cap;
	int64_t have, extra;   /* bytes stored; bytes past the group's end */
};

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The bytes of string tensor t at its offset, its elements' lengths read
 * from the data: -1 when the have bytes read so far end inside it. */
static int64_t string_bytes(const cnn_tfjs *w, const cnn_tfjs_info *t, int64_t have)
{
	int64_t n = 1, at = t->offset;

	for (int d = 0; d < t->ndim; d++)
		n *= t->dim[d];
	for (int64_t k = 0; k < n; k++) {
		if (have - at < 4 || have - at - 4 < (int64_t)le32(w->bytes + at))
			return -1;
		at += 4 + (int64_t)le32(w->bytes + at);
	}
	return at - t->offset;
}

/* Place the group's tensors one after another from its start, as far as
 * the have bytes read hold them whole: the index of the first that is not
 * whole, or the one after the group when all are (g->size is then set).
 * A string tensor not whole is left with bytes -1. */
static int lay_out(cnn_tfjs *w, struct group *g, int64_t have)
{
	int64_t at = g->start;

	for (int i = g->first; i < g->first + g->count; i++) {
		cnn_tfjs_info *t = &w->entry[i].info;
		t->offset = at;
		if (w->entry[i].string)
			t->bytes = string_bytes(w, t, have);
		if (t->bytes < 0 || t->bytes > have - at)
			return i;
		at += t->bytes;
	}
	g->size = at - g->start;
	return g->first + g->count;
}

/* Read one shard: bytes up to the group's end are kept, the rest counted. */
static int read_shard(struct shards *s, FILE *f, int64_t end, const char *path)
{
	uint8_t scratch[4096];
	size_t n;

	do {
		int64_t room = end - s->have;
		size_t ask = room > (int64_t)CHUNK ? CHUNK : (size_t)room;
		if (ask == 0) {
			n = fread(scratch, 1, sizeof scratch, f);
			s->extra += (int64_t)n;
			continue;
		}
		if (cnn_grow((void **)&s->w->bytes, &s->cap, (size_t)s->have + ask,
			     (size_t)s->w->size))
			return CNN_ERR;
		n = fread(s->w->bytes + s->have, 1, ask, f);
		s->have += (int64_t)n;
	} while (n > 0);
	return ferror(f) ? cnn_error("shard \"%s\": %s", path, strerror(errno)) : CNN_OK;
}

static int open_shard(struct shards *s, struct group *g, const char *name, int64_t end)
{
	size_t len = strlen(s->dir) + strlen(name) + 1;
	char *path = malloc(len);
	FILE *f;
	int ret, from;

	if (!path)
		return cnn_error("out of memory");
	snprintf(path, len, "%s%s", s->dir, name);
	if (!(f = fopen(path, "rb"))) {
		from = lay_out(s->w, g, s->have);
		if (from < g->first + g->count)
			ret = cnn_error("shard \"%s\": %s, so tensor \"%s\" and those after it have "
					"no bytes", path, strerror(errno),
					s->w->entry[from].info.name);
		else
			ret = cnn_error("shard \"%s\": %s", path, strerror(errno));
	} else {
		ret = read_shard(s, f, end, path);
		fclose(f);
	}
	free(path);
	return ret;
}

/* The shards of a group must hold its tensors' bytes exactly. */
static int check_group(const struct shards *s, struct group *g, int index)
{
	const cnn_tfjs *w = s->w;
	int cut = lay_out(s->w, g, s->have);
	int64_t extra = s->extra;

	if (cut < g->first + g->count) {
		const cnn_tfjs_info *t = &w->entry[cut].info;
		char bytes[48] = "string ", missing[48] = "";
		int strings = 0;
		for (int i = g->first; i < g->first + g->count; i++)
			strings |= w->entry[i].string;
		if (!w->entry[cut].string)
			snprintf(bytes, sizeof bytes, "%lld bytes ", (long long)t->bytes);
		if (!strings)
			snprintf(missing, sizeof missing, ", %lld short of the tensors",
				 (long long)(g->start + g->limit - s->have));
		return cnn_error("tensor \"%s\" (%sat offset %lld) is cut short: the shards end at "
				 "byte %lld%s (a short shard, or a manifest of other shards)",
				 t->name, bytes, (long long)t->offset, (long long)s->have, missing);
	}
	extra += s->have - (g->start + g->size);
	if (extra && g->count == 0)
		return cnn_error("%lld bytes in the shards of group %d, which lists no tensors",
				 (long long)extra, index + 1);
	if (extra)
		return cnn_error("%lld bytes after the last tensor \"%s\" (the shards hold %lld, "
				 "the tensors take %lld: a shard too long, or a manifest of "
				 "other shards)", (long long)extra,
				 w->entry[g->first + g->count - 1].info.name,
				 (long long)(g->size + extra), (long long)g->size);
	return CNN_OK;
}

/* Group after group, each starting where the one before ended. */
static int read_shards(cnn_tfjs *w, struct group *grp, int ngroups)
{
	const char *slash = strrchr(w->path, '/');
	size_t dirlen = slash ? (size_t)(slash - w->path) + 1 : 0;
	struct shards s = {w, NULL, 0, 0, 0};
	char *dir = malloc(dirlen + 1);
	int ret = CNN_OK;

	if (!dir)
		return cnn_error("out of memory");
	memcpy(dir, w->path, dirlen);
	dir[dirlen] = 0;
	s.dir = dir;
	for (int g = 0; g < ngroups && !ret; g++) {
		struct group *gr = &grp[g];
		gr->start = s.have;
		s.extra = 0;
		for (int p = 0; p < gr->paths->n && !ret; p++)
			ret = open_shard(&s, gr, gr->paths->item[p].string, gr->start + gr->limit);
		if (!ret)
			ret = check_group(&s, gr, g);
	}
	w->size = s.have;
	free(dir);
	return ret;
}

/* ---------------------------------------------------------------- opening */

static int load(cnn_tfjs *w, const struct json *groups)
{
	struct group *grp;
	int64_t limit = 0;
	int ret = CNN_OK, n = 0;

	if (count_weights(groups, &n))
		return CNN_ERR;
	grp = calloc(groups->n > 0 ? (size_t)groups->n : 1, sizeof *grp);
	w->entry = calloc(n > 0 ? (size_t)n : 1, sizeof *w->entry);
	if (!grp || !w->entry) {
		free(grp);
		return cnn_error("out of memory");
	}
	/* w->n counts the entries parsed, whose names are then freed. */
	for (int g = 0; g < groups->n && !ret; g++) {
		ret = parse_group(&groups->item[g], g, w->entry, &w->n, &grp[g]);
		if (!ret && limit > INT64_MAX / 4 - grp[g].limit)
			ret = cnn_error("group %d: the tensors take more than 2^61 bytes", g + 1);
		limit += ret ? 0 : grp[g].limit;
	}
	/* The buffer grows up to the most the groups may hold. */
	w->size = limit;
	if (!ret)
		ret = index_names(w);
	if (!ret)
		ret = read_shards(w, grp, groups->n);
	free(grp);
	return ret;
}

cnn_tfjs *cnn_tfjs_open(const char *path)
{
	cnn_tfjs *w = calloc(1, sizeof *w);
	struct json root = {0};
	const struct json *groups;
	int ret;

	if (!w || !(w->path = strdup(path))) {
		free(w);
		cnn_error("out of memory");
		return NULL;
	}
	ret = parse_json(path, &root);
	if (!ret)
		ret = (groups = groups_of(&root)) ? load(w, groups) : CNN_ERR;
	cnn_json_free(&root);
	if (ret) {
		cnn_error_context("%s", path);
		cnn_tfjs_close(w);
		return NULL;
	}
	return w;
}

void cnn_tfjs_close(cnn_tfjs *w)
{
	if (!w)
		return;
	for (int i = 0; i < w->n; i++)
		free((char *)w->entry[i].info.name);
	free(w->entry);
	free(w->by_name);
	free(w->bytes);
	free(w->path);
	free(w);
}

int cnn_tfjs_count(const cnn_tfjs *w)
{
	return w->n;
}

const cnn_tfjs_info *cnn_tfjs_info_at(const cnn_tfjs *w, int i)
{
	return i >= 0 && i < w->n ? &w->entry[i].info : NULL;
}

/* --------------------------------------------------------------- decoding */

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static float float_bits(uint32_t u)
{
	float f;

	memcpy(&f, &u, sizeof f);
	return f;
}

/* IEEE binary16 to binary32, exactly (subnormals, infinities and NaN
 * payloads included), as tfjs's table-driven float16 decoder gives. */
static float half_to_float(uint16_t h)
{
	uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = h >> 10 & 0x1f, man = h & 0x3ff;
	uint32_t e = 113; /* the float exponent of 2^-14, a subnormal half's scale */

	if (exp == 0x1f)
		return float_bits(sign | 0x7f800000u | man << 13);
	if (exp)
		return float_bits(sign | (exp + 112) << 23 | man << 13);
	if (man == 0)
		return float_bits(sign);
	while (!(man & 0x400)) {
		man <<= 1;
		e--;
	}
	return float_bits(sign | e << 23 | (man & 0x3ff) << 13);
}

/* ECMAScript's ToInt32 of a whole number: modulo 2^32, NaN and infinities
 * to 0 (what storing into an Int32Array does). */
static int32_t js_to_int32(double v)
{
	double m;

	if (!isfinite(v))
		return 0;
	m = fmod(v, 4294967296.0);
	if (m < 0)
		m += 4294967296.0;
	return (int32_t)(uint32_t)m;
}

/* Math.round: the nearest whole number, halves up (-2.5 gives -2).
 * v - floor(v) is exact, where floor(v + 0.5) is not. */
static double js_round(double v)
{
	double r = floor(v);

	return v - r >= 0.5 ? r + 1 : r;
}

static double quantized(const uint8_t *p, enum quant q, int64_t i)
{
	return q == QUANT_UINT8 ? p[i] : le16(p + 2 * i);
}

static void decode(const struct entry *e, const uint8_t *p, cnn_tensor *t, int64_t n)
{
	const cnn_tfjs_info *info = &e->info;
	float *f = t->data;
	int32_t *k = t->data;

	if (t->dtype == CNN_U8) {
		memcpy(t->data, p, (size_t)n);
		return;
	}
	for (int64_t i = 0; i < n; i++) {
		if (e->quant == RAW && t->dtype == CNN_F32)
			f[i] = float_bits(le32(p + 4 * i));
		else if (e->quant == RAW)
			k[i] = (int32_t)le32(p + 4 * i);
		else if (e->quant == QUANT_FLOAT16)
			f[i] = half_to_float(le16(p + 2 * i));
		else if (t->dtype == CNN_F32)
			f[i] = (float)(quantized(p, e->quant, i) * info->scale + info->min);
		else
			k[i] = js_to_int32(js_round(quantized(p, e->quant, i) * info->scale +
						    info->min));
	}
}

cnn_tensor *cnn_tfjs_tensor(const cnn_tfjs *w, int i)
{
	const struct entry *e;
	cnn_tensor *t;
	int64_t bad;

	if (i < 0 || i >= w->n) {
		cnn_error("%s: no tensor %d (it has %d)", w->path, i, w->n);
		return NULL;
	}
	e = &w->entry[i];
	if (!e->info.dtype) {
		cnn_error("%s: tensor \"%s\" is %s, which libcnn does not hold", w->path,
			  e->info.name, e->info.type);
		return NULL;
	}
	if (!(t = cnn_tensor_empty(e->info.name, e->info.dtype, e->info.ndim, e->info.dim)))
		return NULL;
	if (w->bytes)
		decode(e, w->bytes + e->info.offset, t, cnn_tensor_count(t));
	if ((bad = cnn_tensor_nonfinite(t)) >= 0) {
		char msg[CNN_MAX_NAME + 64];
		cnn_error("%s: %s", w->path, cnn_nonfinite_describe(t, bad, msg, sizeof msg));
		cnn_tensor_free(t);
		return NULL;
	}
	return t;
}
