/*
 * trainer.c - the training loop: epochs over kept examples or one pass
 * over a stream, batches, mixup, P x K sampling, validation, checkpoints
 * that resume exactly, and reports for a log.
 *
 * Where training stands (epoch, next batch, the epoch's tallies) is saved
 * in every checkpoint.  Every random choice derives from the seed with the
 * epoch or the step, so nothing else needs saving but the network's own
 * random state, and a resumed run gives the bytes an unbroken one would.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nn/example.h"

struct tally {
	double loss;
	int64_t correct, count;
};

struct cnn_trainer {
	cnn_net *net;
	cnn_train_options o;
	char *output, *input;
	cnn_dataset *train, *val;
	cnn_batch *batch;
	/* Multi-scale training: the network's own input size, the run's last
	 * step (-1: not known), and the batch resized to the size of the
	 * moment (NULL until needed). */
	int c0, h0, w0;
	int64_t last;
	cnn_batch *scaled;
	int label;                 /* the CLASS field accuracy counts, or -1 */
	float *clean;              /* the labels before mixup */
	int64_t saved_step;        /* of the model in the output, -1 if none */
	int64_t epoch, next;       /* the next batch to train */
	struct tally tally;        /* of the epoch so far */
	double seconds, start;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Accuracy means something when the one field is a class of each output. */
static int class_field(const cnn_net *net)
{
	const cnn_truth_field *f;
	int n = cnn_net_truth(net, &f);

	return n == 1 && f[0].form == CNN_TRUTH_CLASS && f[0].size == cnn_net_outputs(net) ? 0
												 : -1;
}

/* Multi-scale training fails up front, not at batch 10, on a network
 * that cannot change size: it tries the largest. */
static int check_multi_scale(cnn_trainer *t)
{
	int h, w;

	if (cnn_net_params(t->net)->multi_scale <= 0)
		return CNN_OK;
	cnn_multi_scale_size(cnn_net_params(t->net), t->o.seed, t->h0, t->w0, 0, -1, &h, &w);
	if (cnn_net_resize(t->net, h, w) || cnn_net_resize(t->net, t->h0, t->w0)) {
		char why[256];
		snprintf(why, sizeof why, "%s", cnn_errmsg());
		return cnn_error("multi-scale training (random=): %s", why);
	}
	return CNN_OK;
}

static int check_pk(const cnn_trainer *t)
{
	int P = t->o.pk_identities, K = t->o.pk_examples;

	if (P > 0 && (int64_t)P * K != cnn_net_batch(t->net))
		return cnn_error("P x K sampling: %d identities x %d examples is not the batch of %d",
				 P, K, cnn_net_batch(t->net));
	return CNN_OK;
}

cnn_trainer *cnn_trainer_new(cnn_net *net, const cnn_train_options *o)
{
	cnn_trainer *t = calloc(1, sizeof *t);

	if (!t) {
		cnn_error("out of memory");
		return NULL;
	}
	t->net = net;
	t->o = *o;
	t->saved_step = -1;
	t->last = -1;
	cnn_net_input_shape(net, &t->c0, &t->h0, &t->w0);
	t->label = class_field(net);
	t->output = o->output ? strdup(o->output) : NULL;
	t->input = strdup(o->input ? o->input : "image");
	t->o.output = t->output;
	t->o.input = t->input;
	if ((o->output && !t->output) || !t->input ||
	    !(t->clean = malloc(sizeof(float) * cnn_net_batch(net) * cnn_net_outputs(net)))) {
		cnn_error("out of memory");
		goto fail;
	}
	if (!(t->batch = cnn_batch_new(net, t->input)) || check_pk(t) || check_multi_scale(t))
		goto fail;
	if (o->mixup > 0 && t->label < 0) {
		cnn_error("mixup blends class labels, and this network's loss reads no \"label\" "
			  "of one value per output");
		goto fail;
	}
	return t;
fail:
	cnn_trainer_free(t);
	return NULL;
}

