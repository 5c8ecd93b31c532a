/*
 * batch.c - batches of examples: each an input image and the truth every
 * loss layer of the network reads from its record (cnn_truth_field), fixed
 * fields as count x size floats one example after another, variable ones
 * (boxes) as rows with the offset of each example's first.
 *
 * Every example goes through cnn_example_encode(), whether it is kept for
 * many epochs (dataset.c) or trained on at once (one pass), so that both
 * read a record in exactly one way.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/example.h"

struct field {
	cnn_truth_field spec;
	char name[CNN_MAX_NAME + 1]; /* spec.name's own copy */
	char reader[64];         /* "layer 7 [softmax]", for messages */
	float *values;           /* fixed: room x size; boxes: rows x 6 */
	size_t len, cap;         /* boxes: floats used and allocated */
	int64_t *start;          /* boxes: room + 1 offsets, in rows */
};

struct cnn_batch {
	char input[CNN_MAX_NAME + 1];
	long inputs;
	int n, room;
	float *x;                /* room x inputs */
	int nfields;
	struct field field[CNN_MAX_TRUTH];
	unsigned char *scratch;  /* one encoded example */
	size_t scratch_cap;
};

static int reserve(void **buf, size_t *cap, size_t need, size_t unit)
{
	size_t n = *cap ? *cap : 64;
	void *p;

	if (need <= *cap)
		return CNN_OK;
	while (n < need)
		n *= 2;
	if (!(p = realloc(*buf, n * unit)))
		return cnn_error("out of memory for a batch");
	*buf = p;
	*cap = n;
	return CNN_OK;
}

cnn_batch *cnn_batch_new(const cnn_net *net, const char *input)
{
	cnn_batch *b = calloc(1, sizeof *b);
	const cnn_truth_field *fields;
	int c, h, w;

	if (!b) {
		cnn_error("out of memory");
		return NULL;
	}
	snprintf(b->input, sizeof b->input, "%s", input ? input : "image");
	cnn_net_input_shape(net, &c, &h, &w);
	b->inputs = (long)c * h * w;
	b->room = cnn_net_batch(net);
	b->nfields = cnn_net_truth(net, &fields);
	for (int f = 0; f < b->nfields; f++) {
		struct field *fd = &b->field[f];
		fd->spec = fields[f];
		snprintf(fd->name, sizeof fd->name, "%s", fields[f].name);
		fd->spec.name = fd->name;
		cnn_net_truth_reader(net, f, fd->reader, sizeof fd->reader);
	}
	return b;
}

/* The room for the examples' values, on the first example decoded: a
 * dataset's batch only ever encodes and needs none. */
static int make_room(cnn_batch *b)
{
	if (b->x)
		return CNN_OK;
	for (int f = 0; f < b->nfields; f++) {
		struct field *fd = &b->field[f];
		if (fd->spec.form == CNN_TRUTH_BOXES && !fd->start)
			fd->start = calloc(b->room + 1, sizeof *fd->start);
		else if (fd->spec.form != CNN_TRUTH_BOXES && !fd->values)
			fd->values = malloc(sizeof(float) * b->room * fd->spec.size);
		if (!fd->start && !fd->values)
			return cnn_error("out of memory for a batch");
	}
	if (!(b->x = malloc(sizeof *b->x * b->room * b->inputs)))
		return cnn_error("out of memory for a batch");
	return CNN_OK;
}

void cnn_batch_free(cnn_batch *b)
{
	if (!b)
		return;
	for (int f = 0; f < b->nfields; f++) {
		free(b->field[f].values);
		free(b->field[f].start);
	}
	free(b->x);
	free(b->scratch);
	free(b);
}

void cnn_batch_clear(cnn_batch *b)
{
	b->n = 0;
	for (int f = 0; f < b->nfields; f++)
		b->field[f].len = 0;
}

int cnn_batch_count(const cnn_batch *b)
{
	return b->n;
}

int cnn_batch_room(const cnn_batch *b)
{
	return b->room;
}

int cnn_batch_fits(const cnn_batch *b, const cnn_net *net)
{
	const cnn_truth_field *fields;
	int c, h, w, n = cnn_net_truth(net, &fields);

	cnn_net_input_shape(net, &c, &h, &w);
	if (b->inputs != (long)c * h * w || b->room > cnn_net_batch(net) || b->nfields != n)
		return 0;
	for (int f = 0; f < n; f++)
		if (strcmp(b->field[f].spec.name, fields[f].name) ||
		    b->field[f].spec.form != fields[f].form || b->field[f].spec.size != fields[f].size)
			return 0;
	return 1;
}

