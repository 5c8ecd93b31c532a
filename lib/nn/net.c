/*
 * net.c - a network built from a model description: its layers, their
 * buffers, and the forward and backward passes over them.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/example.h"

/* Keys of darknet's [net] that drive its own image loader.  We accept them
 * so that darknet's cfg files load; cnn-augment does that work here. */
static const char *const loader_keys[] = {
	"angle", "saturation", "exposure", "hue", "aspect", "min_crop", "max_crop",
	"flip", "jitter", "random", "mosaic", "mixup", "blur",
	"subdivisions", "time_steps", "max_chart_loss", "seen", NULL,
};

static const char *const policy_names[] = {
	"constant", "step", "steps", "exp", "poly", "sigmoid", "cosine", NULL,
};

static const char *const optimizer_names[] = {"sgd", "adam", "rmsprop", NULL};

static int parse_steps(cnn_cfg_section *s, cnn_train_params *hp)
{
	float scales[CNN_MAX_STEPS];
	int nsteps, nscales;

	/* darknet's cfgs start with steps=-1 (a scale from the first batch). */
	if (cnn_cfg_ints(s, "steps", hp->steps, CNN_MAX_STEPS, INT64_MIN, INT64_MAX, &nsteps) ||
	    cnn_cfg_list(s, "scales", scales, CNN_MAX_STEPS, &nscales))
		return CNN_ERR;
	if (hp->policy == CNN_LR_STEPS && (nsteps == 0 || nsteps != nscales))
		return cnn_cfg_error(s, "policy=steps wants steps= and as many scales= (%d and %d)",
				     nsteps, nscales);
	hp->nsteps = nsteps;
	memcpy(hp->scales, scales, nsteps * sizeof *scales);
	return CNN_OK;
}

/* mean= and std= (ours): one value per input channel, or one for all;
 * the input on the scale cnn_input_value gives (u8 / 255) becomes
 * (x - mean) / std before the first layer, as the imported networks want
 * (face-api subtracts its mean RGB; ImageNet nets take their std too). */
static int parse_normalisation(cnn_net *net, cnn_cfg_section *s)
{
	int nmean = 0, nstd = 0;

	if (!cnn_cfg_has(s, "mean") && !cnn_cfg_has(s, "std"))
		return CNN_OK;
	net->in_mean = malloc(sizeof *net->in_mean * net->c);
	net->in_std = malloc(sizeof *net->in_std * net->c);
	if (!net->in_mean || !net->in_std)
		return cnn_error("out of memory");
	if ((cnn_cfg_has(s, "mean") && cnn_cfg_list(s, "mean", net->in_mean, net->c, &nmean)) ||
	    (cnn_cfg_has(s, "std") && cnn_cfg_list(s, "std", net->in_std, net->c, &nstd)))
		return CNN_ERR;
	if ((nmean != 0 && nmean != 1 && nmean != net->c) || (nstd != 0 && nstd != 1 && nstd != net->c))
		return cnn_cfg_error(s, "mean= and std= want 1 or %d values (the channels), not %d "
				     "and %d", net->c, nmean, nstd);
	for (int c = net->c - 1; c >= 0; c--) {
		net->in_mean[c] = nmean == 0 ? 0 : net->in_mean[nmean == 1 ? 0 : c];
		net->in_std[c] = nstd == 0 ? 1 : net->in_std[nstd == 1 ? 0 : c];
		if (!(net->in_std[c] > 0) || !isfinite(net->in_mean[c]) || !isfinite(net->in_std[c]))
			return cnn_cfg_error(s, "std= must be positive and mean= and std= finite");
	}
	return CNN_OK;
}

/* The input as the first layer sees it, in place: (x - mean) / std. */
static void normalise_input(cnn_net *net, int n)
{
	long plane = (long)net->h * net->w;

	for (int i = 0; net->in_mean && i < n; i++)
		for (int c = 0; c < net->c; c++) {
			float *x = net->input + ((long)i * net->c + c) * plane;
			for (long j = 0; j < plane; j++)
				x[j] = (x[j] - net->in_mean[c]) / net->in_std[c];
		}
}

void cnn_net_unnormalise_grad(const cnn_net *net, float *dx, int n)
{
	long plane = (long)net->h * net->w;

	for (int i = 0; net->in_std && i < n; i++)
		for (int c = 0; c < net->c; c++) {
			float *d = dx + ((long)i * net->c + c) * plane;
			for (long j = 0; j < plane; j++)
				d[j] /= net->in_std[c];
		}
}