void cnn_trainer_free(cnn_trainer *t)
{
	if (!t)
		return;
	cnn_dataset_free(t->train);
	cnn_dataset_free(t->val);
	cnn_batch_free(t->batch);
	cnn_batch_free(t->scaled);
	free(t->clean);
	free(t->output);
	free(t->input);
	free(t);
}

int cnn_trainer_resume(cnn_trainer *t, const cnn_record *state)
{
	/* The order of a P x K run is P x K's: a resumed run samples alike. */
	if (cnn_record_get(state, "pk_identities")) {
		t->o.pk_identities = (int)cnn_record_i64(state, "pk_identities");
		t->o.pk_examples = (int)cnn_record_i64(state, "pk_examples");
	} else {
		t->o.pk_identities = t->o.pk_examples = 0;
	}
	if (check_pk(t))
		return CNN_ERR;
	t->epoch = cnn_record_i64(state, "epoch");
	t->next = cnn_record_i64(state, "batch");
	t->tally.count = cnn_record_i64(state, "epoch_count");
	t->tally.correct = cnn_record_i64(state, "epoch_correct");
	t->tally.loss = cnn_record_f64(state, "epoch_loss");
	t->saved_step = cnn_net_step(t->net);
	return CNN_OK;
}

int64_t cnn_trainer_saved_step(const cnn_trainer *t)
{
	return t->saved_step;
}

int64_t cnn_trainer_position(const cnn_trainer *t, int64_t *batch)
{
	*batch = t->next;
	return t->epoch + 1;
}

static int keep(cnn_dataset **ds, cnn_trainer *t, const cnn_record *r)
{
	if (!*ds && !(*ds = cnn_dataset_new(t->net, t->input, t->o.memory)))
		return CNN_ERR;
	return cnn_dataset_add(*ds, r);
}

int cnn_trainer_add(cnn_trainer *t, const cnn_record *r)
{
	return keep(&t->train, t, r);
}

int cnn_trainer_add_validation(cnn_trainer *t, const cnn_record *r)
{
	return keep(&t->val, t, r);
}

/* ------------------------------------------------------------ tallies */

static int argmax(const float *v, long n)
{
	int best = 0;

	for (long i = 1; i < n; i++)
		if (v[i] > v[best])
			best = (int)i;
	return best;
}

static void count(cnn_trainer *t, struct tally *s, const float *truth, int n, double loss)
{
	long k = cnn_net_outputs(t->net);
	const float *out = cnn_net_output(t->net);

	for (int i = 0; t->label >= 0 && i < n; i++)
		s->correct += argmax(out + i * k, k) == argmax(truth + i * k, k);
	s->count += n;
	s->loss += loss * n;
}

static int evaluate(cnn_trainer *t, struct tally *s)
{
	int batch = cnn_net_batch(t->net);
	int64_t n = cnn_dataset_count(t->val), *idx = malloc(sizeof *idx * batch);

	if (!idx)
		return cnn_error("out of memory");
	/* Validation at the size the model is made for. */
	if (cnn_net_resize(t->net, t->h0, t->w0)) {
		free(idx);
		return CNN_ERR;
	}
	memset(s, 0, sizeof *s);
	for (int64_t first = 0; first < n; first += batch) {
		int m = (int)(n - first < batch ? n - first : batch);
		double loss;
		for (int i = 0; i < m; i++)
			idx[i] = first + i;
		/* The model's own loss, whatever its loss layers. */
		if (cnn_dataset_batch(t->val, idx, m, t->batch) ||
		    cnn_net_loss(t->net, t->batch, &loss)) {
			free(idx);
			return CNN_ERR;
		}
		count(t, s, t->label >= 0 ? cnn_batch_truth(t->batch, t->label, 0, NULL) : NULL, m,
		      loss);
	}
	free(idx);
	return CNN_OK;
}

