/*
 * darknet.c - darknet's .weights files, read into and written from a
 * network built from the matching cfg.
 *
 * The layout, as darknet's src/parser.c (load_weights_upto and
 * save_weights_upto) reads and writes it:
 *
 *   int32 major, minor, revision
 *   seen: uint64 if major * 10 + minor >= 2 (and both below 1000), else int32
 *   then each layer in cfg order, float32 values:
 *     [convolutional], [deconvolutional]
 *         biases[n]; with batch_normalize scales[n], rolling_mean[n],
 *         rolling_variance[n]; then the weights
 *     [connected]
 *         biases[out], weights[out * in]; with batch_normalize scales,
 *         rolling_mean, rolling_variance
 *     [batchnorm]
 *         scales[c], rolling_mean[c], rolling_variance[c]
 *     [local]
 *         biases[filters * locations], weights[locations * filters * c * size^2]
 *     every other layer: nothing
 *
 * Weights have our layout: a convolution's are filters x channels/groups x
 * size x size, a transposed convolution's channels x filters x size x size
 * (darknet's deconvolution multiplies by the transpose of that c x n*k*k
 * matrix), a connected layer's outputs x inputs (darknet computes
 * input * weights^T, as we do).  darknet transposes connected weights only
 * for files whose major or minor is above 1000.  Values are little-endian
 * whatever the machine; darknet writes them in its own byte order, which is
 * little-endian on every machine it is used on.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nn/net.h"

#define CHUNK 4096 /* floats converted at a time */

static int big_endian(void)
{
	const uint16_t one = 1;

	return *(const uint8_t *)&one == 0;
}

static void swap4(void *buf, size_t n)
{
	uint8_t *p = buf;

	for (size_t i = 0; i < n; i++, p += 4) {
		uint8_t a = p[0], b = p[1];
		p[0] = p[3];
		p[1] = p[2];
		p[2] = b;
		p[3] = a;
	}
}

/* ------------------------------------------------------------ the layout */

/* One array of a layer's share of the file. */
struct part {
	const char *name;   /* our parameter */
	float *dst;
	long count;
	long rows, cols;    /* connected weights: for a transposed file */
	const cnn_param *param;
};

#define MAX_PARTS 5

static cnn_param *find_param(cnn_layer *l, const char *name)
{
	for (int p = 0; p < l->nparam; p++)
		if (strcmp(l->param[p].name, name) == 0)
			return &l->param[p];
	return NULL;
}

/* "model.cfg:12: [batchnorm] (layer 3): what", as the cfg parser says it. */
static int layer_error(const cnn_net *net, const cnn_layer *l, const char *what)
{
	return cnn_error("%s:%d: [%s] (layer %d): %s", cnn_cfg_path(net->cfg), l->line,
			 l->type->name, l->index, what);
}

/* The arrays of layer l in file order; 0 for a layer without any. */
static int layer_parts(const cnn_net *net, cnn_layer *l, struct part *part, int *n)
{
	const char *type = l->type->name;
	static const char *const conv[] = {"bias", "scale", "mean", "variance", "weight", NULL};
	static const char *const fc[] = {"bias", "weight", "scale", "mean", "variance", NULL};
	static const char *const bn[] = {"scale", "mean", "variance", NULL};
	static const char *const local[] = {"bias", "weight", NULL};
	const char *const *order;

	*n = 0;
	if (!strcmp(type, "convolutional") || !strcmp(type, "deconvolutional"))
		order = conv;
	else if (!strcmp(type, "connected"))
		order = fc;
	else if (!strcmp(type, "batchnorm"))
		order = bn;
	else if (!strcmp(type, "local"))
		order = local;
	else if (l->nparam == 0)
		return CNN_OK;
	else
		return layer_error(net, l, "darknet's .weights has no place for the "
				   "parameters of this layer type");
	for (int i = 0; order[i]; i++) {
		cnn_param *p = find_param(l, order[i]);
		if (!p)
			continue; /* no batch_normalize */
		part[*n] = (struct part){p->name, p->value, p->count, 0, 0, p};
		if (p->ndim == 2) {
			part[*n].rows = p->dim[0];
			part[*n].cols = p->dim[1];
		}
		(*n)++;
	}
	/* A grouped transposed convolution would hold fewer weights than
	 * darknet's, which knows no groups there. */
	if (!strcmp(type, "deconvolutional")) {
		cnn_param *w = find_param(l, "weight"), *b = find_param(l, "bias");
		if (w->count != (long)l->c * b->count * w->dim[2] * w->dim[3])
			return layer_error(net, l, "darknet's [deconvolutional] has no groups");
	}
	return CNN_OK;
}

/* ---------------------------------------------------------------- loading */

struct reader {
	FILE *f;
	const char *path;
};

/* n floats into dst; returns how many arrived. */
static long read_floats(struct reader *rd, float *dst, long n)
{
	long got = 0;

	while (got < n) {
		long want = n - got < CHUNK ? n - got : CHUNK;
		size_t r = fread(dst + got, 4, (size_t)want, rd->f);
		if (big_endian())
			swap4(dst + got, r);
		got += (long)r;
		if ((long)r < want)
			break;
	}
	return got;
}