static const char *const resize_names[] = {"default", "tf_legacy", "align_corners", "darknet",
					   NULL};
static const char *const pad_names[] = {"0", "1", "centre", NULL};

/* darknet's letter_box=1 is its letterbox_image, with its resize unless
 * resize= says another. */
static int parse_input_rule(cnn_net *net, cnn_cfg_section *s)
{
	int letter_box;

	net->has_rule = cnn_cfg_has(s, "resize") || cnn_cfg_has(s, "pad_square") ||
			cnn_cfg_has(s, "letter_box");
	if (cnn_cfg_int(s, "letter_box", 0, 0, 1, &letter_box) ||
	    cnn_cfg_choice(s, "resize", resize_names,
			   letter_box ? CNN_RESIZE_DARKNET : CNN_RESIZE_DEFAULT, &net->rule.resize) ||
	    cnn_cfg_choice(s, "pad_square", pad_names, CNN_PAD_NONE, &net->rule.pad_square))
		return CNN_ERR;
	if (letter_box && cnn_cfg_has(s, "pad_square"))
		return cnn_cfg_error(s, "letter_box=1 and pad_square= are two ways to pad: one of "
				     "them");
	if (letter_box)
		net->rule.pad_square = CNN_PAD_LETTERBOX;
	return CNN_OK;
}

void cnn_net_input_rule(const cnn_net *net, cnn_input_rule *rule)
{
	*rule = net->rule;
}

int cnn_net_has_input_rule(const cnn_net *net)
{
	return net->has_rule;
}

static int parse_net_section(cnn_net *net, cnn_cfg_section *s)
{
	cnn_train_params *hp = &net->hp;
	int batch, policy, opt, adam, max_batches, burn_in, step, inputs;
	float unused;

	if (strcmp(cnn_cfg_name(s), "net") && strcmp(cnn_cfg_name(s), "network"))
		return cnn_cfg_error(s, "the first section must be [net]");
	if (cnn_cfg_int(s, "batch", 1, 1, 1 << 20, &batch) ||
	    cnn_cfg_int(s, "channels", 0, 1, 1 << 16, &net->c) ||
	    cnn_cfg_int(s, "height", 0, 1, 1 << 16, &net->h) ||
	    cnn_cfg_int(s, "width", 0, 1, 1 << 16, &net->w) ||
	    cnn_cfg_float(s, "learning_rate", 0.001f, 0, 1e6, &hp->learning_rate) ||
	    cnn_cfg_float(s, "momentum", 0.9f, 0, 1, &hp->momentum) ||
	    cnn_cfg_float(s, "decay", 0.0001f, 0, 1, &hp->decay) ||
	    cnn_cfg_int(s, "adam", 0, 0, 1, &adam) ||
	    cnn_cfg_choice(s, "optimizer", optimizer_names, adam ? CNN_ADAM : CNN_SGD, &opt) ||
	    cnn_cfg_float(s, "B1", 0.9f, 0, 1, &hp->beta1) ||
	    cnn_cfg_float(s, "B2", 0.999f, 0, 1, &hp->beta2) ||
	    cnn_cfg_float(s, "eps", 1e-8f, 0, 1, &hp->eps) ||
	    cnn_cfg_choice(s, "policy", policy_names, CNN_LR_CONSTANT, &policy) ||
	    cnn_cfg_int(s, "max_batches", 0, 0, INT32_MAX, &max_batches) ||
	    cnn_cfg_int(s, "burn_in", 0, 0, INT32_MAX, &burn_in) ||
	    cnn_cfg_float(s, "power", 4, 0, 100, &hp->power) ||
	    cnn_cfg_float(s, "gamma", 1, 0, 1e6, &hp->gamma) ||
	    cnn_cfg_int(s, "step", 1, 1, INT32_MAX, &step) ||
	    cnn_cfg_float(s, "scale", 1, 0, 1e6, &hp->scale) ||
	    cnn_cfg_float(s, "lr_min", 0, 0, 1e6, &hp->lr_min) ||
	    cnn_cfg_int(s, "resize_step", 32, 1, 1 << 16, &hp->resize_step))
		return CNN_ERR;
	/* darknet: inputs=N alone means N x 1 x 1. */
	if (cnn_cfg_int(s, "inputs", 0, 1, 1 << 30, &inputs))
		return CNN_ERR;
	if (inputs && !net->c && !net->h && !net->w) {
		net->c = inputs;
		net->h = net->w = 1;
	}
	if (!net->c || !net->h || !net->w)
		return cnn_cfg_error(s, "needs channels=, height= and width= (or inputs=)");
	hp->batch = batch;
	hp->optimizer = opt;
	hp->policy = policy;
	hp->max_batches = max_batches;
	hp->burn_in = burn_in;
	hp->step = step;
	if ((policy == CNN_LR_POLY || policy == CNN_LR_COSINE) && max_batches == 0)
		return cnn_cfg_error(s, "policy=%s needs max_batches=", policy_names[policy]);
	if (parse_steps(s, hp))
		return CNN_ERR;
	for (int i = 0; loader_keys[i]; i++)
		cnn_cfg_float(s, loader_keys[i], 0, -1e9, 1e9, &unused);
	if (parse_normalisation(net, s) || parse_input_rule(net, s))
		return CNN_ERR;
	return cnn_cfg_check_used(s);
}