static void report(cnn_trainer *t, int kind, int64_t epoch, int64_t batches)
{
	const struct tally *s = &t->tally;
	cnn_train_report r = {
		.kind = kind, .epoch = epoch, .step = cnn_net_step(t->net), .batch = t->next + 1,
		.batches = batches, .loss = s->loss / (s->count ? s->count : 1),
		.has_accuracy = t->label >= 0,
		.accuracy = (double)s->correct / (s->count ? s->count : 1),
		.learning_rate = cnn_net_learning_rate(t->net), .seconds = t->seconds,
		.images_per_s = s->count / (t->seconds > 0 ? t->seconds : 1),
		.multi_scale = cnn_net_params(t->net)->multi_scale > 0,
	};
	int c;

	cnn_net_input_shape(t->net, &c, &r.height, &r.width);
	if (t->o.report)
		t->o.report(t->o.ctx, &r);
}

static int report_epoch(cnn_trainer *t)
{
	const struct tally *s = &t->tally;
	struct tally v = {0};
	cnn_train_report r = {
		.kind = CNN_REPORT_EPOCH, .epoch = t->epoch + 1, .step = cnn_net_step(t->net),
		.loss = s->loss / s->count, .has_accuracy = t->label >= 0,
		.accuracy = (double)s->correct / s->count,
		.learning_rate = cnn_net_learning_rate(t->net), .seconds = t->seconds,
		.images_per_s = s->count / (t->seconds > 0 ? t->seconds : 1),
	};

	if (t->val && cnn_dataset_count(t->val) > 0) {
		if (evaluate(t, &v))
			return CNN_ERR;
		r.has_validation = 1;
		r.val_loss = v.loss / v.count;
		r.val_accuracy = (double)v.correct / v.count;
	}
	if (t->o.report)
		t->o.report(t->o.ctx, &r);
	return CNN_OK;
}

/* ----------------------------------------------------------- checkpoints */

static int save(cnn_trainer *t, int64_t epoch, int64_t batch)
{
	cnn_record *r;
	int ret;

	if (!t->output)
		return cnn_error("no file to write the model to");
	if (!(r = cnn_record_new()))
		return CNN_ERR;
	ret = cnn_record_put_i64(r, "epoch", epoch) || cnn_record_put_i64(r, "batch", batch) ||
	      cnn_record_put_i64(r, "seed", (int64_t)t->o.seed) ||
	      cnn_record_put_i64(r, "freeze", t->o.freeze) ||
	      cnn_record_put_f64(r, "epoch_loss", t->tally.loss) ||
	      cnn_record_put_i64(r, "epoch_correct", t->tally.correct) ||
	      cnn_record_put_i64(r, "epoch_count", t->tally.count) ||
	      (t->o.pk_identities &&
	       (cnn_record_put_i64(r, "pk_identities", t->o.pk_identities) ||
		cnn_record_put_i64(r, "pk_examples", t->o.pk_examples))) ||
	      cnn_net_save(t->net, t->output, r, 1);
	cnn_record_free(r);
	if (ret == CNN_OK)
		t->saved_step = cnn_net_step(t->net);
	return ret ? CNN_ERR : CNN_OK;
}

/* After an update: a checkpoint when due, and when asked to stop.  A
 * checkpoint records the batch to do next. */
static int after_update(cnn_trainer *t, int64_t next)
{
	int sig;

	if (t->o.checkpoint && cnn_net_step(t->net) % t->o.checkpoint == 0 &&
	    save(t, t->epoch, next))
		return CNN_FAILED;
	if (!t->o.stop || !(sig = t->o.stop(t->o.ctx)))
		return CNN_OK;
	t->next = next;
	return save(t, t->epoch, next) ? CNN_FAILED : CNN_STOPPED;
}

/* --------------------------------------------------------------- batches */

