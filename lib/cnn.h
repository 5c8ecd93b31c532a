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
/* The same with its elements left unset, for a caller that writes every
 * one: it saves clearing a large tensor that is about to be overwritten. */
cnn_tensor *cnn_tensor_empty(const char *name, cnn_dtype dtype, int ndim,
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

/* The index of the first NaN or infinity among n floats, or -1 when all are
 * finite; the same for a tensor (-1 for the integer dtypes).  A non-finite
 * value is an error wherever a number is meant: the programs refuse them. */
int64_t cnn_floats_nonfinite(const float *v, int64_t n);
int64_t cnn_tensor_nonfinite(const cnn_tensor *t);
/* "tensor "NAME" holds nan at index I" (or inf, -inf) into buf. */
char *cnn_nonfinite_describe(const cnn_tensor *t, int64_t i, char *buf, size_t size);

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
/* Scalars, as a model file or a checkpoint keeps its counters: put one
 * (replacing any of the name), or read one back, an i64 exactly and
 * another numeric dtype converted; 0 when there is no such scalar. */
int cnn_record_put_i64(cnn_record *r, const char *name, int64_t v);
int cnn_record_put_f64(cnn_record *r, const char *name, double v);
int64_t cnn_record_i64(const cnn_record *r, const char *name);
double cnn_record_f64(const cnn_record *r, const char *name);

/* ---------------------------------------------------------- output files */

/* A named output is written to a temporary file beside it and renamed over
 * it by cnn_outfile_commit, so that the old file stays whole until the new
 * one is; a failure or cnn_outfile_discard removes the temporary file.
 * Path "-" is standard output; a target that is not a regular file
 * (/dev/null, a FIFO) is written in place. */
typedef struct cnn_outfile cnn_outfile;
enum { CNN_OUTFILE_SYNC = 1 }; /* fsync the file and its directory (models) */
cnn_outfile *cnn_outfile_open(const char *path, int flags);
FILE *cnn_outfile_stream(const cnn_outfile *o);
/* Flush, check, close and rename into place; frees o in every case. */
int cnn_outfile_commit(cnn_outfile *o);
/* Give up: the temporary file goes, the target stays as it was (standard
 * output is flushed).  Frees o. */
void cnn_outfile_discard(cnn_outfile *o);
/* Unlink every temporary file not yet committed or discarded.  Safe in a
 * signal handler; for programs to call on a fatal signal or exit. */
void cnn_outfile_cleanup(void);

/* ---------------------------------------------------------------- stream */

typedef struct cnn_reader cnn_reader;
typedef struct cnn_writer cnn_writer;

/* Limit on one tensor's payload; default 4 GiB, or the environment variable
 * CNN_MAX_TENSOR_BYTES when set.  Larger tensors are rejected unread.  It
 * also bounds each buffer of a network, and 16 times it all of them. */
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
/* Open a stream for writing; path "-" is standard output.  A named file is
 * replaced when the writer is closed (see cnn_outfile). */
cnn_writer *cnn_writer_open(const char *path, int level);
/* The same with cnn_outfile_open's flags (CNN_OUTFILE_SYNC). */
cnn_writer *cnn_writer_open_file(const char *path, int level, int flags);
int cnn_write(cnn_writer *wr, const cnn_record *rec);
/* Flush buffered data, end the zstd frame, close and put the file in
 * place.  Reports any write error; frees wr in every case. */
int cnn_writer_close(cnn_writer *wr);
/* Give up on a stream: a named file stays as it was; standard output gets
 * the records written so far, whole.  Frees wr. */
void cnn_writer_discard(cnn_writer *wr);

/* ---------------------------------------------------------------- images */

/* Decode a PNG or JPEG (told apart by content, not by name) into a tensor
 * named "image", C x H x W: u8, or u16 for a 16-bit PNG when keep16 is set
 * (otherwise 16-bit samples are scaled to 8 bits).  channels 0 keeps the
 * file's own (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA; a palette becomes RGB,
 * and a transparent colour or palette entry (tRNS) adds an alpha channel);
 * 1..4 converts as cnn_image_channels() does. */
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

/* An image (C x H x W, any numeric dtype) as a network of input C x h x w
 * takes it by rule (cnn_input_rule, with the networks below): f32 on the
 * network's scale (cnn_input_value: u8 / 255), padded and resized as the
 * rule says, computed in double and rounded once to float. */
struct cnn_input_rule;
cnn_tensor *cnn_image_fit(const cnn_tensor *img, int64_t h, int64_t w,
			  const struct cnn_input_rule *rule);
/* A box (its first 4 floats, x1, y1, x2, y2) made square (the longer
 * side, unless square is 0) and then margin times its width and height
 * larger on each side, about its centre, in place. */
void cnn_box_expand(float *box, double margin, int square);
/* The pixels a box covers in an img_h x img_w image, as face-api cuts a
 * face: its left and top clipped at 0 and its right and bottom at the
 * image's edge, then left, top, width and height floored.  win gets top,
 * left, height, width; 0 when nothing is left (a box outside the image,
 * or less than a pixel), 1 otherwise. */
int cnn_box_window(const float *box, int64_t img_h, int64_t img_w, int64_t win[4]);
/* The h x w window at (top, left) of the last two axes of t (an image
 * C x H x W, a mask H x W; any dtype but text), which must lie inside it:
 * a new tensor of t's name and dtype. */
cnn_tensor *cnn_tensor_window(const cnn_tensor *t, int64_t top, int64_t left, int64_t h,
			      int64_t w);
/* Boxes (rows of 6 floats, the first 4 x1, y1, x2, y2) found in an image
 * that the rule fitted to h x w, moved in place back to the pixels of the
 * src_h x src_w image it was made from.  A square padded at the bottom
 * right takes the image's extent there as face-api does, rounded to whole
 * pixels. */
void cnn_image_fit_boxes(const struct cnn_input_rule *rule, int64_t src_h, int64_t src_w,
			 int64_t h, int64_t w, float *boxes, int64_t n);
/* The other way: boxes in the source image's pixels into the input's. */
void cnn_image_fit_boxes_in(const struct cnn_input_rule *rule, int64_t src_h, int64_t src_w,
			    int64_t h, int64_t w, float *boxes, int64_t n);

/* Masks (cnn-stream(5)'s "mask": the class of each pixel) in PNG files:
 * a palette PNG's indices (VOC's SegmentationClass masks, 255 marking the
 * pixels to ignore) or a gray PNG's values, as a u8 H x W tensor "mask"
 * (u16 for 16-bit gray).  An RGB or gray+alpha PNG, or a JPEG, is an
 * error: their values are colours, not classes. */
cnn_tensor *cnn_mask_load(const char *path);
cnn_tensor *cnn_mask_decode(const void *buf, size_t len, const char *what);
/* A mask (H x W or 1 x H x W, whole values 0 to 255) as a palette PNG in
 * VOC's colour map, written atomically ("-": standard output). */
int cnn_mask_save(const char *path, const cnn_tensor *mask);
/* VOC's colour of class k, 0 to 255 (0 black, 1 128,0,0, ... 255
 * 224,224,192). */
void cnn_mask_colour(int k, uint8_t rgb[3]);
/* The last two axes resized to h x w by the nearest pixel (PyTorch's
 * nearest-exact: the source floor((y + 0.5) in / out)), any dtype but
 * text. */
cnn_tensor *cnn_mask_resize(const cnn_tensor *mask, int64_t h, int64_t w);

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
/* 1 if path is a regular file that begins as an IDX or .npy file or as
 * gzip data (which cnn_array_open() then judges); else 0. */
int cnn_array_probe(const char *path);
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

/* ---------------------------------------------------------- text matrices */

/* A matrix typed as text: numbers separated by blanks or commas, a row per
 * line, a blank line between channels, '#' starting a comment line; every
 * row as long as the first, every channel as tall.  The tensor "image", f32
 * C x H x W; NULL with "NAME: line L: what" on an error (a number past
 * float's range is one). */
cnn_tensor *cnn_text_matrix_read(FILE *f, const char *name);

/* ------------------------------------------------------- TF.js weights */

/* TensorFlow.js weights (cnn-import(1)): a weights manifest, the JSON array
 * [{"paths": [SHARD, ..], "weights": [{"name", "shape", "dtype",
 * "quantization": {"dtype", "scale", "min"}}, ..]}, ..] that is also the
 * "weightsManifest" of a model.json, and its shards, files named relative
 * to the manifest.  A group's shards, concatenated, hold its tensors one
 * after another, packed, row-major, little-endian: float32 and int32 as
 * they are, uint8 and uint16 q as q * scale + min in double rounded once to
 * float (int32: JavaScript's Math.round), float16 as the IEEE half; exactly
 * what tfjs's io.decodeWeights gives; bool as bytes; complex64 and string
 * tensors (a uint32 length and the bytes, for each element) are listed,
 * not decoded. */
typedef struct cnn_tfjs cnn_tfjs;

typedef struct cnn_tfjs_info {
	const char *name;
	const char *type;           /* the manifest's dtype: "float32", "int32",
				       "bool", "complex64" or "string" */
	cnn_dtype dtype;            /* decoded as: CNN_F32, CNN_I32, CNN_U8 (bool),
				       or 0 (complex64 and string: not decoded) */
	int ndim;
	int64_t dim[CNN_MAX_DIMS];  /* the manifest's shape, TF's layout */
	const char *quantization;   /* "uint8", "uint16", "float16" or NULL */
	double scale, min;          /* of uint8 and uint16 */
	int64_t offset, bytes;      /* where it is in all the shards, concatenated */
} cnn_tfjs_info;

/* Read a manifest or a model.json and all its shards.  Each group's shards
 * must hold exactly its tensors' bytes; memory follows the bytes present,
 * not the shapes.  NULL with one line naming the manifest and the tensor or
 * shard: a short or missing shard, bytes after the last tensor, a bad
 * dtype or quantization, a malformed manifest. */
cnn_tfjs *cnn_tfjs_open(const char *path);
void cnn_tfjs_close(cnn_tfjs *w);
int cnn_tfjs_count(const cnn_tfjs *w);                   /* tensors */
const cnn_tfjs_info *cnn_tfjs_info_at(const cnn_tfjs *w, int i); /* manifest order */
int cnn_tfjs_find(const cnn_tfjs *w, const char *name);  /* the index, or CNN_ERR */
/* Tensor i decoded: f32, i32 or u8 of the manifest's shape and name; a NaN
 * or an infinity is an error, and so is a complex64 or string tensor. */
cnn_tensor *cnn_tfjs_tensor(const cnn_tfjs *w, int i);

/* ----------------------------------------------------------- convolution */

#define CNN_MAX_SPATIAL 3

/* One convolution's geometry: 1, 2 or 3 spatial dimensions, given in
 * D, H, W order.  Zeros in groups, stride and dil mean 1.  Input x is
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

/* Validate the geometry (with a message naming what is wrong), write 1
 * over the zeros that mean 1, and fill out[]. */
int cnn_conv_setup(cnn_conv *cv);
/* y = conv(x, w) + b.  Checks the geometry itself, so a forgotten setup
 * fails cleanly.  Uses cnn_threads() threads (one for small problems);
 * the result is bit for bit the same for any thread count.  Allocates per
 * call about one padded input image per thread plus a packed copy of w, and
 * fails with CNN_ERR only when that allocation does. */
int cnn_conv_forward(const cnn_conv *cv, const float *x, const float *w,
		     const float *b, float *y);
/* The same with the weights packed once by cnn_conv_pack() for the GEMM
 * (inference runs the same weights many times; for batch 1 on small maps
 * the packing costs as much as the multiply).  A packed copy is valid for
 * the weights it was made from, the geometry's c, k, groups and kernel,
 * and the kernels cnn_simd() chose; cnn_conv_packed_floats() is its size,
 * 0 when the convolution does not pack (depthwise: then packed is unused
 * and may be NULL). */
size_t cnn_conv_packed_floats(const cnn_conv *cv);
int cnn_conv_pack(const cnn_conv *cv, const float *w, float *packed);
int cnn_conv_forward_packed(const cnn_conv *cv, const float *x, const float *w,
			    const float *packed, const float *b, float *y);
/* The gradients of cnn_conv_forward for the output gradient dy, added to
 * dx, dw and db (each skipped if NULL), so that gradients from several
 * places and examples accumulate. */
int cnn_conv_backward(const cnn_conv *cv, const float *x, const float *w,
		      const float *dy, float *dx, float *dw, float *db);
/* Multiply-adds of one forward pass, for GFLOP/s reports. */
double cnn_conv_macs(const cnn_conv *cv);

/* C = alpha * op(A) * op(B) + beta * C, row-major, op(X) = X or X^T.
 * C is not read when beta is 0.  Uses cnn_threads() threads for large
 * products; the result is bit for bit the same for any thread count.
 * Fails only when its packing workspace (up to 4.5 MiB per thread) cannot
 * be allocated. */
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
 * input unless count_pad (then by the cells inside the padded input, as
 * PyTorch's default count_include_pad).  Padding must be smaller than the
 * window.  ceil_mode rounds the output size up as PyTorch does: the last
 * window must start inside the input or the left padding, and what it
 * reaches past the right padding does not count.  Global pooling: win = in. */
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

/* Validate (writing the window size over zero strides) and fill out[]. */
int cnn_pool_setup(cnn_pool *p);
/* Threads and failure as for cnn_conv_forward(); per call it allocates
 * one padded plane per thread. */
int cnn_pool_forward(const cnn_pool *p, const float *x, float *y);
/* The input gradient of cnn_pool_forward for the output gradient dy, added
 * to dx; x is the forward input (a max or min finds its winner). */
int cnn_pool_backward(const cnn_pool *p, const float *x, const float *dy, float *dx);

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
double cnn_rng_normal01(cnn_rng *r);             /* standard normal */
double cnn_rng_gamma(cnn_rng *r, double shape);  /* Gamma(shape, 1) */
double cnn_rng_beta(cnn_rng *r, double a, double b);

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

/* ------------------------------------------------------ model descriptions */

/* darknet's cfg dialect: "[section]" then "key=value" lines.  Every getter
 * marks its key used; cnn_cfg_check_used() then reports the first key no one
 * asked for, so that typos are errors and not silent defaults.  Errors name
 * the file and line. */
typedef struct cnn_cfg cnn_cfg;
typedef struct cnn_cfg_section cnn_cfg_section;

cnn_cfg *cnn_cfg_load(const char *path);
cnn_cfg *cnn_cfg_parse(const char *text, const char *path);
void cnn_cfg_free(cnn_cfg *cfg);
int cnn_cfg_count(const cnn_cfg *cfg);
cnn_cfg_section *cnn_cfg_section_at(const cnn_cfg *cfg, int i);
const char *cnn_cfg_text(const cnn_cfg *cfg);
const char *cnn_cfg_path(const cnn_cfg *cfg);
const char *cnn_cfg_name(const cnn_cfg_section *s);
int cnn_cfg_line(const cnn_cfg_section *s);
/* A section's key=value lines, in the file's order (for programs that
 * write a cfg from another). */
int cnn_cfg_entries(const cnn_cfg_section *s);
const char *cnn_cfg_entry_at(const cnn_cfg_section *s, int i, const char **value);

int cnn_cfg_has(cnn_cfg_section *s, const char *key);
const char *cnn_cfg_str(cnn_cfg_section *s, const char *key, const char *dflt);
int cnn_cfg_int(cnn_cfg_section *s, const char *key, int dflt, int min, int max, int *v);
int cnn_cfg_float(cnn_cfg_section *s, const char *key, float dflt, float min,
		  float max, float *v);
/* Comma-separated numbers, at most max of them; *n 0 when the key is absent. */
int cnn_cfg_list(cnn_cfg_section *s, const char *key, float *v, int max, int *n);
/* Comma-separated whole numbers in min..max_value, at most max of them;
 * *n 0 when the key is absent. */
int cnn_cfg_ints(cnn_cfg_section *s, const char *key, int64_t *v, int max, int64_t min,
		 int64_t max_value, int *n);
/* The index of the value in the NULL-terminated names. */
int cnn_cfg_choice(cnn_cfg_section *s, const char *key, const char *const *names,
		   int dflt, int *v);
int cnn_cfg_check_used(const cnn_cfg_section *s);
/* An error about a whole section: "path:line: [name]: message". */
int cnn_cfg_error(const cnn_cfg_section *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* ----------------------------------------------------------------- boxes */

/* A box is 6 floats: x1, y1, x2, y2, score, class (the field "boxes" of
 * cnn-stream(5); ground truth rides as "boxes_true", score 1).  Pixels, x
 * to the right and y down, continuous coordinates: a W x H image spans 0..W
 * and 0..H, and a box's area is (x2 - x1) * (y2 - y1), with no +1, as
 * torchvision.  class is a whole number 0..CNN_BOX_MAX_CLASS. */
#define CNN_BOX_FIELDS 6
#define CNN_BOX_MAX_CLASS 16777215 /* 2^24 - 1: every class exact in f32 */

/* An f32 n x 6 tensor of zeros. */
cnn_tensor *cnn_boxes_new(const char *name, int64_t n);
/* Check a boxes tensor: f32 N x 6, finite values, x1 <= x2, y1 <= y2, a
 * valid class and, unless truth, a finite score (NaN is refused).  Messages
 * name the tensor and the box, counted from 1:
 *   tensor "boxes" is f32 5x4, want N x 6
 *   tensor "boxes": box 3: score is nan */
int cnn_boxes_check(const cnn_tensor *t, int truth);

/* Overlap of two boxes a and b (their first 4 floats), computed in float32
 * as torchvision does: IoU = inter / (area_a + area_b - inter), in 0..1
 * and 0 when the union is empty.  GIoU = IoU - (C - union) / C with C the
 * area of the smallest box enclosing both; DIoU = IoU - d^2 / c^2 with d
 * the distance of the centres and c the diagonal of that enclosing box.
 * Both are in -1..1 and equal the IoU when the enclosing box is empty. */
float cnn_box_iou(const float *a, const float *b);
float cnn_box_giou(const float *a, const float *b);
float cnn_box_diou(const float *a, const float *b);

/* ------------------------------------------------- non-max suppression */

typedef enum cnn_nms_method {
	CNN_NMS_GREEDY = 0,   /* drop boxes overlapping a kept one by > iou */
	CNN_NMS_LINEAR = 1,   /* soft-NMS: score *= 1 - IoU when IoU > iou */
	CNN_NMS_GAUSSIAN = 2  /* soft-NMS: score *= exp(-IoU^2 / sigma) */
} cnn_nms_method;

typedef struct cnn_nms_opts {
	cnn_nms_method method;
	double iou;         /* the overlap threshold (0.5) */
	double score;       /* first drop boxes scoring below this (0.6) */
	double sigma;       /* Gaussian soft-NMS (0.5) */
	double final_score; /* soft-NMS: then drop boxes decayed below this (0.001) */
	int diou;           /* greedy: overlap is DIoU with penalty (d^2/c^2)^beta */
	double diou_beta;   /* (1, the DIoU paper; darknet's beta_nms is 0.6) */
	int agnostic;       /* one NMS over all boxes, not one per class */
	int64_t topk;       /* only the topk best boxes enter NMS (0: all) */
	int64_t max;        /* at most max boxes leave it (0: all) */
} cnn_nms_opts;

void cnn_nms_defaults(cnn_nms_opts *o);

/* Non-max suppression of the n boxes (rows of 6 floats) in boxes.  Boxes
 * scoring below o->score are dropped, the rest sorted by score, best first
 * (equal scores: the earlier row first, a stable sort), and cut to o->topk.
 * Greedy NMS then keeps the first box and drops every later one whose
 * overlap with it is greater than o->iou, and so on down the list; per
 * class unless o->agnostic.  With o->iou in 0..1 it keeps exactly what
 * torchvision.ops.nms (agnostic) and batched_nms keep.  Soft-NMS instead
 * repeatedly keeps the best remaining box and decays the scores of the
 * boxes overlapping it.  keep (room for n) receives the indices of the
 * kept rows, best first, at most o->max; scores, if not NULL (room for n),
 * their scores, decayed by soft-NMS.  Returns the count, or -1.  Time:
 * O(n log n) plus the pairs of boxes that overlap. */
int64_t cnn_nms(const float *boxes, int64_t n, const cnn_nms_opts *o,
		int64_t *keep, float *scores);
/* The same on a boxes tensor: a new tensor of the kept rows, same name. */
cnn_tensor *cnn_nms_boxes(const cnn_tensor *boxes, const cnn_nms_opts *o);

/* ---------------------------------------------------------------- anchors */

/* Anchors from data (cnn-anchors(1)), as darknet's calc_anchors: k-means
 * of the n box sizes wh (w, h pairs) with 1 - IoU as the distance (boxes
 * put at one corner), from k distinct boxes at random, Lloyd's iterations
 * until nothing moves (at most 1000); of restarts runs (from seed) the one
 * whose boxes overlap their nearest anchor most.  anchors (room for 2k)
 * get the centres by area, smallest first; *mean_iou each box's IoU with
 * its nearest, averaged.  An error with fewer boxes than k. */
int cnn_anchors_kmeans(const float *wh, int64_t n, int k, int restarts, uint64_t seed,
		       float *anchors, double *mean_iou);

/* ------------------------------------------------------ detection metrics */

/* Detections against ground truth over many images, as VOC and COCO score
 * them (see cnn-map(1) for every rule, ties included).  In short: within an
 * image and class, detections are taken best score first and each matches
 * at most one truth of its class, each truth at most once.  VOC matching
 * (IoU >= 0.5) takes the truth of highest IoU and counts a detection whose
 * truth is already taken as false; COCO matching at threshold t takes the
 * untaken truth of highest IoU >= t.  AP is the area under the
 * interpolated precision-recall curve: VOC 11-point (recall 0, 0.1, .. 1),
 * VOC all-point, COCO 101-point (recall 0, 0.01, .. 1) at t = 0.50, 0.55,
 * .. 0.95 averaged (AP@[.5:.95]), and at 0.5 and 0.75 (AP50, AP75). */
typedef struct cnn_deteval cnn_deteval;

cnn_deteval *cnn_deteval_new(void);
void cnn_deteval_free(cnn_deteval *ev);
/* Add one image: ndet detections and ntruth truths, rows of 6 floats. */
int cnn_deteval_add(cnn_deteval *ev, const float *det, int64_t ndet,
		    const float *truth, int64_t ntruth);

typedef struct cnn_ap {
	int cls;                          /* the class; -1 for the mean */
	int64_t ntruth, ndet;
	double voc11, voc, coco, ap50, ap75; /* NaN when ntruth is 0 */
} cnn_ap;

/* Per class (every class with a truth or a detection, ascending) and the
 * mean over the classes that have truths (NaN if none).  Classes without
 * truths have NaN APs and are left out of the mean, as in COCO. */
typedef struct cnn_detmetrics {
	int nclass;
	cnn_ap *cls;
	cnn_ap mean;
} cnn_detmetrics;

cnn_detmetrics *cnn_deteval_metrics(cnn_deteval *ev);
void cnn_detmetrics_free(cnn_detmetrics *m);

/* Segmentation scores (vision/segmetrics.c): the confusion of predicted
 * against true classes over every pixel added, pixels whose true class is
 * the ignore value (VOC's 255; -1: none) left out.  Classes are whole
 * numbers below CNN_SEG_MAX_CLASSES; the matrix grows to the largest seen,
 * [true][predicted]. */
#define CNN_SEG_MAX_CLASSES 1024
typedef struct cnn_seg_tally cnn_seg_tally;
cnn_seg_tally *cnn_seg_tally_new(int ignore);
void cnn_seg_tally_free(cnn_seg_tally *t);
/* Masks of the same size, any numeric dtype. */
int cnn_seg_tally_add(cnn_seg_tally *t, const cnn_tensor *pred, const cnn_tensor *truth);
int cnn_seg_tally_classes(const cnn_seg_tally *t);
const int64_t *cnn_seg_tally_confusion(const cnn_seg_tally *t);
/* A class's (its pixels: the true ones; accuracy: its recall; IoU TP /
 * (TP + FP + FN), Dice 2 TP / (2 TP + FP + FN); present: it occurs in the
 * truth or the predictions) or all of them (pixels counted, pixel
 * accuracy, and the means of IoU and Dice over the present classes, their
 * number in present). */
typedef struct cnn_seg_scores {
	int64_t pixels;
	int present;
	double accuracy, iou, dice;
} cnn_seg_scores;
void cnn_seg_class_scores(const cnn_seg_tally *t, int k, cnn_seg_scores *s);
void cnn_seg_scores_all(const cnn_seg_tally *t, cnn_seg_scores *s);

/* One point of a precision-recall curve: after the detections down to and
 * including this one (best score first), tp and fp of them matched and
 * not, precision tp / (tp + fp), recall tp / ntruth. */
typedef struct cnn_pr_point {
	float score;
	int64_t tp, fp;
	double precision, recall;
} cnn_pr_point;

/* The curve of class cls under VOC matching at IoU 0.5 (the curve that the
 * VOC APs integrate): one point per detection of the class, into pt (room
 * for that class's ndet).  Returns the count, or -1. */
int64_t cnn_deteval_pr(cnn_deteval *ev, int cls, cnn_pr_point *pt);

/* ------------------------------------------------------------- box text */

/* Class names, one per line (darknet's coco.names, voc.names). */
typedef struct cnn_names {
	int n;
	char **name;
} cnn_names;

cnn_names *cnn_names_load(const char *path);
cnn_names *cnn_names_parse(const char *text, size_t len, const char *what);
void cnn_names_free(cnn_names *nm);
const char *cnn_names_get(const cnn_names *nm, int cls); /* NULL if none */
int cnn_names_find(const cnn_names *nm, const char *name); /* or CNN_ERR */

/* Boxes as text, one record after another (cnn-boxes(1) has the details):
 *   csv          "record,x1,y1,x2,y2,score,class" lines (or the last 6
 *                fields alone: one record); a first line of names is a
 *                header
 *   json         one JSON object per record: {"record":1,"boxes":[{"x1":..,
 *                "y1":..,"x2":..,"y2":..,"score":..,"class":..,"name":..}]};
 *                darknet's -out JSON (frames of "objects") reads too
 *   darknet      a label file: "class cx cy w h [score]" lines normalised
 *                to the image size, one record per file
 *   darknet-ext  what darknet's detector test -ext_output prints: lines
 *                "dog: 98%  (left_x: 129 top_y: 225 width: 184 height: 317)",
 *                a new record at each "...: Predicted in" line (read only) */
typedef enum cnn_box_format {
	CNN_BOXES_CSV = 1,
	CNN_BOXES_JSON = 2,
	CNN_BOXES_DARKNET = 3,
	CNN_BOXES_DARKNET_EXT = 4
} cnn_box_format;

int cnn_box_format_parse(const char *name); /* the format, or CNN_ERR */

typedef struct cnn_box_reader cnn_box_reader;
/* path "-" is standard input; names (may be NULL) turn class names into
 * classes and are needed for darknet-ext. */
cnn_box_reader *cnn_box_reader_open(const char *path, cnn_box_format fmt,
				    const cnn_names *names);
/* The boxes of the next record as an f32 N x 6 tensor called name: CNN_OK,
 * CNN_END or CNN_ERR ("path:line: what").  w and h are the image's size,
 * needed only by normalised coordinates (0: unknown). */
int cnn_box_read(cnn_box_reader *br, const char *name, double w, double h,
		 cnn_tensor **boxes);
void cnn_box_reader_close(cnn_box_reader *br);

/* Write one record's boxes (record counted from 1) as text; truth leaves
 * the score out where a format allows (darknet).  w and h are needed by
 * darknet; names (may be NULL) add "name" to JSON. */
int cnn_box_write(FILE *f, cnn_box_format fmt, const cnn_tensor *boxes, int truth,
		  int64_t record, double w, double h, const cnn_names *names);
/* The header line that starts CSV output ("" for other formats). */
const char *cnn_box_header(cnn_box_format fmt);

/* -------------------------------------------------------------- drawing */

/* Drawing on u8 C x H x W images of 1 or 3 channels (a gray image gets a
 * colour's luma); everything is clipped to the image.  Colours are RGB. */

/* A colour for each class: hues spread by the golden ratio, saturation and
 * brightness in a cycle of 3; the first 20 classes are far apart, later
 * ones may come close to an earlier one. */
void cnn_class_color(int cls, uint8_t rgb[3]);
/* A rectangle of pixels x..x+w-1, y..y+h-1, filled. */
int cnn_draw_fill(cnn_tensor *img, int64_t x, int64_t y, int64_t w, int64_t h,
		  const uint8_t rgb[3]);
/* A box's outline, thickness pixels wide inside its edges (rounded to
 * whole pixels); dashed draws every other stretch of 4 * thickness. */
int cnn_draw_rect(cnn_tensor *img, double x1, double y1, double x2, double y2,
		  int thickness, int dashed, const uint8_t rgb[3]);
/* A straight line between pixel centres, thickness pixels wide. */
int cnn_draw_line(cnn_tensor *img, double x0, double y0, double x1, double y1,
		  int thickness, const uint8_t rgb[3]);
/* Text in libcnn's own 5 x 9 bitmap font (printable ASCII; others show as
 * '?'), each font pixel scale x scale, its top-left corner at x, y; vertical
 * text runs upwards from x, y (its bottom-left corner), as a y-axis label.
 * '\n' starts a new line. */
int cnn_draw_text(cnn_tensor *img, int64_t x, int64_t y, const char *text,
		  int scale, int vertical, const uint8_t rgb[3]);
void cnn_text_size(const char *text, int scale, int64_t *w, int64_t *h);
/* Text on a filled background of colour bg (a margin of scale pixels), in
 * black or white, whichever reads better on bg. */
int cnn_draw_label(cnn_tensor *img, int64_t x, int64_t y, const char *text,
		   int scale, const uint8_t bg[3]);

typedef struct cnn_draw_style {
	int thickness;  /* line width in pixels (0: from the image size) */
	int font_scale; /* (0: from the image size) */
	int dashed;     /* dashed outlines, as for ground truth */
	int labels;     /* a label with the class name (or number) */
	int scores;     /* and the score */
} cnn_draw_style;

/* Every box of a boxes tensor, the best (first) on top, each in its class's
 * colour; names (may be NULL) label the classes. */
int cnn_draw_boxes(cnn_tensor *img, const cnn_tensor *boxes, const cnn_names *names,
		   const cnn_draw_style *st);

/* -------------------------------------------------------------- montage */

/* Images tiled into one picture, a contact sheet, in reading order.  Tiles
 * are added one at a time and kept small (u8, at most the tile size or,
 * without one, 256 x 256), whatever the size of the images added. */
typedef struct cnn_montage cnn_montage;

typedef struct cnn_montage_opts {
	int tile_h, tile_w;     /* each image is scaled to fit, centred (0, 0:
				 * the largest image's size, at most 256 x 256) */
	int columns;            /* 0: ceil(sqrt(tiles)); never more than tiles */
	int gap;                /* pixels between tiles */
	uint8_t background[3];  /* gaps, captions, around other shapes (RGB) */
	double lo, hi;          /* values mapped to 0 and 255; lo == hi: u8 as
				 * it is, u16 0..65535, others 0..255 when they
				 * lie in it, else each image's own min..max */
	const cnn_names *names; /* class names in box labels (may be NULL;
				 * must outlive the montage) */
} cnn_montage_opts;

/* Gap 2, white, every size and the range automatic. */
void cnn_montage_defaults(cnn_montage_opts *o);
cnn_montage *cnn_montage_new(const cnn_montage_opts *o);
void cnn_montage_free(cnn_montage *m);
/* Add a tile: image is C x H x W with C 1..4 (alpha is dropped), any
 * numeric dtype.  caption (text under the tile), boxes and truth (drawn
 * solid and dashed, in image pixels) and mask (u8, u16, i32 or i64,
 * H x W or 1 x H x W, a class per pixel, scaled to the image; classes
 * above 0 blended in their colours at 50%) may each be NULL. */
int cnn_montage_add(cnn_montage *m, const cnn_tensor *image, const char *caption,
		    const cnn_tensor *boxes, const cnn_tensor *truth,
		    const cnn_tensor *mask);
int64_t cnn_montage_count(const cnn_montage *m);
/* The picture, "image", u8 C x H x W: gray when every tile is gray and
 * nothing is drawn in colour, else RGB.  Columns widen to the longest
 * caption.  Fails when no tile has been added. */
cnn_tensor *cnn_montage_render(const cnn_montage *m);
/* A label as a caption into buf: text as it is; a single whole number as
 * the class's name (from names, may be NULL) or number; other single
 * numbers with %g; a vector of class probabilities or scores as its best
 * class and value, "shirt 0.62". */
int cnn_montage_caption(const cnn_tensor *label, const cnn_names *names, char *buf,
			size_t size);

/* ------------------------------------------------------------- plotting */

/* Line plots rendered to an image: axes with round tick values, a grid,
 * a title, axis labels and a legend, one colour per series. */
typedef struct cnn_plot cnn_plot;

cnn_plot *cnn_plot_new(int width, int height, const char *title,
		       const char *xlabel, const char *ylabel);
void cnn_plot_free(cnn_plot *p);
/* Add a series of n points (copied; xs NULL: 0, 1, ..); a NaN in xs or ys
 * breaks the line, and a point without neighbours shows as a dot. */
int cnn_plot_series(cnn_plot *p, const char *name, const double *xs,
		    const double *ys, int64_t n);
/* Fix the ranges; NaN leaves a bound automatic (the data's, rounded out to
 * ticks).  logy plots y on a log scale (only positive values show). */
void cnn_plot_range(cnn_plot *p, double xmin, double xmax, double ymin, double ymax);
void cnn_plot_logy(cnn_plot *p, int logy);
/* The picture: u8 3 x height x width, named "image". */
cnn_tensor *cnn_plot_render(const cnn_plot *p);

/* ---------------------------------------------------------- augmentation */

/* Per-channel statistics of images on a 0..1 scale (u8 values / 255, u16
 * / 65535, other dtypes / 255): mean and standard deviation, and the
 * principal axes of the channels' joint spread (AlexNet's PCA of colour):
 * eigvec[k] is the k-th axis, largest spread first, eigval[k] the standard
 * deviation along it (the square root of the covariance's eigenvalue). */
#define CNN_STATS_MAX_CHANNELS 16
typedef struct cnn_image_stats {
	int channels;
	double count; /* pixels seen */
	double sum[CNN_STATS_MAX_CHANNELS];
	double cross[CNN_STATS_MAX_CHANNELS][CNN_STATS_MAX_CHANNELS];
	double mean[CNN_STATS_MAX_CHANNELS], std[CNN_STATS_MAX_CHANNELS];
	double eigval[CNN_STATS_MAX_CHANNELS];
	double eigvec[CNN_STATS_MAX_CHANNELS][CNN_STATS_MAX_CHANNELS];
} cnn_image_stats;

void cnn_image_stats_init(cnn_image_stats *s);
/* Add an image C x H x W; every image must have the same C. */
int cnn_image_stats_add(cnn_image_stats *s, const cnn_tensor *img);
/* Compute mean, std and the axes from the sums. */
int cnn_image_stats_finish(cnn_image_stats *s);
/* As a record of f32 "mean", "std", "eigval" (C) and "eigvec" (C x C). */
int cnn_image_stats_to_record(const cnn_image_stats *s, cnn_record *rec);
int cnn_image_stats_from_record(cnn_image_stats *s, const cnn_record *rec);

/* A chain of random augmentations of a record's image, run in the order
 * added (cnn-augment(1) describes every operation and its arguments).  The
 * image (C x H x W) is computed in f32 and written back in its own dtype,
 * or as f32 after normalize.  What belongs to the image follows it through
 * every geometric operation: "boxes" and "boxes_true" (moved, clipped, and
 * dropped when they leave the image or keep less than the min_visible
 * fraction of their area), "mask" (H x W or 1 x H x W, integer classes,
 * sampled at the nearest pixel); mixup and mosaic make "label" a soft
 * label.  Other tensors pass through. */
typedef struct cnn_augment cnn_augment;

cnn_augment *cnn_augment_new(void);
void cnn_augment_free(cnn_augment *a);
/* The image's field name (default "image"). */
int cnn_augment_field(cnn_augment *a, const char *field);
void cnn_augment_min_visible(cnn_augment *a, double fraction);
/* Append an operation: its name and its arguments (NULL or "" for the
 * defaults), e.g. ("rotate", "15,p=0.5,fill=edge").  A bad name or argument
 * is an error naming it. */
int cnn_augment_add(cnn_augment *a, const char *name, const char *args);
/* The operations' names, for help texts. */
const char *cnn_augment_names(void);
/* Must the operation be given a value (rotate 15), or has it defaults? */
int cnn_augment_needs_value(const char *name);
/* Does the chain need statistics of the data (normalize without mean and
 * std, pca-color without eig=imagenet)?  Then give them before running. */
int cnn_augment_needs_stats(const cnn_augment *a);
int cnn_augment_set_stats(cnn_augment *a, const cnn_image_stats *s);
/* Does it combine records (mixup, mosaic), so that a pool matters? */
int cnn_augment_mixes(const cnn_augment *a);
/* The augmented copy of record in.  Every random number comes from seed,
 * so the same seed gives the same record with any thread and any
 * instruction set's kernels.
 * mixup and mosaic draw partners from the npool records of pool (in's
 * neighbours in the stream; NULL: in alone), each augmented by the chain
 * before them with numbers of its own. */
cnn_record *cnn_augment_record(const cnn_augment *a, const cnn_record *in, uint64_t seed,
			       const cnn_record *const *pool, int npool);

/* --------------------------------------------------------------- networks */

typedef enum cnn_optimizer { CNN_SGD, CNN_ADAM, CNN_RMSPROP } cnn_optimizer;

typedef enum cnn_lr_policy {
	CNN_LR_CONSTANT, CNN_LR_STEP, CNN_LR_STEPS, CNN_LR_EXP, CNN_LR_POLY,
	CNN_LR_SIGMOID, CNN_LR_COSINE
} cnn_lr_policy;

#define CNN_MAX_STEPS 16

/* Training settings: the [net] section's keys (see cnn-cfg(5)), which a
 * program may override.  The loss is the mean over the batch, so a
 * learning rate means what it means in PyTorch. */
typedef struct cnn_train_params {
	int batch;                  /* examples per update */
	float learning_rate;
	cnn_optimizer optimizer;
	float momentum;             /* SGD */
	float decay;                /* L2 weight decay */
	float beta1, beta2, eps;    /* Adam; RMSprop decays with beta2 */
	cnn_lr_policy policy;
	int64_t max_batches;        /* poly and cosine run to it */
	int64_t burn_in;            /* warm-up: lr * (step / burn_in)^power */
	float power;                /* poly and burn_in exponent */
	float gamma;                /* exp and sigmoid */
	int64_t step;               /* step and sigmoid */
	float scale;                /* step: lr *= scale every `step` batches */
	int nsteps;                 /* steps: at steps[i] multiply by scales[i] */
	int64_t steps[CNN_MAX_STEPS];
	float scales[CNN_MAX_STEPS];
	float lr_min;               /* cosine's floor */
	/* darknet's multi-scale training: random= of the last [yolo] or
	 * [region], x (1 means 1.4): every 10 batches an input of 1/x to x
	 * times the cfg's, in multiples of [net] resize_step= (32); 0: off. */
	float multi_scale;
	int resize_step;
} cnn_train_params;

typedef struct cnn_net cnn_net;

/* A network from a model description, its [net] section first, ready to
 * train from scratch (weights initialised from seed) or to receive weights.
 * batch is the most examples one pass takes (0: the [net] batch).  Takes
 * the cfg, which the network frees. */
cnn_net *cnn_net_new(cnn_cfg *cfg, int batch, uint64_t seed);
/* The same without drawing initial weights (they are 0): for summaries, and
 * for weights that are about to be loaded.  Much faster for big models. */
cnn_net *cnn_net_build(cnn_cfg *cfg, int batch);
void cnn_net_free(cnn_net *net);
cnn_train_params *cnn_net_params(cnn_net *net);
const cnn_cfg *cnn_net_cfg(const cnn_net *net);
void cnn_net_input_shape(const cnn_net *net, int *c, int *h, int *w);
/* Another input size for the same parameters (and optimizer state), as
 * darknet's resize_network: every layer's buffers are made again.  An
 * error, the network unchanged, when a layer's parameters or a loss's
 * truth depend on the size ([connected], a mask). */
int cnn_net_resize(cnn_net *net, int h, int w);
/* A classifier made fully convolutional (nn/fcn.c): a new network (batch
 * 1, its weights copied) whose [connected] layers are the convolutions over
 * their inputs that compute the same numbers, its [softmax] spatial, at an
 * input of h x w (0: the same); on a larger input each output position is
 * the classifier on a window of the old input's size, a stride apart (the
 * last layer's jump). */
cnn_net *cnn_net_convolutionalize(const cnn_net *net, int h, int w);

/* Sliding-window detection with a classifier (vision/windows.c): windows
 * of its input size over the image (C x H x W, its channels) at each
 * scale, stride pixels apart at that scale, each through the classifier
 * (in batches of its batch size); or, convolutional, the classifier made
 * fully convolutional run once over the image at each scale, the windows
 * then its own stride apart.  A box (x1, y1, x2, y2 in the image's pixels,
 * score, class) for every window whose best class other than background
 * (-1: none) scores above threshold; no NMS. */
#define CNN_WINDOWS_MAX_SCALES 16
typedef struct cnn_windows_opts {
	int stride;
	int nscales;
	double scale[CNN_WINDOWS_MAX_SCALES];
	int background;
	double threshold;
	int convolutional;
} cnn_windows_opts;
cnn_tensor *cnn_sliding_windows(cnn_net *net, const cnn_tensor *image,
				const cnn_windows_opts *o);
long cnn_net_outputs(const cnn_net *net);       /* of the last layer, per example */
int cnn_net_batch(const cnn_net *net);

/* How an image of another size becomes the network's input: [net]'s
 * resize= and pad_square= (our keys, cnn-cfg(5)), the rule the network was
 * made with, which cnn_image_fit() (with the images above) applies. */
enum cnn_resize {
	CNN_RESIZE_DEFAULT,       /* cnn_image_resize(): bilinear up, area down */
	CNN_RESIZE_TF_LEGACY,     /* TensorFlow's bilinear, align_corners false,
				   * half_pixel_centers false (face-api) */
	CNN_RESIZE_ALIGN_CORNERS, /* bilinear with the corners' pixels aligned
				   * (TensorFlow's align_corners true, nsfwjs) */
	CNN_RESIZE_DARKNET        /* darknet's resize_image, in float */
};

/* Padding to a square with zeros before the resize: none, all of it at the
 * bottom or right (pad_square=1: face-api's detectors), or centred
 * (pad_square=centre: face-api's face nets; JavaScript's rounding puts
 * the odd row or column after).  Or darknet's letterbox (letter_box=1):
 * resized at its aspect to fit, centred on a canvas of 0.5. */
enum cnn_pad_square { CNN_PAD_NONE, CNN_PAD_BOTTOM_RIGHT, CNN_PAD_CENTRE, CNN_PAD_LETTERBOX };

typedef struct cnn_input_rule {
	int resize;               /* enum cnn_resize */
	int pad_square;           /* enum cnn_pad_square */
} cnn_input_rule;

void cnn_net_input_rule(const cnn_net *net, cnn_input_rule *rule);
/* Does the network come with a rule of its own (a key in its [net])? */
int cnn_net_has_input_rule(const cnn_net *net);

/* Forward n <= batch examples (x: n x c*h*w); the last layer's outputs,
 * n x outputs, valid until the next call; NULL on failure.  train selects
 * training behaviour (dropout, batch statistics). */
const float *cnn_net_forward(cnn_net *net, const float *x, int n, int train);
/* The loss of a batch (cnn_batch below) in inference mode (no dropout,
 * running statistics), without gradients: the sum of every loss layer's
 * mean over the examples.  The outputs stay in cnn_net_output(). */
typedef struct cnn_batch cnn_batch;
int cnn_net_loss(cnn_net *net, const cnn_batch *b, double *loss);
/* The last layer's outputs of the latest forward pass. */
const float *cnn_net_output(const cnn_net *net);

/* Layers by name or number: a layer section's name= (cnn-cfg(5)), or an
 * index from 0 as cnn-summary(1) shows it, or a negative number counting
 * back from the end (-1 the last layer).  The index, or CNN_ERR. */
int cnn_net_layer_find(const cnn_net *net, const char *name_or_index);
/* Forward n <= batch examples through layers 0..layer only, in inference
 * mode: that layer's outputs, n x its outputs, valid until the next pass;
 * NULL on failure. */
const float *cnn_net_forward_to(cnn_net *net, const float *x, int n, int layer);
/* The outputs of a layer that the latest forward pass ran (NULL otherwise),
 * and the shape of one example's, C x H x W, in *c, *h, *w (unless NULL). */
const float *cnn_net_layer_output(const cnn_net *net, int layer, int *c, int *h, int *w);

/* Detection.  Does the network have a detection layer ([detection],
 * [region], [yolo], [ssd]: cnn-cfg(5))? */
int cnn_net_detects(const cnn_net *net);
/* The boxes its detection layers find in example b of the latest forward
 * pass, each class scoring above thresh a row of its own (darknet's rule):
 * an f32 N x 6 "boxes" tensor (x1, y1, x2, y2, score, class) in the
 * network input's pixels, before NMS, in layer, cell, anchor and class
 * order; *nms the IoU threshold its layers ask NMS for (their nms=, the
 * lowest).  NULL with an error without a detection layer, or for a box
 * that is not finite. */
cnn_tensor *cnn_net_detections(const cnn_net *net, int b, double thresh, double *nms);

/* dLoss/dinput with every weight frozen, for feature visualisation, style
 * transfer and adversarial examples.  The loss is the caller's, on the
 * outputs of ntaps distinct layers, the taps: loss() gets outputs[k], the n
 * x outputs of layer taps[k], writes dLoss/d(those outputs) into grads[k]
 * (as large, zeroed) and returns the loss.  Only the layers up to the
 * deepest tap run, forward in inference mode (running batch statistics, no
 * dropout) and then backward; no parameter gradient is computed, nor
 * written.  dx receives n x c*h*w; *value (unless NULL) the loss. */
typedef double (*cnn_tap_loss)(void *ctx, int ntaps, const int *taps,
			       const float *const *outputs, float *const *grads, int n);
int cnn_net_input_gradient(cnn_net *net, const float *x, int n, int ntaps, const int *taps,
			   cnn_tap_loss loss, void *ctx, float *dx, double *value);
/* Forward and backward of a batch against its truth: the gradients of the
 * loss (as cnn_net_loss) are left in the parameters' gradients (zeroed
 * first), *loss the loss. */
int cnn_net_gradients(cnn_net *net, const cnn_batch *b, double *loss);
/* CNN_OK when that loss and every gradient are finite; otherwise CNN_ERR,
 * "step N: the loss is nan" or "step N: the gradient of layer L [TYPE]
 * NAME is not finite".  A trainer asks before cnn_net_update, so that a
 * NaN never reaches the weights (the loss alone can hide one). */
int cnn_net_check_finite(const cnn_net *net, double loss);
/* One optimizer step with the current gradients, at the learning rate the
 * policy gives for the current step; then step += 1 and seen += n. */
int cnn_net_update(cnn_net *net, int n);
double cnn_net_learning_rate(const cnn_net *net);
int64_t cnn_net_step(const cnn_net *net);

/* Mix the examples of the next training passes after layer `layer` (-1:
 * the input itself): the next layer sees lambda v_i + (1 - lambda)
 * v_perm[i], and the gradients follow (mixup, and manifold mixup on hidden
 * layers).  The targets are the caller's to mix the same way.  layer -2
 * turns mixing off. */
int cnn_net_set_mixup(cnn_net *net, int layer, float lambda, const int *perm);

/* Transfer learning: copy the parameters of the first `layers` layers
 * (-1: as many as match, from the first) of src; returns how many layers
 * were copied, or CNN_ERR when an asked-for layer does not match. */
int cnn_net_copy_params(cnn_net *dst, const cnn_net *src, int layers);
/* Leave the first `layers` layers' parameters alone in updates. */
void cnn_net_freeze(cnn_net *net, int layers);

/* A model file (a tensor stream: the cfg, then the weights; see
 * cnn-model(5)), written atomically.  extra tensors (may be NULL) join the
 * first record; with_state adds the optimizer's moments and the random
 * state, so that training can resume exactly. */
int cnn_net_save(cnn_net *net, const char *path, const cnn_record *extra, int with_state);
/* Constants a model keeps beside its weights, by name (SSD's anchors,
 * imported with the weights): saved in the model file's weights record
 * under names that do not start with a digit (set refuses others), and
 * loaded back.  NULL when there is none of that name.  set takes t,
 * replacing (and freeing) one of its name. */
const cnn_tensor *cnn_net_constant(const cnn_net *net, const char *name);
int cnn_net_set_constant(cnn_net *net, cnn_tensor *t);
/* Load a model file; *extra (if not NULL) receives its first record. */
cnn_net *cnn_net_load(const char *path, int batch, cnn_record **extra);

/* Numeric gradient checking.  cnn_gradcheck compares grad[i] (every
 * stride-th i) with the central difference (L(v+h) - L(v-h)) / 2h of loss()
 * as |a - b| / max(1, |a| + |b|), accepting either one-sided difference
 * where the step crosses a kink, and trying h / 10 where h disagrees; it
 * returns the worst disagreement. */
double cnn_gradcheck(float *v, const float *grad, long n, long stride,
		     double (*loss)(void *ctx), void *ctx, double h);
/* The same for every trained parameter of a network on a batch (about
 * `sample` entries per parameter, 0 for all), reporting each parameter
 * tensor's worst; returns the worst overall, -1 on failure. */
typedef void (*cnn_gradcheck_report)(void *ctx, int layer, const char *type,
				     const char *param, double err);
double cnn_net_gradcheck(cnn_net *net, const cnn_batch *b, long sample, double h,
			 cnn_gradcheck_report report, void *ctx);

/* Per layer facts for summaries. */
typedef struct cnn_layer_info {
	const char *type;
	int in_c, in_h, in_w, out_c, out_h, out_w;
	long params;
	double flops;               /* multiply-adds per example */
	int rf;                     /* receptive field, input pixels */
	int line;                   /* of its section in the cfg */
	const char *name;           /* its section's name=, or NULL */
	int jump;                   /* input pixels per step of its output */
} cnn_layer_info;

int cnn_net_layers(const cnn_net *net);
void cnn_net_layer_info(const cnn_net *net, int i, cnn_layer_info *info);

/* Every parameter and statistic as a tensor named "LAYER.NAME" (e.g.
 * "3.weight", "3.mean"), in layer order; the caller visits them, and may
 * write the values during the visit (not through pointers kept after it:
 * inference keeps packed copies, made stale by a visit). */
typedef int (*cnn_param_visit)(void *ctx, const char *name, float *values,
			       int ndim, const int64_t *dim, int trained);
int cnn_net_visit_params(cnn_net *net, cnn_param_visit visit, void *ctx);

/* -------------------------------------------------------------- examples */

/* The truth a loss layer reads from each record, next to the input image
 * (cnn-cfg(5) says which for every loss layer):
 *   CNN_TRUTH_CLASS     "label": a class index (an integer scalar, made the
 *                       one-hot vector) or a vector of `size` values (soft
 *                       labels, regression targets)
 *   CNN_TRUTH_BOXES     "boxes_true": N x 6 rows (x1 y1 x2 y2 score class,
 *                       cnn-boxes(1)), any N per record, 0 included
 *   CNN_TRUTH_MASK      "mask": H x W class indices, `size` = H * W
 *   CNN_TRUTH_IDENTITY  "label": an integer that says which examples are
 *                       the same (metric learning), `size` 1 */
enum cnn_truth_form { CNN_TRUTH_CLASS, CNN_TRUTH_BOXES, CNN_TRUTH_MASK, CNN_TRUTH_IDENTITY };

typedef struct cnn_truth_field {
	const char *name;           /* the record's tensor */
	int form;                   /* enum cnn_truth_form */
	long size;                  /* values per example; BOXES: 6 per row */
} cnn_truth_field;

#define CNN_MAX_TRUTH 4
/* The fields the network's loss layers read, without repeats; returns how
 * many (0 for a network without a loss). */
int cnn_net_truth(const cnn_net *net, const cnn_truth_field **fields);

/* Element i of an image on the network's scale: u8 / 255, u16 / 65535,
 * other dtypes as they are (PyTorch's ToTensor, darknet's loader). */
float cnn_input_value(const cnn_tensor *image, int64_t i);

/* A batch: up to the network's batch of examples, each an input (from the
 * record's tensor `input`, "image" unless said otherwise) and the truth of
 * every field the network reads, variable-length ones included.  Errors
 * name the field: 'no tensor "boxes_true" (the loss of layer 12 [yolo]
 * reads it)'. */
cnn_batch *cnn_batch_new(const cnn_net *net, const char *input);
void cnn_batch_free(cnn_batch *b);
void cnn_batch_clear(cnn_batch *b);
int cnn_batch_count(const cnn_batch *b);
/* Add the example of a record; CNN_ERR (nothing added) when it lacks a
 * field, does not fit the network or holds a NaN. */
int cnn_batch_add(cnn_batch *b, const cnn_record *r);
/* The inputs, count x (c*h*w). */
const float *cnn_batch_input(const cnn_batch *b);
/* Field f of example i: its values, and in *rows (unless NULL) how many
 * rows of cnn_truth_field.size they make (1 for the fixed forms). */
const float *cnn_batch_truth(const cnn_batch *b, int f, int i, int64_t *rows);

/* Examples kept for many epochs, as a batch takes them: in memory up to
 * memory_limit bytes, then in an unlinked temporary file in $TMPDIR.  u8
 * images stay bytes (a quarter of the room) until a batch is filled. */
typedef struct cnn_dataset cnn_dataset;
cnn_dataset *cnn_dataset_new(const cnn_net *net, const char *input, uint64_t memory_limit);
int cnn_dataset_add(cnn_dataset *ds, const cnn_record *r);
/* Done adding: make the examples readable by cnn_dataset_batch(). */
int cnn_dataset_seal(cnn_dataset *ds);
int64_t cnn_dataset_count(const cnn_dataset *ds);
/* Examples idx[0..n) into b, which is cleared first. */
int cnn_dataset_batch(const cnn_dataset *ds, const int64_t *idx, int n, cnn_batch *b);
/* The identity of example i when the network reads one (or its integer
 * class label), for samplers; CNN_ERR when it has none. */
int cnn_dataset_identity(const cnn_dataset *ds, int64_t i, int64_t *id);
void cnn_dataset_free(cnn_dataset *ds);

/* ------------------------------------------------------------ training */

/* The training loop (what cnn-train(1) runs): epochs over examples kept by
 * cnn_trainer_add() in a fresh order each (drawn from the seed and the
 * epoch), or one pass over records as they come (cnn_trainer_feed), with
 * validation, checkpoints that resume exactly, mixup and P x K sampling.
 * The same seed and thread count give the same model, byte for byte. */
typedef struct cnn_train_report {
	int kind;                   /* CNN_REPORT_EPOCH, _STEP or _PROGRESS */
	int64_t epoch;              /* from 1; 0 in one pass */
	int64_t step;               /* updates so far */
	int64_t batch, batches;     /* of the epoch (PROGRESS) */
	double loss;                /* mean over the examples so far */
	int has_accuracy;           /* the loss reads class labels */
	double accuracy;
	int has_validation;         /* EPOCH with validation examples */
	double val_loss, val_accuracy;
	double learning_rate, seconds, images_per_s;
	int multi_scale;            /* the input size changes (height, width) */
	int height, width;          /* of the latest batch */
} cnn_train_report;

enum { CNN_REPORT_EPOCH, CNN_REPORT_STEP, CNN_REPORT_PROGRESS };

typedef struct cnn_train_options {
	const char *output;         /* the model file: checkpoints, the end */
	const char *input;          /* the records' input tensor (NULL: "image") */
	int epochs;
	uint64_t seed;
	uint64_t memory;            /* bytes of examples kept in memory */
	int64_t log_every;          /* a STEP report every N updates (0: none) */
	int64_t checkpoint;         /* a checkpoint every N updates (0: none) */
	int progress;               /* PROGRESS reports after every batch */
	int freeze;                 /* recorded in checkpoints */
	float mixup;                /* alpha of Beta(alpha, alpha); 0: off */
	int manifold;               /* mix at a random hidden layer */
	int pk_identities, pk_examples; /* P x K batches; 0: off */
	void (*report)(void *ctx, const cnn_train_report *r);
	/* Polled after every update: a signal number stops training after a
	 * checkpoint (cnn_trainer_run and _feed return CNN_STOPPED). */
	int (*stop)(void *ctx);
	void *ctx;
} cnn_train_options;

/* What the loops return besides CNN_OK: CNN_STOPPED after a checkpoint
 * when stop() asked, CNN_FAILED when training failed (the message says
 * why), and, from cnn_trainer_feed, CNN_ERR for a record it cannot take. */
#define CNN_STOPPED 2
#define CNN_FAILED (-2)

typedef struct cnn_trainer cnn_trainer;
/* A trainer of net (which stays the caller's) with options o (copied). */
cnn_trainer *cnn_trainer_new(cnn_net *net, const cnn_train_options *o);
void cnn_trainer_free(cnn_trainer *t);
/* Continue from the state record of a checkpoint (cnn_net_load's extra). */
int cnn_trainer_resume(cnn_trainer *t, const cnn_record *state);
/* Keep a training example, or a validation one. */
int cnn_trainer_add(cnn_trainer *t, const cnn_record *r);
int cnn_trainer_add_validation(cnn_trainer *t, const cnn_record *r);
/* The epochs over the kept examples, then the model written. */
int cnn_trainer_run(cnn_trainer *t);
/* One pass: train on each batch as it fills; finish trains the last,
 * partial one, reports the pass and writes the model. */
int cnn_trainer_feed(cnn_trainer *t, const cnn_record *r);
int cnn_trainer_finish(cnn_trainer *t);
/* The step of the model the output file holds (-1: none written yet). */
int64_t cnn_trainer_saved_step(const cnn_trainer *t);
/* The epoch (from 1) and the batch of it (from 0) to train next. */
int64_t cnn_trainer_position(const cnn_trainer *t, int64_t *batch);
/* Compare the gradients with numeric ones on the first (up to 4) kept
 * examples, how many in *examples; the worst disagreement, or < 0 on
 * failure. */
double cnn_trainer_gradcheck(cnn_trainer *t, cnn_gradcheck_report report, void *ctx,
			     int *examples);

/* ------------------------------------------------------ darknet weights */

/* darknet's .weights files (see cnn-darknet(1)): int32 major, minor and
 * revision, then `seen` (uint64 when major * 10 + minor >= 2, else int32),
 * then each layer's parameters in cfg order, little-endian float32:
 *   [convolutional], [deconvolutional]  bias, then with batch_normalize
 *                                       scale, mean, variance; then weight
 *   [connected]                         bias, weight, then with
 *                                       batch_normalize scale, mean, variance
 *   [batchnorm]                         scale, mean, variance (no shift)
 * and nothing for layers without parameters.  The arrays have our layouts
 * (a [connected] weight is outputs x inputs, as darknet's; a file whose
 * major or minor is above 1000 holds it transposed, and is read so).
 *
 * Load into a network built from the cfg the file belongs to (path "-":
 * standard input); net's seen (and step, seen / batch) come from the
 * header.  A file that ends inside a layer, or goes on after the last one,
 * is an error naming the layer. */
int cnn_darknet_load(cnn_net *net, const char *path);

/* Allow export to drop what darknet cannot hold: a [batchnorm] shift. */
#define CNN_DARKNET_LOSSY 1

/* Write a file darknet loads: major 0, minor 2, revision 0, seen as
 * uint64; written to a temporary file renamed over path ("-": standard
 * output).  A [batchnorm] layer whose shift is not 0 is an error unless
 * flags has CNN_DARKNET_LOSSY; a layer type darknet has no weights for
 * always is. */
int cnn_darknet_save(cnn_net *net, const char *path, int flags);

/* The network of a cfg (built for batch 1) with a .weights file's weights:
 * what cnn-darknet import and cnn-import --darknet convert. */
cnn_net *cnn_darknet_import(const char *cfg, const char *weights);

/* The arrays of the .weights file at path, which must be the net's (as
 * cnn_darknet_load checked), in file order: "LAYER.NAME", the shape as the
 * file holds it, the byte offset. */
typedef int (*cnn_darknet_visit)(void *ctx, const char *name, int ndim, const int64_t *dim,
				 int64_t offset);
int cnn_darknet_layout(cnn_net *net, const char *path, cnn_darknet_visit visit, void *ctx);

/* ---------------------------------------------------- TF.js into a network */

/* The network of a cfg (built for batch 1) with the weights of a TF.js
 * manifest, placed by a map (cnn-import(1)), a line each:
 *   TENSOR LAYER.PARAM    the manifest's tensor fills the parameter
 *   - TENSOR              the tensor is not used
 *   = VALUE LAYER.PARAM   the parameter is VALUE throughout
 * LAYER a layer's name= or index, PARAM weight, bias, scale, mean or
 * variance.  TF's layouts become ours by the layer: HWIO (or depthwise
 * [kh, kw, c, m]) convolution weights, [in, out] connected weights over an
 * NHWC-flattened input, 1-D as it is.  Every parameter must be filled or
 * declared and every tensor used or ignored; an error names what is not,
 * or the map line, tensor, shapes and layer that do not fit. */
cnn_net *cnn_tfjs_import(const char *cfg, const char *manifest, const char *map);

/* A TensorFlow.js layers model (cnn-import(1) --tfjs): a model.json whose
 * Keras modelTopology (Sequential or Functional) becomes a cfg of ours, its
 * layers named as Keras names them, and whose weightsManifest fills it as
 * cnn_tfjs_import() does.  net_keys, when not NULL, are [net] lines added
 * after the input's shape ("resize=align_corners\n", "mean=...\n"): a
 * model.json does not say how its images were made.  *cfg_text (when
 * cfg_text is not NULL) is the cfg made, which the caller frees; it is set
 * when the topology converts, even if the weights then do not fit.  An
 * error names the layer and the class or option not supported. */
cnn_net *cnn_keras_import(const char *model_json, const char *net_keys, char **cfg_text);

/* -------------------------------------------------------------- threads */

/* Threads used by the math (default: all processors, or CNN_THREADS). */
void cnn_set_threads(int n);
int cnn_threads(void);

/* ----------------------------------------------------------- composition */

/* Detection and segmentation data made by copy-paste (cnn-compose(1)):
 * objects, each an image and a class, pasted at random places, sizes and
 * orientations onto random crops of background photos.  An object's mask
 * is its pixels above a threshold (its alpha above it, for an image with
 * alpha).  A record made holds "image" (u8 C x H x W), "boxes_true"
 * (f32 N x 6: each object's visible pixels' bounding box, score 1, its
 * class; in paste order), "mask" (H x W: 0 the background, class + 1 on
 * each object's visible pixels; u8 while every class added is below 255,
 * else i32) and, when asked, "instances" (u8 H x W: 0, or the row of the
 * box + 1).  Every random number comes from the seed: the same options,
 * objects and backgrounds in the same order give the same records. */
typedef struct cnn_compose cnn_compose;

typedef struct cnn_compose_opts {
	int64_t height, width;      /* of the images made (96 x 96) */
	int channels;               /* 1 gray or 3 RGB (3) */
	int min_objects, max_objects; /* per image, uniform, 0..255 (1, 4) */
	double size[2];             /* an object's longer side, pixels (24, 48) */
	double scale[2];            /* or, when scale[1] > 0, a factor of its
				     * own size (0, 0); either clamped so that
				     * the object fits the image */
	double background_scale[2]; /* a photo is resized by a factor in this
				     * range before the crop (0.25, 1), at
				     * least enough for the crop to fit */
	double flip;                /* mirror an object left-right (0.5) */
	double tint;                /* colour a gray object, RGB only (0) */
	double max_iou;             /* no two boxes of an image overlap more (0.3) */
	double min_visible;         /* nor does an object keep less of its
				     * pixels in view (0.5) */
	int tries;                  /* places tried per object, then it is
				     * left out (20) */
	int threshold;              /* the mask: pixels above this, 0..254 (0) */
	int64_t pool;               /* objects kept, a uniform sample of those
				     * added when more come (65536) */
	int instances;              /* add "instances" (0) */
	uint64_t seed;              /* (1) */
} cnn_compose_opts;

void cnn_compose_defaults(cnn_compose_opts *o);
/* NULL with a message naming the option for options out of range. */
cnn_compose *cnn_compose_new(const cnn_compose_opts *o);
void cnn_compose_free(cnn_compose *c);
/* A background photo, C x H x W (or H x W) with C 1..4, any numeric
 * dtype: kept as u8 of the images' channels. */
int cnn_compose_add_background(cnn_compose *c, const cnn_tensor *img);
/* An object: an image as for a background, and its class, a scalar
 * holding a whole number 0..CNN_BOX_MAX_CLASS - 1.  It is kept cut to its
 * mask's bounding box; an image with no pixel above the threshold is an
 * error.  Past o->pool objects each new one replaces a kept one or is
 * dropped, by the seed (reservoir sampling), so that memory is bounded. */
int cnn_compose_add_object(cnn_compose *c, const cnn_tensor *img, const cnn_tensor *label);
int64_t cnn_compose_objects(const cnn_compose *c); /* kept */
/* Record number index of the seed's sequence (any order, any thread). */
cnn_record *cnn_compose_record(const cnn_compose *c, int64_t index);

#ifdef __cplusplus
}
#endif
#endif
