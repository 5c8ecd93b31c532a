/*
 * test_arrayfile.c - IDX and .npy reading, .npy writing.
 *
 * Files are made here byte by byte, so that each one holds exactly what
 * the check is about; MNIST's own files are read too when installed.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <zlib.h>

#include "cnn.h"
#include "tap.h"

#define FASHION "/usr/share/datasets/fashion-mnist/"

static char *temp_path(void)
{
	static char path[64];
	int fd;

	strcpy(path, "/tmp/test_arrayfileXXXXXX");
	fd = mkstemp(path);
	if (fd >= 0)
		close(fd);
	return path;
}

static char *write_file(const void *data, size_t n)
{
	char *path = temp_path();
	FILE *f = fopen(path, "wb");

	fwrite(data, 1, n, f);
	fclose(f);
	return path;
}

static char *write_gz(const void *data, size_t n)
{
	char *path = temp_path();
	gzFile gz = gzopen(path, "wb");

	gzwrite(gz, data, (unsigned)n);
	gzclose(gz);
	return path;
}

/* A .npy file of the given header dict, in format version major. */
static char *write_npy(int major, const char *dict, const void *data, size_t n)
{
	unsigned char buf[4096];
	size_t len = strlen(dict), pre = major == 1 ? 10 : 12;

	memcpy(buf, "\x93NUMPY", 6);
	buf[6] = (unsigned char)major;
	buf[7] = 0;
	for (size_t i = 0; i < pre - 8; i++)
		buf[8 + i] = (unsigned char)((len + 1) >> (8 * i));
	memcpy(buf + pre, dict, len);
	buf[pre + len] = '\n';
	memcpy(buf + pre + len + 1, data, n);
	return write_file(buf, pre + len + 1 + n);
}

static int contains(const char *s, const char *part)
{
	return strstr(s, part) != NULL;
}

/* Read every item of path; they must be of dtype, ndim item_ndim, and
 * hold want (as doubles) one after another. */
static int read_all(const char *path, cnn_dtype dtype, int item_ndim, const double *want,
		    int64_t nwant)
{
	cnn_array_reader *ar = cnn_array_open(path);
	cnn_tensor *t;
	int64_t k = 0;
	int rc, ok = ar != NULL;

	while (ok && (rc = cnn_array_read(ar, "x", &t)) == CNN_OK) {
		ok = t->dtype == dtype && t->ndim == item_ndim && strcmp(t->name, "x") == 0;
		for (int64_t i = 0; ok && i < cnn_tensor_count(t); i++, k++)
			ok = k < nwant && (cnn_tensor_get(t, i) == want[k] ||
					   (isnan(want[k]) && isnan(cnn_tensor_get(t, i))));
		cnn_tensor_free(t);
	}
	ok = ok && rc == CNN_END && k == nwant;
	cnn_array_close(ar);
	return ok;
}

/* The message of the first failure reading path, or "" if none. */
static const char *read_error(const char *path)
{
	cnn_array_reader *ar = cnn_array_open(path);
	cnn_tensor *t;
	int rc;

	if (!ar)
		return cnn_errmsg();
	while ((rc = cnn_array_read(ar, "x", &t)) == CNN_OK)
		cnn_tensor_free(t);
	cnn_array_close(ar);
	return rc == CNN_ERR ? cnn_errmsg() : "";
}

/* ---------------------------------------------------------------- MNIST */

static void test_fashion_labels(void)
{
	const char *path = FASHION "t10k-labels-idx1-ubyte.gz";
	int64_t per_class[10] = {0}, n = 0;
	cnn_array_reader *ar;
	cnn_tensor *t;
	int ok = 1, rc;

	if (access(path, R_OK)) {
		tap_ok(1, "# SKIP %s is not installed", path);
		return;
	}
	ar = cnn_array_open(path);
	tap_ok(ar && cnn_array_count(ar) == 10000, "fashion-mnist test labels: 10000 items");
	while (ar && (rc = cnn_array_read(ar, "label", &t)) == CNN_OK) {
		int v = (int)cnn_tensor_get(t, 0);

		ok = ok && t->dtype == CNN_U8 && t->ndim == 0 && v >= 0 && v <= 9;
		per_class[v < 0 || v > 9 ? 0 : v]++;
		n++;
		cnn_tensor_free(t);
	}
	for (int i = 0; i < 10; i++)
		ok = ok && per_class[i] == 1000;
	tap_ok(ok && n == 10000 && rc == CNN_END,
	       "labels are u8 scalars 0..9, 1000 of each, then the end");
	tap_ok(ar && cnn_array_read(ar, "label", &t) == CNN_END && !t, "the end stays the end");
	cnn_array_close(ar);
}

