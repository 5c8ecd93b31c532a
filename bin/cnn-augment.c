/*
 * cnn-augment - random augmentation of the images of a stream, with the
 * boxes and masks that belong to them following.
 *
 * Records are taken a window at a time: the window is the pool that mixup
 * and mosaic draw partners from, its records are augmented in parallel by
 * worker threads and written in order while the next window is read.  Every record's numbers come from (seed, pass,
 * position), so the output is the same for any thread count.
 */
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tool.h"

static const char help[] =
	"Usage: cnn-augment [OPTION]... [FILE]...\n"
	"Randomly transform the image of each record of the stream in FILEs (or\n"
	"standard input), in the order the operations are given, and write the\n"
	"stream.  Boxes (\"boxes\", \"boxes_true\") and a \"mask\" follow every\n"
	"geometric operation.  ARGS are comma-separated: a value or range A:B,\n"
	"and key=value pairs; every operation takes p=P, its probability.\n\n"
	"Geometry:\n"
	"      --flip[=ARGS]          mirror left-right (p=0.5)\n"
	"      --vflip[=ARGS]         mirror top-bottom (p=0.5)\n"
	"      --crop HxW[,pad=N,fill=F,center]  a random HxW window, after N\n"
	"                             pixels of padding (fill: a value, edge, reflect)\n"
	"      --resized-crop HxW[,scale=A:B,ratio=A:B]  a random window of that\n"
	"                             area fraction and aspect, resized (0.08:1, 3/4:4/3)\n"
	"      --resize HxW           resize\n"
	"      --rotate DEG           rotate by -DEG..DEG degrees (counter-clockwise +)\n"
	"      --shear DEG[,DEGY]     shear x (and y) by up to DEG degrees\n"
	"      --translate F[,FY]     shift by up to F of the width (FY of the height)\n"
	"      --scale S              zoom by 1-S..1+S (or A:B)\n"
	"      --jitter J             darknet's jitter: each side moves up to J of the size\n"
	"      --elastic[=A,sigma=S]  elastic distortion, A pixels smoothed by S (34, 4)\n"
	"Pixel values (F is a fraction of white, 255 for u8):\n"
	"      --brightness B         scale values by 1-B..1+B\n"
	"      --contrast C           blend with the mean gray by 1-C..1+C\n"
	"      --saturation S         darknet's: scale HSV saturation by 1/S..S\n"
	"      --exposure S           darknet's: scale HSV value by 1/S..S\n"
	"      --hue H                turn the hue by -H..H of a full turn\n"
	"      --color-shift F        add -F..F to each channel\n"
	"      --pca-color[=SIGMA,eig=data|imagenet]  AlexNet's PCA colour noise (0.1)\n"
	"      --grayscale[=ARGS]     make RGB gray (p=0.1)\n"
	"      --noise F              add Gaussian noise of standard deviation F\n"
	"      --blur SIGMA           Gaussian blur (a range A:B draws sigma)\n"
	"      --erase[=ARGS]         random erasing (p=0.5,scale=0.02:0.33,\n"
	"                             ratio=0.3:3.3,value=0 or value=random)\n"
	"      --cutout HxW[,count=N,value=V]  blank N squares centred anywhere\n"
	"      --normalize[=mean=M,std=S]  (x / white - M) / S per channel, as f32;\n"
	"                             M, S: one value or one per channel by '/';\n"
	"                             none: the data's own, from a first pass\n"
	"Records combined (partners from the window):\n"
	"      --mixup[=ALPHA,classes=K]  blend with a partner, lambda ~ Beta(A, A)\n"
	"                             (0.2); labels become soft vectors of K classes\n"
	"      --mosaic[=HxW,classes=K]  four images around a random centre\n\n"
	"  -r, --repeat N        N passes over the input, each augmented anew\n"
	"  -S, --seed N          the seed (default 1)\n"
	"  -w, --window N        records per window (default 16)\n"
	"      --min-visible F   drop a box keeping less than F of its area (0)\n"
	"      --stats FILE      the data's statistics (for normalize, pca-color)\n"
	"                        from FILE, as --save-stats writes them\n"
	"      --save-stats FILE  write the statistics of the input to FILE\n"
	"      --field NAME      the image (default: image)\n"
	"  -j, --threads N       threads (default: all processors)\n"
	TOOL_OUTPUT_HELP TOOL_COMMON_HELP;

