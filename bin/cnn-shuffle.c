/*
 * cnn-shuffle - put the records of a stream in random order, in bounded
 * memory.
 *
 * Records are held in memory up to a limit.  Past it, every record goes to
 * one of BUCKETS temporary files chosen at random, and each file is then
 * shuffled in memory on its own: a uniform shuffle as long as one bucket,
 * about 1/BUCKETS of the stream, fits within the limit.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tool.h"

#define BUCKETS 64

static const char help[] =
	"Usage: cnn-shuffle [OPTION]... [FILE]...\n"
	"Write the records of the stream in FILEs (or standard input) in random order.\n\n"
	"  -S, --seed N       seed of the random order (default: from the clock)\n"
	"  -m, --memory MB    records to hold in memory before spilling to\n"
	"                     temporary files in $TMPDIR (default 1024); the order\n"
	"                     depends on it as well as on the seed\n"
	TOOL_OUTPUT_HELP TOOL_COMMON_HELP;

static struct {
	cnn_record **rec;
	int64_t n, cap;
	uint64_t bytes;
} held;

static char spill_dir[4096];
static char bucket_path[BUCKETS][4200];
static cnn_writer *bucket[BUCKETS];

static uint64_t record_bytes(const cnn_record *r)
{
	uint64_t b = sizeof *r;

	for (int i = 0; i < r->n; i++)
		b += sizeof *r->tensor[i] + cnn_tensor_bytes(r->tensor[i]);
	return b;
}

static void hold(cnn_record *r)
{
	if (held.n == held.cap) {
		held.cap = held.cap ? 2 * held.cap : 1024;
		held.rec = realloc(held.rec, held.cap * sizeof *held.rec);
		if (!held.rec)
			die("out of memory");
	}
	held.rec[held.n++] = r;
	held.bytes += record_bytes(r);
}

static void write_held(cnn_rng *rng, cnn_writer *wr)
{
	for (int64_t i = held.n - 1; i > 0; i--) {
		int64_t j = (int64_t)cnn_rng_below(rng, (uint64_t)i + 1);
		cnn_record *t = held.rec[i];
		held.rec[i] = held.rec[j];
		held.rec[j] = t;
	}
	for (int64_t i = 0; i < held.n; i++) {
		tool_write(wr, held.rec[i]);
		cnn_record_free(held.rec[i]);
	}
	held.n = 0;
	held.bytes = 0;
}

/* Safe in a signal handler: only unlink(2) and rmdir(2) on ready names. */
static void remove_spill(void)
{
	if (!spill_dir[0])
		return;
	for (int b = 0; b < BUCKETS; b++)
		unlink(bucket_path[b]);
	rmdir(spill_dir);
}

static void spill_record(cnn_rng *rng, cnn_record *r)
{
	int b = (int)cnn_rng_below(rng, BUCKETS);

	if (cnn_write(bucket[b], r))
		die_lib();
	cnn_record_free(r);
}

static void start_spilling(cnn_rng *rng)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(spill_dir, sizeof spill_dir, "%s/cnn-shuffle-XXXXXX", tmp ? tmp : "/tmp");
	if (!mkdtemp(spill_dir))
		die("cannot make a temporary folder in %s", tmp ? tmp : "/tmp");
	for (int b = 0; b < BUCKETS; b++)
		snprintf(bucket_path[b], sizeof bucket_path[b], "%s/%02d", spill_dir, b);
	/* A reader that goes away (SIGPIPE) or ^C must not leave the spill behind. */
	tool_cleanup(remove_spill);
	/* Raw buckets: a compressor per bucket would cost more memory than -m. */
	for (int b = 0; b < BUCKETS; b++)
		if (!(bucket[b] = cnn_writer_open(bucket_path[b], 0)))
			die_lib();
	for (int64_t i = 0; i < held.n; i++)
		spill_record(rng, held.rec[i]);
	held.n = 0;
	held.bytes = 0;
}

static void unspill(cnn_rng *rng, cnn_writer *wr)
{
	for (int b = 0; b < BUCKETS; b++) {
		cnn_reader *rd;
		cnn_record *r;
		int ret;
		if (cnn_writer_close(bucket[b]))
			die_lib();
		if (!(rd = cnn_reader_open(bucket_path[b])))
			die_lib();
		while ((r = cnn_record_new()) && (ret = cnn_read(rd, r)) == CNN_OK)
			hold(r);
		if (!r || ret == CNN_ERR)
			die_lib();
		cnn_record_free(r);
		cnn_reader_close(rd);
		unlink(bucket_path[b]);
		write_held(rng, wr);
	}
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"seed", required_argument, 0, 'S'},
		{"memory", required_argument, 0, 'm'},
		TOOL_OUTPUT_OPTIONS, TOOL_COMMON_OPTIONS, {0, 0, 0, 0}};
	uint64_t seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	uint64_t limit = (uint64_t)1024 << 20;
	const char *output = "-";
	int level = CNN_LEVEL_DEFAULT, c;
	cnn_writer *wr;
	cnn_record *r;
	tool_input in;
	cnn_rng rng;

	tool_init("cnn-shuffle");
	while ((c = getopt_long(argc, argv, "S:m:o:z:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'S': seed = (uint64_t)tool_long("--seed", optarg, 0, 1L << 62); break;
		case 'm': limit = (uint64_t)tool_long("--memory", optarg, 1, 1L << 30) << 20; break;
		case 'o': output = optarg; break;
		case 'z': level = (int)tool_long("--level", optarg, 0, 22); break;
		case 'h': tool_help(help);
		case 'V': tool_version();
		default: usage_error(NULL);
		}
	}
	cnn_rng_seed(&rng, seed);
	tool_input_init(&in, argc - optind, argv + optind);
	wr = tool_output(output, level);
	while ((r = cnn_record_new()) && tool_read(&in, r, 1)) {
		if (spill_dir[0]) {
			spill_record(&rng, r);
			continue;
		}
		hold(r);
		if (held.bytes > limit)
			start_spilling(&rng);
	}
	if (!r)
		die_lib();
	cnn_record_free(r);
	if (spill_dir[0])
		unspill(&rng, wr);
	else
		write_held(&rng, wr);
	tool_output_close(wr);
	free(held.rec);
	return 0;
}