static void test_fashion_images(void)
{
	const char *path = FASHION "t10k-images-idx3-ubyte.gz";
	cnn_array_reader *ar;
	cnn_tensor *t;
	int64_t n = 0;
	int ok = 1, rc;

	if (access(path, R_OK)) {
		tap_ok(1, "# SKIP %s is not installed", path);
		return;
	}
	ar = cnn_array_open(path);
	while (ar && (rc = cnn_array_read(ar, "image", &t)) == CNN_OK) {
		ok = ok && t->dtype == CNN_U8 && t->ndim == 2 && t->dim[0] == 28 &&
		     t->dim[1] == 28;
		n++;
		cnn_tensor_free(t);
	}
	tap_ok(ok && n == 10000 && rc == CNN_END, "fashion-mnist test images: 10000 u8 28x28");
	cnn_array_close(ar);
}

/* ------------------------------------------------------------------ IDX */

static void test_idx(void)
{
	static const unsigned char i16[] = {0, 0, 0x0b, 3, 0, 0, 0, 3, 0, 0, 0, 1, 0, 0, 0, 2,
					    0x00, 0x01, 0xff, 0xff, 0x80, 0x00, 0x7f, 0xff,
					    0x01, 0x00, 0xff, 0x00};
	static const unsigned char i8[] = {0, 0, 0x09, 1, 0, 0, 0, 3, 0x80, 0x7f, 0xff};
	static const unsigned char f32[] = {0, 0, 0x0d, 2, 0, 0, 0, 2, 0, 0, 0, 1,
					    0x3f, 0xc0, 0, 0, 0xc1, 0x20, 0, 0};
	static const unsigned char f64[] = {0, 0, 0x0e, 1, 0, 0, 0, 1,
					    0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18};
	static const unsigned char i32[] = {0, 0, 0x0c, 1, 0, 0, 0, 2,
					    0xff, 0xff, 0xff, 0xfe, 0x00, 0x01, 0x00, 0x00};
	double w16[] = {1, -1, -32768, 32767, 256, -256}, w8[] = {-128, 127, -1};
	char *p;

	p = write_file(i16, sizeof i16);
	tap_ok(read_all(p, CNN_I32, 2, w16, 6), "IDX int16 3x1x2, big-endian, becomes i32 1x2");
	unlink(p);
	p = write_gz(i16, sizeof i16);
	tap_ok(read_all(p, CNN_I32, 2, w16, 6), "the same file gzipped");
	unlink(p);
	p = write_file(i8, sizeof i8);
	tap_ok(read_all(p, CNN_I32, 0, w8, 3), "IDX int8 becomes i32 scalars");
	unlink(p);
	p = write_file(f32, sizeof f32);
	tap_ok(read_all(p, CNN_F32, 1, (double[]){1.5, -10}, 2), "IDX float32");
	unlink(p);
	p = write_file(f64, sizeof f64);
	tap_ok(read_all(p, CNN_F64, 0, (double[]){3.141592653589793}, 1), "IDX float64");
	unlink(p);
	p = write_file(i32, sizeof i32);
	tap_ok(read_all(p, CNN_I32, 0, (double[]){-2, 65536}, 2), "IDX int32");
	unlink(p);
}