/* Mixup for one batch: blend inputs (in the network) and labels alike. */
static int mixup(cnn_trainer *t, float *truth, int n)
{
	cnn_net *net = t->net;
	long k = cnn_net_outputs(net);
	cnn_rng rng;
	int *perm = malloc(sizeof *perm * cnn_net_batch(net)), layer = -1, ret;
	float lambda, *mixed = malloc(sizeof *mixed * n * k);

	if (!perm || !mixed) {
		free(perm);
		free(mixed);
		return cnn_error("out of memory");
	}
	cnn_rng_seed(&rng, t->o.seed ^ (0x9e3779b97f4a7c15u * (uint64_t)(cnn_net_step(net) + 1)));
	lambda = (float)cnn_rng_beta(&rng, t->o.mixup, t->o.mixup);
	for (int i = 0; i < cnn_net_batch(net); i++)
		perm[i] = i < n ? i : 0;
	for (int i = n - 1; i > 0; i--) {
		int j = (int)cnn_rng_below(&rng, (uint64_t)i + 1), s = perm[i];
		perm[i] = perm[j];
		perm[j] = s;
	}
	/* Manifold mixup: the input or the output of any layer but the last two. */
	if (t->o.manifold)
		layer = (int)cnn_rng_below(&rng, (uint64_t)cnn_net_layers(net) - 1) - 1;
	ret = cnn_net_set_mixup(net, layer, lambda, perm);
	for (int i = 0; i < n; i++)
		for (long j = 0; j < k; j++)
			mixed[i * k + j] = lambda * truth[i * k + j] + (1 - lambda) * truth[perm[i] * k + j];
	memcpy(truth, mixed, sizeof *mixed * n * k);
	free(perm);
	free(mixed);
	return ret;
}

/* The batch at the size of the step: t->batch itself, or t->scaled. */
static cnn_batch *at_scale(cnn_trainer *t)
{
	cnn_net *net = t->net;
	int h, w;

	cnn_multi_scale_size(cnn_net_params(net), t->o.seed, t->h0, t->w0, cnn_net_step(net),
			     t->last, &h, &w);
	if (cnn_net_resize(net, h, w))
		return NULL;
	if (h == t->h0 && w == t->w0)
		return t->batch;
	if (t->scaled && !cnn_batch_fits(t->scaled, net)) {
		cnn_batch_free(t->scaled);
		t->scaled = NULL;
	}
	if (!t->scaled && !(t->scaled = cnn_batch_new(net, t->input)))
		return NULL;
	return cnn_batch_rescale(t->scaled, t->batch, net, t->c0, t->h0, t->w0) ? NULL
										: t->scaled;
}

/* One batch, the one in t->batch: gradients, optional mixup, update,
 * tallies.  CNN_FAILED with a whole message when it cannot. */
static int train_batch(cnn_trainer *t)
{
	cnn_net *net = t->net;
	int n = cnn_batch_count(t->batch);
	cnn_batch *b = at_scale(t);
	float *labels;
	double loss;

	if (!b)
		return CNN_FAILED;
	labels = t->label >= 0 ? cnn_batch_fixed(b, t->label) : NULL;
	if (t->o.mixup > 0) {
		/* Accuracy counts the true labels, not the blend. */
		memcpy(t->clean, labels, sizeof(float) * n * cnn_net_outputs(net));
		if (mixup(t, labels, n))
			return CNN_FAILED;
	}
	if (cnn_net_gradients(net, b, &loss))
		return CNN_FAILED;
	if (cnn_net_check_finite(net, loss)) {
		/* Checked before they reach the weights: the last checkpoint is
		 * good. */
		char why[256];
		snprintf(why, sizeof why, "%s", cnn_errmsg());
		if (t->saved_step >= 0)
			cnn_error("%s: lower the learning rate (%s holds the model of step %lld)",
				  why, t->output, (long long)t->saved_step);
		else
			cnn_error("%s: lower the learning rate (%s is not written)", why, t->output);
		return CNN_FAILED;
	}
	if (cnn_net_update(net, n))
		return CNN_FAILED;
	/* Accuracy of the training pass's own outputs, as PyTorch loops report. */
	count(t, &t->tally, t->o.mixup > 0 ? t->clean : labels, n, loss);
	return CNN_OK;
}

/* ---------------------------------------------------------------- orders */

static void shuffle(int64_t *order, int64_t n, uint64_t seed)
{
	cnn_rng rng;

	cnn_rng_seed(&rng, seed);
	for (int64_t i = n - 1; i > 0; i--) {
		int64_t j = (int64_t)cnn_rng_below(&rng, (uint64_t)i + 1), s = order[i];
		order[i] = order[j];
		order[j] = s;
	}
}