enum { OPT_MIN_VISIBLE = 256, OPT_STATS, OPT_SAVE_STATS, OPT_FIELD, OPT_OPERATION = 1000 };

struct options {
	const char *output, *stats, *save_stats, *field;
	uint64_t seed;
	long repeat, window;
	int level, operations;
};

static struct options opt = {.output = "-", .field = "image", .seed = 1, .repeat = 1, .window = 16,
			     .level = CNN_LEVEL_DEFAULT};
static cnn_augment *chain;

/* The operation names as long options, ahead of the fixed ones. */
static struct option *long_options(char **names)
{
	static const struct option fixed[] = {
		{"repeat", required_argument, 0, 'r'},
		{"seed", required_argument, 0, 'S'},
		{"window", required_argument, 0, 'w'},
		{"min-visible", required_argument, 0, OPT_MIN_VISIBLE},
		{"stats", required_argument, 0, OPT_STATS},
		{"save-stats", required_argument, 0, OPT_SAVE_STATS},
		{"field", required_argument, 0, OPT_FIELD},
		{"threads", required_argument, 0, 'j'},
		TOOL_OUTPUT_OPTIONS,
		TOOL_COMMON_OPTIONS,
		{0, 0, 0, 0},
	};
	int n = 0, nfixed = (int)(sizeof fixed / sizeof fixed[0]);
	struct option *o;

	for (char *s = strtok(*names, " "); s; s = strtok(NULL, " "))
		names[++n] = s;
	if (!(o = calloc(n + nfixed, sizeof *o)))
		die("out of memory");
	for (int i = 0; i < n; i++) {
		o[i].name = names[i + 1];
		o[i].has_arg = cnn_augment_needs_value(names[i + 1]) ? required_argument
								     : optional_argument;
		o[i].val = OPT_OPERATION + i;
	}
	memcpy(o + n, fixed, sizeof fixed);
	return o;
}

static void parse_options(int argc, char **argv)
{
	char *names[64] = {strdup(cnn_augment_names())};
	struct option *longopts;
	int c;

	if (!names[0] || !(chain = cnn_augment_new()))
		die("out of memory");
	longopts = long_options(names);
	while ((c = getopt_long(argc, argv, "r:S:w:j:o:z:hV", longopts, NULL)) != -1) {
		if (c >= OPT_OPERATION) {
			const char *name = longopts[c - OPT_OPERATION].name;
			if (cnn_augment_add(chain, name, optarg))
				usage_error("--%s: %s", name, cnn_errmsg());
			opt.operations++;
			continue;
		}
		switch (c) {
		case 'r': opt.repeat = tool_long("--repeat", optarg, 1, 1000000); break;
		case 'S': opt.seed = (uint64_t)tool_long("--seed", optarg, 0, LONG_MAX); break;
		case 'w': opt.window = tool_long("--window", optarg, 1, 4096); break;
		case 'j': cnn_set_threads((int)tool_long("--threads", optarg, 1, 1024)); break;
		case OPT_MIN_VISIBLE:
			cnn_augment_min_visible(chain, tool_double("--min-visible", optarg, 0, 1));
			break;
		case OPT_STATS: opt.stats = optarg; break;
		case OPT_SAVE_STATS: opt.save_stats = optarg; break;
		case OPT_FIELD:
			if (cnn_augment_field(chain, optarg))
				usage_error("--field: %s", cnn_errmsg());
			opt.field = optarg;
			break;
		case 'o': opt.output = optarg; break;
		case 'z': opt.level = (int)tool_long("--level", optarg, 0, 22); break;
		case 'h': tool_help(help);
		case 'V': tool_version();
		default: usage_error(NULL);
		}
	}
	if (opt.stats && opt.save_stats)
		usage_error("--stats and --save-stats: give one (statistics are read or made)");
	free(longopts);
	free(names[0]);
}

/* ------------------------------------------------------------- sources */

/* Where a pass reads from: the input files, read again, or the copy of a
 * pipe's records that the first reading spooled to a temporary file. */
static char spool_path[64];
static char *spool_argv[1] = {spool_path};

static void remove_spool(void)
{
	if (spool_path[0])
		unlink(spool_path);
}