const float *cnn_batch_input(const cnn_batch *b)
{
	return b->x;
}

const float *cnn_batch_truth(const cnn_batch *b, int f, int i, int64_t *rows)
{
	const struct field *fd = &b->field[f];

	if (fd->spec.form != CNN_TRUTH_BOXES) {
		if (rows)
			*rows = 1;
		return fd->values + (size_t)i * fd->spec.size;
	}
	if (rows)
		*rows = fd->start[i + 1] - fd->start[i];
	/* No boxes in the whole batch: nothing allocated, nothing to point at. */
	return fd->values ? fd->values + fd->start[i] * CNN_BOX_FIELDS : NULL;
}

float *cnn_batch_fixed(cnn_batch *b, int f)
{
	return b->field[f].values;
}

float cnn_input_value(const cnn_tensor *image, int64_t i)
{
	switch (image->dtype) {
	case CNN_U8: return ((const uint8_t *)image->data)[i] / 255.0f;
	case CNN_U16: return ((const uint16_t *)image->data)[i] / 65535.0f;
	default: return (float)cnn_tensor_get(image, i);
	}
}

/* ------------------------------------------------------------- encoding */

struct writer {
	cnn_batch *b;
	size_t len;
};

static void *put(struct writer *wr, size_t bytes)
{
	size_t at = wr->len;

	size_t padded = (bytes + 3) & ~(size_t)3;

	if (reserve((void **)&wr->b->scratch, &wr->b->scratch_cap, at + padded, 1))
		return NULL;
	/* The padding is written too: the bytes may go to a file. */
	memset(wr->b->scratch + at + bytes, 0, padded - bytes);
	wr->len += padded;
	return wr->b->scratch + at;
}

static int put_u32(struct writer *wr, uint32_t v)
{
	void *p = put(wr, sizeof v);

	if (p)
		memcpy(p, &v, sizeof v);
	return p ? CNN_OK : CNN_ERR;
}

static int encode_input(struct writer *wr, const cnn_tensor *image, long inputs)
{
	char desc[128];
	int64_t bad;
	int u8 = image->dtype == CNN_U8;
	void *p;

	if (cnn_tensor_count(image) != inputs)
		return cnn_error("tensor \"%s\" is %s: %ld values, the model takes %ld",
				 image->name, cnn_tensor_describe(image, desc, sizeof desc),
				 (long)cnn_tensor_count(image), inputs);
	if (image->dtype == CNN_TEXT)
		return cnn_error("tensor \"%s\" is text", image->name);
	/* One NaN pixel turns every weight into NaN within a step or two. */
	if ((bad = cnn_tensor_nonfinite(image)) >= 0)
		return cnn_error("%s", cnn_nonfinite_describe(image, bad, desc, sizeof desc));
	if (put_u32(wr, u8) || !(p = put(wr, inputs * (u8 ? 1 : sizeof(float)))))
		return CNN_ERR;
	if (u8) {
		memcpy(p, image->data, inputs);
		return CNN_OK;
	}
	for (long i = 0; i < inputs; i++) {
		float v = cnn_input_value(image, i);
		memcpy((float *)p + i, &v, sizeof v);
	}
	return CNN_OK;
}

static int whole(double v)
{
	return v == floor(v);
}

/* A class: an integer scalar is a class index, made one-hot; a vector of
 * size values is taken as it is (soft labels, regression targets). */
static int encode_class(float *t, const cnn_tensor *label, long size)
{
	char desc[128];
	int64_t bad;

	if (cnn_tensor_count(label) == 1 && label->dtype != CNN_F32 && label->dtype != CNN_F64) {
		double k = cnn_tensor_get(label, 0);
		if (k < 0 || k >= size)
			return cnn_error("label %g is not a class of this model (0 to %ld)", k,
					 size - 1);
		memset(t, 0, sizeof *t * size);
		t[(long)k] = 1;
		return CNN_OK;
	}
	if (cnn_tensor_count(label) != size)
		return cnn_error("tensor \"%s\" is %s but the model has %ld outputs", label->name,
				 cnn_tensor_describe(label, desc, sizeof desc), size);
	if ((bad = cnn_tensor_nonfinite(label)) >= 0)
		return cnn_error("%s", cnn_nonfinite_describe(label, bad, desc, sizeof desc));
	for (long i = 0; i < size; i++)
		t[i] = (float)cnn_tensor_get(label, i);
	return CNN_OK;
}

