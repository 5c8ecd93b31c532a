/*
 * tfjs_load.c - TF.js weights (io/tfjs.c) into a network built from one of
 * our cfgs, through a name map.  A weights manifest has names and shapes
 * but no topology, so a small text file says which manifest tensor fills
 * which parameter; the layout conversion then follows from the layer and
 * the shapes.
 *
 * The map, a line each (blank lines and lines starting with # aside):
 *   TENSOR LAYER.PARAM    the manifest's TENSOR fills the parameter
 *   - TENSOR              TENSOR is not used (a graph constant, say)
 *   = VALUE LAYER.PARAM   the parameter is VALUE throughout: a depthwise
 *                         convolution's bias where TF has none is "= 0"
 *   + TENSOR NAME         TENSOR is kept as it is, the net's constant NAME
 *                         (SSD's anchors), saved with the model
 * LAYER is a layer's name= or its index (cnn_net_layer_find), PARAM one of
 * its parameters (weight, bias, scale, mean, variance).  Every parameter of
 * the network must be filled or declared, and every tensor of the manifest
 * used or ignored, so that nothing is left at zero, or left out, unseen.
 *
 * TF's layouts (row-major over the manifest's shape) become ours:
 *   [convolutional] weight  [kh, kw, cin/groups, cout] (HWIO) as
 *                           [cout, cin/groups, kh, kw]; a depthwise filter
 *                           [kh, kw, c, m] (groups = c) as [c*m, 1, kh, kw],
 *                           TF's output channel c*m + m being ours
 *   [deconvolutional]       TF's conv2dTranspose [kh, kw, out, in] as our
 *                           [in, out, kh, kw]: the same formula as HWIO
 *   [connected] weight      [in, out] as [out, in]; TF flattens an NHWC
 *                           activation, H x W x C, where we flatten C x H x W,
 *                           so the inputs are reordered when H x W > 1
 *   1-D parameters          as they are (a scalar fills a parameter of one)
 *
 * A map is text: cnn_tfjs_import() reads it from its file, keras.c makes
 * it from a Keras topology; both place the weights through
 * cnn_tfjs_place().
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/grow.h"
#include "nn/net.h"
#include "nn/tfjs_map.h"

enum kind { FILL, IGNORE, CONSTANT, KEEP };

struct line {
	int at;               /* its number in the map */
	enum kind kind;
	int tensor;           /* FILL, IGNORE, KEEP: the manifest's index */
	char keep[CNN_MAX_NAME + 1]; /* KEEP: the name of the net's constant */
	cnn_layer *layer;     /* FILL, CONSTANT */
	cnn_param *param;
	float value;          /* CONSTANT */
};

struct map {
	const char *path;
	cnn_net *net;
	const cnn_tfjs *w;
	int n, cap;
	struct line *line;
	int *tensor_line;     /* per manifest tensor: the map line naming it, 0 none */
	int *param_line;      /* per parameter of the net, in layer order: the same */
	int *param_base;      /* per layer: its first parameter's place in param_line */
};