void cnn_same_padding(int in, int reach, int stride, int *lo, int *hi)
{
	int64_t out = ((int64_t)in + stride - 1) / stride;
	int64_t total = (out - 1) * stride + reach - in;

	total = total > 0 ? total : 0;
	*lo = (int)(total / 2);
	*hi = (int)(total - total / 2);
}

int cnn_net_claim(cnn_net *net, int copies, int ndim, const int64_t *dim, const char *what)
{
	const cnn_cfg_section *s = cnn_cfg_section_at(net->cfg, net->nlayers);
	uint64_t max = cnn_max_tensor_bytes(), bytes;
	int64_t count;

	if (cnn_shape_count(ndim, dim, sizeof(float), max, &count))
		return cnn_cfg_error(s, "%s: %s (CNN_MAX_TENSOR_BYTES sets the limit)", what, cnn_errmsg());
	bytes = (uint64_t)count * sizeof(float) * copies;
	if (bytes > NET_LIMIT_TIMES * max - net->claimed)
		return cnn_cfg_error(s, "%s takes the network's buffers over %llu bytes (%d times "
				     "CNN_MAX_TENSOR_BYTES)", what,
				     (unsigned long long)(NET_LIMIT_TIMES * max), NET_LIMIT_TIMES);
	net->claimed += bytes;
	return CNN_OK;
}

cnn_param *cnn_layer_add_param(cnn_layer *l, const char *name, int trained,
			       int decay, int ndim, const int64_t *dim)
{
	cnn_param *p = &l->param[l->nparam];
	long count = 1;

	if (l->nparam == MAX_PARAMS) {
		cnn_error("layer %d: too many parameters", l->index);
		return NULL;
	}
	for (int i = 0; i < ndim; i++)
		count *= dim[i];
	memset(p, 0, sizeof *p);
	p->name = name;
	p->count = count;
	p->decay = decay;
	p->ndim = ndim;
	memcpy(p->dim, dim, ndim * sizeof *dim);
	p->value = calloc(count, sizeof *p->value);
	if (trained)
		p->grad = calloc(count, sizeof *p->grad);
	if (!p->value || (trained && !p->grad)) {
		free(p->value);
		free(p->grad);
		cnn_error("out of memory for the parameters of layer %d", l->index);
		return NULL;
	}
	l->nparam++;
	return p;
}

int cnn_layer_alloc_output(cnn_layer *l, cnn_net *net)
{
	size_t n = (size_t)net->batch * l->outputs;
	int64_t dim[2] = {net->batch, l->outputs};

	if (cnn_net_claim(net, cnn_activation_needs_pre(l->activation) ? 3 : 2, 2, dim,
			  "outputs"))
		return CNN_ERR;
	l->output = calloc(n ? n : 1, sizeof *l->output);
	l->delta = calloc(n ? n : 1, sizeof *l->delta);
	if (cnn_activation_needs_pre(l->activation))
		l->pre = calloc(n ? n : 1, sizeof *l->pre);
	if (!l->output || !l->delta || (cnn_activation_needs_pre(l->activation) && !l->pre))
		return cnn_error("out of memory for the outputs of layer %d (%zu floats)",
				 l->index, n);
	return CNN_OK;
}

