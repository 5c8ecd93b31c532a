/*
 * model.c - a model file: a tensor stream (cnn-stream(5)) that holds the
 * model description and every weight, so models travel through the same
 * tools as data (`cnn-info model.cnnm` lists its tensors).
 *
 *   record 1: "cfg" (text), "step" and "seen" (i64), and whatever training
 *             state the caller adds (cnn-train: epoch, position, seeds)
 *   record 2: one tensor per parameter or statistic, "LAYER.NAME", and the
 *             net's constants (cnn_net_constant: names not starting with a
 *             digit)
 *   record 3: (checkpoints only) the optimizer's moments, "LAYER.NAME.m"
 *             and ".v", and the network's random state "rng"
 *
 * Saving writes a temporary file beside the target, syncs it and renames
 * it over the target (cnn_outfile), so that a crash never leaves half a
 * model.
 */
#include <stdlib.h>
#include <string.h>

#include "nn/net.h"

static int put_floats(cnn_record *r, const char *name, const float *v, int ndim,
		      const int64_t *dim)
{
	cnn_tensor *t = cnn_tensor_new(name, CNN_F32, ndim, dim);

	if (!t)
		return CNN_ERR;
	memcpy(t->data, v, cnn_tensor_bytes(t));
	return cnn_record_put(r, t);
}

struct gather {
	cnn_record *weights, *moments;
};

static int gather_param(void *ctx, const char *name, float *values, int ndim,
			const int64_t *dim, int trained)
{
	struct gather *g = ctx;

	(void)trained;
	return put_floats(g->weights, name, values, ndim, dim);
}

static int gather_moments(cnn_net *net, cnn_record *r)
{
	cnn_tensor *rng;
	int64_t four = 4;

	for (int i = 0; i < net->nlayers; i++) {
		cnn_layer *l = &net->layer[i];
		for (int p = 0; p < l->nparam; p++) {
			const cnn_param *par = &l->param[p];
			char name[80];
			if (par->m) {
				snprintf(name, sizeof name, "%d.%s.m", i, par->name);
				if (put_floats(r, name, par->m, par->ndim, par->dim))
					return CNN_ERR;
			}
			if (par->v) {
				snprintf(name, sizeof name, "%d.%s.v", i, par->name);
				if (put_floats(r, name, par->v, par->ndim, par->dim))
					return CNN_ERR;
			}
		}
	}
	if (!(rng = cnn_tensor_new("rng", CNN_I64, 1, &four)))
		return CNN_ERR;
	memcpy(rng->data, net->rng.s, sizeof net->rng.s);
	return cnn_record_put(r, rng);
}

/* A model file is replaced whole, and on disk before we say it is: a
 * checkpoint that a crash can lose is no checkpoint. */
static int write_records(const char *path, cnn_record *const *recs, int n)
{
	cnn_writer *wr = cnn_writer_open_file(path, CNN_LEVEL_DEFAULT, CNN_OUTFILE_SYNC);

	if (!wr)
		return CNN_ERR;
	for (int i = 0; i < n; i++)
		if (cnn_write(wr, recs[i])) {
			cnn_writer_discard(wr);
			return CNN_ERR;
		}
	return cnn_writer_close(wr);
}

int cnn_net_save(cnn_net *net, const char *path, const cnn_record *extra, int with_state)
{
	cnn_record *head = cnn_record_new(), *weights = cnn_record_new(),
		   *moments = cnn_record_new();
	struct gather g = {weights, moments};
	const char *text = cnn_cfg_text(net->cfg);
	int64_t len = (int64_t)strlen(text);
	cnn_tensor *cfg;
	int ret = CNN_ERR;

	if (!head || !weights || !moments) {
		cnn_error("out of memory");
		goto done;
	}
	if (!(cfg = cnn_tensor_new("cfg", CNN_TEXT, 1, &len)))
		goto done;
	memcpy(cfg->data, text, len);
	if (cnn_record_put(head, cfg) || cnn_record_put_i64(head, "step", net->step) ||
	    cnn_record_put_i64(head, "seen", net->seen))
		goto done;
	for (int i = 0; extra && i < extra->n; i++) {
		cnn_tensor *copy = cnn_tensor_convert(extra->tensor[i], extra->tensor[i]->dtype);
		if (!copy || cnn_record_put(head, copy))
			goto done;
	}
	if (cnn_net_visit_params(net, gather_param, &g) ||
	    (with_state && gather_moments(net, moments)))
		goto done;
	for (int i = 0; net->constants && i < net->constants->n; i++) {
		const cnn_tensor *c = net->constants->tensor[i];
		cnn_tensor *copy = cnn_tensor_convert(c, c->dtype);
		if (!copy || cnn_record_put(weights, copy))
			goto done;
	}
	{
		cnn_record *recs[3] = {head, weights, moments};
		ret = write_records(path, recs, with_state ? 3 : 2);
	}
done:
	cnn_record_free(head);
	cnn_record_free(weights);
	cnn_record_free(moments);
	return ret;
}