/* Whole numbers: mask classes and identities, exact in a float. */
static int encode_whole(float *t, const cnn_tensor *v, long size, const char *what)
{
	char desc[128];

	if (cnn_tensor_count(v) != size)
		return cnn_error("tensor \"%s\" is %s; the model wants %s of %ld values", v->name,
				 cnn_tensor_describe(v, desc, sizeof desc), what, size);
	for (long i = 0; i < size; i++) {
		double k = cnn_tensor_get(v, i);
		if (!whole(k) || fabs(k) > CNN_BOX_MAX_CLASS)
			return cnn_error("tensor \"%s\" value %ld is %g; %s wants whole numbers "
					 "up to %d", v->name, i, k, what, CNN_BOX_MAX_CLASS);
		t[i] = (float)k;
	}
	return CNN_OK;
}

static int encode_field(struct writer *wr, const struct field *fd, const cnn_tensor *t)
{
	long size = fd->spec.size;
	float *p;

	if (fd->spec.form == CNN_TRUTH_BOXES) {
		if (cnn_boxes_check(t, 1) || put_u32(wr, (uint32_t)t->dim[0]))
			return CNN_ERR;
		if (t->dim[0] == 0)
			return CNN_OK;
		if (!(p = put(wr, sizeof(float) * t->dim[0] * CNN_BOX_FIELDS)))
			return CNN_ERR;
		memcpy(p, t->data, sizeof(float) * t->dim[0] * CNN_BOX_FIELDS);
		return CNN_OK;
	}
	if (!(p = put(wr, sizeof(float) * size)))
		return CNN_ERR;
	switch (fd->spec.form) {
	case CNN_TRUTH_CLASS: return encode_class(p, t, size);
	case CNN_TRUTH_MASK: return encode_whole(p, t, size, "a mask");
	default: return encode_whole(p, t, size, "an identity");
	}
}

int cnn_example_encode(cnn_batch *b, const cnn_record *r, const unsigned char **bytes,
		       size_t *len)
{
	struct writer wr = {b, 0};
	const cnn_tensor *image = cnn_record_get(r, b->input);

	if (!image)
		return cnn_error("no tensor \"%s\"", b->input);
	if (encode_input(&wr, image, b->inputs))
		return CNN_ERR;
	for (int f = 0; f < b->nfields; f++) {
		const struct field *fd = &b->field[f];
		const cnn_tensor *t = cnn_record_get(r, fd->spec.name);
		if (!t)
			return cnn_error("no tensor \"%s\" (the loss of %s reads it)", fd->spec.name,
					 fd->reader);
		if (encode_field(&wr, fd, t))
			return CNN_ERR;
	}
	*bytes = b->scratch;
	*len = wr.len;
	return CNN_OK;
}

/* ------------------------------------------------------------- decoding */

/* b / 255.0f for every byte: a table lookup instead of a division. */
static float byte_value[256];
static pthread_once_t byte_once = PTHREAD_ONCE_INIT;

static void byte_init(void)
{
	for (int b = 0; b < 256; b++)
		byte_value[b] = b / 255.0f;
}

static const unsigned char *decode_input(cnn_batch *b, const unsigned char *p)
{
	uint32_t u8;
	float *x = b->x + (size_t)b->n * b->inputs;

	memcpy(&u8, p, sizeof u8);
	p += sizeof u8;
	if (!u8) {
		memcpy(x, p, sizeof *x * b->inputs);
		return p + sizeof *x * b->inputs;
	}
	pthread_once(&byte_once, byte_init);
	for (long j = 0; j < b->inputs; j++)
		x[j] = byte_value[p[j]];
	return p + ((b->inputs + 3) & ~3L);
}

int cnn_example_decode(cnn_batch *b, const unsigned char *bytes, size_t len)
{
	const unsigned char *p;

	if (make_room(b))
		return CNN_ERR;
	p = decode_input(b, bytes);
	for (int f = 0; f < b->nfields; f++) {
		struct field *fd = &b->field[f];
		if (fd->spec.form != CNN_TRUTH_BOXES) {
			memcpy(fd->values + (size_t)b->n * fd->spec.size, p,
			       sizeof(float) * fd->spec.size);
			p += sizeof(float) * fd->spec.size;
			continue;
		}
		uint32_t rows;
		memcpy(&rows, p, sizeof rows);
		p += sizeof rows;
		fd->start[b->n + 1] = fd->start[b->n] + rows;
		if (rows == 0)
			continue;
		if (reserve((void **)&fd->values, &fd->cap, fd->len + (size_t)rows * CNN_BOX_FIELDS,
			    sizeof(float)))
			return CNN_ERR;
		memcpy(fd->values + fd->len, p, sizeof(float) * rows * CNN_BOX_FIELDS);
		p += sizeof(float) * rows * CNN_BOX_FIELDS;
		fd->len += (size_t)rows * CNN_BOX_FIELDS;
	}
	/* Encoding and decoding must agree on the layout to the byte. */
	if (p != bytes + len)
		return cnn_error("an example of %zu bytes decoded as %zu", len,
				 (size_t)(p - bytes));
	b->n++;
	return CNN_OK;
}