static int build_layer(cnn_net *net, int i, cnn_cfg_section *s)
{
	cnn_layer *l = &net->layer[i], *prev = i > 0 ? &net->layer[i - 1] : NULL;
	const char *name = cnn_cfg_name(s);

	l->type = cnn_layer_type_find(name);
	l->index = i;
	l->line = cnn_cfg_line(s);
	if (!l->type)
		return cnn_error("%s:%d: unsupported section [%s]", cnn_cfg_path(net->cfg),
				 l->line, name);
	l->c = prev ? prev->out_c : net->c;
	l->h = prev ? prev->out_h : net->h;
	l->w = prev ? prev->out_w : net->w;
	l->inputs = (long)l->c * l->h * l->w;
	l->input = prev ? prev->output : net->input;
	l->input_delta = prev ? prev->delta : NULL;
	l->rf = prev ? prev->rf : 1;
	l->jump = prev ? prev->jump : 1;
	/* Elementwise layers keep the shape unless build says otherwise. */
	l->out_c = l->c;
	l->out_h = l->h;
	l->out_w = l->w;
	if (cnn_net_name_layer(net, l, s) || l->type->build(l, net, s) ||
	    cnn_cfg_check_used(s))
		return CNN_ERR;
	if (prev && l->input == prev->output && l->input_delta == prev->delta)
		prev->read = 1;
	if (l->out_c < 1 || l->out_h < 1 || l->out_w < 1)
		return cnn_cfg_error(s, "output %dx%dx%d is empty (input %dx%dx%d)", l->out_c,
				     l->out_h, l->out_w, l->c, l->h, l->w);
	int64_t out[4] = {net->batch, l->out_c, l->out_h, l->out_w};
	if (cnn_net_claim(net, 0, 4, out, "outputs"))
		return CNN_ERR;
	l->outputs = (long)l->out_c * l->out_h * l->out_w;
	return cnn_layer_alloc_output(l, net);
}

static const char *const form_names[] = {"a class", "boxes", "a mask", "an identity"};

int cnn_layer_is_loss(const cnn_layer *l)
{
	return l->type->loss && !l->read;
}

/* The fields the loss layers read, each once: two layers may read one
 * field (YOLO's three scales read the same boxes) in the same form. */
static int collect_truth(cnn_net *net)
{
	for (int i = 0; i < net->nlayers; i++) {
		cnn_layer *l = &net->layer[i];
		const cnn_cfg_section *s = cnn_cfg_section_at(net->cfg, i + 1);
		int f = 0;
		if (!cnn_layer_is_loss(l))
			continue;
		while (f < net->ntruth && strcmp(net->truth[f].name, l->truth.name))
			f++;
		if (f == net->ntruth) {
			if (f == CNN_MAX_TRUTH)
				return cnn_cfg_error(s, "reads a fifth field of the records; the most "
						     "is %d", CNN_MAX_TRUTH);
			net->truth[f] = l->truth;
			net->truth_layer[f] = i;
			net->ntruth++;
		} else if (net->truth[f].form != l->truth.form ||
			   net->truth[f].size != l->truth.size) {
			return cnn_cfg_error(s, "reads \"%s\" as %s of %ld values, but layer %d "
					     "reads it as %s of %ld", l->truth.name,
					     form_names[l->truth.form], l->truth.size,
					     net->truth_layer[f], form_names[net->truth[f].form],
					     net->truth[f].size);
		}
		l->truth_index = f;
	}
	return CNN_OK;
}

int cnn_net_truth(const cnn_net *net, const cnn_truth_field **fields)
{
	*fields = net->truth;
	return net->ntruth;
}

void cnn_net_truth_reader(const cnn_net *net, int f, char *buf, size_t size)
{
	int i = net->truth_layer[f];

	snprintf(buf, size, "layer %d [%s]", i, net->layer[i].type->name);
}

const float *cnn_layer_truth(const cnn_layer *l, const cnn_net *net, int i, int64_t *rows)
{
	return cnn_batch_truth(net->in_hand, l->truth_index, i, rows);
}