/* Copy a saved tensor into place, insisting on the shape the cfg gives. */
static int restore(const cnn_record *r, const char *name, float *dst, int ndim,
		   const int64_t *dim, int required)
{
	const cnn_tensor *t = cnn_record_get(r, name);
	char want[128], got[128];
	cnn_tensor shape = {.ndim = ndim, .dtype = CNN_F32};

	if (!t)
		return required ? cnn_error("no tensor \"%s\"", name) : CNN_OK;
	memcpy(shape.dim, dim, ndim * sizeof *dim);
	if (t->dtype != CNN_F32 || t->ndim != ndim || memcmp(t->dim, dim, ndim * sizeof *dim))
		return cnn_error("tensor \"%s\" is %s, the model wants %s", name,
				 cnn_tensor_describe(t, got, sizeof got),
				 cnn_tensor_describe(&shape, want, sizeof want));
	memcpy(dst, t->data, cnn_tensor_bytes(t));
	return CNN_OK;
}

static int restore_all(cnn_net *net, const cnn_record *weights, const cnn_record *moments)
{
	for (int i = 0; i < net->nlayers; i++) {
		cnn_layer *l = &net->layer[i];
		for (int p = 0; p < l->nparam; p++) {
			cnn_param *par = &l->param[p];
			char name[80];
			snprintf(name, sizeof name, "%d.%s", i, par->name);
			if (restore(weights, name, par->value, par->ndim, par->dim, 1))
				return CNN_ERR;
			if (!moments || !par->grad)
				continue;
			snprintf(name, sizeof name, "%d.%s.m", i, par->name);
			if (cnn_record_get(moments, name) &&
			    (!(par->m = calloc(par->count, sizeof *par->m)) ||
			     restore(moments, name, par->m, par->ndim, par->dim, 1)))
				return CNN_ERR;
			snprintf(name, sizeof name, "%d.%s.v", i, par->name);
			if (cnn_record_get(moments, name) &&
			    (!(par->v = calloc(par->count, sizeof *par->v)) ||
			     restore(moments, name, par->v, par->ndim, par->dim, 1)))
				return CNN_ERR;
		}
	}
	if (moments) {
		const cnn_tensor *rng = cnn_record_get(moments, "rng");
		if (rng && rng->dtype == CNN_I64 && cnn_tensor_count(rng) == 4)
			memcpy(net->rng.s, rng->data, sizeof net->rng.s);
	}
	return CNN_OK;
}

/* The weights record's tensors that are not parameters ("LAYER.NAME"
 * starts with the layer's number): the net's constants. */
static int take_constants(cnn_net *net, cnn_record *weights)
{
	for (int i = 0; i < weights->n; i++) {
		const cnn_tensor *t = weights->tensor[i];
		cnn_tensor *copy;
		if (t->name[0] >= '0' && t->name[0] <= '9')
			continue;
		if (!(copy = cnn_tensor_convert(t, t->dtype)) || cnn_net_set_constant(net, copy))
			return CNN_ERR;
	}
	return CNN_OK;
}

cnn_net *cnn_net_load(const char *path, int batch, cnn_record **extra)
{
	cnn_reader *rd = cnn_reader_open(path);
	cnn_record *rec[3] = {cnn_record_new(), cnn_record_new(), cnn_record_new()};
	cnn_net *net = NULL;
	const cnn_tensor *text;
	int nrec = 0, ret = CNN_OK;

	if (!rd || !rec[0] || !rec[1] || !rec[2])
		goto done;
	while (nrec < 3 && (ret = cnn_read(rd, rec[nrec])) == CNN_OK)
		nrec++;
	if (ret == CNN_ERR)
		goto done;
	text = cnn_record_get(rec[0], "cfg");
	if (nrec < 2 || !text || text->dtype != CNN_TEXT) {
		cnn_error("%s: not a model file (no cfg and weights records)", path);
		goto done;
	}
	{
		char *s = malloc(cnn_tensor_bytes(text) + 1);
		cnn_cfg *cfg;
		if (!s) {
			cnn_error("out of memory");
			goto done;
		}
		memcpy(s, text->data, cnn_tensor_bytes(text));
		s[cnn_tensor_bytes(text)] = 0;
		cfg = cnn_cfg_parse(s, path);
		free(s);
		if (!cfg || !(net = cnn_net_build(cfg, batch)))
			goto done;
	}
	if (restore_all(net, rec[1], nrec > 2 ? rec[2] : NULL)) {
		cnn_error_context("%s", path);
		cnn_net_free(net);
		net = NULL;
		goto done;
	}
	if (take_constants(net, rec[1])) {
		cnn_net_free(net);
		net = NULL;
		goto done;
	}
	net->step = cnn_record_i64(rec[0], "step");
	net->seen = cnn_record_i64(rec[0], "seen");
	if (extra) {
		*extra = rec[0];
		rec[0] = NULL;
	}
done:
	cnn_reader_close(rd);
	for (int i = 0; i < 3; i++)
		cnn_record_free(rec[i]);
	return net;
}