/* Can every input be read a second time? */
static int rereadable(int argc, char **argv)
{
	struct stat st;

	if (argc == 0)
		return fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode) &&
		       lseek(STDIN_FILENO, 0, SEEK_CUR) == 0;
	for (int i = 0; i < argc; i++)
		if (strcmp(argv[i], "-") == 0 || stat(argv[i], &st) || !S_ISREG(st.st_mode))
			return 0;
	return 1;
}

static cnn_writer *open_spool(void)
{
	const char *dir = getenv("TMPDIR");
	int fd;

	snprintf(spool_path, sizeof spool_path, "%s/cnn-augment-XXXXXX",
		 dir && strlen(dir) < 40 ? dir : "/tmp");
	if ((fd = mkstemp(spool_path)) < 0)
		die("cannot make a temporary file in %s (set TMPDIR)", dir ? dir : "/tmp");
	close(fd);
	tool_cleanup(remove_spool);
	return tool_output(spool_path, 1);
}

/* Open the input of a pass: pass 0 reads the command line's inputs. */
static void open_pass(tool_input *in, int pass, int argc, char **argv)
{
	if (pass > 0 && spool_path[0])
		tool_input_init(in, 1, spool_argv);
	else if (pass > 0 && argc == 0)
		lseek(STDIN_FILENO, 0, SEEK_SET), tool_input_init(in, 0, NULL);
	else
		tool_input_init(in, argc, argv);
}

/* --------------------------------------------------------------- passes */

static void make_stats(tool_input *in, cnn_writer *spool, cnn_image_stats *st)
{
	cnn_record *rec = cnn_record_new();
	const char *field = opt.field;

	if (!rec)
		die("out of memory");
	cnn_image_stats_init(st);
	while (tool_read(in, rec, 0)) {
		const cnn_tensor *img = cnn_record_get(rec, field);
		if (!img)
			die_record(in, "no tensor \"%s\"", field);
		if (cnn_image_stats_add(st, img))
			die_record(in, "%s", cnn_errmsg());
		if (spool)
			tool_write(spool, rec);
	}
	if (cnn_image_stats_finish(st))
		die_lib();
	cnn_record_free(rec);
}

static void load_stats(const char *path, cnn_image_stats *st)
{
	cnn_reader *rd = cnn_reader_open(path);
	cnn_record *rec = cnn_record_new();

	if (!rd || !rec || cnn_read_first(rd, rec))
		die_lib();
	if (cnn_image_stats_from_record(st, rec))
		die("%s: %s", path, cnn_errmsg());
	cnn_record_free(rec);
	cnn_reader_close(rd);
}

static void save_stats(const char *path, const cnn_image_stats *st)
{
	cnn_writer *wr = tool_output(path, CNN_LEVEL_DEFAULT);
	cnn_record *rec = cnn_record_new();

	if (!rec || cnn_image_stats_to_record(st, rec))
		die_lib();
	tool_write(wr, rec);
	tool_output_close(wr);
	cnn_record_free(rec);
}

/* The seed of one record: distinct for every (seed, pass, position). */
static uint64_t record_seed(long pass, int64_t index)
{
	uint64_t x = opt.seed * 0x9e3779b97f4a7c15u;

	x ^= (uint64_t)pass * 0xbf58476d1ce4e5b9u + (uint64_t)index * 0x94d049bb133111ebu;
	return x ^ (x >> 29);
}

/* A window of records, and where each came from for messages.  Windows
 * are cut by count alone, however the input is split into files, so that
 * reading the files again and reading their spooled copy agree. */
struct window {
	int n, cap;
	int64_t first;    /* the position of its first record in the pass */
	cnn_record **recs, **done;
	char **err;
	char **file;      /* the file of each record: one of names */
	int64_t *number;  /* and its number in that file, from 1 */
	char **names;     /* the files it holds, at most one per record */
	int nnames;
	char *read_err;   /* why reading stopped before the window was full */
};

static struct window *window_new(int cap)
{
	struct window *w = calloc(1, sizeof *w);

	if (!w || !(w->recs = calloc(cap, sizeof *w->recs)) ||
	    !(w->done = calloc(cap, sizeof *w->done)) || !(w->err = calloc(cap, sizeof *w->err)) ||
	    !(w->file = calloc(cap, sizeof *w->file)) ||
	    !(w->number = calloc(cap, sizeof *w->number)) ||
	    !(w->names = calloc(cap, sizeof *w->names)))
		die("out of memory");
	w->cap = cap;
	for (int i = 0; i < cap; i++)
		if (!(w->recs[i] = cnn_record_new()))
			die("out of memory");
	return w;
}

