/*
 * test_stream.c - the tensor stream: round trips of every dtype, raw and
 * compressed, concatenation, and rejection of every kind of bad input.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cnn.h"
#include "tap.h"

static char dir[] = "/tmp/cnn-test-stream-XXXXXX";

static const char *path(const char *name)
{
	static char buf[8][256];
	static int i;
	i = (i + 1) % 8;
	snprintf(buf[i], sizeof buf[i], "%s/%s", dir, name);
	return buf[i];
}

/* A record whose tensors depend on i, one of every dtype. */
static cnn_record *make_record(int i)
{
	cnn_record *r = cnn_record_new();
	int64_t dim[3] = {3, 5 + i % 3, 7};
	cnn_tensor *img = cnn_tensor_new("image", CNN_U8, 3, dim);
	for (int64_t k = 0; k < cnn_tensor_count(img); k++)
		((uint8_t *)img->data)[k] = (uint8_t)(k * 7 + i);
	cnn_record_put(r, img);
	for (int t = 1; t <= CNN_DTYPE_MAX; t++) {
		char name[16];
		int64_t n = 4 + t;
		snprintf(name, sizeof name, "t%d", t);
		cnn_tensor *x = cnn_tensor_new(name, t, 1, &n);
		for (int64_t k = 0; k < n; k++)
			cnn_tensor_set(x, k, t == CNN_F32 || t == CNN_F64 ? (k - 2) * 0.25 + i : k + i);
		cnn_record_put(r, x);
	}
	cnn_tensor *label = cnn_tensor_new("label", CNN_I32, 0, NULL);
	((int32_t *)label->data)[0] = i % 10;
	cnn_record_put(r, label);
	return r;
}

static int same_record(const cnn_record *a, const cnn_record *b)
{
	if (a->n != b->n)
		return 0;
	for (int i = 0; i < a->n; i++) {
		const cnn_tensor *x = a->tensor[i], *y = b->tensor[i];
		if (strcmp(x->name, y->name) || x->dtype != y->dtype || x->ndim != y->ndim ||
		    memcmp(x->dim, y->dim, x->ndim * sizeof *x->dim) ||
		    memcmp(x->data, y->data, cnn_tensor_bytes(x)))
			return 0;
	}
	return 1;
}

static int write_stream(const char *p, int level, int first, int count)
{
	cnn_writer *wr = cnn_writer_open(p, level);
	int ok = wr != NULL;
	for (int i = first; ok && i < first + count; i++) {
		cnn_record *r = make_record(i);
		ok = cnn_write(wr, r) == CNN_OK;
		cnn_record_free(r);
	}
	return cnn_writer_close(wr) == CNN_OK && ok;
}

/* Read a stream and compare with records first..; returns the count read
 * or -1 on a mismatch or error. */
static int check_stream(const char *p, int first)
{
	cnn_reader *rd = cnn_reader_open(p);
	cnn_record *got = cnn_record_new();
	int n = 0, ret;
	if (!rd)
		return -1;
	while ((ret = cnn_read(rd, got)) == CNN_OK) {
		cnn_record *want = make_record(first + n);
		int same = same_record(got, want);
		cnn_record_free(want);
		if (!same) {
			n = -1;
			break;
		}
		n++;
	}
	if (ret == CNN_ERR)
		n = -1;
	cnn_record_free(got);
	cnn_reader_close(rd);
	return n;
}

static void run(const char *cmd)
{
	if (system(cmd) != 0)
		tap_ok(0, "command failed: %s", cmd);
}

/* The error cnn_read gives on a file, or "" if it reads cleanly. */
static const char *read_error(const char *p)
{
	static char msg[1024];
	cnn_reader *rd = cnn_reader_open(p);
	cnn_record *r = cnn_record_new();
	int ret;
	msg[0] = 0;
	while ((ret = cnn_read(rd, r)) == CNN_OK)
		;
	if (ret == CNN_ERR)
		snprintf(msg, sizeof msg, "%s", cnn_errmsg());
	cnn_record_free(r);
	cnn_reader_close(rd);
	return msg;
}

static void write_bytes(const char *p, const void *data, size_t n)
{
	FILE *f = fopen(p, "wb");
	fwrite(data, 1, n, f);
	fclose(f);
}