static int line_error(const struct map *m, int at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int line_error(const struct map *m, int at, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return cnn_error("%s:%d: %s", m->path, at, msg);
}

/* "layer 2 [convolutional] conv1_dw (cfg line 14)" */
static char *describe_layer(const cnn_layer *l, char *buf, size_t size)
{
	snprintf(buf, size, "layer %d [%s]%s%s (cfg line %d)", l->index, l->type->name,
		 l->name ? " " : "", l->name ? l->name : "", l->line);
	return buf;
}

/* How a map line names a parameter: "conv1_dw.bias", or "2.bias". */
static char *param_ref(const cnn_layer *l, const cnn_param *p, char *buf, size_t size)
{
	if (l->name)
		snprintf(buf, size, "%s.%s", l->name, p->name);
	else
		snprintf(buf, size, "%d.%s", l->index, p->name);
	return buf;
}

static char *describe_shape(int ndim, const int64_t *dim, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = 0;
	if (ndim == 0)
		snprintf(buf, size, "scalar");
	for (int d = 0; d < ndim && len < size; d++)
		len += (size_t)snprintf(buf + len, size - len, "%s%lld", d ? "x" : "",
					(long long)dim[d]);
	return buf;
}

/* ------------------------------------------------------------ the lines */

static int *param_slot(const struct map *m, const cnn_layer *l, const cnn_param *p)
{
	return &m->param_line[m->param_base[l->index] + (int)(p - l->param)];
}

/* LAYER.PARAM: the layer's name or number, then the parameter's name
 * (split at the last '.', as a layer's name may hold dots). */
static int find_param(struct map *m, int at, const char *ref, struct line *ln)
{
	const char *dot = strrchr(ref, '.');
	char layer[CNN_MAX_NAME + 1], names[128] = "";
	cnn_layer *l;
	int i;

	if (!dot || dot == ref || !dot[1] || dot - ref > CNN_MAX_NAME)
		return line_error(m, at, "'%s': want LAYER.PARAM, a layer's name or number and "
				  "a parameter (weight, bias, scale, mean, variance)", ref);
	memcpy(layer, ref, (size_t)(dot - ref));
	layer[dot - ref] = 0;
	if ((i = cnn_net_layer_find(m->net, layer)) < 0)
		return line_error(m, at, "%s", cnn_errmsg());
	l = &m->net->layer[i];
	for (int p = 0; p < l->nparam; p++) {
		if (!strcmp(l->param[p].name, dot + 1)) {
			ln->layer = l;
			ln->param = &l->param[p];
			return CNN_OK;
		}
		snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s",
			 p ? ", " : "", l->param[p].name);
	}
	{
		char what[CNN_MAX_NAME + 64];
		return line_error(m, at, "%s has no parameter \"%s\" (%s%s)",
				  describe_layer(l, what, sizeof what), dot + 1,
				  l->nparam ? "it has " : "it has none", names);
	}
}

static int find_tensor(struct map *m, int at, const char *name, struct line *ln)
{
	if ((ln->tensor = cnn_tfjs_find(m->w, name)) < 0)
		return line_error(m, at, "%s", cnn_errmsg());
	if (m->tensor_line[ln->tensor])
		return line_error(m, at, "tensor \"%s\" is already on line %d", name,
				  m->tensor_line[ln->tensor]);
	m->tensor_line[ln->tensor] = at;
	return CNN_OK;
}

static int claim_param(struct map *m, int at, const struct line *ln)
{
	int *slot = param_slot(m, ln->layer, ln->param);
	char ref[CNN_MAX_NAME + 32];

	if (*slot)
		return line_error(m, at, "%s is already filled on line %d",
				  param_ref(ln->layer, ln->param, ref, sizeof ref), *slot);
	*slot = at;
	return CNN_OK;
}

static int parse_value(struct map *m, int at, const char *text, float *value)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(text, &end);
	if (end == text || *end || errno || !(fabs(v) <= FLT_MAX))
		return line_error(m, at, "'= %s': want a finite number", text);
	*value = (float)v;
	return CNN_OK;
}

/* Up to max blank-separated words of text (split in place); returns how
 * many there are, max + 1 when there are more. */
static int split(char *text, char **word, int max)
{
	char *rest = NULL;
	int n = 0;

	for (char *p = strtok_r(text, " \t\r\n", &rest); p; p = strtok_r(NULL, " \t\r\n", &rest)) {
		if (n == max)
			return max + 1;
		word[n++] = p;
	}
	return n;
}

static int add_line(struct map *m, const struct line *ln)
{
	if (m->n == m->cap) {
		int cap = 2 * m->cap + 16;
		struct line *grown = realloc(m->line, sizeof *grown * cap);
		if (!grown)
			return cnn_error("out of memory");
		m->line = grown;
		m->cap = cap;
	}
	m->line[m->n++] = *ln;
	return CNN_OK;
}