static void window_free(struct window *w)
{
	for (int i = 0; i < w->cap; i++) {
		cnn_record_free(w->recs[i]);
		free(w->err[i]);
	}
	for (int i = 0; i < w->nnames; i++)
		free(w->names[i]);
	free(w->read_err);
	free(w->recs);
	free(w->done);
	free(w->err);
	free(w->file);
	free(w->number);
	free(w->names);
	free(w);
}

/* The name of the file a record just read came from; a spooled copy is
 * named for what it copied. */
static char *file_name(struct window *w, const tool_input *in, int argc, char **argv)
{
	const char *name = cnn_reader_name(in->rd);

	if (spool_path[0] && strcmp(in->paths[0], spool_path) == 0)
		name = argc == 0 ? "<stdin>" : argc == 1 ? argv[0] : "the input";
	if (w->nnames == 0 || strcmp(w->names[w->nnames - 1], name) != 0)
		if (!(w->names[w->nnames++] = strdup(name)))
			die("out of memory");
	return w->names[w->nnames - 1];
}

/* Fill the window with the next records (copying them to the spool).  A
 * read that fails ends the window early, its message kept: the records
 * before it are still augmented and written. */
static void window_read(struct window *w, tool_input *in, cnn_writer *spool, int64_t first,
			int argc, char **argv)
{
	int got = 0;

	for (int i = 0; i < w->nnames; i++)
		free(w->names[i]);
	w->nnames = 0;
	w->first = first;
	for (w->n = 0; w->n < w->cap && (got = tool_try_read(in, w->recs[w->n], 0)) == 1; w->n++) {
		w->file[w->n] = file_name(w, in, argc, argv);
		w->number[w->n] = cnn_reader_count(in->rd);
		if (spool)
			tool_write(spool, w->recs[w->n]);
	}
	if (got == CNN_ERR && !(w->read_err = strdup(cnn_errmsg())))
		die("out of memory");
}

/* The first record of the window that failed, or its count. */
static int window_first_failure(const struct window *w)
{
	int i = 0;

	while (i < w->n && w->done[i])
		i++;
	return i;
}

/* Write the window's augmented records in order, up to the first that
 * failed, and stop there with its message. */
static void window_write(struct window *w, cnn_writer *out)
{
	int bad = window_first_failure(w);

	for (int i = 0; i < bad; i++) {
		tool_write(out, w->done[i]);
		cnn_record_free(w->done[i]);
		w->done[i] = NULL;
	}
	if (bad < w->n)
		die("%s record %lld: %s", w->file[bad], (long long)w->number[bad],
		    w->err[bad] ? w->err[bad] : "out of memory");
	if (w->read_err)
		die("%s", w->read_err);
}

/* The workers: threads that augment the records of a window, taking them
 * one at a time.  They sleep between windows rather than spin, so that
 * cnn-augment runs well beside the trainer it feeds. */
struct crew {
	pthread_mutex_t mu;
	pthread_cond_t start, finished;
	struct window *w;
	long pass;
	/* The window's size is copied here: a worker that wakes late, after
	 * the window was finished and freed, must find nothing left to take
	 * without looking at it. */
	int n, next, done, generation, quit;
};

static void augment_one(struct window *w, int i, long pass)
{
	const cnn_record *const *pool = (const cnn_record *const *)w->recs;

	w->done[i] = cnn_augment_record(chain, w->recs[i], record_seed(pass, w->first + i),
					pool, w->n);
	if (!w->done[i]) {
		free(w->err[i]);
		w->err[i] = strdup(cnn_errmsg());
	}
}

