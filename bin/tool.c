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

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "tool.h"

const char *tool_name = "cnn";
/* The open output streams, closed by die() so that what they hold stays
 * readable. */
#define MAX_OUTPUTS 4
static cnn_writer *outputs[MAX_OUTPUTS];

void tool_init(const char *name)
{
	tool_name = name;
	/* Writing into a closed pipe (`| head -c 1`) ends us quietly, as it
	 * should: undo an inherited SIG_IGN. */
	signal(SIGPIPE, SIG_DFL);
#ifdef __GLIBC__
	/* Records come one after another at much the same size: keep the
	 * memory of the last for the next, rather than hand its pages back to
	 * the kernel and fault them in again (glibc maps blocks of 128 KiB and
	 * more afresh each time, and trims the heaps of threads eagerly). */
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
#endif
}

static void (*cleanup)(void);

static void on_signal(int sig)
{
	cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

void tool_cleanup(void (*remove)(void))
{
	static const int signals[] = {SIGPIPE, SIGINT, SIGTERM, SIGHUP};

	cleanup = remove;
	atexit(remove);
	for (size_t i = 0; i < sizeof signals / sizeof *signals; i++)
		signal(signals[i], on_signal);
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
	for (int i = 0; i < MAX_OUTPUTS; i++) {
		cnn_writer *wr = outputs[i];
		outputs[i] = NULL;
		cnn_writer_close(wr);
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

void tool_input_init(tool_input *in, int argc, char **argv)
{
	static char *stdin_path[] = {"-"};

	memset(in, 0, sizeof *in);
	in->paths = argc > 0 ? argv : stdin_path;
	in->npaths = argc > 0 ? argc : 1;
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

cnn_writer *tool_output(const char *path, int level)
{
	cnn_writer *wr = cnn_writer_open(path, level);
	int i = 0;

	if (!wr)
		die_lib();
	while (i < MAX_OUTPUTS && outputs[i])
		i++;
	if (i == MAX_OUTPUTS)
		die("more than %d output streams", MAX_OUTPUTS);
	outputs[i] = wr;
	return wr;
}

void tool_write(cnn_writer *wr, const cnn_record *rec)
{
	if (cnn_write(wr, rec))
		die_lib();
}

void tool_output_close(cnn_writer *wr)
{
	for (int i = 0; i < MAX_OUTPUTS; i++)
		if (outputs[i] == wr)
			outputs[i] = NULL;
	if (cnn_writer_close(wr))
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