static int parse_line(struct map *m, int at, char *text)
{
	struct line ln = {.at = at};
	char *word[3];
	int n = split(text, word, 3);

	if (n == 0 || word[0][0] == '#')
		return CNN_OK;
	if (n == 2 && !strcmp(word[0], "-")) {
		ln.kind = IGNORE;
		if (find_tensor(m, at, word[1], &ln))
			return CNN_ERR;
	} else if (n == 3 && !strcmp(word[0], "+")) {
		ln.kind = KEEP;
		if (find_tensor(m, at, word[1], &ln))
			return CNN_ERR;
		if (strchr("0123456789", word[2][0]) || strlen(word[2]) > CNN_MAX_NAME)
			return line_error(m, at, "a constant's name (\"%s\") must not start with a "
					  "digit, which names parameters", word[2]);
		snprintf(ln.keep, sizeof ln.keep, "%s", word[2]);
		for (int i = 0; i < m->n; i++)
			if (m->line[i].kind == KEEP && !strcmp(m->line[i].keep, ln.keep))
				return line_error(m, at, "constant \"%s\" is kept by line %d too",
						  ln.keep, m->line[i].at);
	} else if (n == 3 && !strcmp(word[0], "=")) {
		ln.kind = CONSTANT;
		if (parse_value(m, at, word[1], &ln.value) || find_param(m, at, word[2], &ln) ||
		    claim_param(m, at, &ln))
			return CNN_ERR;
	} else if (n == 2 && strcmp(word[0], "=")) {
		ln.kind = FILL;
		if (find_tensor(m, at, word[0], &ln) || find_param(m, at, word[1], &ln) ||
		    claim_param(m, at, &ln))
			return CNN_ERR;
	} else {
		return line_error(m, at, "want \"TENSOR LAYER.PARAM\", \"- TENSOR\", \"+ TENSOR "
				  "NAME\" or \"= VALUE LAYER.PARAM\"");
	}
	return add_line(m, &ln);
}

/* The map's lines, each parsed in place in a copy of text. */
static int parse_map(struct map *m, const char *text)
{
	char *copy = strdup(text), *line, *next;
	int at = 0, ret = CNN_OK;

	if (!copy)
		return cnn_error("out of memory");
	for (line = copy; !ret && line && *line; line = next) {
		if ((next = strchr(line, '\n')))
			*next++ = 0;
		ret = parse_line(m, ++at, line);
	}
	free(copy);
	return ret;
}

/* ------------------------------------------------------------- coverage */

static int check_params(const struct map *m)
{
	const cnn_layer *first = NULL;
	const cnn_param *param = NULL;
	int missing = 0;

	for (int i = 0; i < m->net->nlayers; i++) {
		const cnn_layer *l = &m->net->layer[i];
		for (int p = 0; p < l->nparam; p++)
			if (!*param_slot(m, l, &l->param[p]) && !missing++) {
				first = l;
				param = &l->param[p];
			}
	}
	if (missing) {
		char what[CNN_MAX_NAME + 64], ref[CNN_MAX_NAME + 32], more[64] = "";
		if (missing > 1)
			snprintf(more, sizeof more, "; and %d more parameters", missing - 1);
		param_ref(first, param, ref, sizeof ref);
		return cnn_error("%s: %s: its %s is neither filled nor declared (a line \"TENSOR "
				 "%s\" or \"= 0 %s\")%s", m->path,
				 describe_layer(first, what, sizeof what), param->name, ref, ref,
				 more);
	}
	return CNN_OK;
}

static int check_tensors(const struct map *m)
{
	int missing = 0, first = -1;

	for (int i = 0; i < cnn_tfjs_count(m->w); i++)
		if (!m->tensor_line[i] && !missing++)
			first = i;
	if (missing) {
		const char *name = cnn_tfjs_info_at(m->w, first)->name;
		char more[64] = "";
		if (missing > 1)
			snprintf(more, sizeof more, "; and %d more tensors", missing - 1);
		return cnn_error("%s: tensor \"%s\" of the manifest is neither used nor ignored (a "
				 "line \"%s LAYER.PARAM\" or \"- %s\")%s", m->path, name, name, name,
				 more);
	}
	return CNN_OK;
}

