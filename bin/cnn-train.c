/*
 * cnn-train - train the network a cfg file describes on a stream of image
 * and label records, and write the model file.
 *
 * Two ways to feed it.  By default every record is kept (memory, then a
 * temporary file) and each epoch visits them in a fresh order drawn from
 * the seed and the epoch.  With --one-pass the stream is consumed once in
 * the order it comes, for streams that are already shuffled and repeated
 * (cnn-augment --repeat).  The log goes to standard output, one line per
 * epoch and every --log-every batches.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tool.h"

static const char help[] =
	"Usage: cnn-train -m MODEL.cfg -o MODEL [OPTION]... [FILE]...\n"
	"Train the network MODEL.cfg describes on the image + label records of FILEs\n"
	"(or standard input) and write the model file MODEL.  The log goes to\n"
	"standard output.\n\n"
	"  -m, --model CFG        the model description (darknet's cfg dialect)\n"
	"  -o, --output MODEL     the model file to write (atomically)\n"
	"  -e, --epochs N         passes over the data (default 10)\n"
	"  -b, --batch N          examples per update (default: the cfg's batch)\n"
	"  -l, --learning-rate X  override the cfg's learning_rate\n"
	"      --optimizer NAME   sgd, adam or rmsprop (override)\n"
	"      --momentum X       override the cfg's momentum\n"
	"      --decay X          override the cfg's weight decay\n"
	"  -S, --seed N           seed of the initial weights and the order (default 1)\n"
	"  -v, --validation FILE  a stream evaluated after every epoch\n"
	"      --one-pass         train on the stream once, in its order, no caching\n"
	"      --memory MB        examples to keep in memory before spilling to a\n"
	"                         temporary file (default 2048)\n"
	"      --log-every N      a log line every N batches too (default 0: never)\n"
	"      --checkpoint N     write the model every N batches (and on SIGINT\n"
	"                         or SIGTERM), with what --resume needs\n"
	"      --resume           continue from the checkpoint in MODEL exactly\n"
	"      --init MODEL       start from the weights of another model file ...\n"
	"      --init-layers N    ... for its first N layers only (default: as many\n"
	"                         leading layers as match in type and shape)\n"
	"      --freeze N         do not train the first N layers\n"
	"      --mixup ALPHA      mixup: blend pairs of examples, lambda ~ Beta(a, a)\n"
	"      --manifold-mixup ALPHA  mix at a random hidden layer instead\n"
	"      --gradcheck        compare the gradients with numeric ones on a few\n"
	"                         examples and exit (0 if they agree)\n"
	"  -j, --threads N        threads (default: all processors)\n"
	TOOL_COMMON_HELP;

enum {
	OPT_OPTIMIZER = 256, OPT_MOMENTUM, OPT_DECAY, OPT_ONE_PASS, OPT_MEMORY, OPT_LOG_EVERY,
	OPT_CHECKPOINT, OPT_RESUME, OPT_INIT, OPT_INIT_LAYERS, OPT_FREEZE, OPT_MIXUP,
	OPT_MANIFOLD, OPT_GRADCHECK
};

static struct {
	const char *cfg, *output, *validation, *init;
	int epochs, batch, one_pass, log_every, resume, init_layers, freeze, gradcheck;
	int64_t checkpoint;
	uint64_t seed, memory;
	float lr, momentum, decay, mixup;
	int optimizer, manifold;
} opt = {.epochs = 10, .seed = 1, .memory = 2048, .lr = -1, .momentum = -1,
	 .decay = -1, .optimizer = -1, .init_layers = -1};

static volatile sig_atomic_t stop_signal;
static int64_t saved_step = -1; /* of the model in MODEL, -1 if none yet */

static void on_stop(int sig)
{
	stop_signal = sig;
}

/* ------------------------------------------------------------ the model */