static void test_idx_bad(void)
{
	unsigned char u8[4 + 8 + 12 + 1] = {0, 0, 0x08, 2, 0, 0, 0, 4, 0, 0, 0, 3};
	char msg[256], *p;

	p = write_file(u8, 4 + 8 + 10);
	snprintf(msg, sizeof msg, "%s: item 3: truncated", p);
	tap_ok(strcmp(read_error(p), msg) == 0, "a truncated IDX fails at its last item: %s",
	       cnn_errmsg());
	unlink(p);
	p = write_gz(u8, 4 + 8 + 10);
	snprintf(msg, sizeof msg, "%s: item 3: truncated", p);
	tap_ok(strcmp(read_error(p), msg) == 0, "and so does the same gzipped: %s", cnn_errmsg());
	unlink(p);
	p = write_file(u8, sizeof u8);
	tap_ok(contains(read_error(p), "more data after the 4 items"),
	       "data past the last item is an error: %s", cnn_errmsg());
	unlink(p);
	u8[2] = 0x0a;
	p = write_file(u8, 4 + 8 + 12);
	tap_ok(contains(read_error(p), "IDX element type 0x0a"), "unknown IDX type: %s",
	       cnn_errmsg());
	unlink(p);
	p = write_file("hello, world", 12);
	tap_ok(contains(read_error(p), "not an IDX or .npy file"), "text: %s", cnn_errmsg());
	unlink(p);
	p = write_file("", 0);
	tap_ok(contains(read_error(p), "not an IDX or .npy file"), "empty file: %s",
	       cnn_errmsg());
	unlink(p);
	tap_ok(strcmp(read_error("/nonexistent.idx"),
		      "/nonexistent.idx: No such file or directory") == 0,
	       "missing file: %s", cnn_errmsg());
}

static void test_idx_gzip_damage(void)
{
	unsigned char data[4 + 4 + 4000] = {0, 0, 0x08, 1, 0, 0, 0x0f, 0xa0};
	char *p = write_gz(data, sizeof data);
	FILE *f = fopen(p, "rb");
	unsigned char gz[8192];
	size_t n = fread(gz, 1, sizeof gz, f);

	fclose(f);
	unlink(p);
	p = write_file(gz, n - 6);
	tap_ok(contains(read_error(p), "truncated after the last item"),
	       "a gzip stream cut in its checksum is an error: %s", cnn_errmsg());
	unlink(p);
	gz[n - 8] ^= 1;
	p = write_file(gz, n);
	tap_ok(contains(read_error(p), ": gzip: "), "a wrong gzip checksum is an error: %s",
	       cnn_errmsg());
	unlink(p);
}

/* ------------------------------------------------------------------ npy */

static void test_npy_versions(void)
{
	static const float f[] = {1, 2, 3, 4, 5, 6};
	static const uint16_t u16[] = {1, 65535};
	static const uint8_t u8[] = {7, 8, 9};
	char *p;

	p = write_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", f,
		      sizeof f);
	tap_ok(read_all(p, CNN_F32, 1, (double[]){1, 2, 3, 4, 5, 6}, 6), ".npy 1.0 <f4 3x2");
	unlink(p);
	p = write_npy(2, "{\"shape\": (2,), \"fortran_order\": False, \"descr\": \"<u2\"}", u16,
		      sizeof u16);
	tap_ok(read_all(p, CNN_U16, 0, (double[]){1, 65535}, 2),
	       ".npy 2.0, keys in any order, double quotes");
	unlink(p);
	p = write_npy(3, "{'descr':'|u1','fortran_order':False,'shape':(1,3,1,1,)}", u8,
		      sizeof u8);
	tap_ok(read_all(p, CNN_U8, 3, (double[]){7, 8, 9}, 3), ".npy 3.0, tight spacing");
	unlink(p);
	p = write_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3L, 2L), }", f,
		      sizeof f);
	tap_ok(read_all(p, CNN_F32, 1, (double[]){1, 2, 3, 4, 5, 6}, 6),
	       "Python 2 longs in the shape");
	unlink(p);
}

