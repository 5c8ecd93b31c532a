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
 *
 * The loop itself is libcnn's (cnn_trainer); this program reads the
 * records, prints the log and turns signals into a checkpoint.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
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
	"      --input NAME       the records' input tensor (default \"image\"; e.g.\n"
	"                         \"features\" from cnn-predict --features)\n"
	"      --multi-scale X    darknet's multi-scale training: every 10 batches an\n"
	"                         input of 1/X to X times the cfg's size (overrides\n"
	"                         the last [yolo]'s random=; 1 means 1.4; 0: off)\n"
	"      --pk P,K           batches of P identities x K examples each (metric\n"
	"                         learning; the batch must be P x K)\n"
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
	OPT_MANIFOLD, OPT_GRADCHECK, OPT_INPUT, OPT_PK, OPT_MULTI_SCALE
};

static struct {
	const char *cfg, *output, *validation, *init, *input;
	int pk[2];
	int epochs, batch, one_pass, log_every, resume, init_layers, freeze, gradcheck;
	int64_t checkpoint;
	uint64_t seed, memory;
	float lr, momentum, decay, mixup, multi_scale;
	int optimizer, manifold;
} opt = {.epochs = 10, .seed = 1, .memory = 2048, .lr = -1, .momentum = -1,
	 .decay = -1, .optimizer = -1, .init_layers = -1, .multi_scale = -1};

static volatile sig_atomic_t stop_signal;
static int progress_shown; /* a progress bar is on the terminal's last line */

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
	if (opt.multi_scale >= 0)
		hp->multi_scale = opt.multi_scale == 1 ? 1.4f : opt.multi_scale;
}

/* ------------------------------------------------------------- the log */

static void progress_bar(const cnn_train_report *r)
{
	int width = 30, done = (int)(width * r->batch / (r->batches ? r->batches : 1));

	fprintf(stderr, "\repoch %lld/%d [%.*s%*s] loss %.4f", (long long)r->epoch, opt.epochs,
		done, "==============================", width - done, "", r->loss);
	if (r->has_accuracy)
		fprintf(stderr, " acc %.4f", r->accuracy);
	fprintf(stderr, " %.0f img/s ", r->images_per_s);
	progress_shown = 1;
}

/* One line per epoch and every --log-every steps, on standard output. */
static void on_report(void *ctx, const cnn_train_report *r)
{
	(void)ctx;
	if (r->kind == CNN_REPORT_PROGRESS) {
		progress_bar(r);
		return;
	}
	if (r->kind == CNN_REPORT_STEP) {
		printf("step=%lld", (long long)r->step);
		if (r->epoch)
			printf(" epoch=%lld", (long long)r->epoch);
		printf(" loss=%.6f", r->loss);
		if (r->has_accuracy)
			printf(" acc=%.6f", r->accuracy);
		printf(" lr=%.6g", r->learning_rate);
		if (r->multi_scale)
			printf(" size=%dx%d", r->width, r->height);
		putchar('\n');
		return;
	}
	if (progress_shown)
		fputc('\n', stderr);
	progress_shown = 0;
	printf("epoch=%lld step=%lld loss=%.6f", (long long)r->epoch, (long long)r->step, r->loss);
	if (r->has_accuracy)
		printf(" acc=%.6f", r->accuracy);
	if (r->has_validation) {
		printf(" val_loss=%.6f", r->val_loss);
		if (r->has_accuracy)
			printf(" val_acc=%.6f", r->val_accuracy);
	}
	printf(" lr=%.6g seconds=%.3f images_per_s=%.1f\n", r->learning_rate, r->seconds,
	       r->images_per_s);
	tool_flush_stdout();
}

static int on_stop_poll(void *ctx)
{
	(void)ctx;
	return stop_signal;
}

/* A signal stopped training after a checkpoint: say where, exit 128 + it. */
static void stopped(cnn_trainer *t)
{
	int64_t batch, epoch = cnn_trainer_position(t, &batch);

	if (progress_shown)
		fputc('\n', stderr);
	if (opt.one_pass)
		fprintf(stderr, "%s: stopped by signal %d after %lld batches; %s holds the "
			"model so far\n", tool_name, (int)stop_signal,
			(long long)cnn_trainer_saved_step(t), opt.output);
	else
		fprintf(stderr, "%s: stopped by signal %d at epoch %lld batch %lld; %s holds a "
			"checkpoint (continue with --resume)\n", tool_name, (int)stop_signal,
			(long long)epoch, (long long)batch, opt.output);
	exit(128 + stop_signal);
}

