/*
 * tool.c - the shared skeleton of the cnn-* programs (see tool.h).
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "tool.h"

const char *tool_name = "cnn";
/* The open outputs, given up by die() (a named file stays as it was,
 * standard output keeps the records already written). */
#define MAX_OUTPUTS 4
static struct output {
	cnn_writer *stream; /* or */
	cnn_outfile *file;
} outputs[MAX_OUTPUTS];

static void (*cleanup)(void);
static const int fatal_signals[] = {SIGPIPE, SIGINT, SIGTERM, SIGHUP};
static int dying; /* die() has said what is wrong, standard output included */

/* A signal that ends us takes the temporary files with it. */
static void on_signal(int sig)
{
	cnn_outfile_cleanup();
	if (cleanup)
		cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Text written to standard output is only known to have arrived once it
 * is flushed: a full disk (`> /dev/full`) must not pass for success. */
static void check_stdout(void)
{
	int failed = fflush(stdout) != 0, err = errno;

	if (failed || ferror(stdout)) {
		fprintf(stderr, "%s: write error on standard output%s%s\n", tool_name,
			failed ? ": " : "", failed ? strerror(err) : "");
		_exit(1);
	}
}

/* The outputs' temporary files go first, so that a program's own cleanup
 * can remove the folder they were in. */
static void at_exit(void)
{
	cnn_outfile_cleanup();
	if (cleanup)
		cleanup();
	if (!dying)
		check_stdout();
}

void tool_init(const char *name)
{
	tool_name = name;
	atexit(at_exit);
	/* Writing into a closed pipe (`| head -c 1`) ends us quietly, as it
	 * should, also when SIGPIPE was inherited ignored; the others stay
	 * ignored where they were (nohup, a background job's SIGINT). */
	for (size_t i = 0; i < sizeof fatal_signals / sizeof *fatal_signals; i++) {
		struct sigaction old;
		sigaction(fatal_signals[i], NULL, &old);
		if (old.sa_handler != SIG_IGN || fatal_signals[i] == SIGPIPE)
			signal(fatal_signals[i], on_signal);
	}
	/* A file size limit (ulimit -f) then fails the write with EFBIG, which
	 * is reported, instead of killing us with half a temporary file. */
	signal(SIGXFSZ, SIG_IGN);
#ifdef __GLIBC__
	/* Records come one after another at much the same size: keep the
	 * memory of the last for the next, rather than hand its pages back to
	 * the kernel and fault them in again (glibc maps blocks of 128 KiB and
	 * more afresh each time, and trims the heaps of threads eagerly). */
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
#endif
}

void tool_cleanup(void (*remove)(void))
{
	cleanup = remove;
}

void tool_flush_stdout(void)
{
	if (fflush(stdout))
		die("write error on standard output: %s", strerror(errno));
}

static void vsay(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", tool_name);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(fmt, ap);
	va_end(ap);
	dying = 1;
	for (int i = 0; i < MAX_OUTPUTS; i++) {
		struct output out = outputs[i];
		outputs[i] = (struct output){0};
		cnn_writer_discard(out.stream);
		cnn_outfile_discard(out.file);
	}
	exit(1);
}

void die_lib(void)
{
	die("%s", cnn_errmsg());
}

void usage_error(const char *fmt, ...)
{
	va_list ap;

	/* NULL: getopt_long has already said what is wrong. */
	if (fmt) {
		va_start(ap, fmt);
		vsay(fmt, ap);
		va_end(ap);
	}
	fprintf(stderr, "Try '%s --help' for more information.\n", tool_name);
	exit(2);
}

void tool_help(const char *text)
{
	fputs(text, stdout);
	exit(0);
}

void tool_version(void)
{
	printf("%s (libcnn) %s\n", tool_name, CNN_VERSION);
	exit(0);
}

long tool_long(const char *opt, const char *arg, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < min || v > max)
		usage_error("%s: '%s' is not a whole number from %ld to %ld", opt, arg,
			    min, max);
	return v;
}

double tool_double(const char *opt, const char *arg, double min, double max)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end || !(v >= min && v <= max))
		usage_error("%s: '%s' is not a number from %g to %g", opt, arg, min, max);
	return v;
}