static void *worker(void *arg)
{
	struct crew *c = arg;
	int seen = 0;

	pthread_mutex_lock(&c->mu);
	for (;;) {
		while (c->generation == seen && !c->quit)
			pthread_cond_wait(&c->start, &c->mu);
		if (c->quit)
			break;
		seen = c->generation;
		while (c->next < c->n) {
			int i = c->next++;
			pthread_mutex_unlock(&c->mu);
			augment_one(c->w, i, c->pass);
			pthread_mutex_lock(&c->mu);
			if (++c->done == c->n)
				pthread_cond_signal(&c->finished);
		}
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

static void crew_start(struct crew *c, struct window *w, long pass)
{
	pthread_mutex_lock(&c->mu);
	c->w = w;
	c->n = w->n;
	c->pass = pass;
	c->next = c->done = 0;
	c->generation++;
	pthread_cond_broadcast(&c->start);
	pthread_mutex_unlock(&c->mu);
}

static void crew_wait(struct crew *c)
{
	pthread_mutex_lock(&c->mu);
	while (c->done < c->n)
		pthread_cond_wait(&c->finished, &c->mu);
	pthread_mutex_unlock(&c->mu);
}

/* One pass: while the workers augment one window, this thread writes the
 * window before it and reads the window after it.  The next window is
 * started only when this one has no failure, so that the program stops
 * (in window_write) with no worker busy. */
static void augment_pass(struct crew *c, tool_input *in, cnn_writer *out, cnn_writer *spool,
			 long pass, int argc, char **argv)
{
	struct window *cur = window_new((int)opt.window), *next = window_new((int)opt.window);

	window_read(cur, in, spool, 0, argc, argv);
	if (cur->n)
		crew_start(c, cur, pass);
	while (cur->n || cur->read_err) {
		struct window *t;
		next->n = 0;
		if (cur->n == cur->cap)
			window_read(next, in, spool, cur->first + cur->n, argc, argv);
		if (cur->n)
			crew_wait(c);
		if (next->n && window_first_failure(cur) == cur->n)
			crew_start(c, next, pass);
		window_write(cur, out);
		t = cur, cur = next, next = t;
	}
	window_free(cur);
	window_free(next);
}

static void crew_init(struct crew *c, pthread_t *tid, int n)
{
	memset(c, 0, sizeof *c);
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->start, NULL);
	pthread_cond_init(&c->finished, NULL);
	for (int i = 0; i < n; i++)
		if (pthread_create(&tid[i], NULL, worker, c))
			die("cannot start a thread");
}

static void crew_end(struct crew *c, pthread_t *tid, int n)
{
	pthread_mutex_lock(&c->mu);
	c->quit = 1;
	pthread_cond_broadcast(&c->start);
	pthread_mutex_unlock(&c->mu);
	for (int i = 0; i < n; i++)
		pthread_join(tid[i], NULL);
}

int main(int argc, char **argv)
{
	tool_input in;
	cnn_writer *out = NULL, *spool = NULL;
	cnn_image_stats st;
	struct crew crew;
	pthread_t *tid;
	int need_stats, reread, nthreads;

	tool_init("cnn-augment");
	parse_options(argc, argv);
	argc -= optind;
	argv += optind;
	need_stats = cnn_augment_needs_stats(chain) || opt.save_stats;
	if (opt.operations == 0 && !opt.save_stats)
		usage_error("no operation given");
	reread = rereadable(argc, argv);
	if (opt.stats) {
		load_stats(opt.stats, &st);
		if (cnn_augment_set_stats(chain, &st))
			die("%s: %s", opt.stats, cnn_errmsg());
		need_stats = 0;
	}
	if (need_stats) {
		open_pass(&in, 0, argc, argv);
		if (opt.operations && !reread)
			spool = open_spool();
		make_stats(&in, spool, &st);
		tool_input_close(&in);
		if (spool)
			tool_output_close(spool), spool = NULL;
		if (opt.save_stats)
			save_stats(opt.save_stats, &st);
		if (cnn_augment_set_stats(chain, &st))
			die_lib();
		if (opt.operations == 0)
			return 0;
	}
	nthreads = cnn_threads();
	if (!(tid = calloc(nthreads, sizeof *tid)))
		die("out of memory");
	crew_init(&crew, tid, nthreads);
	out = tool_output(opt.output, opt.level);
	for (long pass = 0; pass < opt.repeat; pass++) {
		/* The first pass over a pipe keeps a copy for the others. */
		int first_read = pass == 0 && !need_stats;
		open_pass(&in, need_stats ? 1 : (int)pass, argc, argv);
		if (first_read && opt.repeat > 1 && !reread)
			spool = open_spool();
		augment_pass(&crew, &in, out, spool, pass, argc, argv);
		tool_input_close(&in);
		if (spool)
			tool_output_close(spool), spool = NULL;
	}
	tool_output_close(out);
	crew_end(&crew, tid, nthreads);
	free(tid);
	cnn_augment_free(chain);
	return 0;
}
