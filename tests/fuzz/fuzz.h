/*
 * fuzz.h - what the fuzz harnesses share.  Each tests/fuzz/NAME.c is one
 * libFuzzer target (LLVMFuzzerTestOneInput) for one of libcnn's readers;
 * fuzz.c sets the limits a careful user would set, and gives the readers
 * that want a path a file holding the input.  The same harnesses replay
 * saved inputs without libFuzzer through replay.c.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);

/* CNN_MAX_TENSOR_BYTES for the harness, "67108864" (64 MiB) unless it
 * defines its own. */
extern const char *fuzz_tensor_cap;
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The path of a file that holds exactly data[0..size), rewritten at each
 * call (one file per process, in memory). */
const char *fuzz_file(const void *data, size_t size);

/* Make file descriptor number (3..FUZZ_FD_MAX) a file holding exactly
 * data[0..size), /proc/self/fd/NUMBER: a second file at a name the input
 * can give, for readers that open files another file names (a TF.js
 * manifest's shards, beside fuzz_file's in /proc/self/fd/). */
#define FUZZ_FD_MAX 255
void fuzz_fd(int number, const void *data, size_t size);

/* A NUL-terminated copy of the input, for readers of strings; the caller
 * frees it. */
char *fuzz_string(const uint8_t *data, size_t size);

#endif