/* h and w (when not 0) replace the cfg's input size. */
static cnn_net *build(cnn_cfg *cfg, int batch, uint64_t seed, int init, int h, int w)
{
	cnn_net *net = calloc(1, sizeof *net);
	int n = cnn_cfg_count(cfg);

	if (!net) {
		cnn_cfg_free(cfg);
		cnn_error("out of memory");
		return NULL;
	}
	net->cfg = cfg;
	net->mix_layer = -2;
	cnn_rng_seed(&net->rng, seed);
	if (parse_net_section(net, cnn_cfg_section_at(cfg, 0)))
		goto fail;
	if (h > 0) {
		net->h = h;
		net->w = w;
	}
	if (n < 2) {
		cnn_error("%s: no layers after [net]", cnn_cfg_path(cfg));
		goto fail;
	}
	net->batch = batch > 0 ? batch : net->hp.batch;
	if (cnn_net_claim(net, 1, 4, (int64_t[]){net->batch, net->c, net->h, net->w}, "input"))
		goto fail;
	net->input = calloc((size_t)net->batch * net->c * net->h * net->w, sizeof *net->input);
	net->layer = calloc(n - 1, sizeof *net->layer);
	if (!net->input || !net->layer) {
		cnn_error("out of memory");
		goto fail;
	}
	for (int i = 0; i < n - 1; i++) {
		net->nlayers = i + 1;
		if (build_layer(net, i, cnn_cfg_section_at(cfg, i + 1)))
			goto fail;
	}
	if (collect_truth(net))
		goto fail;
	for (int i = 0; init && i < net->nlayers; i++)
		if (net->layer[i].type->init)
			net->layer[i].type->init(&net->layer[i], &net->rng);
	return net;
fail:
	cnn_net_free(net);
	return NULL;
}

cnn_net *cnn_net_new(cnn_cfg *cfg, int batch, uint64_t seed)
{
	return build(cfg, batch, seed, 1, 0, 0);
}

cnn_net *cnn_net_build(cnn_cfg *cfg, int batch)
{
	return build(cfg, batch, 0, 0, 0, 0);
}

/* The same layers built again at the new size from the cfg's text, the
 * parameters (and the optimizer's moments) moved over to them, and the
 * old layers freed: what darknet's resize_network does layer by layer. */
int cnn_net_resize(cnn_net *net, int h, int w)
{
	cnn_cfg *cfg;
	cnn_net *fresh;

	if (h == net->h && w == net->w)
		return CNN_OK;
	if (h < 1 || w < 1)
		return cnn_error("an input of %d x %d", h, w);
	if (!(cfg = cnn_cfg_parse(cnn_cfg_text(net->cfg), cnn_cfg_path(net->cfg))) ||
	    !(fresh = build(cfg, net->batch, 0, 0, h, w)))
		return CNN_ERR;
	for (int i = 0; i < net->nlayers; i++) {
		cnn_layer *old = &net->layer[i], *l = &fresh->layer[i];
		for (int p = 0; p < l->nparam; p++)
			if (l->param[p].count != old->param[p].count) {
				cnn_error("layer %d [%s]: its %s has %ld values at %d x %d and %ld at "
					  "%d x %d; only a network without such layers (fully "
					  "convolutional) changes its input size",
					  i, old->type->name, old->param[p].name, old->param[p].count,
					  net->h, net->w, l->param[p].count, h, w);
				cnn_net_free(fresh);
				return CNN_ERR;
			}
	}
	for (int f = 0; f < net->ntruth; f++)
		if (fresh->truth[f].size != net->truth[f].size) {
			char reader[64];
			cnn_net_truth_reader(net, f, reader, sizeof reader);
			cnn_error("%s reads \"%s\" of the input's size: a network changes its "
				  "input size only when its truth does not depend on it (boxes)",
				  reader, net->truth[f].name);
			cnn_net_free(fresh);
			return CNN_ERR;
		}
	for (int i = 0; i < net->nlayers; i++) {
		cnn_layer *old = &net->layer[i], *l = &fresh->layer[i];
		for (int p = 0; p < l->nparam; p++) {
			cnn_param keep = l->param[p];
			l->param[p] = old->param[p];
			old->param[p] = keep;
		}
		l->frozen = old->frozen;
	}
#define SWAP(field)                              \
	do {                                     \
		__typeof__(net->field) s = net->field; \
		net->field = fresh->field;       \
		fresh->field = s;                \
	} while (0)
	/* The layers' names point into their cfg: it goes with them. */
	SWAP(cfg);
	SWAP(layer);
	SWAP(input);
	SWAP(h);
	SWAP(w);
	SWAP(claimed);
	SWAP(mix_perm);
	SWAP(mix_out);
	SWAP(mix_delta);
#undef SWAP
	/* Their names may point into the cfg too. */
	memcpy(net->truth, fresh->truth, sizeof net->truth);
	net->mix_layer = -2;
	net->ran = 0;
	net->param_gen++;
	cnn_net_free(fresh);
	return CNN_OK;
}