int tool_ints(const char *opt, const char *arg, int *v, int max, long min, long max_value)
{
	int n = 0;
	const char *p = arg;

	for (;;) {
		char *end;
		long x;

		errno = 0;
		x = strtol(p, &end, 10);
		if (errno || end == p || x < min || x > max_value || n == max)
			usage_error("%s: '%s' is not a list of at most %d numbers from %ld to %ld",
				    opt, arg, max, min, max_value);
		v[n++] = (int)x;
		if (*end == 0)
			return n;
		if (*end != ',' && *end != 'x')
			usage_error("%s: '%s' is not a list of at most %d numbers from %ld to %ld",
				    opt, arg, max, min, max_value);
		p = end + 1;
	}
}

/* ------------------------------------------- an output that is an input */

/* Writing FILE while reading it would destroy it (or, renamed over, the
 * data in it), so the same file on both sides is refused at once. */
#define MAX_INPUTS 16
static struct {
	char *const *paths;
	int n;
} inputs[MAX_INPUTS]; /* a tool_input's files, or one file named in an option */
static int ninputs;
static struct stat output_files[2 * MAX_OUTPUTS];
static const char *output_names[2 * MAX_OUTPUTS];
static int noutput_files;

static int same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

static void refuse_if_output(const char *input)
{
	struct stat st;

	if (strcmp(input, "-") == 0 || stat(input, &st) || !S_ISREG(st.st_mode))
		return;
	for (int i = 0; i < noutput_files; i++)
		if (same_file(&st, &output_files[i]))
			usage_error("%s is both an input and the output%s%s (write to "
				    "another file, then rename it)", input,
				    strcmp(input, output_names[i]) ? " " : "",
				    strcmp(input, output_names[i]) ? output_names[i] : "");
}

void tool_note_inputs(char *const *paths, int n)
{
	int known = 0;

	for (int i = 0; i < ninputs; i++)
		known |= inputs[i].paths == paths;
	/* A program that reads its inputs again (cnn-augment --repeat) has
	 * them noted once. */
	if (!known && ninputs < MAX_INPUTS) {
		inputs[ninputs].paths = paths;
		inputs[ninputs++].n = n;
	}
	for (int i = 0; i < n; i++)
		refuse_if_output(paths[i]);
}

void tool_note_input(const char *path)
{
	static char *paths[MAX_INPUTS];

	if (path && ninputs < MAX_INPUTS) {
		paths[ninputs] = (char *)path;
		tool_note_inputs(&paths[ninputs], 1);
	}
}

void tool_check_output(const char *path)
{
	struct stat st;

	if (strcmp(path, "-") == 0 || stat(path, &st) || !S_ISREG(st.st_mode))
		return;
	if (noutput_files < (int)(sizeof output_files / sizeof *output_files)) {
		output_files[noutput_files] = st;
		output_names[noutput_files++] = path;
	}
	for (int i = 0; i < ninputs; i++)
		for (int j = 0; j < inputs[i].n; j++) {
			struct stat ist;
			if (strcmp(inputs[i].paths[j], "-") && stat(inputs[i].paths[j], &ist) == 0 &&
			    same_file(&st, &ist))
				usage_error("%s is both an input and the output (write to "
					    "another file, then rename it)", path);
		}
}

void tool_input_init(tool_input *in, int argc, char **argv)
{
	static char *stdin_path[] = {"-"};

	memset(in, 0, sizeof *in);
	in->paths = argc > 0 ? argv : stdin_path;
	in->npaths = argc > 0 ? argc : 1;
	tool_note_inputs(in->paths, in->npaths);
}

int tool_try_read(tool_input *in, cnn_record *rec, int allow_empty)
{
	for (;;) {
		int ret;

		if (!in->rd) {
			if (in->next == in->npaths) {
				if (in->records == 0 && !allow_empty)
					return cnn_error("%s: empty input (no records)",
							 in->npaths == 1 && strcmp(in->paths[0], "-") == 0
								 ? "<stdin>" : in->paths[in->npaths - 1]);
				return 0;
			}
			in->rd = cnn_reader_open(in->paths[in->next++]);
			if (!in->rd)
				return CNN_ERR;
		}
		ret = cnn_read(in->rd, rec);
		if (ret == CNN_ERR)
			return CNN_ERR;
		if (ret == CNN_OK) {
			in->records++;
			return 1;
		}
		cnn_reader_close(in->rd);
		in->rd = NULL;
	}
}

