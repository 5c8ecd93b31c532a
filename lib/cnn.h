/*
 * cnn.h - the public interface of libcnn.
 *
 * libcnn holds all the math and all the formats of the cnn-* programs.  The
 * programs are thin: they parse options, then loop over the records of a
 * tensor stream (see cnn-stream(5)) calling the functions declared here.
 *
 * Conventions, once for the whole header:
 *   - Functions that can fail return CNN_OK (0) or CNN_ERR (-1), or a pointer
 *     that is NULL on failure.  cnn_errmsg() then tells what went wrong, in one
 *     line without a trailing newline.  The library never prints and never
 *     exits; the message is kept per thread.
 *   - Tensors are row-major, outermost dimension first (NumPy order).  An
 *     image is C x H x W; a batch of them is N x C x H x W.
 *   - Objects returned by a *_new / *_open / *_load function belong to the
 *     caller, who releases them with the matching *_free / *_close.
 */
#ifndef CNN_H
#define CNN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CNN_VERSION "0.1.0"

/* ---------------------------------------------------------------- errors */

enum { CNN_OK = 0, CNN_END = 1, CNN_ERR = -1 };

/* The message of the last failure in this thread ("" if none). */
const char *cnn_errmsg(void);

/* Set the message (printf-style) and return CNN_ERR, so that failure paths
 * read `return cnn_error("...", ...);`. */