static int read_error(struct reader *rd)
{
	return cnn_error("%s: %s", rd->path, strerror(errno));
}

static int transpose(float *v, long rows, long cols)
{
	float *t = malloc(sizeof *t * rows * cols);

	if (!t)
		return cnn_error("out of memory");
	for (long r = 0; r < rows; r++)
		for (long c = 0; c < cols; c++)
			t[c * rows + r] = v[r * cols + c];
	memcpy(v, t, sizeof *t * rows * cols);
	free(t);
	return CNN_OK;
}

static int load_layer(struct reader *rd, const cnn_net *net, cnn_layer *l, int transposed)
{
	struct part part[MAX_PARTS];
	int n;

	if (layer_parts(net, l, part, &n))
		return CNN_ERR;
	for (int i = 0; i < n; i++) {
		long got = read_floats(rd, part[i].dst, part[i].count);
		if (got < part[i].count) {
			if (ferror(rd->f))
				return read_error(rd);
			return cnn_error("%s: ends in layer %d [%s] (line %d), after %ld of the "
					 "%ld values of its %s: a .weights for another cfg, or "
					 "truncated", rd->path, l->index, l->type->name, l->line,
					 got, part[i].count, part[i].name);
		}
		/* The file's connected weights are inputs x outputs. */
		if (transposed && part[i].rows &&
		    transpose(part[i].dst, part[i].cols, part[i].rows))
			return CNN_ERR;
	}
	/* darknet's [batchnorm] scales and normalises but keeps no shift. */
	if (!strcmp(l->type->name, "batchnorm")) {
		cnn_param *b = find_param(l, "bias");
		memset(b->value, 0, sizeof(float) * b->count);
	}
	return CNN_OK;
}

/* The header: seen, whether connected weights are stored transposed, and
 * its length (16 or 20 bytes). */
static int read_header(struct reader *rd, uint64_t *seen, int *transposed, int *bytes)
{
	uint8_t h[20];
	int32_t v[3];
	size_t got = fread(h, 1, 12, rd->f);

	if (got < 12)
		return ferror(rd->f) ? read_error(rd)
				     : cnn_error("%s: %zu bytes, too short for a darknet .weights "
						 "header", rd->path, got);
	for (int i = 0; i < 3; i++)
		v[i] = (int32_t)((uint32_t)h[4 * i] | (uint32_t)h[4 * i + 1] << 8 |
				 (uint32_t)h[4 * i + 2] << 16 | (uint32_t)h[4 * i + 3] << 24);
	/* darknet: seen is a size_t from version 0.2 on, an int before. */
	int wide = (int64_t)v[0] * 10 + v[1] >= 2 && v[0] < 1000 && v[1] < 1000;
	size_t len = wide ? 8 : 4;

	*seen = 0;
	got = fread(h, 1, len, rd->f);
	if (got < len)
		return ferror(rd->f) ? read_error(rd)
				     : cnn_error("%s: %zu bytes, too short for a darknet .weights "
						 "header", rd->path, 12 + got);
	for (size_t i = 0; i < len; i++)
		*seen |= (uint64_t)h[i] << (8 * i);
	if (!wide)
		*seen = (uint64_t)(int64_t)(int32_t)*seen;
	*transposed = v[0] > 1000 || v[1] > 1000;
	*bytes = (int)(12 + len);
	return CNN_OK;
}

static int load_header(struct reader *rd, cnn_net *net, int *transposed)
{
	uint64_t seen;
	int bytes;

	if (read_header(rd, &seen, transposed, &bytes))
		return CNN_ERR;
	net->seen = (int64_t)seen < 0 ? 0 : (int64_t)seen;
	net->step = net->hp.batch > 0 ? net->seen / net->hp.batch : 0;
	return CNN_OK;
}

int cnn_darknet_load(cnn_net *net, const char *path)
{
	int to_stdin = strcmp(path, "-") == 0, transposed = 0, last = -1, ret = CNN_ERR;
	struct reader rd = {NULL, to_stdin ? "<stdin>" : path};
	char extra[256];
	int64_t more = 0;
	size_t n;

	net->param_gen++;
	/* Refuse a network darknet could not describe before reading. */
	for (int i = 0; i < net->nlayers; i++) {
		struct part part[MAX_PARTS];
		int nparts;
		if (layer_parts(net, &net->layer[i], part, &nparts))
			return CNN_ERR;
		if (nparts)
			last = i;
	}
	if (!(rd.f = to_stdin ? stdin : fopen(path, "rb")))
		return cnn_error("%s: %s", path, strerror(errno));
	if (load_header(&rd, net, &transposed))
		goto done;
	for (int i = 0; i < net->nlayers; i++)
		if (load_layer(&rd, net, &net->layer[i], transposed))
			goto done;
	while ((n = fread(extra, 1, sizeof extra, rd.f)) > 0)
		more += (int64_t)n;
	if (ferror(rd.f)) {
		read_error(&rd);
		goto done;
	}
	if (more > 0) {
		if (last >= 0)
			cnn_error("%s: %lld bytes left after the last layer with weights, layer "
				  "%d [%s] (line %d): a .weights for another cfg", rd.path,
				  (long long)more, last, net->layer[last].type->name,
				  net->layer[last].line);
		else
			cnn_error("%s: %lld bytes after the header, but the cfg has no layer "
				  "with weights", rd.path, (long long)more);
		goto done;
	}
	ret = CNN_OK;
done:
	if (!to_stdin)
		fclose(rd.f);
	return ret;
}