void cnn_net_free(cnn_net *net)
{
	if (!net)
		return;
	for (int i = 0; i < net->nlayers; i++) {
		cnn_layer *l = &net->layer[i];
		if (l->type && l->type->free)
			l->type->free(l);
		for (int p = 0; p < l->nparam; p++) {
			free(l->param[p].value);
			free(l->param[p].grad);
			free(l->param[p].m);
			free(l->param[p].v);
		}
		free(l->output);
		free(l->delta);
		free(l->pre);
	}
	free(net->layer);
	free(net->input);
	free(net->in_mean);
	free(net->in_std);
	cnn_record_free(net->constants);
	free(net->mix_perm);
	free(net->mix_out);
	free(net->mix_delta);
	cnn_cfg_free(net->cfg);
	free(net);
}

cnn_train_params *cnn_net_params(cnn_net *net)
{
	return &net->hp;
}

const cnn_cfg *cnn_net_cfg(const cnn_net *net)
{
	return net->cfg;
}

void cnn_net_input_shape(const cnn_net *net, int *c, int *h, int *w)
{
	*c = net->c;
	*h = net->h;
	*w = net->w;
}

long cnn_net_outputs(const cnn_net *net)
{
	return net->layer[net->nlayers - 1].outputs;
}

int cnn_net_batch(const cnn_net *net)
{
	return net->batch;
}

int64_t cnn_net_step(const cnn_net *net)
{
	return net->step;
}

/* The values examples n see after mixing: lambda v_i + (1 - lambda) v_perm[i]. */
static void mix(const cnn_net *net, const float *v, float *out, long size)
{
	float a = net->mix_lambda, b = 1 - a;

	for (int i = 0; i < net->n; i++)
		for (long j = 0; j < size; j++)
			out[i * size + j] = a * v[i * size + j] + b * v[net->mix_perm[i] * size + j];
}

/* The reverse: the gradient of the values before mixing, added to grad. */
static void unmix(const cnn_net *net, const float *d, float *grad, long size)
{
	float a = net->mix_lambda, b = 1 - a;

	for (int i = 0; i < net->n; i++)
		for (long j = 0; j < size; j++) {
			grad[i * size + j] += a * d[i * size + j];
			grad[net->mix_perm[i] * size + j] += b * d[i * size + j];
		}
}

int cnn_net_set_mixup(cnn_net *net, int layer, float lambda, const int *perm)
{
	long most = (long)net->c * net->h * net->w;

	if (layer < -1) {
		net->mix_layer = -2;
		return CNN_OK;
	}
	if (layer >= net->nlayers - 1)
		return cnn_error("mixup after layer %d of %d", layer, net->nlayers);
	for (int i = 0; i < net->nlayers; i++)
		most = net->layer[i].outputs > most ? net->layer[i].outputs : most;
	if (!net->mix_perm) {
		net->mix_perm = malloc(sizeof *net->mix_perm * net->batch);
		net->mix_out = malloc(sizeof *net->mix_out * net->batch * most);
		net->mix_delta = malloc(sizeof *net->mix_delta * net->batch * most);
		if (!net->mix_perm || !net->mix_out || !net->mix_delta)
			return cnn_error("out of memory for mixup");
	}
	memcpy(net->mix_perm, perm, sizeof *perm * net->batch);
	net->mix_layer = layer;
	net->mix_lambda = lambda;
	return CNN_OK;
}

/* Point the layer after the mixing point at the mixed copy, or back. */
static void mix_redirect(cnn_net *net, int on)
{
	cnn_layer *next = &net->layer[net->mix_layer + 1];
	cnn_layer *prev = net->mix_layer >= 0 ? &net->layer[net->mix_layer] : NULL;

	next->input = on ? net->mix_out : prev ? prev->output : net->input;
	next->input_delta = !prev ? NULL : on ? net->mix_delta : prev->delta;
}