int cnn_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prefix the current message with a context string: "ctx: old message". */
int cnn_error_context(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* --------------------------------------------------------------- tensors */

typedef enum cnn_dtype {
	CNN_U8 = 1,
	CNN_U16 = 2,
	CNN_I32 = 3,
	CNN_I64 = 4,
	CNN_F32 = 5,
	CNN_F64 = 6,
	CNN_TEXT = 7 /* UTF-8 bytes, shape [nbytes]; e.g. class names, one per line */
} cnn_dtype;

#define CNN_DTYPE_MAX 7
#define CNN_MAX_DIMS 8
#define CNN_MAX_NAME 255

size_t cnn_dtype_size(cnn_dtype t);           /* 0 for an unknown dtype */
const char *cnn_dtype_name(cnn_dtype t);      /* "u8", "f32", ... or "?" */
int cnn_dtype_parse(const char *name);        /* the dtype, or CNN_ERR */

typedef struct cnn_tensor {
	char name[CNN_MAX_NAME + 1];
	cnn_dtype dtype;
	int ndim;
	int64_t dim[CNN_MAX_DIMS];
	void *data; /* 64-byte aligned, owned by the tensor */
} cnn_tensor;

/* Product of dims into *count; CNN_ERR on a negative dim or overflow past
 * max_bytes / elem_size (pass elem_size 1 and INT64_MAX for a plain count). */
int cnn_shape_count(int ndim, const int64_t *dim, size_t elem_size,
		    uint64_t max_bytes, int64_t *count);

/* A zero-filled tensor; dim may be NULL when ndim is 0 (a scalar). */
cnn_tensor *cnn_tensor_new(const char *name, cnn_dtype dtype, int ndim,
			   const int64_t *dim);
cnn_tensor *cnn_tensor_new3(const char *name, cnn_dtype dtype, int64_t d0,
			    int64_t d1, int64_t d2);
void cnn_tensor_free(cnn_tensor *t);
int64_t cnn_tensor_count(const cnn_tensor *t);
size_t cnn_tensor_bytes(const cnn_tensor *t);
int cnn_tensor_rename(cnn_tensor *t, const char *name);

/* Element i as a double, and the reverse; set() rounds and saturates for
 * integer dtypes (NaN becomes 0). */
double cnn_tensor_get(const cnn_tensor *t, int64_t i);
void cnn_tensor_set(cnn_tensor *t, int64_t i, double v);

/* A copy converted to dtype (saturating, rounding to nearest). */
cnn_tensor *cnn_tensor_convert(const cnn_tensor *t, cnn_dtype dtype);

/* "u8 3x512x512" into buf; returns buf. */
char *cnn_tensor_describe(const cnn_tensor *t, char *buf, size_t size);

/* --------------------------------------------------------------- records */

/* A record: an ordered set of uniquely named tensors (see cnn-stream(5)). */
typedef struct cnn_record {
	int n, cap;
	cnn_tensor **tensor;
} cnn_record;

cnn_record *cnn_record_new(void);
void cnn_record_free(cnn_record *r);
void cnn_record_clear(cnn_record *r);
cnn_tensor *cnn_record_get(const cnn_record *r, const char *name);
/* Take ownership of t.  A tensor of the same name is replaced in place (its
 * position kept); otherwise t is appended.  On failure t is freed. */
int cnn_record_put(cnn_record *r, cnn_tensor *t);
/* Remove the named tensor and hand it to the caller (NULL if absent). */
cnn_tensor *cnn_record_take(cnn_record *r, const char *name);

/* ---------------------------------------------------------------- stream */

typedef struct cnn_reader cnn_reader;
typedef struct cnn_writer cnn_writer;

/* Limit on one tensor's payload; default 4 GiB, or the environment variable
 * CNN_MAX_TENSOR_BYTES when set.  Larger tensors are rejected unread. */
void cnn_set_max_tensor_bytes(uint64_t bytes);
uint64_t cnn_max_tensor_bytes(void);

/* Open a stream for reading; path "-" is standard input.  Compressed
 * (zstd) and raw records are told apart at each record, so concatenations
 * of either kind read as one stream. */
cnn_reader *cnn_reader_open(const char *path);
/* Read the next record into rec (cleared first).  CNN_OK, CNN_END at a clean
 * end of input, or CNN_ERR with a message that starts "NAME record N: ". */
int cnn_read(cnn_reader *rd, cnn_record *rec);
/* Like cnn_read, but CNN_END on an empty input is an error. */
int cnn_read_first(cnn_reader *rd, cnn_record *rec);
const char *cnn_reader_name(const cnn_reader *rd); /* "<stdin>" or the path */
int64_t cnn_reader_count(const cnn_reader *rd);     /* records read so far */
void cnn_reader_close(cnn_reader *rd);

/* Compression level: 0 writes raw records, 1..22 zstd levels. */
#define CNN_LEVEL_DEFAULT 3
/* Open a stream for writing; path "-" is standard output. */
cnn_writer *cnn_writer_open(const char *path, int level);
int cnn_write(cnn_writer *wr, const cnn_record *rec);
/* Flush buffered data, end the zstd frame and close.  Reports any write
 * error; frees wr in every case. */
int cnn_writer_close(cnn_writer *wr);

/* ---------------------------------------------------------------- images */

/* Decode a PNG or JPEG (told apart by content, not by name) into a tensor
 * named "image", C x H x W: u8, or u16 for a 16-bit PNG when keep16 is set
 * (otherwise 16-bit samples are scaled to 8 bits).  channels 0 keeps the
 * file's own (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA; a palette becomes RGB or
 * RGBA); 1..4 converts as cnn_image_channels() does. */
cnn_tensor *cnn_image_load(const char *path, int channels, int keep16);
cnn_tensor *cnn_image_decode(const void *buf, size_t len, const char *what,
			     int channels, int keep16);

/* Encode C x H x W (or H x W) with C in 1..4 as PNG or JPEG, chosen by the
 * extension of path (.png, .jpg, .jpeg; "-" or other names: PNG).  u8 and
 * u16 are written as they are (u16 as 16-bit PNG); any other dtype is
 * rounded and clamped to 0..255.  quality is JPEG's 1..100 (0: 90). */
int cnn_image_save(const char *path, const cnn_tensor *img, int quality);

/* Resize to h x w: bilinear when enlarging, area-averaging when shrinking
 * (no aliasing).  Any numeric dtype; the result has the same dtype. */
cnn_tensor *cnn_image_resize(const cnn_tensor *img, int64_t h, int64_t w);

/* Convert between 1 (gray), 2 (gray+alpha), 3 (RGB) and 4 (RGBA) channels.
 * RGB to gray uses ITU-R BT.601 luma (0.299, 0.587, 0.114); dropping alpha
 * discards it; adding alpha makes it opaque (the dtype's maximum, 1.0 for
 * floats). */
cnn_tensor *cnn_image_channels(const cnn_tensor *img, int channels);

/* ---------------------------------------------------------- array files */

/* Read an IDX file (as MNIST ships it, gzipped or not) or a NumPy .npy
 * one item at a time along its first axis, in memory bounded by one item. */
typedef struct cnn_array_reader cnn_array_reader;
cnn_array_reader *cnn_array_open(const char *path);
int64_t cnn_array_count(const cnn_array_reader *ar); /* items in the file */
/* The next item, named name, of shape dims[1:]: CNN_OK, CNN_END or CNN_ERR. */
int cnn_array_read(cnn_array_reader *ar, const char *name, cnn_tensor **item);
void cnn_array_close(cnn_array_reader *ar);

/* Write tensors of one dtype and shape as a single N x shape .npy array.
 * path must be a seekable file: the header is completed on close. */
typedef struct cnn_npy_writer cnn_npy_writer;
cnn_npy_writer *cnn_npy_writer_open(const char *path);
int cnn_npy_writer_add(cnn_npy_writer *nw, const cnn_tensor *t);
int cnn_npy_writer_close(cnn_npy_writer *nw); /* frees nw in every case */

/* ----------------------------------------------------------- convolution */

#define CNN_MAX_SPATIAL 3

/* One convolution's geometry: 1, 2 or 3 spatial dimensions, given in
 * D, H, W order.  Zeros in stride and dil mean 1.  Input x is
 * n x c x in[..], weights w are k x (c / groups) x ker[..], bias b is k
 * (or NULL), output y is n x k x out[..].  Cross-correlation (no kernel
 * flip), zero padding of pad_lo before and pad_hi after each dimension:
 * out = floor((in + pad_lo + pad_hi - dil * (ker - 1) - 1) / stride) + 1. */
typedef struct cnn_conv {
	int n, c, k, groups, nd;
	int in[CNN_MAX_SPATIAL];
	int ker[CNN_MAX_SPATIAL];
	int stride[CNN_MAX_SPATIAL];
	int dil[CNN_MAX_SPATIAL];
	int pad_lo[CNN_MAX_SPATIAL];
	int pad_hi[CNN_MAX_SPATIAL];
	int out[CNN_MAX_SPATIAL]; /* set by cnn_conv_setup() */
} cnn_conv;

/* Validate the geometry (with a message naming what is wrong) and fill out[]. */
int cnn_conv_setup(cnn_conv *cv);
int cnn_conv_forward(const cnn_conv *cv, const float *x, const float *w,
		     const float *b, float *y);
/* Multiply-adds of one forward pass, for GFLOP/s reports. */
double cnn_conv_macs(const cnn_conv *cv);

/* C = alpha * op(A) * op(B) + beta * C, row-major, op(X) = X or X^T.
 * C is not read when beta is 0.  Fails only when its packing workspace
 * (about 1 MiB per thread) cannot be allocated.  The result does not
 * depend on the number of threads. */
int cnn_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha,
	       const float *a, int lda, const float *b, int ldb, float beta,
	       float *c, int ldc);