static cnn_net *make_net(cnn_record **state)
{
	cnn_net *net;
	cnn_cfg *cfg;

	*state = NULL;
	if (opt.resume) {
		if (!(net = cnn_net_load(opt.output, opt.batch, state)))
			die("--resume: %s", cnn_errmsg());
		saved_step = cnn_net_step(net);
		return net;
	}
	if (!(cfg = cnn_cfg_load(opt.cfg)) || !(net = cnn_net_new(cfg, opt.batch, opt.seed)))
		die_lib();
	return net;
}

/* Transfer learning: the first layers from another model, maybe frozen. */
static void transfer(cnn_net *net)
{
	cnn_net *from;
	int copied;

	if (opt.init) {
		if (!(from = cnn_net_load(opt.init, 1, NULL)))
			die("--init: %s", cnn_errmsg());
		copied = cnn_net_copy_params(net, from, opt.init_layers);
		cnn_net_free(from);
		if (copied < 0)
			die("--init %s: %s", opt.init, cnn_errmsg());
		fprintf(stderr, "%s: %d layers from %s\n", tool_name, copied, opt.init);
	}
	if (opt.freeze > cnn_net_layers(net))
		usage_error("--freeze %d: the model has %d layers", opt.freeze, cnn_net_layers(net));
	cnn_net_freeze(net, opt.freeze);
}

static void apply_params(cnn_net *net)
{
	cnn_train_params *hp = cnn_net_params(net);

	if (opt.lr >= 0)
		hp->learning_rate = opt.lr;
	if (opt.momentum >= 0)
		hp->momentum = opt.momentum;
	if (opt.decay >= 0)
		hp->decay = opt.decay;
	if (opt.optimizer >= 0)
		hp->optimizer = opt.optimizer;
}

/* ------------------------------------------------------------- the data */

static cnn_dataset *load_examples(tool_input *in, cnn_net *net)
{
	int c, h, w;
	cnn_record *rec = cnn_record_new();
	cnn_dataset *ds = NULL;

	cnn_net_input_shape(net, &c, &h, &w);
	if (!rec)
		die_lib();
	while (tool_read(in, rec, 0)) {
		cnn_tensor *image = cnn_record_get(rec, "image");
		if (!image)
			die_record(in, "no tensor \"image\"");
		if (!ds && !(ds = cnn_dataset_new((long)c * h * w, cnn_net_outputs(net),
						  image->dtype == CNN_U8, opt.memory << 20)))
			die_lib();
		if (cnn_dataset_add(ds, image, cnn_record_get(rec, "label")))
			die_record(in, "%s", cnn_errmsg());
	}
	cnn_record_free(rec);
	if (cnn_dataset_seal(ds))
		die_lib();
	return ds;
}

/* ----------------------------------------------------------- statistics */

struct tally {
	double loss;
	int64_t correct, count;
};

static int argmax(const float *v, long n)
{
	int best = 0;

	for (long i = 1; i < n; i++)
		if (v[i] > v[best])
			best = (int)i;
	return best;
}

static void count_correct(struct tally *t, const float *out, const float *truth, int n, long k)
{
	for (int i = 0; i < n; i++)
		t->correct += argmax(out + i * k, k) == argmax(truth + i * k, k);
	t->count += n;
}

static void evaluate(cnn_net *net, const cnn_dataset *val, struct tally *t)
{
	int batch = cnn_net_batch(net), c, h, w;
	long k = cnn_net_outputs(net);
	int64_t n = cnn_dataset_count(val), *idx = malloc(sizeof *idx * batch);
	float *x, *truth;

	cnn_net_input_shape(net, &c, &h, &w);
	x = malloc(sizeof *x * batch * c * h * w);
	truth = malloc(sizeof *truth * batch * k);
	if (!idx || !x || !truth)
		die("out of memory");
	memset(t, 0, sizeof *t);
	for (int64_t first = 0; first < n; first += batch) {
		int m = (int)(n - first < batch ? n - first : batch);
		double loss;
		for (int i = 0; i < m; i++)
			idx[i] = first + i;
		cnn_dataset_batch(val, idx, m, x, truth);
		/* The model's own loss, whatever its last layer. */
		if (cnn_net_loss(net, x, truth, m, &loss))
			die_lib();
		t->loss += loss * m;
		count_correct(t, cnn_net_output(net), truth, m, k);
	}
	free(idx);
	free(x);
	free(truth);
}