/* ------------------------------------------------------------- layouts */

static int fits_vector(const cnn_param *p, const cnn_tensor *t)
{
	return (t->ndim == 1 && t->dim[0] == p->count) || (t->ndim == 0 && p->count == 1);
}

/* HWIO [kh, kw, I, O], or depthwise [kh, kw, c, m] when I is 1: our
 * [O, I, kh, kw].  0 when the shapes fit, -1 when not. */
static int conv_weight(const cnn_layer *l, cnn_param *p, const cnn_tensor *t)
{
	int64_t o = p->dim[0], in = p->dim[1], kh = p->dim[2], kw = p->dim[3], a, b;
	const float *src = t->data;
	float *dst = p->value;

	if (t->ndim != 4 || t->dim[0] != kh || t->dim[1] != kw)
		return -1;
	a = t->dim[2];
	b = t->dim[3];
	if (a == in && b == o) {
		for (int64_t y = 0; y < kh; y++)
			for (int64_t x = 0; x < kw; x++)
				for (int64_t i = 0; i < in; i++)
					for (int64_t k = 0; k < o; k++)
						dst[((k * in + i) * kh + y) * kw + x] =
							src[((y * kw + x) * in + i) * o + k];
		return 0;
	}
	if (strcmp(l->type->name, "convolutional") || in != 1 || a != l->c || a * b != o)
		return -1;
	for (int64_t y = 0; y < kh; y++)
		for (int64_t x = 0; x < kw; x++)
			for (int64_t c = 0; c < a; c++)
				for (int64_t m = 0; m < b; m++)
					dst[((c * b + m) * kh + y) * kw + x] =
						src[((y * kw + x) * a + c) * b + m];
	return 0;
}

/* TF's [in, out], in ordered H x W x C: our [out, in], in ordered C x H x W. */
static int connected_weight(const cnn_layer *l, cnn_param *p, const cnn_tensor *t)
{
	int64_t out = p->dim[0], in = p->dim[1], c = l->c, hw = (int64_t)l->h * l->w;
	const float *src = t->data;
	float *dst = p->value;

	if (t->ndim != 2 || t->dim[0] != in || t->dim[1] != out || c * hw != in)
		return -1;
	for (int64_t s = 0; s < hw; s++)
		for (int64_t ch = 0; ch < c; ch++)
			for (int64_t k = 0; k < out; k++)
				dst[k * in + ch * hw + s] = src[(s * c + ch) * out + k];
	return 0;
}

static int convert(const cnn_layer *l, cnn_param *p, const cnn_tensor *t)
{
	const char *type = l->type->name;

	if (p->ndim == 1) {
		if (!fits_vector(p, t))
			return -1;
		memcpy(p->value, t->data, sizeof(float) * p->count);
		return 0;
	}
	if (p->ndim == 4 && (!strcmp(type, "convolutional") || !strcmp(type, "deconvolutional")))
		return conv_weight(l, p, t);
	if (p->ndim == 2 && !strcmp(type, "connected"))
		return connected_weight(l, p, t);
	return -1;
}

/* The TF.js shapes that fill p, for a message: "3x3x1x32 or 3x3x32x1". */
static char *tf_shapes(const cnn_layer *l, const cnn_param *p, char *buf, size_t size)
{
	const int64_t *d = p->dim;

	if (p->ndim == 4) {
		int depthwise = !strcmp(l->type->name, "convolutional") && d[1] == 1 &&
				l->c > 1 && d[0] % l->c == 0;
		int n = snprintf(buf, size, "%lldx%lldx%lldx%lld", (long long)d[2],
				 (long long)d[3], (long long)d[1], (long long)d[0]);
		if (depthwise && n > 0 && (size_t)n < size)
			snprintf(buf + n, size - n, " or %lldx%lldx%dx%lld", (long long)d[2],
				 (long long)d[3], l->c, (long long)(d[0] / l->c));
	} else if (p->ndim == 2) {
		snprintf(buf, size, "%lldx%lld", (long long)d[1], (long long)d[0]);
	} else {
		describe_shape(p->ndim, p->dim, buf, size);
	}
	return buf;
}

