/*
 * fuzz.c - the setup and the input file that every harness shares.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cnn.h"
#include "fuzz.h"

/* A harness whose every byte of input can cost many operations per pixel
 * (augment.c) defines a smaller cap of its own. */
__attribute__((weak)) const char *fuzz_tensor_cap = "67108864";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	/* A user who reads untrusted files caps a tensor's size; 64 MiB keeps
	 * every legitimate allocation far below the fuzzer's memory limits, so
	 * that only what the header claims beyond it can reach them.  A value
	 * already in the environment wins. */
	setenv("CNN_MAX_TENSOR_BYTES", fuzz_tensor_cap, 0);
	/* One thread: the inputs are small, and a crash replays the same. */
	cnn_set_threads(1);
	return 0;
}

static void fill(int fd, const void *data, size_t size)
{
	const char *p = data;

	if (ftruncate(fd, 0) != 0) {
		perror("ftruncate");
		abort();
	}
	for (size_t done = 0; done < size;) {
		ssize_t n = pwrite(fd, p + done, size - done, (off_t)done);
		if (n <= 0) {
			perror("pwrite");
			abort();
		}
		done += (size_t)n;
	}
}

static int new_memfd(void)
{
	int fd = memfd_create("fuzz-input", 0);

	if (fd < 0) {
		perror("memfd_create");
		abort();
	}
	return fd;
}

const char *fuzz_file(const void *data, size_t size)
{
	static int fd = -1;
	static char path[64];

	/* A memfd reopened through /proc is a fresh file description at
	 * offset 0 each time a reader opens it, and nothing is left on disk
	 * when the fuzzer is killed. */
	if (fd < 0) {
		fd = new_memfd();
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	}
	fill(fd, data, size);
	return path;
}

void fuzz_fd(int number, const void *data, size_t size)
{
	static int made[FUZZ_FD_MAX + 1];

	if (number < 3 || number > FUZZ_FD_MAX)
		abort();
	if (!made[number]) {
		int fd = new_memfd();
		if (dup2(fd, number) < 0) {
			perror("dup2");
			abort();
		}
		close(fd);
		made[number] = 1;
	}
	fill(number, data, size);
}

char *fuzz_string(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = 0;
	return s;
}
