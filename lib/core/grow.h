/*
 * grow.h - memory that follows a reader's input, not its header's claims.
 *
 * Internal to libcnn.  A shape or an image size in a header costs its
 * writer a few bytes; allocating it up front would let those bytes cost us
 * gigabytes.  Readers therefore ask for room as data arrives, doubling each
 * time, so that a lying header costs about what the input really held and
 * an honest one a few reallocations.  cnn_max_tensor_bytes() stays the
 * hard limit on what any header may claim.
 */
#ifndef CNN_GROW_H
#define CNN_GROW_H

#include "cnn.h"

#ifndef CNN_HIDDEN
#define CNN_HIDDEN __attribute__((visibility("hidden")))
#endif

/* Room for need bytes in *buf, 64-byte aligned as tensor data, whose
 * capacity *cap grows by doubling (from 1 MiB) but never past limit
 * rounded up to 64 (need <= limit).  On failure *buf stays valid. */
CNN_HIDDEN int cnn_grow(void **buf, size_t *cap, size_t need, size_t limit);

/* The whole of the file at path, NUL-terminated, its length in *len (NUL
 * bytes in it included), in memory that grows as cnn_grow's, within
 * cnn_max_tensor_bytes(); the caller frees it.  NULL with the reason (the
 * caller names the file). */
CNN_HIDDEN char *cnn_read_text(const char *path, size_t *len);

/* Delivers exactly n bytes into dst, or fails with a message. */
typedef int (*cnn_source)(void *ctx, void *dst, size_t n);

/* A tensor of that shape (within cnn_max_tensor_bytes()) whose data comes
 * from read() in parts, the buffer growing as they arrive; elements in the
 * byte order read() gives. */
CNN_HIDDEN cnn_tensor *cnn_tensor_read(const char *name, cnn_dtype dtype, int ndim,
				       const int64_t *dim, cnn_source read, void *ctx);

/* Room for `rows` rows of h in img, a planar C x H x W image being decoded
 * row by row (made with H 0): its dim[1] is the rows it has room for, which
 * doubles up to h, moving the planes apart. */
CNN_HIDDEN int cnn_image_reserve(cnn_tensor *img, int64_t rows, int64_t h);

#endif