/* The epoch's order: every example once, in a fresh order. */
static int64_t order_all(const cnn_trainer *t, int64_t *order, int64_t n)
{
	for (int64_t i = 0; i < n; i++)
		order[i] = i;
	shuffle(order, n, t->o.seed * 1000003u + (uint64_t)t->epoch);
	return n;
}

struct identity {
	int64_t first, count;      /* its examples: members[first .. first + count) */
};

static int by_id(const void *a, const void *b)
{
	const int64_t *x = a, *y = b;

	return x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : x[1] < y[1] ? -1 : x[1] > y[1];
}

/* K examples of one identity into out: drawn without repeats (a partial
 * Fisher-Yates over its members) while it has K, then with repeats. */
static void draw(int64_t (*members)[2], const struct identity *d, int K, cnn_rng *rng,
		 int64_t *out)
{
	for (int k = 0; k < K; k++) {
		if (k < d->count) {
			int64_t j = k + (int64_t)cnn_rng_below(rng, (uint64_t)(d->count - k));
			int64_t s = members[d->first + j][1];
			members[d->first + j][1] = members[d->first + k][1];
			members[d->first + k][1] = s;
			out[k] = s;
		} else {
			out[k] = members[d->first + (int64_t)cnn_rng_below(rng, (uint64_t)d->count)][1];
		}
	}
}

/* P x K: the identities in a fresh order, P to a batch, each with K of its
 * examples, as the batch-hard triplet loss wants (Hermans et al. 2017).
 * An epoch visits every identity once, but for the nid % P that do not
 * fill a last batch, which sit it out.  The examples placed (at most
 * n x K), or CNN_ERR. */
static int64_t order_pk(const cnn_trainer *t, int64_t *order, int64_t n)
{
	int P = t->o.pk_identities, K = t->o.pk_examples;
	int64_t (*members)[2] = malloc(sizeof *members * (n ? n : 1)), nid = 0, placed = CNN_ERR;
	struct identity *who = malloc(sizeof *who * (n ? n : 1));
	int64_t *pick = malloc(sizeof *pick * (n ? n : 1));
	uint64_t seed = t->o.seed * 1000003u + (uint64_t)t->epoch;
	cnn_rng rng;

	if (!members || !who || !pick) {
		cnn_error("out of memory");
		goto done;
	}
	/* (identity, example) pairs sorted: each identity's examples together. */
	for (int64_t i = 0; i < n; i++) {
		members[i][1] = i;
		if (cnn_dataset_identity(t->train, i, &members[i][0]))
			goto done;
	}
	qsort(members, n, sizeof *members, by_id);
	for (int64_t i = 0; i < n; i++) {
		if (i == 0 || members[i][0] != members[i - 1][0])
			who[nid++] = (struct identity){i, 0};
		who[nid - 1].count++;
	}
	if (nid < P) {
		cnn_error("P x K sampling: %lld identities, fewer than the %d of a batch",
			  (long long)nid, P);
		goto done;
	}
	for (int64_t i = 0; i < nid; i++)
		pick[i] = i;
	shuffle(pick, nid, seed);
	cnn_rng_seed(&rng, seed ^ 0x5bd1e995u);
	placed = 0;
	for (int64_t b = 0; b + P <= nid; b += P)
		for (int p = 0; p < P; p++, placed += K)
			draw(members, &who[pick[b + p]], K, &rng, order + placed);
done:
	free(members);
	free(who);
	free(pick);
	return placed;
}

/* ------------------------------------------------------------- the loops */