cnn_net *cnn_darknet_import(const char *cfg_path, const char *weights)
{
	cnn_cfg *cfg = cnn_cfg_load(cfg_path);
	cnn_net *net;

	/* Batch 1: the buffers of one example are all a conversion needs;
	 * the cfg text, with its batch, is saved as it is. */
	if (!cfg || !(net = cnn_net_build(cfg, 1)))
		return NULL;
	if (cnn_darknet_load(net, weights)) {
		cnn_net_free(net);
		return NULL;
	}
	return net;
}

/* --------------------------------------------------------------- listing */

int cnn_darknet_layout(cnn_net *net, const char *path, cnn_darknet_visit visit, void *ctx)
{
	struct reader rd = {fopen(path, "rb"), path};
	int transposed, header, ret;
	uint64_t seen;
	int64_t offset;

	if (!rd.f)
		return cnn_error("%s: %s", path, strerror(errno));
	ret = read_header(&rd, &seen, &transposed, &header);
	fclose(rd.f);
	offset = header;
	for (int i = 0; !ret && i < net->nlayers; i++) {
		struct part part[MAX_PARTS];
		int n;
		if ((ret = layer_parts(net, &net->layer[i], part, &n)))
			break;
		for (int p = 0; p < n && !ret; p++) {
			const cnn_param *par = part[p].param;
			int64_t dim[4];
			char name[80];
			memcpy(dim, par->dim, sizeof dim);
			/* A transposed file holds connected weights inputs x outputs. */
			if (transposed && part[p].rows) {
				dim[0] = part[p].cols;
				dim[1] = part[p].rows;
			}
			snprintf(name, sizeof name, "%d.%s", i, part[p].name);
			ret = visit(ctx, name, par->ndim, dim, offset);
			offset += 4 * (int64_t)part[p].count;
		}
	}
	return ret;
}

/* ---------------------------------------------------------------- saving */

static int write_floats(FILE *f, const float *v, long n)
{
	float buf[CHUNK];

	for (long at = 0; at < n; at += CHUNK) {
		long m = n - at < CHUNK ? n - at : CHUNK;
		memcpy(buf, v + at, sizeof(float) * m);
		if (big_endian())
			swap4(buf, (size_t)m);
		if (fwrite(buf, 4, (size_t)m, f) != (size_t)m)
			return CNN_ERR;
	}
	return CNN_OK;
}

static int check_layer(const cnn_net *net, cnn_layer *l, int flags)
{
	struct part part[MAX_PARTS];
	int n;

	if (layer_parts(net, l, part, &n))
		return CNN_ERR;
	if (!strcmp(l->type->name, "batchnorm") && !(flags & CNN_DARKNET_LOSSY)) {
		cnn_param *b = find_param(l, "bias");
		for (long i = 0; i < b->count; i++)
			if (b->value[i] != 0)
				return layer_error(net, l, "its shift (bias) is not 0, and "
						   "darknet's [batchnorm] has none");
	}
	return CNN_OK;
}

static int write_all(cnn_net *net, FILE *f)
{
	uint8_t h[20] = {0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0}; /* 0.2.0 */
	uint64_t seen = net->seen > 0 ? (uint64_t)net->seen : 0;

	for (int i = 0; i < 8; i++)
		h[12 + i] = (uint8_t)(seen >> (8 * i));
	if (fwrite(h, 1, 20, f) != 20)
		return CNN_ERR;
	for (int i = 0; i < net->nlayers; i++) {
		struct part part[MAX_PARTS];
		int n;
		if (layer_parts(net, &net->layer[i], part, &n))
			return CNN_ERR;
		for (int p = 0; p < n; p++)
			if (write_floats(f, part[p].dst, part[p].count))
				return CNN_ERR;
	}
	return fflush(f) ? CNN_ERR : CNN_OK;
}

int cnn_darknet_save(cnn_net *net, const char *path, int flags)
{
	cnn_outfile *o;

	/* Refuse before creating anything. */
	for (int i = 0; i < net->nlayers; i++)
		if (check_layer(net, &net->layer[i], flags))
			return CNN_ERR;
	if (!(o = cnn_outfile_open(path, 0)))
		return CNN_ERR;
	if (write_all(net, cnn_outfile_stream(o))) {
		cnn_error("%s: write error: %s", strcmp(path, "-") ? path : "<stdout>",
			  strerror(errno));
		cnn_outfile_discard(o);
		return CNN_ERR;
	}
	return cnn_outfile_commit(o);
}