static void check(cnn_trainer *t, int ret)
{
	if (ret == CNN_STOPPED)
		stopped(t);
	if (ret != CNN_OK)
		die_lib();
}

/* ------------------------------------------------------------- the data */

/* Every record of in, kept by add (training or validation examples). */
static void keep_all(tool_input *in, cnn_trainer *t,
		     int (*add)(cnn_trainer *, const cnn_record *))
{
	cnn_record *rec = cnn_record_new();

	if (!rec)
		die_lib();
	while (tool_read(in, rec, 0))
		if (add(t, rec))
			die_record(in, "%s", cnn_errmsg());
	cnn_record_free(rec);
}

/* --one-pass: batches straight from the stream, in its order. */
static void train_stream(cnn_trainer *t, tool_input *in)
{
	cnn_record *rec = cnn_record_new();
	int ret;

	if (!rec)
		die_lib();
	while (tool_read(in, rec, 0)) {
		if ((ret = cnn_trainer_feed(t, rec)) == CNN_ERR)
			die_record(in, "%s", cnn_errmsg());
		check(t, ret);
	}
	check(t, cnn_trainer_finish(t));
	cnn_record_free(rec);
}

/* ------------------------------------------------------------ gradcheck */

static void report(void *ctx, int layer, const char *type, const char *param, double err)
{
	(void)ctx;
	printf("layer %3d %-16s %-9s worst %.2e %s\n", layer, type, param, err,
	       err < 1e-2 ? "ok" : "MISMATCH");
}

static int gradcheck(cnn_trainer *t)
{
	int n;
	double worst = cnn_trainer_gradcheck(t, report, NULL, &n);

	if (worst < 0)
		die_lib();
	printf("worst %.2e over %d examples: %s\n", worst, n, worst < 1e-2 ? "ok" : "MISMATCH");
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

/* --pk P,K */
static void parse_pk(const char *arg)
{
	char *end;
	long p = strtol(arg, &end, 10), k = *end == ',' ? strtol(end + 1, &end, 10) : 0;

	if (*end || p < 1 || k < 1 || p > 1 << 16 || k > 1 << 16)
		usage_error("--pk %s: want P,K, two counts (identities, examples of each)", arg);
	opt.pk[0] = (int)p;
	opt.pk[1] = (int)k;
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
		{"input", required_argument, 0, OPT_INPUT},
		{"pk", required_argument, 0, OPT_PK},
		{"multi-scale", required_argument, 0, OPT_MULTI_SCALE},
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
		case OPT_INPUT: opt.input = optarg; break;
		case OPT_PK: parse_pk(optarg); break;
		case OPT_MULTI_SCALE:
			opt.multi_scale = (float)tool_double("--multi-scale", optarg, 0, 10);
			if (opt.multi_scale > 0 && opt.multi_scale < 1)
				usage_error("--multi-scale %s: 0 (off), 1 (1.4) or a factor above 1",
					    optarg);
			break;
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
	if (opt.pk[0] && opt.one_pass)
		usage_error("--pk samples from the kept examples; it takes no --one-pass");
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
	cnn_train_options o = {0};
	cnn_record *state;
	cnn_trainer *t;
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
	} else {
		transfer(net);
	}
	o = (cnn_train_options){
		.output = opt.output, .input = opt.input, .epochs = opt.epochs, .seed = opt.seed,
		.memory = opt.memory << 20, .log_every = opt.log_every,
		.checkpoint = opt.checkpoint, .progress = isatty(STDERR_FILENO),
		.freeze = opt.freeze, .mixup = opt.mixup, .manifold = opt.manifold,
		.pk_identities = opt.pk[0], .pk_examples = opt.pk[1], .report = on_report,
		.stop = on_stop_poll,
	};
	if (!(t = cnn_trainer_new(net, &o)) || (state && cnn_trainer_resume(t, state)))
		die_lib();
	cnn_record_free(state);
	if (opt.validation) {
		tool_input vin;
		tool_input_init(&vin, 1, (char **)&opt.validation);
		keep_all(&vin, t, cnn_trainer_add_validation);
	}
	tool_input_init(&in, argc - optind, argv + optind);
	signal(SIGINT, on_stop);
	signal(SIGTERM, on_stop);
	if (opt.one_pass) {
		train_stream(t, &in);
	} else {
		keep_all(&in, t, cnn_trainer_add);
		if (opt.gradcheck)
			return gradcheck(t);
		check(t, cnn_trainer_run(t));
	}
	cnn_trainer_free(t);
	cnn_net_free(net);
	return 0;
}