static void expect_error(const char *p, const char *want, const char *what)
{
	const char *msg = read_error(p);
	tap_ok(strstr(msg, want) != NULL, "%s: \"%s\"", what, msg);
}

/* Scalars keep all 64 bits of an i64; others are converted, and what is
 * not a numeric scalar reads as 0. */
static void test_scalars(void)
{
	cnn_record *r = cnn_record_new();
	int64_t three = 3;
	cnn_tensor *f = cnn_tensor_new("f", CNN_F32, 0, NULL), *v = cnn_tensor_new("v", CNN_I32, 1, &three);

	cnn_tensor_set(f, 0, -7.75);
	cnn_record_put(r, f);
	cnn_record_put(r, v);
	tap_ok(cnn_record_put_i64(r, "big", INT64_MAX - 1) == CNN_OK &&
	       cnn_record_put_f64(r, "x", 0.1) == CNN_OK && cnn_record_put_f64(r, "huge", 1e300) == CNN_OK &&
	       cnn_record_put_f64(r, "nan", NAN) == CNN_OK, "scalars put");
	tap_ok(cnn_record_i64(r, "big") == INT64_MAX - 1, "an i64 scalar reads back exactly");
	tap_ok(cnn_record_f64(r, "x") == 0.1 && cnn_record_i64(r, "f") == -7 &&
	       cnn_record_f64(r, "f") == -7.75, "other dtypes are converted");
	tap_ok(cnn_record_i64(r, "huge") == INT64_MAX && cnn_record_i64(r, "nan") == 0,
	       "out of range saturates, NaN is 0");
	tap_ok(cnn_record_i64(r, "v") == 0 && cnn_record_i64(r, "absent") == 0 &&
	       cnn_record_i64(NULL, "big") == 0, "a vector, an absent name, no record: 0");
	tap_ok(cnn_record_put_i64(r, "big", 5) == CNN_OK && cnn_record_i64(r, "big") == 5 && r->n == 6,
	       "putting a name again replaces it");
	cnn_record_free(r);
}