/* ------------------------------------------------------------- training */

/* Where training stands: saved in checkpoints so that --resume continues
 * exactly.  Every random choice derives from the seed with the epoch or the
 * step, so nothing else needs saving but the network's own random state. */
struct progress {
	int64_t epoch, batch;      /* the next batch to train */
	struct tally tally;        /* of the epoch so far */
	double seconds;
};

static void save(cnn_net *net, const struct progress *p, int with_state)
{
	cnn_record *r = cnn_record_new();

	if (!r)
		die_lib();
	if (cnn_record_put_i64(r, "epoch", p->epoch) || cnn_record_put_i64(r, "batch", p->batch) ||
	    cnn_record_put_i64(r, "seed", (int64_t)opt.seed) ||
	    cnn_record_put_i64(r, "freeze", opt.freeze) ||
	    cnn_record_put_f64(r, "epoch_loss", p->tally.loss) ||
	    cnn_record_put_i64(r, "epoch_correct", p->tally.correct) ||
	    cnn_record_put_i64(r, "epoch_count", p->tally.count))
		die_lib();
	if (cnn_net_save(net, opt.output, r, with_state))
		die_lib();
	saved_step = cnn_net_step(net);
	cnn_record_free(r);
}

static void shuffle(int64_t *order, int64_t n, int64_t epoch)
{
	cnn_rng rng;

	cnn_rng_seed(&rng, opt.seed * 1000003u + (uint64_t)epoch);
	for (int64_t i = 0; i < n; i++)
		order[i] = i;
	for (int64_t i = n - 1; i > 0; i--) {
		int64_t j = (int64_t)cnn_rng_below(&rng, (uint64_t)i + 1), t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
}

/* Mixup for one batch: blend inputs (in the network) and targets alike. */
static void mixup(cnn_net *net, float *truth, int n, long k)
{
	cnn_rng rng;
	int *perm = malloc(sizeof *perm * cnn_net_batch(net)), layer = -1;
	float lambda, *mixed = malloc(sizeof *mixed * n * k);

	if (!perm || !mixed)
		die("out of memory");
	cnn_rng_seed(&rng, opt.seed ^ (0x9e3779b97f4a7c15u * (uint64_t)(cnn_net_step(net) + 1)));
	lambda = (float)cnn_rng_beta(&rng, opt.mixup, opt.mixup);
	for (int i = 0; i < cnn_net_batch(net); i++)
		perm[i] = i < n ? i : 0;
	for (int i = n - 1; i > 0; i--) {
		int j = (int)cnn_rng_below(&rng, (uint64_t)i + 1), t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
	}
	/* Manifold mixup: the input or the output of any layer but the last two. */
	if (opt.manifold)
		layer = (int)cnn_rng_below(&rng, (uint64_t)cnn_net_layers(net) - 1) - 1;
	if (cnn_net_set_mixup(net, layer, lambda, perm))
		die_lib();
	for (int i = 0; i < n; i++)
		for (long j = 0; j < k; j++)
			mixed[i * k + j] = lambda * truth[i * k + j] + (1 - lambda) * truth[perm[i] * k + j];
	memcpy(truth, mixed, sizeof *mixed * n * k);
	free(perm);
	free(mixed);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void progress_bar(int64_t epoch, int64_t batch, int64_t batches, const struct tally *t,
			 double rate)
{
	int width = 30, done = (int)(width * batch / (batches ? batches : 1));

	fprintf(stderr, "\repoch %lld/%d [%.*s%*s] loss %.4f acc %.4f %.0f img/s ",
		(long long)epoch + 1, opt.epochs, done, "==============================",
		width - done, "", t->loss / (t->count ? t->count : 1),
		(double)t->correct / (t->count ? t->count : 1), rate);
}

/* One batch: gradients, optional mixup, update, tallies. */
static void train_batch(cnn_net *net, float *x, float *truth, int n, struct tally *t)
{
	long k = cnn_net_outputs(net);
	double loss;
	float *clean = NULL;

	if (opt.mixup > 0) {
		/* Accuracy counts the true labels, not the blend. */
		if (!(clean = malloc(sizeof *clean * n * k)))
			die("out of memory");
		memcpy(clean, truth, sizeof *clean * n * k);
		mixup(net, truth, n, k);
	}
	if (cnn_net_gradients(net, x, truth, n, &loss))
		die_lib();
	if (cnn_net_check_finite(net, loss)) {
		/* Checked before they reach the weights: the last checkpoint is
		 * good. */
		if (saved_step >= 0)
			die("%s: lower the learning rate (%s holds the model of step %lld)",
			    cnn_errmsg(), opt.output, (long long)saved_step);
		die("%s: lower the learning rate (%s is not written)", cnn_errmsg(), opt.output);
	}
	if (cnn_net_update(net, n))
		die_lib();
	/* Accuracy of the training pass's own outputs, as PyTorch loops report. */
	count_correct(t, cnn_net_output(net), clean ? clean : truth, n, k);
	t->loss += loss * n;
	free(clean);
}

static void log_epoch(cnn_net *net, const struct progress *p, const cnn_dataset *val)
{
	const struct tally *t = &p->tally;

	printf("epoch=%lld step=%lld loss=%.6f acc=%.6f", (long long)p->epoch + 1,
	       (long long)cnn_net_step(net), t->loss / t->count, (double)t->correct / t->count);
	if (val) {
		struct tally v;
		evaluate(net, val, &v);
		printf(" val_loss=%.6f val_acc=%.6f", v.loss / v.count, (double)v.correct / v.count);
	}
	printf(" lr=%.6g seconds=%.3f images_per_s=%.1f\n", cnn_net_learning_rate(net),
	       p->seconds, t->count / (p->seconds > 0 ? p->seconds : 1));
	tool_flush_stdout();
}

static void check_stop(cnn_net *net, const struct progress *p)
{
	if (!stop_signal)
		return;
	save(net, p, 1);
	if (isatty(STDERR_FILENO))
		fputc('\n', stderr);
	if (opt.one_pass)
		fprintf(stderr, "%s: stopped by signal %d after %lld batches; %s holds the "
			"model so far\n", tool_name, (int)stop_signal,
			(long long)cnn_net_step(net), opt.output);
	else
		fprintf(stderr, "%s: stopped by signal %d at epoch %lld batch %lld; %s holds a "
			"checkpoint (continue with --resume)\n", tool_name, (int)stop_signal,
			(long long)p->epoch + 1, (long long)p->batch, opt.output);
	exit(128 + stop_signal);
}

static void train_cached(cnn_net *net, const cnn_dataset *ds, const cnn_dataset *val,
			 struct progress *p)
{
	int batch = cnn_net_batch(net), c, h, w;
	int64_t n = cnn_dataset_count(ds), batches = (n + batch - 1) / batch;
	int64_t *order = malloc(sizeof *order * (n ? n : 1));
	long k = cnn_net_outputs(net);
	float *x, *truth;
	int tty = isatty(STDERR_FILENO);

	cnn_net_input_shape(net, &c, &h, &w);
	x = malloc(sizeof *x * batch * c * h * w);
	truth = malloc(sizeof *truth * batch * k);
	if (!order || !x || !truth)
		die("out of memory");
	for (; p->epoch < opt.epochs; p->epoch++, p->batch = 0) {
		double start = now() - p->seconds;
		shuffle(order, n, p->epoch);
		for (; p->batch < batches; p->batch++) {
			int64_t first = p->batch * batch;
			int m = (int)(n - first < batch ? n - first : batch);
			cnn_dataset_batch(ds, order + first, m, x, truth);
			train_batch(net, x, truth, m, &p->tally);
			p->seconds = now() - start;
			if (tty)
				progress_bar(p->epoch, p->batch + 1, batches, &p->tally,
					     p->tally.count / p->seconds);
			if (opt.log_every && cnn_net_step(net) % opt.log_every == 0)
				printf("step=%lld epoch=%lld loss=%.6f acc=%.6f lr=%.6g\n",
				       (long long)cnn_net_step(net), (long long)p->epoch + 1,
				       p->tally.loss / p->tally.count,
				       (double)p->tally.correct / p->tally.count,
				       cnn_net_learning_rate(net));
			/* A checkpoint records the batch to do next. */
			struct progress next = *p;
			next.batch++;
			if (opt.checkpoint && cnn_net_step(net) % opt.checkpoint == 0)
				save(net, &next, 1);
			check_stop(net, &next);
		}
		if (tty)
			fputc('\n', stderr);
		log_epoch(net, p, val);
		memset(&p->tally, 0, sizeof p->tally);
		p->seconds = 0;
	}
	free(order);
	free(x);
	free(truth);
}

/* --one-pass: batches straight from the stream, in its order. */
static void train_stream(cnn_net *net, tool_input *in, const cnn_dataset *val,
			 struct progress *p)
{
	int batch = cnn_net_batch(net), c, h, w, m = 0;
	long k = cnn_net_outputs(net), inputs;
	cnn_record *rec = cnn_record_new();
	float *x, *truth;
	double start = now();

	cnn_net_input_shape(net, &c, &h, &w);
	inputs = (long)c * h * w;
	x = malloc(sizeof *x * batch * inputs);
	truth = malloc(sizeof *truth * batch * k);
	if (!rec || !x || !truth)
		die("out of memory");
	for (;;) {
		int more = tool_read(in, rec, 0);
		if (more) {
			cnn_tensor *image = cnn_record_get(rec, "image");
			if (!image)
				die_record(in, "no tensor \"image\"");
			if (cnn_example(image, cnn_record_get(rec, "label"), inputs, k,
					x + m * inputs, truth + m * k))
				die_record(in, "%s", cnn_errmsg());
			m++;
		}
		if (m == batch || (!more && m > 0)) {
			train_batch(net, x, truth, m, &p->tally);
			m = 0;
			p->seconds = now() - start;
			if (opt.log_every && cnn_net_step(net) % opt.log_every == 0)
				printf("step=%lld loss=%.6f acc=%.6f lr=%.6g\n",
				       (long long)cnn_net_step(net), p->tally.loss / p->tally.count,
				       (double)p->tally.correct / p->tally.count,
				       cnn_net_learning_rate(net));
			if (opt.checkpoint && cnn_net_step(net) % opt.checkpoint == 0)
				save(net, p, 1);
			check_stop(net, p);
		}
		if (!more)
			break;
	}
	log_epoch(net, p, val);
	cnn_record_free(rec);
	free(x);
	free(truth);
}

/* ------------------------------------------------------------ gradcheck */

static void report(void *ctx, int layer, const char *type, const char *param, double err)
{
	(void)ctx;
	printf("layer %3d %-16s %-9s worst %.2e %s\n", layer, type, param, err,
	       err < 1e-2 ? "ok" : "MISMATCH");
}

static int gradcheck(cnn_net *net, const cnn_dataset *ds)
{
	int64_t most = cnn_net_batch(net) < 4 ? cnn_net_batch(net) : 4;
	int n = (int)(cnn_dataset_count(ds) < most ? cnn_dataset_count(ds) : most), c, h, w;
	long k = cnn_net_outputs(net);
	int64_t idx[4] = {0, 1, 2, 3};
	float *x, *truth;
	double worst;

	cnn_net_input_shape(net, &c, &h, &w);
	x = malloc(sizeof *x * n * c * h * w);
	truth = malloc(sizeof *truth * n * k);
	if (!x || !truth)
		die("out of memory");
	cnn_dataset_batch(ds, idx, n, x, truth);
	worst = cnn_net_gradcheck(net, x, truth, n, 20, 1e-3, report, NULL);
	if (worst < 0)
		die_lib();
	printf("worst %.2e over %d examples: %s\n", worst, n, worst < 1e-2 ? "ok" : "MISMATCH");
	free(x);
	free(truth);
	return worst < 1e-2 ? 0 : 1;
}

/* ----------------------------------------------------------------- main */

/* Find an unwritable --output now, not after hours of training: a
 * temporary file beside it, at once removed.  MODEL itself is untouched. */
static void check_writable(const char *path)
{
	cnn_outfile *probe = cnn_outfile_open(path, 0);

	if (!probe)
		die_lib();
	cnn_outfile_discard(probe);
}

static void parse_options(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"model", required_argument, 0, 'm'},
		{"output", required_argument, 0, 'o'},
		{"epochs", required_argument, 0, 'e'},
		{"batch", required_argument, 0, 'b'},
		{"learning-rate", required_argument, 0, 'l'},
		{"optimizer", required_argument, 0, OPT_OPTIMIZER},
		{"momentum", required_argument, 0, OPT_MOMENTUM},
		{"decay", required_argument, 0, OPT_DECAY},
		{"seed", required_argument, 0, 'S'},
		{"validation", required_argument, 0, 'v'},
		{"one-pass", no_argument, 0, OPT_ONE_PASS},
		{"memory", required_argument, 0, OPT_MEMORY},
		{"log-every", required_argument, 0, OPT_LOG_EVERY},
		{"checkpoint", required_argument, 0, OPT_CHECKPOINT},
		{"resume", no_argument, 0, OPT_RESUME},
		{"init", required_argument, 0, OPT_INIT},
		{"init-layers", required_argument, 0, OPT_INIT_LAYERS},
		{"freeze", required_argument, 0, OPT_FREEZE},
		{"mixup", required_argument, 0, OPT_MIXUP},
		{"manifold-mixup", required_argument, 0, OPT_MANIFOLD},
		{"gradcheck", no_argument, 0, OPT_GRADCHECK},
		{"threads", required_argument, 0, 'j'},
		TOOL_COMMON_OPTIONS, {0, 0, 0, 0}};
	static const char *const optimizers[] = {"sgd", "adam", "rmsprop", NULL};
	int c;

	while ((c = getopt_long(argc, argv, "m:o:e:b:l:S:v:j:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'm': opt.cfg = optarg; break;
		case 'o': opt.output = optarg; break;
		case 'e': opt.epochs = (int)tool_long("--epochs", optarg, 1, 1 << 20); break;
		case 'b': opt.batch = (int)tool_long("--batch", optarg, 1, 1 << 16); break;
		case 'l': opt.lr = (float)tool_double("--learning-rate", optarg, 0, 1e6); break;
		case OPT_OPTIMIZER:
			opt.optimizer = -1;
			for (int i = 0; optimizers[i]; i++)
				if (strcmp(optarg, optimizers[i]) == 0)
					opt.optimizer = i;
			if (opt.optimizer < 0)
				usage_error("--optimizer %s: sgd, adam or rmsprop", optarg);
			break;
		case OPT_MOMENTUM: opt.momentum = (float)tool_double("--momentum", optarg, 0, 1); break;
		case OPT_DECAY: opt.decay = (float)tool_double("--decay", optarg, 0, 1); break;
		case 'S': opt.seed = (uint64_t)tool_long("--seed", optarg, 0, 1L << 62); break;
		case 'v': opt.validation = optarg; break;
		case OPT_ONE_PASS: opt.one_pass = 1; break;
		case OPT_MEMORY: opt.memory = (uint64_t)tool_long("--memory", optarg, 1, 1L << 30); break;
		case OPT_LOG_EVERY: opt.log_every = (int)tool_long("--log-every", optarg, 0, 1 << 30); break;
		case OPT_CHECKPOINT: opt.checkpoint = tool_long("--checkpoint", optarg, 1, 1L << 40); break;
		case OPT_RESUME: opt.resume = 1; break;
		case OPT_INIT: opt.init = optarg; break;
		case OPT_INIT_LAYERS: opt.init_layers = (int)tool_long("--init-layers", optarg, 0, 1 << 20); break;
		case OPT_FREEZE: opt.freeze = (int)tool_long("--freeze", optarg, 0, 1 << 20); break;
		case OPT_MIXUP:
			opt.mixup = (float)tool_double("--mixup", optarg, 1e-3, 100);
			opt.manifold = 0;
			break;
		case OPT_MANIFOLD:
			opt.mixup = (float)tool_double("--manifold-mixup", optarg, 1e-3, 100);
			opt.manifold = 1;
			break;
		case OPT_GRADCHECK: opt.gradcheck = 1; break;
		case 'j': cnn_set_threads((int)tool_long("--threads", optarg, 1, 1024)); break;
		case 'h': tool_help(help);
		case 'V': tool_version();
		default: usage_error(NULL);
		}
	}
	if (!opt.output && !opt.gradcheck)
		usage_error("no --output model file");
	if (!opt.cfg && !opt.resume)
		usage_error("no --model cfg file (or --resume)");
	if (opt.resume && opt.init)
		usage_error("--resume and --init together");
	if (opt.gradcheck && opt.one_pass)
		usage_error("--gradcheck reads a few examples; it takes no --one-pass");
	if (opt.resume && opt.one_pass)
		usage_error("--resume continues a cached run; --one-pass has no position to resume");
	/* MODEL is replaced only by a whole model, and never by mistake: it
	 * must not be one of the inputs (--resume reads it, and no other). */
	tool_note_input(opt.cfg);
	tool_note_input(opt.validation);
	tool_note_input(opt.init);
	if (opt.output) {
		tool_check_output(opt.output);
		check_writable(opt.output);
	}
}

int main(int argc, char **argv)
{
	struct progress p = {0};
	cnn_dataset *train = NULL, *val = NULL;
	cnn_record *state;
	cnn_net *net;
	tool_input in;

	tool_init("cnn-train");
	parse_options(argc, argv);
	net = make_net(&state);
	apply_params(net);
	if (state) {
		opt.seed = (uint64_t)cnn_record_i64(state, "seed");
		if (!opt.freeze)
			opt.freeze = (int)cnn_record_i64(state, "freeze");
		cnn_net_freeze(net, opt.freeze);
		p.epoch = cnn_record_i64(state, "epoch");
		p.batch = cnn_record_i64(state, "batch");
		p.tally.count = cnn_record_i64(state, "epoch_count");
		p.tally.correct = cnn_record_i64(state, "epoch_correct");
		p.tally.loss = cnn_record_f64(state, "epoch_loss");
		cnn_record_free(state);
	} else {
		transfer(net);
	}
	if (opt.validation) {
		tool_input vin;
		tool_input_init(&vin, 1, (char **)&opt.validation);
		val = load_examples(&vin, net);
	}
	tool_input_init(&in, argc - optind, argv + optind);
	signal(SIGINT, on_stop);
	signal(SIGTERM, on_stop);
	if (opt.one_pass) {
		train_stream(net, &in, val, &p);
	} else {
		train = load_examples(&in, net);
		if (opt.gradcheck)
			return gradcheck(net, train);
		train_cached(net, train, val, &p);
	}
	save(net, &p, 1);
	cnn_dataset_free(train);
	cnn_dataset_free(val);
	cnn_net_free(net);
	return 0;
}