static int fill(struct map *m, const struct line *ln)
{
	cnn_tensor *t = cnn_tfjs_tensor(m->w, ln->tensor);
	char what[CNN_MAX_NAME + 64], have[64], ours[64], tf[96];
	int ret = CNN_OK;

	if (!t)
		return CNN_ERR;
	if (t->dtype != CNN_F32)
		ret = line_error(m, ln->at, "tensor \"%s\" is %s, and parameters are float32",
				 t->name, cnn_tfjs_info_at(m->w, ln->tensor)->type);
	else if (convert(ln->layer, ln->param, t))
		ret = line_error(m, ln->at, "tensor \"%s\" is %s, but %s has %s %s, which takes a "
				 "TF.js %s", t->name, describe_shape(t->ndim, t->dim, have, sizeof have),
				 describe_layer(ln->layer, what, sizeof what), ln->param->name,
				 describe_shape(ln->param->ndim, ln->param->dim, ours, sizeof ours),
				 tf_shapes(ln->layer, ln->param, tf, sizeof tf));
	cnn_tensor_free(t);
	return ret;
}

/* A tensor the net keeps as it is, beside its weights (SSD's anchors). */
static int keep(struct map *m, const struct line *ln)
{
	cnn_tensor *t = cnn_tfjs_tensor(m->w, ln->tensor);

	if (!t || cnn_tensor_rename(t, ln->keep)) {
		cnn_tensor_free(t);
		return CNN_ERR;
	}
	return cnn_net_set_constant(m->net, t);
}

static int apply(struct map *m)
{
	for (int i = 0; i < m->n; i++) {
		const struct line *ln = &m->line[i];
		if ((ln->kind == FILL && fill(m, ln)) || (ln->kind == KEEP && keep(m, ln)))
			return CNN_ERR;
		for (long k = 0; ln->kind == CONSTANT && k < ln->param->count; k++)
			ln->param->value[k] = ln->value;
	}
	return CNN_OK;
}

/* ------------------------------------------------------------ the whole */

int cnn_tfjs_place(cnn_net *net, const cnn_tfjs *w, const char *name, const char *text)
{
	struct map m = {.path = name, .net = net, .w = w};
	int nparams = 0, ret;

	net->param_gen++;
	m.param_base = malloc(sizeof *m.param_base * (net->nlayers > 0 ? net->nlayers : 1));
	for (int i = 0; m.param_base && i < net->nlayers; i++) {
		m.param_base[i] = nparams;
		nparams += net->layer[i].nparam;
	}
	m.param_line = calloc(nparams ? nparams : 1, sizeof *m.param_line);
	m.tensor_line = calloc(cnn_tfjs_count(w) ? cnn_tfjs_count(w) : 1, sizeof *m.tensor_line);
	if (!m.param_base || !m.param_line || !m.tensor_line)
		ret = cnn_error("out of memory");
	else
		ret = parse_map(&m, text) || check_params(&m) || check_tensors(&m) || apply(&m)
			      ? CNN_ERR
			      : CNN_OK;
	free(m.line);
	free(m.tensor_line);
	free(m.param_line);
	free(m.param_base);
	return ret;
}

cnn_net *cnn_tfjs_import(const char *cfg_path, const char *manifest, const char *map)
{
	cnn_tfjs *w = cnn_tfjs_open(manifest);
	cnn_net *net = NULL;
	char *text = NULL;
	size_t len;
	cnn_cfg *cfg;

	if (!w)
		return NULL;
	if (!(text = cnn_read_text(map, &len)))
		cnn_error_context("%s", map);
	/* Batch 1: the buffers of one example are all a conversion needs. */
	else if ((cfg = cnn_cfg_load(cfg_path)) &&
	    (net = cnn_net_build(cfg, 1)) && cnn_tfjs_place(net, w, map, text)) {
		cnn_net_free(net);
		net = NULL;
	}
	free(text);
	cnn_tfjs_close(w);
	return net;
}