static void test_npy_dtypes(void)
{
	static const unsigned char be_i4[] = {0xff, 0xff, 0xff, 0xfe, 0x00, 0x00, 0x01, 0x00};
	static const unsigned char be_f8[] = {0xc0, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18};
	static const unsigned char b1[] = {0, 1, 1};
	static const int8_t i1[] = {-128, 127};
	static const int16_t i2[] = {-32768, 5};
	static const uint32_t u4[] = {4000000000u, 1};
	static const uint64_t u8[] = {1, (uint64_t)INT64_MAX, (uint64_t)INT64_MAX + 1};
	static const uint16_t f2[] = {0x3e00, 0xc000, 0x7bff, 0x0001, 0x7c00, 0x7e00};
	double wf2[] = {1.5, -2, 65504, ldexp(1, -24), INFINITY, NAN};
	char *p;

	p = write_npy(1, "{'descr': '>i4', 'fortran_order': False, 'shape': (2,), }", be_i4, 8);
	tap_ok(read_all(p, CNN_I32, 0, (double[]){-2, 256}, 2), "big-endian >i4");
	unlink(p);
	p = write_npy(1, "{'descr': '>f8', 'fortran_order': False, 'shape': (1,), }", be_f8, 8);
	tap_ok(read_all(p, CNN_F64, 0, (double[]){-3.141592653589793}, 1), "big-endian >f8");
	unlink(p);
	p = write_npy(1, "{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", b1, 3);
	tap_ok(read_all(p, CNN_U8, 0, (double[]){0, 1, 1}, 3), "bool becomes u8");
	unlink(p);
	p = write_npy(1, "{'descr': '|i1', 'fortran_order': False, 'shape': (2,), }", i1, 2);
	tap_ok(read_all(p, CNN_I32, 0, (double[]){-128, 127}, 2), "int8 becomes i32");
	unlink(p);
	p = write_npy(1, "{'descr': '<i2', 'fortran_order': False, 'shape': (1, 2), }", i2, 4);
	tap_ok(read_all(p, CNN_I32, 1, (double[]){-32768, 5}, 2), "int16 becomes i32");
	unlink(p);
	p = write_npy(1, "{'descr': '<u4', 'fortran_order': False, 'shape': (2,), }", u4, 8);
	tap_ok(read_all(p, CNN_I64, 0, (double[]){4000000000.0, 1}, 2), "uint32 becomes i64");
	unlink(p);
	p = write_npy(1, "{'descr': '<f2', 'fortran_order': False, 'shape': (6,), }", f2, 12);
	tap_ok(read_all(p, CNN_F32, 0, wf2, 6), "float16 becomes f32 exactly");
	unlink(p);
	p = write_npy(1, "{'descr': '<u8', 'fortran_order': False, 'shape': (3,), }", u8, 24);
	tap_ok(contains(read_error(p), "item 2: uint64 value 9223372036854775808 does not fit"),
	       "uint64 becomes i64 while it fits: %s", cnn_errmsg());
	unlink(p);
}

static void test_npy_bad(void)
{
	static const struct {
		const char *dict, *error;
	} bad[] = {
		{"{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", "Fortran order"},
		{"{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }",
		 "structured dtypes"},
		{"{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", "'<c8' is not supported"},
		{"{'descr': '|i4', 'fortran_order': False, 'shape': (1,), }", "no byte order"},
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (4), }", "(4) is not a tuple"},
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (), }", "0-dimensional"},
		{"{'descr': '<f4', 'fortran_order': False}", "expected"},
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}", "unknown key 'x'"},
		{"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", "twice"},
		{"{'descr': '<f4' 'fortran_order': False, 'shape': (1,)}", "',' or '}' expected"},
		{"{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}", "True or False"},
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}", "a number expected"},
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} x", "text after the dict"},
		{"{'descr' '<f4', 'fortran_order': False, 'shape': (1,)}", "':' expected after 'descr'"},
	};
	float data[4] = {0};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char *p = write_npy(1, bad[i].dict, data, sizeof data);

		tap_ok(contains(read_error(p), bad[i].error), "bad header: %s", cnn_errmsg());
		unlink(p);
	}
}

static void test_npy_fortran_1d(void)
{
	static const float f[] = {1, 2};
	char *p = write_npy(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", f,
			    sizeof f);

	tap_ok(read_all(p, CNN_F32, 0, (double[]){1, 2}, 2),
	       "Fortran order of one dimension is C order");
	unlink(p);
}

/* --------------------------------------------------------------- writer */

static int64_t file_size(const char *path, unsigned char *buf, size_t size)
{
	FILE *f = fopen(path, "rb");
	size_t n = fread(buf, 1, size, f);

	fclose(f);
	return (int64_t)n;
}