int tool_read(tool_input *in, cnn_record *rec, int allow_empty)
{
	int ret = tool_try_read(in, rec, allow_empty);

	if (ret == CNN_ERR)
		die_lib();
	return ret;
}

void die_record(const tool_input *in, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (in->rd)
		die("%s record %lld: %s", cnn_reader_name(in->rd),
		    (long long)cnn_reader_count(in->rd), msg);
	die("%s", msg);
}

void tool_input_close(tool_input *in)
{
	cnn_reader_close(in->rd);
	in->rd = NULL;
}

/* ------------------------------------------------------------- outputs */

/* A free place in outputs[] for path, which may be written. */
static struct output *new_output(const char *path)
{
	for (int i = 0; i < MAX_OUTPUTS; i++)
		if (!outputs[i].stream && !outputs[i].file) {
			tool_check_output(path);
			return &outputs[i];
		}
	die("more than %d outputs", MAX_OUTPUTS);
}

/* Its place is freed: the output is closed by its owner. */
static void forget_output(const void *stream_or_file)
{
	for (int i = 0; i < MAX_OUTPUTS; i++)
		if ((const void *)outputs[i].stream == stream_or_file ||
		    (const void *)outputs[i].file == stream_or_file)
			outputs[i] = (struct output){0};
}

cnn_writer *tool_output(const char *path, int level)
{
	struct output *out = new_output(path);

	if (!(out->stream = cnn_writer_open(path, level)))
		die_lib();
	return out->stream;
}

void tool_write(cnn_writer *wr, const cnn_record *rec)
{
	if (cnn_write(wr, rec))
		die_lib();
}

void tool_output_close(cnn_writer *wr)
{
	forget_output(wr);
	if (cnn_writer_close(wr))
		die_lib();
}

FILE *tool_outfile(const char *path, cnn_outfile **o)
{
	struct output *out = new_output(path);

	if (!(*o = out->file = cnn_outfile_open(path, 0)))
		die_lib();
	return cnn_outfile_stream(*o);
}

void tool_outfile_commit(cnn_outfile *o)
{
	forget_output(o);
	if (cnn_outfile_commit(o))
		die_lib();
}

/* Does the name hold exactly one integer conversion (%d, %04d, ...)? */
int tool_is_pattern(const char *s)
{
	int conversions = 0;

	for (const char *p = s; (p = strchr(p, '%')); p++) {
		if (p[1] == '%') {
			p++;
			continue;
		}
		p += 1 + strspn(p + 1, "0123456789");
		if (*p != 'd')
			usage_error("--output %s: only %%d-style numbers may be used", s);
		conversions++;
	}
	if (conversions > 1)
		usage_error("--output %s: more than one number", s);
	return conversions == 1;
}

/* ------------------------------------------------------------------ NMS */

static cnn_nms_method soft_method(const char *arg)
{
	if (strcmp(arg, "linear") == 0)
		return CNN_NMS_LINEAR;
	if (strcmp(arg, "gaussian") == 0)
		return CNN_NMS_GAUSSIAN;
	usage_error("--soft: '%s' is not linear or gaussian", arg);
}

int tool_nms_option(int c, const char *arg, cnn_nms_opts *o)
{
	switch (c) {
	case 'i': o->iou = tool_double("--iou", arg, 0, 1); break;
	case 's': o->score = tool_double("--score", arg, -HUGE_VAL, HUGE_VAL); break;
	case 'c': o->agnostic = 1; break;
	case TOOL_NMS_SOFT: o->method = soft_method(arg); break;
	case TOOL_NMS_SIGMA: o->sigma = tool_double("--sigma", arg, 1e-6, 1e6); break;
	case TOOL_NMS_FINAL: o->final_score = tool_double("--final", arg, -HUGE_VAL, HUGE_VAL); break;
	case TOOL_NMS_DIOU: o->diou = 1; break;
	case TOOL_NMS_BETA: o->diou_beta = tool_double("--beta", arg, 1e-3, 1e3); break;
	case 'k': o->topk = tool_long("--topk", arg, 1, INT32_MAX); break;
	case TOOL_NMS_MAX: o->max = tool_long("--max", arg, 1, INT32_MAX); break;
	default: return 0;
	}
	return 1;
}

void tool_nms_check(const cnn_nms_opts *o)
{
	if (o->diou && o->method != CNN_NMS_GREEDY)
		usage_error("--diou is greedy NMS: not with --soft");
}
