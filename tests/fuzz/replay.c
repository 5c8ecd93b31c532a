/*
 * replay.c - a fuzz harness without libFuzzer: run LLVMFuzzerTestOneInput
 * on saved inputs, one TAP line each, so that the corpus and the
 * reproducers of fixed findings are tests under any compiler.
 *
 *   test_fuzz_NAME [FILE|DIR]...
 *
 * With no arguments, as scripts/run-tests runs it from the top of the
 * tree: tests/fuzz/corpus/NAME/ and tests/fuzz/regress/NAME/ (which may
 * not exist yet), NAME taken from the program's own name.  An input that
 * crashes stops the program, which the test run counts as a failure.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "tap.h"

#define PREFIX "test_fuzz_"

static const char *harness;

static void replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	unsigned char *data = NULL;
	size_t len = 0, cap = 0, n;

	if (!f) {
		tap_ok(0, "replay %s %s: %s", harness, path, strerror(errno));
		return;
	}
	do {
		if (len == cap && !(data = realloc(data, cap = cap ? 2 * cap : 4096))) {
			perror("replay");
			exit(1);
		}
		n = fread(data + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	int bad = ferror(f);
	fclose(f);
	if (bad) {
		tap_ok(0, "replay %s %s: read error", harness, path);
	} else {
		/* The harness has no verdict of its own: returning is passing. */
		LLVMFuzzerTestOneInput(data, len);
		tap_ok(1, "replay %s %s", harness, path);
	}
	free(data);
}

static int not_hidden(const struct dirent *e)
{
	return e->d_name[0] != '.';
}

/* Every file of a folder, in name order so that runs compare. */
static void replay_dir(const char *dir)
{
	struct dirent **e;
	int n = scandir(dir, &e, not_hidden, alphasort);

	if (n < 0) {
		tap_ok(0, "replay %s %s: %s", harness, dir, strerror(errno));
		return;
	}
	for (int i = 0; i < n; i++) {
		char path[4096];
		struct stat st;

		snprintf(path, sizeof path, "%s/%s", dir, e[i]->d_name);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
			replay_file(path);
		free(e[i]);
	}
	free(e);
}

static void replay(const char *path)
{
	struct stat st;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		replay_dir(path);
	else
		replay_file(path);
}

int main(int argc, char **argv)
{
	const char *base = strrchr(argv[0], '/');
	char dir[4096];
	struct stat st;

	base = base ? base + 1 : argv[0];
	harness = strncmp(base, PREFIX, strlen(PREFIX)) == 0 ? base + strlen(PREFIX) : base;
	LLVMFuzzerInitialize(&argc, &argv);
	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			replay(argv[i]);
		return tap_done();
	}
	snprintf(dir, sizeof dir, "tests/fuzz/corpus/%s", harness);
	replay_dir(dir);
	snprintf(dir, sizeof dir, "tests/fuzz/regress/%s", harness);
	if (stat(dir, &st) == 0)
		replay_dir(dir);
	return tap_done();
}