static void test_writer(void)
{
	static const char want[] = "{'descr': '<f4', 'fortran_order': False, 'shape': (5, 2, 3), }";
	char *p = temp_path();
	cnn_npy_writer *nw = cnn_npy_writer_open(p);
	unsigned char buf[4096];
	double all[30];
	int64_t n, dim[2] = {2, 3};
	size_t hlen;
	int ok = nw != NULL;

	for (int k = 0; ok && k < 5; k++) {
		cnn_tensor *t = cnn_tensor_new("x", CNN_F32, 2, dim);

		for (int i = 0; i < 6; i++)
			cnn_tensor_set(t, i, all[k * 6 + i] = k * 10 + i + 0.5);
		ok = cnn_npy_writer_add(nw, t) == CNN_OK;
		cnn_tensor_free(t);
	}
	ok = ok && cnn_npy_writer_close(nw) == CNN_OK;
	n = file_size(p, buf, sizeof buf);
	hlen = 10 + (size_t)(buf[8] | buf[9] << 8);
	tap_ok(ok && n == (int64_t)hlen + 5 * 6 * 4 && hlen % 64 == 0 &&
		       memcmp(buf, "\x93NUMPY\x01\x00", 8) == 0 &&
		       memcmp(buf + 10, want, strlen(want)) == 0 && buf[hlen - 1] == '\n' &&
		       buf[10 + strlen(want)] == ' ',
	       "the writer's header is NumPy's, the data aligned to 64 bytes");
	tap_ok(read_all(p, CNN_F32, 2, all, 30), "what it writes reads back");
	unlink(p);
}

static void test_writer_scalars(void)
{
	static const char want[] = "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }";
	char *p = temp_path();
	cnn_npy_writer *nw = cnn_npy_writer_open(p);
	unsigned char buf[256];
	int ok = nw != NULL;

	for (int k = 0; ok && k < 3; k++) {
		cnn_tensor *t = cnn_tensor_new("label", CNN_I64, 0, NULL);

		((int64_t *)t->data)[0] = (int64_t)k << 40;
		ok = cnn_npy_writer_add(nw, t) == CNN_OK;
		cnn_tensor_free(t);
	}
	ok = ok && cnn_npy_writer_close(nw) == CNN_OK;
	file_size(p, buf, sizeof buf);
	tap_ok(ok && memcmp(buf + 10, want, strlen(want)) == 0, "scalars make a shape (N,)");
	tap_ok(read_all(p, CNN_I64, 0, (double[]){0, 0x1p40, 0x1p41}, 3),
	       "and read back as scalars");
	unlink(p);
}

static void test_writer_errors(void)
{
	char *p = temp_path(), path[64];
	cnn_npy_writer *nw = cnn_npy_writer_open(p);
	int64_t d2[1] = {2}, d3[1] = {3};
	cnn_tensor *a = cnn_tensor_new("x", CNN_U8, 1, d2);
	cnn_tensor *b = cnn_tensor_new("x", CNN_U8, 1, d3);
	cnn_tensor *c = cnn_tensor_new("x", CNN_U16, 1, d2);
	cnn_tensor *text = cnn_tensor_new("x", CNN_TEXT, 1, d2);
	int fd[2];

	tap_ok(nw && cnn_npy_writer_add(nw, text) == CNN_ERR && contains(cnn_errmsg(), "text"),
	       "text is refused: %s", cnn_errmsg());
	cnn_npy_writer_add(nw, a);
	tap_ok(cnn_npy_writer_add(nw, b) == CNN_ERR && contains(cnn_errmsg(), "u8 3, unlike"),
	       "another shape is refused: %s", cnn_errmsg());
	tap_ok(cnn_npy_writer_add(nw, c) == CNN_ERR && contains(cnn_errmsg(), "u16 2, unlike"),
	       "another dtype is refused: %s", cnn_errmsg());
	tap_ok(cnn_npy_writer_close(nw) == CNN_OK && read_all(p, CNN_U8, 1, (double[]){0, 0}, 2),
	       "the file holds what was accepted ('|u1')");
	nw = cnn_npy_writer_open(p);
	tap_ok(nw && cnn_npy_writer_close(nw) == CNN_ERR && contains(cnn_errmsg(), "no tensors"),
	       "closing with no tensors is an error: %s", cnn_errmsg());
	unlink(p);

	if (pipe(fd) == 0) {
		snprintf(path, sizeof path, "/dev/fd/%d", fd[1]);
		nw = cnn_npy_writer_open(path);
		tap_ok(!nw && contains(cnn_errmsg(), "give a file name"),
		       "a pipe is refused: %s", cnn_errmsg());
		close(fd[0]);
		close(fd[1]);
	}
	cnn_tensor_free(a);
	cnn_tensor_free(b);
	cnn_tensor_free(c);
	cnn_tensor_free(text);
}