/* --------------------------------------------------------------- pooling */

typedef enum cnn_pool_op {
	CNN_POOL_MAX = 1,
	CNN_POOL_AVG = 2,
	CNN_POOL_MIN = 3
} cnn_pool_op;

/* Pooling over windows of each channel; x is n x c x in[..], y is
 * n x c x out[..].  Zeros in stride mean the window size.  Padding never
 * wins a max or min; an average divides by the window cells inside the
 * input unless count_pad (then by the whole window, as PyTorch's default).
 * ceil_mode rounds the output size up (Caffe), never starting a window in
 * the padding.  Global pooling: win = in. */
typedef struct cnn_pool {
	cnn_pool_op op;
	int n, c, nd;
	int in[CNN_MAX_SPATIAL];
	int win[CNN_MAX_SPATIAL];
	int stride[CNN_MAX_SPATIAL];
	int pad_lo[CNN_MAX_SPATIAL];
	int pad_hi[CNN_MAX_SPATIAL];
	int ceil_mode, count_pad;
	int out[CNN_MAX_SPATIAL]; /* set by cnn_pool_setup() */
} cnn_pool;

int cnn_pool_setup(cnn_pool *p);
int cnn_pool_forward(const cnn_pool *p, const float *x, float *y);

/* ---------------------------------------------------------------- random */

/* xoshiro256** seeded through splitmix64: the same seed gives the same
 * numbers on every machine, whatever the thread count. */
typedef struct cnn_rng {
	uint64_t s[4];
} cnn_rng;

void cnn_rng_seed(cnn_rng *r, uint64_t seed);
uint64_t cnn_rng_next(cnn_rng *r);
double cnn_rng_uniform(cnn_rng *r);              /* [0, 1) */
uint64_t cnn_rng_below(cnn_rng *r, uint64_t n);  /* [0, n), unbiased */

/* --------------------------------------------------------------- filters */

/* A filter bank for a convolution of nd spatial dimensions (1..3) over
 * channels input channels, from a spec: names separated by commas (see
 * cnn_filter_names), or one literal kernel with values separated by commas
 * or blanks, rows by ';' and, for 3-D, planes by '|'.  A kernel of lower
 * rank than nd gets leading dimensions of 1.  Each filter spans all input
 * channels with the same kernel (the course notes' 3-D convolution); pass
 * channels 1 for a depthwise convolution.
 * Result: f32 K x channels x ker[..], named "weight". */
cnn_tensor *cnn_filter_bank(const char *spec, int nd, int channels);
/* The named filters, for help texts: "vertical horizontal sobel-x ...". */
const char *cnn_filter_names(void);

/* -------------------------------------------------------------- threads */

/* Threads used by the math (default: all processors, or CNN_THREADS). */
void cnn_set_threads(int n);
int cnn_threads(void);

#ifdef __cplusplus
}
#endif
#endif