/* Layers 0..last. */
static int forward_layers(cnn_net *net, const float *x, int n, int train, int last)
{
	int mixing = train && net->mix_layer >= -1;

	if (n < 1 || n > net->batch)
		return cnn_error("a batch of %d examples (this network takes 1 to %d)", n,
				 net->batch);
	memcpy(net->input, x, sizeof *x * (size_t)n * net->c * net->h * net->w);
	normalise_input(net, n);
	net->n = n;
	net->train = train;
	net->ran = 0;
	if (mixing)
		mix_redirect(net, 1);
	if (mixing && net->mix_layer == -1)
		mix(net, net->input, net->mix_out, (long)net->c * net->h * net->w);
	for (int i = 0; i <= last; i++) {
		cnn_layer *l = &net->layer[i];
		if (l->type->forward(l, net))
			return cnn_error_context("layer %d [%s]", i, l->type->name);
		if (mixing && i == net->mix_layer)
			mix(net, l->output, net->mix_out, l->outputs);
	}
	if (mixing)
		mix_redirect(net, 0);
	net->ran = last + 1;
	return CNN_OK;
}

static int run_forward(cnn_net *net, const float *x, int n, int train)
{
	return forward_layers(net, x, n, train, net->nlayers - 1);
}

const float *cnn_net_forward(cnn_net *net, const float *x, int n, int train)
{
	return run_forward(net, x, n, train) ? NULL : net->layer[net->nlayers - 1].output;
}

const float *cnn_net_output(const cnn_net *net)
{
	return net->layer[net->nlayers - 1].output;
}

static int check_layer(const cnn_net *net, int layer)
{
	if (layer < 0 || layer >= net->nlayers)
		return cnn_error("layer %d: the network has layers 0 to %d", layer,
				 net->nlayers - 1);
	return CNN_OK;
}

const float *cnn_net_forward_to(cnn_net *net, const float *x, int n, int layer)
{
	if (check_layer(net, layer) || forward_layers(net, x, n, 0, layer))
		return NULL;
	return net->layer[layer].output;
}

const float *cnn_net_layer_output(const cnn_net *net, int layer, int *c, int *h, int *w)
{
	const cnn_layer *l;

	if (check_layer(net, layer))
		return NULL;
	if (layer >= net->ran) {
		cnn_error("layer %d did not run in the last forward pass", layer);
		return NULL;
	}
	l = &net->layer[layer];
	if (c)
		*c = l->out_c;
	if (h)
		*h = l->out_h;
	if (w)
		*w = l->out_w;
	return l->output;
}

/* The batch's inputs forward, its truth in hand for the losses. */
static int forward_batch(cnn_net *net, const cnn_batch *b, int train)
{
	int n = cnn_batch_count(b);

	if (net->ntruth == 0)
		return cnn_error("no layer is a loss (softmax, cost, logistic, ...)");
	if (!cnn_batch_fits(b, net))
		return cnn_error("a batch made for another network");
	net->in_hand = b;
	return run_forward(net, cnn_batch_input(b), n, train);
}

/* Every loss layer's loss, summed; each sets the delta it starts from. */
static int losses(cnn_net *net, double *loss)
{
	*loss = 0;
	for (int i = 0; i < net->nlayers; i++) {
		cnn_layer *l = &net->layer[i];
		double one;
		if (!cnn_layer_is_loss(l))
			continue;
		if (l->type->loss(l, net, &one))
			return cnn_error_context("layer %d [%s] loss", i, l->type->name);
		*loss += one;
	}
	return CNN_OK;
}

int cnn_net_loss(cnn_net *net, const cnn_batch *b, double *loss)
{
	return forward_batch(net, b, 0) || losses(net, loss);
}

/* The loss alone can hide a NaN (a clamped log), so the gradients are
 * looked at too, parameter by parameter. */
int cnn_net_check_finite(const cnn_net *net, double loss)
{
	if (!isfinite(loss))
		return cnn_error("step %lld: the loss is %s", (long long)net->step + 1,
				 isnan(loss) ? "nan" : loss > 0 ? "inf" : "-inf");
	for (int i = 0; i < net->nlayers; i++) {
		const cnn_layer *l = &net->layer[i];
		for (int p = 0; p < l->nparam; p++) {
			const cnn_param *par = &l->param[p];
			if (par->grad && cnn_floats_nonfinite(par->grad, par->count) >= 0)
				return cnn_error("step %lld: the gradient of layer %d [%s] %s is not "
						 "finite", (long long)net->step + 1, i,
						 l->type->name, par->name);
		}
	}
	return CNN_OK;
}