/* Where field f of an encoded example starts. */
static const unsigned char *field_at(const cnn_batch *b, const unsigned char *bytes, int f)
{
	uint32_t u8, rows;
	const unsigned char *p = bytes;

	memcpy(&u8, p, sizeof u8);
	p += sizeof u8 + (u8 ? (size_t)((b->inputs + 3) & ~3L) : sizeof(float) * b->inputs);
	for (int i = 0; i < f; i++) {
		if (b->field[i].spec.form != CNN_TRUTH_BOXES) {
			p += sizeof(float) * b->field[i].spec.size;
			continue;
		}
		memcpy(&rows, p, sizeof rows);
		p += sizeof rows + sizeof(float) * rows * CNN_BOX_FIELDS;
	}
	return p;
}

/* The identity field if there is one, else the class of a class field. */
int cnn_example_identity(const cnn_batch *b, const unsigned char *bytes, int64_t *id)
{
	for (int pass = 0; pass < 2; pass++)
		for (int f = 0; f < b->nfields; f++) {
			const struct field *fd = &b->field[f];
			const unsigned char *p = field_at(b, bytes, f);
			float v, best;
			long k = 0;
			if (fd->spec.form != (pass ? CNN_TRUTH_CLASS : CNN_TRUTH_IDENTITY))
				continue;
			memcpy(&best, p, sizeof best);
			for (long i = 1; i < fd->spec.size; i++) {
				memcpy(&v, p + i * sizeof v, sizeof v);
				if (v > best) {
					best = v;
					k = i;
				}
			}
			*id = pass ? k : (int64_t)best;
			return CNN_OK;
		}
	return cnn_error("the examples have no identity or class label to sample by");
}

/* ------------------------------------------------------------ rescaling */

int cnn_batch_rescale(cnn_batch *dst, const cnn_batch *src, const cnn_net *net, int c,
		      int src_h, int src_w)
{
	cnn_input_rule rule;
	int h, w, n = src->n;
	int64_t dim[3] = {c, src_h, src_w};
	cnn_tensor *image = cnn_tensor_new("image", CNN_F32, 3, dim);

	if (!image || make_room(dst)) {
		cnn_tensor_free(image);
		return CNN_ERR;
	}
	cnn_net_input_shape(net, &c, &h, &w);
	/* The examples are at the network's size already: a stretch, by the
	 * network's resize. */
	cnn_net_input_rule(net, &rule);
	rule.pad_square = CNN_PAD_NONE;
	cnn_batch_clear(dst);
	for (int i = 0; i < n; i++) {
		cnn_tensor *fit;
		memcpy(image->data, src->x + (size_t)i * src->inputs, sizeof(float) * src->inputs);
		if (!(fit = cnn_image_fit(image, h, w, &rule))) {
			cnn_tensor_free(image);
			return CNN_ERR;
		}
		memcpy(dst->x + (size_t)i * dst->inputs, fit->data, sizeof(float) * dst->inputs);
		cnn_tensor_free(fit);
	}
	cnn_tensor_free(image);
	for (int f = 0; f < src->nfields; f++) {
		const struct field *from = &src->field[f];
		struct field *to = &dst->field[f];
		if (from->spec.form != CNN_TRUTH_BOXES) {
			memcpy(to->values, from->values, sizeof(float) * n * from->spec.size);
			continue;
		}
		memcpy(to->start, from->start, sizeof *to->start * (n + 1));
		to->len = from->len;
		if (from->len == 0)
			continue;
		if (reserve((void **)&to->values, &to->cap, from->len, sizeof(float)))
			return CNN_ERR;
		memcpy(to->values, from->values, sizeof(float) * from->len);
		cnn_image_fit_boxes_in(&rule, src_h, src_w, h, w, to->values,
				       (int64_t)(from->len / CNN_BOX_FIELDS));
	}
	dst->n = n;
	return CNN_OK;
}

int cnn_batch_add(cnn_batch *b, const cnn_record *r)
{
	const unsigned char *bytes;
	size_t len;

	if (b->n == b->room)
		return cnn_error("the batch is full (%d examples)", b->room);
	if (cnn_example_encode(b, r, &bytes, &len) || cnn_example_decode(b, bytes, len))
		return CNN_ERR;
	return CNN_OK;
}