/* What cnn-load takes for an array file: IDX and .npy, gzipped or not;
 * gzip data too; not a PNG, a short file, or what is not a regular file. */
static void test_probe(void)
{
	static const unsigned char idx[] = {0, 0, 0x08, 1, 0, 0, 0, 1, 7};
	static const unsigned char png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
	char *p;

	p = write_file(idx, sizeof idx);
	tap_ok(cnn_array_probe(p) == 1, "probe: an IDX file");
	unlink(p);
	p = write_gz(idx, sizeof idx);
	tap_ok(cnn_array_probe(p) == 1, "probe: a gzipped IDX file");
	unlink(p);
	p = write_npy(1, "{'descr': '|u1', 'fortran_order': False, 'shape': (1,), }", "x", 1);
	tap_ok(cnn_array_probe(p) == 1, "probe: a .npy file");
	unlink(p);
	p = write_gz("1 2 3\n", 6);
	tap_ok(cnn_array_probe(p) == 1 && !cnn_array_open(p) &&
	       contains(cnn_errmsg(), "not an IDX or .npy file"),
	       "probe: gzip data is taken, and cnn_array_open says what is wrong inside");
	unlink(p);
	p = write_file(png, sizeof png);
	tap_ok(cnn_array_probe(p) == 0, "probe: a PNG is not");
	unlink(p);
	p = write_file(idx, 3);
	tap_ok(cnn_array_probe(p) == 0, "probe: three bytes are not");
	unlink(p);
	tap_ok(cnn_array_probe("-") == 0 && cnn_array_probe("/nonexistent/x") == 0 &&
	       cnn_array_probe("/dev/zero") == 0 && cnn_array_probe("/tmp") == 0,
	       "probe: standard input, a missing file, a device, a folder are not");
}

/* Peak resident memory so far, in MiB. */
static long peak_mib(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss / 1024;
}

/* Headers of a few bytes claim gigabytes, or billions of empty items:
 * refused before reading, or read in memory that follows the data. */
static void test_lying_headers(void)
{
	static const unsigned char big[12] = {0, 0, 0x08, 2, 0, 0, 0, 1, 0x80, 0, 0, 0};
	static const unsigned char empty[16] = {0, 0, 0x08, 3, 0xff, 0xff, 0xff, 0xff,
						0, 0, 0, 1, 0, 0, 0, 0};
	long before = peak_mib();
	char msg[256], *p;

	p = write_file(big, sizeof big);
	snprintf(msg, sizeof msg, "%s: item 0: truncated", p);
	tap_ok(strcmp(read_error(p), msg) == 0, "a 12-byte IDX claiming a 2 GiB item: %s",
	       cnn_errmsg());
	unlink(p);
	p = write_gz(big, sizeof big);
	snprintf(msg, sizeof msg, "%s: item 0: truncated", p);
	tap_ok(strcmp(read_error(p), msg) == 0, "and gzipped: %s", cnn_errmsg());
	unlink(p);
	tap_ok(peak_mib() - before < 64, "in %ld MiB more than before", peak_mib() - before);
	p = write_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 1000), }",
		      "", 0);
	snprintf(msg, sizeof msg, "%s: item 0: truncated", p);
	tap_ok(strcmp(read_error(p), msg) == 0, "a .npy claiming 4 GB: %s", cnn_errmsg());
	unlink(p);
	p = write_gz(empty, sizeof empty);
	tap_ok(contains(read_error(p), "4294967295 items of no values"),
	       "an IDX of 4 billion empty items: %s", cnn_errmsg());
	unlink(p);
	p = write_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3000000000, 0), }",
		      "", 0);
	tap_ok(contains(read_error(p), "3000000000 items of no values"),
	       "a .npy of 3 billion empty items: %s", cnn_errmsg());
	unlink(p);
	p = write_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 0), }", "", 0);
	tap_ok(strcmp(read_error(p), "") == 0, "no items of no values are no error");
	unlink(p);
}

int main(void)
{
	test_lying_headers();
	test_probe();
	test_fashion_labels();
	test_fashion_images();
	test_idx();
	test_idx_bad();
	test_idx_gzip_damage();
	test_npy_versions();
	test_npy_dtypes();
	test_npy_bad();
	test_npy_fortran_1d();
	test_writer();
	test_writer_scalars();
	test_writer_errors();
	return tap_done();
}