int cnn_net_gradients(cnn_net *net, const cnn_batch *b, double *loss)
{
	int mixing = net->mix_layer >= -1, n = cnn_batch_count(b);

	if (forward_batch(net, b, 1))
		return CNN_ERR;
	/* run_forward put the pointers back; backward needs the mixed ones. */
	if (mixing)
		mix_redirect(net, 1);
	if (mixing && net->mix_layer >= 0)
		memset(net->mix_delta, 0, sizeof(float) * n * net->layer[net->mix_layer].outputs);
	for (int i = 0; i < net->nlayers; i++) {
		cnn_layer *l = &net->layer[i];
		memset(l->delta, 0, sizeof *l->delta * (size_t)n * l->outputs);
		for (int p = 0; p < l->nparam; p++)
			if (l->param[p].grad)
				memset(l->param[p].grad, 0, sizeof(float) * l->param[p].count);
	}
	if (losses(net, loss))
		return CNN_ERR;
	for (int i = net->nlayers - 1; i >= 0; i--) {
		cnn_layer *l = &net->layer[i];
		if (mixing && i == net->mix_layer && i >= 0)
			unmix(net, net->mix_delta, l->delta, l->outputs);
		if (l->type->backward(l, net))
			return cnn_error_context("layer %d [%s] backward", i, l->type->name);
	}
	if (mixing)
		mix_redirect(net, 0);
	return CNN_OK;
}

int cnn_net_copy_params(cnn_net *dst, const cnn_net *src, int layers)
{
	int n = layers >= 0 ? layers : dst->nlayers;

	dst->param_gen++;
	if (n > dst->nlayers)
		return cnn_error("%d layers asked for; this model has %d", n, dst->nlayers);
	for (int i = 0; i < n; i++) {
		cnn_layer *d = &dst->layer[i];
		const cnn_layer *s = i < src->nlayers ? &src->layer[i] : NULL;
		int same = s && s->type == d->type && s->nparam == d->nparam;
		for (int p = 0; same && p < d->nparam; p++)
			same = d->param[p].ndim == s->param[p].ndim &&
			       !memcmp(d->param[p].dim, s->param[p].dim,
				       sizeof(int64_t) * d->param[p].ndim);
		if (!same) {
			if (layers >= 0)
				return cnn_error("layer %d [%s] does not match the source's layer "
						 "(%s)", i, d->type->name, s ? s->type->name : "none");
			return i;
		}
		for (int p = 0; p < d->nparam; p++)
			memcpy(d->param[p].value, s->param[p].value,
			       sizeof(float) * d->param[p].count);
	}
	return n;
}

void cnn_net_freeze(cnn_net *net, int layers)
{
	for (int i = 0; i < net->nlayers; i++)
		net->layer[i].frozen = i < layers;
}

const cnn_tensor *cnn_net_constant(const cnn_net *net, const char *name)
{
	return net->constants ? cnn_record_get(net->constants, name) : NULL;
}

int cnn_net_set_constant(cnn_net *net, cnn_tensor *t)
{
	/* A digit starts a parameter's name, in the same record of the file. */
	if (!t->name[0] || (t->name[0] >= '0' && t->name[0] <= '9')) {
		cnn_error("a constant's name (\"%s\") must not be empty or start with a digit",
			  t->name);
		cnn_tensor_free(t);
		return CNN_ERR;
	}
	if (!net->constants && !(net->constants = cnn_record_new())) {
		cnn_tensor_free(t);
		return cnn_error("out of memory");
	}
	return cnn_record_put(net->constants, t);
}

int cnn_net_layers(const cnn_net *net)
{
	return net->nlayers;
}

void cnn_net_layer_info(const cnn_net *net, int i, cnn_layer_info *info)
{
	const cnn_layer *l = &net->layer[i];

	*info = (cnn_layer_info){l->type->name, l->c, l->h, l->w, l->out_c, l->out_h,
				 l->out_w, 0, l->flops, l->rf, l->line, l->name, l->jump};
	for (int p = 0; p < l->nparam; p++)
		if (l->param[p].grad)
			info->params += l->param[p].count;
}

int cnn_net_visit_params(cnn_net *net, cnn_param_visit visit, void *ctx)
{
	/* The visitor may write: whatever was made from the values is stale. */
	net->param_gen++;
	for (int i = 0; i < net->nlayers; i++) {
		cnn_layer *l = &net->layer[i];
		for (int p = 0; p < l->nparam; p++) {
			char name[64];
			snprintf(name, sizeof name, "%d.%s", i, l->param[p].name);
			if (visit(ctx, name, l->param[p].value, l->param[p].ndim, l->param[p].dim,
				  l->param[p].grad != NULL))
				return CNN_ERR;
		}
	}
	net->param_gen++;
	return CNN_OK;
}