int cnn_trainer_run(cnn_trainer *t)
{
	int batch = cnn_net_batch(t->net), ret = CNN_OK;
	int64_t n = t->train ? cnn_dataset_count(t->train) : 0;
	/* P x K repeats the examples of identities with fewer than K. */
	int64_t room = t->o.pk_identities ? n * t->o.pk_examples : n;
	int64_t *order = malloc(sizeof *order * (room ? room : 1));

	if (!order || n == 0 || cnn_dataset_seal(t->train) || (t->val && cnn_dataset_seal(t->val))) {
		if (!order)
			cnn_error("out of memory");
		else if (n == 0)
			cnn_error("no examples to train on");
		free(order);
		return CNN_FAILED;
	}
	for (; t->epoch < t->o.epochs && ret == CNN_OK; t->epoch++, t->next = 0) {
		double start = now() - t->seconds;
		int64_t m = t->o.pk_identities ? order_pk(t, order, n) : order_all(t, order, n);
		int64_t batches = (m + batch - 1) / batch;
		t->last = t->o.epochs * batches;
		if (m < 0) {
			ret = CNN_FAILED;
			break;
		}
		for (; t->next < batches && ret == CNN_OK; t->next++) {
			int64_t first = t->next * batch;
			int size = (int)(m - first < batch ? m - first : batch);
			if (cnn_dataset_batch(t->train, order + first, size, t->batch) ||
			    train_batch(t)) {
				ret = CNN_FAILED;
				break;
			}
			t->seconds = now() - start;
			if (t->o.progress)
				report(t, CNN_REPORT_PROGRESS, t->epoch + 1, batches);
			if (t->o.log_every && cnn_net_step(t->net) % t->o.log_every == 0)
				report(t, CNN_REPORT_STEP, t->epoch + 1, batches);
			if ((ret = after_update(t, t->next + 1)) != CNN_OK)
				break;
		}
		if (ret != CNN_OK || report_epoch(t)) {
			ret = ret != CNN_OK ? ret : CNN_FAILED;
			break;
		}
		memset(&t->tally, 0, sizeof t->tally);
		t->seconds = 0;
	}
	free(order);
	/* The network goes back to its own size, as it came. */
	if (ret == CNN_OK && (save(t, t->epoch, t->next) || cnn_net_resize(t->net, t->h0, t->w0)))
		ret = CNN_FAILED;
	return ret;
}

int cnn_trainer_feed(cnn_trainer *t, const cnn_record *r)
{
	int ret;

	if (!t->start)
		t->start = now();
	if (cnn_batch_add(t->batch, r))
		return CNN_ERR;
	if (cnn_batch_count(t->batch) < cnn_batch_room(t->batch))
		return CNN_OK;
	ret = train_batch(t);
	cnn_batch_clear(t->batch);
	if (ret)
		return ret;
	t->seconds = now() - t->start;
	if (t->o.log_every && cnn_net_step(t->net) % t->o.log_every == 0)
		report(t, CNN_REPORT_STEP, 0, 0);
	return after_update(t, t->next);
}

int cnn_trainer_finish(cnn_trainer *t)
{
	int ret;

	if (cnn_batch_count(t->batch) > 0) {
		ret = train_batch(t);
		cnn_batch_clear(t->batch);
		if (ret)
			return ret;
		t->seconds = now() - t->start;
		if (t->o.log_every && cnn_net_step(t->net) % t->o.log_every == 0)
			report(t, CNN_REPORT_STEP, 0, 0);
		if ((ret = after_update(t, t->next)) != CNN_OK)
			return ret;
	}
	if (t->tally.count == 0)
		return cnn_error("no examples to train on"), CNN_FAILED;
	if ((t->val && cnn_dataset_seal(t->val)) || report_epoch(t) || save(t, t->epoch, t->next) ||
	    cnn_net_resize(t->net, t->h0, t->w0))
		return CNN_FAILED;
	return CNN_OK;
}

double cnn_trainer_gradcheck(cnn_trainer *t, cnn_gradcheck_report rep, void *ctx, int *examples)
{
	int64_t idx[4] = {0, 1, 2, 3}, most = cnn_net_batch(t->net) < 4 ? cnn_net_batch(t->net) : 4;
	int64_t n = t->train ? cnn_dataset_count(t->train) : 0;

	if (n == 0)
		return cnn_error("no examples to check the gradients on"), -1;
	*examples = (int)(n < most ? n : most);
	if (cnn_dataset_seal(t->train) || cnn_dataset_batch(t->train, idx, *examples, t->batch))
		return -1;
	return cnn_net_gradcheck(t->net, t->batch, 20, 1e-3, rep, ctx);
}