int main(void)
{
	char cmd[1024];

	test_scalars();

	if (!mkdtemp(dir))
		return 1;

	for (int level = 0; level <= 19; level += 19) {
		tap_ok(write_stream(path("a"), level, 0, 50), "write 50 records at level %d", level);
		tap_ok(check_stream(path("a"), 0) == 50, "read them back identical (level %d)", level);
	}
	tap_ok(write_stream(path("raw"), 0, 0, 20) && write_stream(path("z1"), 3, 20, 20) &&
	       write_stream(path("z2"), 1, 40, 20), "write raw and compressed parts");
	snprintf(cmd, sizeof cmd, "cat %s %s %s %s > %s", path("z1"), path("raw"), path("z2"),
		 path("raw"), path("mix"));
	run(cmd);
	{
		/* Order in the file: 20..39, 0..19, 40..59, 0..19. */
		cnn_reader *rd = cnn_reader_open(path("mix"));
		cnn_record *got = cnn_record_new();
		int n = 0, ok = 1, ret;
		while ((ret = cnn_read(rd, got)) == CNN_OK) {
			int i = n < 20 ? 20 + n : n < 40 ? n - 20 : n < 60 ? n : n - 60;
			cnn_record *want = make_record(i);
			ok &= same_record(got, want);
			cnn_record_free(want);
			n++;
		}
		tap_ok(ok && n == 80 && ret == CNN_END, "cat of compressed and raw streams reads as one (%d records)", n);
		cnn_record_free(got);
		cnn_reader_close(rd);
	}

	/* A record beyond the frame limit of the writer spans several frames. */
	{
		cnn_writer *wr = cnn_writer_open(path("big"), 1);
		cnn_record *r = cnn_record_new();
		int64_t dim[1] = {3 << 20};
		cnn_tensor *t = cnn_tensor_new("x", CNN_F32, 1, dim);
		for (int64_t i = 0; i < dim[0]; i++)
			((float *)t->data)[i] = (float)(i % 1000);
		cnn_record_put(r, t);
		for (int i = 0; i < 3; i++)
			cnn_write(wr, r);
		tap_ok(cnn_writer_close(wr) == CNN_OK, "write three 12 MB records");
		cnn_reader *rd = cnn_reader_open(path("big"));
		cnn_record *got = cnn_record_new();
		int n = 0;
		while (cnn_read(rd, got) == CNN_OK)
			n += same_record(got, r);
		tap_ok(n == 3, "read the three large records back");
		cnn_reader_close(rd);
		cnn_record_free(got);
		cnn_record_free(r);
	}

	/* Bad inputs. */
	write_bytes(path("empty"), "", 0);
	{
		cnn_reader *rd = cnn_reader_open(path("empty"));
		cnn_record *r = cnn_record_new();
		tap_ok(cnn_read(rd, r) == CNN_END, "an empty file is an empty stream");
		cnn_reader_close(rd);
		rd = cnn_reader_open(path("empty"));
		tap_ok(cnn_read_first(rd, r) == CNN_ERR && strstr(cnn_errmsg(), "empty input"),
		       "cnn_read_first rejects it: \"%s\"", cnn_errmsg());
		cnn_reader_close(rd);
		cnn_record_free(r);
	}
	{
		unsigned char junk[5000];
		srand(1);
		for (size_t i = 0; i < sizeof junk; i++)
			junk[i] = (unsigned char)rand();
		write_bytes(path("junk"), junk, sizeof junk);
		expect_error(path("junk"), "record 1: not a tensor stream (bad magic)", "random bytes");
	}
	write_stream(path("one"), 0, 0, 3);
	snprintf(cmd, sizeof cmd, "head -c 700 %s > %s", path("one"), path("cut"));
	run(cmd);
	expect_error(path("cut"), "record 2: truncated record", "a raw stream cut short");
	write_stream(path("onez"), 3, 0, 30);
	snprintf(cmd, sizeof cmd, "head -c 500 %s > %s", path("onez"), path("cutz"));
	run(cmd);
	expect_error(path("cutz"), "truncated", "a compressed stream cut short");
	snprintf(cmd, sizeof cmd, "cp %s %s && printf 'XXXX' | dd of=%s bs=1 seek=100 conv=notrunc 2>/dev/null",
		 path("onez"), path("badz"), path("badz"));
	run(cmd);
	expect_error(path("badz"), "corrupt compressed data", "garbage inside a zstd frame");

	/* Hand-made headers. */
	{
		unsigned char rec[64] = "CNNR\2\0\1\0";
		write_bytes(path("ver"), rec, 16);
		expect_error(path("ver"), "stream version 2.0", "an unknown major version");
		memcpy(rec, "CNNR\1\0\1\0\x0c\0\0\0\0\0\0\0" "\x09\1\1\0x\1\0\0\0\0\0\0\0", 28);
		write_bytes(path("dtype"), rec, 28);
		expect_error(path("dtype"), "unknown dtype 9", "an unknown dtype");
		memcpy(rec, "CNNR\1\0\1\0\x19\0\0\0\0\0\0\0" "\x05\2\1\0x" "\0\0\0\0\0\0\0\x40" "\0\0\0\0\0\0\0\x40", 37);
		write_bytes(path("huge"), rec, 37);
		expect_error(path("huge"), "shape too large", "a shape whose size overflows");
		memcpy(rec, "CNNR\1\0\1\0\x0d\0\0\0\0\0\0\0" "\x05\1\1\0x" "\0\0\0\0\0\0\x01\0", 29);
		write_bytes(path("limit"), rec, 29);
		cnn_set_max_tensor_bytes(1 << 20);
		expect_error(path("limit"), "over 1048576 bytes", "a tensor over the size limit");
		cnn_set_max_tensor_bytes(0);
		memcpy(rec, "CNNR\1\0\1\0\x05\0\0\0\0\0\0\0" "\x05\1\1\0x" "\4\0\0\0\0\0\0\0", 29);
		write_bytes(path("body"), rec, 29);
		expect_error(path("body"), "runs past the end of its record", "a body length that lies");
	}
	{
		cnn_writer *wr = cnn_writer_open(path("bad"), 99);
		tap_ok(wr == NULL && strstr(cnn_errmsg(), "compression level 99"),
		       "level 99 is refused: \"%s\"", cnn_errmsg());
	}

	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	run(cmd);
	return tap_done();
}
