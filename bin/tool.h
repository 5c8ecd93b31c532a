/*
 * tool.h - what every cnn-* program shares: its name in messages, the exit
 * statuses (0 ok, 1 bad data or failure, 2 bad usage), reading records from
 * the files named on the command line, and writing the output stream.
 */
#ifndef TOOL_H
#define TOOL_H

#include <getopt.h>

#include "cnn.h"

extern const char *tool_name;

/* Name the program and set up signals; call first in main(). */
void tool_init(const char *name);

/* Print "NAME: message" and exit 1, first closing the output stream so that
 * the records already written stay readable. */
void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
/* die() with the library's last message. */
void die_lib(void) __attribute__((noreturn));
/* A usage error: the message (none if fmt is NULL, after getopt_long's
 * own) and a pointer to --help, exit 2. */
void usage_error(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
/* --help and --version: print to stdout and exit 0. */
void tool_help(const char *text) __attribute__((noreturn));
void tool_version(void) __attribute__((noreturn));

/* Call remove (which must be async-signal-safe: unlink(2), rmdir(2)) at
 * exit and on SIGPIPE, SIGINT, SIGTERM and SIGHUP, so that temporary files
 * do not outlive a reader that went away or a ^C.  The outputs' temporary
 * files are removed then in any case. */
void tool_cleanup(void (*remove)(void));

/* Numbers from option arguments, range-checked (usage error otherwise). */
long tool_long(const char *opt, const char *arg, long min, long max);
double tool_double(const char *opt, const char *arg, double min, double max);
/* A list of up to max integers separated by commas or 'x'; returns count. */
int tool_ints(const char *opt, const char *arg, int *v, int max, long min, long max_value);

/* Does an output name hold one %d-style number (out-%04d.png)?  Any other
 * conversion, or two, is a usage error. */
int tool_is_pattern(const char *name);

/* The input: the files left on the command line, read one after another
 * as one stream, or standard input when there are none. */
typedef struct tool_input {
	char **paths;
	int npaths, next;
	cnn_reader *rd;
	int64_t records;
} tool_input;

void tool_input_init(tool_input *in, int argc, char **argv);
/* The next record: 1, or 0 at the end.  Dies on a read error and, unless
 * allow_empty, when the whole input holds no record. */
int tool_read(tool_input *in, cnn_record *rec, int allow_empty);
/* The same, but CNN_ERR (the message in cnn_errmsg()) instead of dying, for
 * a program that has records in hand to write first. */
int tool_try_read(tool_input *in, cnn_record *rec, int allow_empty);
/* die() with "FILE record N: " before the message. */
void die_record(const tool_input *in, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 2, 3)));
void tool_input_close(tool_input *in);

/* An input file named in an option (-v FILE, --init MODEL): no output may
 * be the same file.  tool_input_init notes its files itself. */
void tool_note_input(const char *path);
void tool_note_inputs(char *const *paths, int n);
/* Refuse (exit 2) an output that is the same file as a noted input; done by
 * tool_output and tool_outfile, and early by programs that write late. */
void tool_check_output(const char *path);

/* An output stream ("-" is standard output), written to a temporary file
 * and put in place by tool_output_close; die() leaves a named file as it
 * was and ends standard output after the records written. */
cnn_writer *tool_output(const char *path, int level);
void tool_write(cnn_writer *wr, const cnn_record *rec);
void tool_output_close(cnn_writer *wr);
/* Any other named output file (text, pictures): the same rules. */
FILE *tool_outfile(const char *path, cnn_outfile **o);
void tool_outfile_commit(cnn_outfile *o);

/* Standard output is checked at exit (a failed write there is reported and
 * exits 1); a program that logs for long flushes with this, which dies at
 * the first failure. */
void tool_flush_stdout(void);

/* cnn-nms's options of NMS, for every program that runs it: -i T and -s T
 * (each program's help gives their defaults), then TOOL_NMS_HELP's.
 * tool_nms_option() applies option c (0 when it is not one of these), and
 * tool_nms_check() refuses what does not go together. */
enum { TOOL_NMS_SOFT = 0x300, TOOL_NMS_SIGMA, TOOL_NMS_FINAL, TOOL_NMS_DIOU, TOOL_NMS_BETA,
       TOOL_NMS_MAX };
#define TOOL_NMS_OPTIONS \
	{"iou", required_argument, 0, 'i'}, {"score", required_argument, 0, 's'}, \
	{"class-agnostic", no_argument, 0, 'c'}, {"soft", required_argument, 0, TOOL_NMS_SOFT}, \
	{"sigma", required_argument, 0, TOOL_NMS_SIGMA}, \
	{"final", required_argument, 0, TOOL_NMS_FINAL}, \
	{"diou", no_argument, 0, TOOL_NMS_DIOU}, {"beta", required_argument, 0, TOOL_NMS_BETA}, \
	{"topk", required_argument, 0, 'k'}, {"max", required_argument, 0, TOOL_NMS_MAX}
#define TOOL_NMS_SHORT "i:s:ck:"
#define TOOL_NMS_HELP \
	"  -c, --class-agnostic  one NMS over all classes (default: one per class)\n" \
	"      --soft linear|gaussian  soft-NMS: decay the scores of overlapping boxes\n" \
	"                        (by 1 - IoU past the IoU threshold, or by\n" \
	"                        exp(-IoU^2 / sigma)) instead of dropping them\n" \
	"      --sigma S         Gaussian soft-NMS's sigma (default 0.5)\n" \
	"      --final T         soft-NMS: then drop boxes decayed below T (default 0.001)\n" \
	"      --diou            greedy NMS by DIoU: IoU less (d / c)^2, d the distance of\n" \
	"                        the centres, c the diagonal of the box enclosing both\n" \
	"      --beta B          DIoU's penalty to the power B (default 1; darknet 0.6)\n" \
	"  -k, --topk K          only the K best boxes enter NMS (default: all)\n"
int tool_nms_option(int c, const char *arg, cnn_nms_opts *o);
void tool_nms_check(const cnn_nms_opts *o);

/* Options every stream-writing program takes: -o FILE and -z LEVEL. */
#define TOOL_OUTPUT_OPTIONS \
	{"output", required_argument, 0, 'o'}, {"level", required_argument, 0, 'z'}
#define TOOL_OUTPUT_HELP \
	"  -o, --output FILE  write the stream to FILE (default: standard output)\n" \
	"  -z, --level N      zstd level 1..22, 0 for uncompressed (default 3)\n"
#define TOOL_COMMON_OPTIONS \
	{"help", no_argument, 0, 'h'}, {"version", no_argument, 0, 'V'}
#define TOOL_COMMON_HELP \
	"  -h, --help         show this help\n" \
	"  -V, --version      show the version\n"

#endif
