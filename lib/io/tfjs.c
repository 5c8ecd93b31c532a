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
 * Groups follow one another, and so do their bytes: a tensor's offset is
 * into all the shards, concatenated.  Each group's shards must hold exactly
 * its tensors' bytes (tfjs's loadWeights slices a group's shards by the
 * group's own offsets, its http loader the whole concatenation; the two
 * agree only then).
 *
 * Memory follows the input: the shards are read into a buffer that grows
 * as their bytes arrive, up to what the manifest's shapes add up to, so a
 * shape of 2^40 elements costs the bytes that are really there and then an
 * error.  Float32 data can start at any byte (face-api's SSD anchors start
 * at 1 mod 4): it is copied out with memcpy, never read through a cast.
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

struct entry {
	cnn_tfjs_info info;
	enum quant quant;
};

/* A group while its shards are read. */
struct group {
	const struct json *paths;
	int64_t start, size;   /* its bytes among all the shards */
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

static int parse_dtype(const struct json *dtype, cnn_tfjs_info *t)
{
	if (!dtype)
		return cnn_error("tensor \"%s\": no \"dtype\"", t->name);
	if (!strcmp(dtype->string, "float32"))
		t->dtype = CNN_F32;
	else if (!strcmp(dtype->string, "int32"))
		t->dtype = CNN_I32;
	else
		return cnn_error("tensor \"%s\": dtype \"%s\" is not float32 or int32", t->name,
				 dtype->string);
	return CNN_OK;
}

/* tfjs's rules: uint8 and uint16 need a scale and a min; float16 holds
 * only float32 tensors. */
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

/* One entry of a group's "weights", placed at byte *offset. */
static int parse_weight(const struct json *w, int group, int index, struct entry *e,
			int64_t *offset)
{
	cnn_tfjs_info *t = &e->info;
	const struct json *name = member(w, "name", JSON_STRING);
	int64_t count;

	if (!name)
		return cnn_error("group %d, weight %d: not an object with a \"name\"", group + 1,
				 index + 1);
	if (!*name->string || strlen(name->string) > CNN_MAX_NAME)
		return cnn_error("group %d, weight %d: a name of %zu bytes (1 to %d)", group + 1,
				 index + 1, strlen(name->string), CNN_MAX_NAME);
	if (!(t->name = strdup(name->string)))
		return cnn_error("out of memory");
	if (parse_shape(get(w, "shape"), t) ||
	    parse_dtype(member(w, "dtype", JSON_STRING), t) ||
	    parse_quantization(get(w, "quantization"), e))
		return CNN_ERR;
	/* Decoded, every element takes 4 bytes: that bounds the shape. */
	if (cnn_shape_count(t->ndim, t->dim, 4, cnn_max_tensor_bytes(), &count))
		return cnn_error_context("tensor \"%s\"", t->name);
	t->bytes = count * quants[e->quant].bytes;
	if (*offset > INT64_MAX - t->bytes)
		return cnn_error("tensor \"%s\": the tensors take more than 2^63 bytes", t->name);
	t->offset = *offset;
	*offset += t->bytes;
	return CNN_OK;
}

static int parse_group(const struct json *g, int index, struct entry *entry, int *n,
		       struct group *grp, int64_t *offset)
{
	const struct json *weights = member(g, "weights", JSON_ARRAY);

	grp->paths = member(g, "paths", JSON_ARRAY);
	if (!grp->paths || !weights)
		return cnn_error("group %d: not an object with \"paths\" and \"weights\" arrays",
				 index + 1);
	for (int i = 0; i < grp->paths->n; i++)
		if (grp->paths->item[i].type != JSON_STRING || !*grp->paths->item[i].string)
			return cnn_error("group %d: \"paths\" must be file names", index + 1);
	grp->start = *offset;
	grp->first = *n;
	grp->count = weights->n;
	for (int i = 0; i < weights->n; i++) {
		int ret = parse_weight(&weights->item[i], index, i, &entry[*n], offset);
		(*n)++; /* counted whatever happened, so that its name is freed */
		if (ret)
			return CNN_ERR;
	}
	grp->size = *offset - grp->start;
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

/* The first tensor of the group with bytes at or after offset (a shard
 * that starts there is what they come from). */
static const char *tensor_at(const cnn_tfjs *w, const struct group *g, int64_t offset)
{
	for (int i = g->first; i < g->first + g->count; i++) {
		const cnn_tfjs_info *t = &w->entry[i].info;
		if (t->offset + t->bytes > offset || (t->bytes == 0 && t->offset >= offset))
			return t->name;
	}
	return NULL;
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

static int open_shard(struct shards *s, const struct group *g, const char *name, int64_t end)
{
	size_t len = strlen(s->dir) + strlen(name) + 1;
	char *path = malloc(len);
	FILE *f;
	int ret;

	if (!path)
		return cnn_error("out of memory");
	snprintf(path, len, "%s%s", s->dir, name);
	if (!(f = fopen(path, "rb"))) {
		const char *from = tensor_at(s->w, g, s->have);
		if (from)
			ret = cnn_error("shard \"%s\": %s, so tensor \"%s\" and those after it have "
					"no bytes", path, strerror(errno), from);
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
static int check_group(const struct shards *s, const struct group *g, int index)
{
	const cnn_tfjs *w = s->w;
	int64_t end = g->start + g->size;

	if (s->have < end) {
		const cnn_tfjs_info *t = &w->entry[g->first].info;
		for (int i = g->first; i < g->first + g->count; i++)
			if (w->entry[i].info.offset + w->entry[i].info.bytes > s->have) {
				t = &w->entry[i].info;
				break;
			}
		return cnn_error("tensor \"%s\" (%lld bytes at offset %lld) is cut short: the "
				 "shards end at byte %lld, %lld short of the tensors (a short "
				 "shard, or a manifest of other shards)", t->name,
				 (long long)t->bytes, (long long)t->offset, (long long)s->have,
				 (long long)(end - s->have));
	}
	if (s->extra && g->count == 0)
		return cnn_error("%lld bytes in the shards of group %d, which lists no tensors",
				 (long long)s->extra, index + 1);
	if (s->extra)
		return cnn_error("%lld bytes after the last tensor \"%s\" (the shards hold %lld, "
				 "the tensors take %lld: a shard too long, or a manifest of "
				 "other shards)", (long long)s->extra,
				 w->entry[g->first + g->count - 1].info.name,
				 (long long)(g->size + s->extra), (long long)g->size);
	return CNN_OK;
}

static int read_shards(cnn_tfjs *w, const struct group *grp, int ngroups)
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
		const struct group *gr = &grp[g];
		s.extra = 0;
		for (int p = 0; p < gr->paths->n && !ret; p++)
			ret = open_shard(&s, gr, gr->paths->item[p].string, gr->start + gr->size);
		if (!ret)
			ret = check_group(&s, gr, g);
	}
	free(dir);
	return ret;
}

/* ---------------------------------------------------------------- opening */

static int load(cnn_tfjs *w, const struct json *groups)
{
	struct group *grp;
	int64_t offset = 0;
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
	for (int g = 0; g < groups->n && !ret; g++)
		ret = parse_group(&groups->item[g], g, w->entry, &w->n, &grp[g], &offset);
	w->size = offset;
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

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

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
