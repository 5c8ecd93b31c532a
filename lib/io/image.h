/*
 * image.h - what image.c shares with the codecs in png.c and jpeg.c.
 *
 * Internal to libcnn: the codecs work from memory to memory on planar
 * C x H x W tensors that image.c has already checked and normalized, so
 * that file handling, dispatch and dtype rules live in one place.
 */
#ifndef CNN_IMAGE_H
#define CNN_IMAGE_H

#include "cnn.h"

#define CNN_HIDDEN __attribute__((visibility("hidden")))

/* Decoders refuse images of more pixels than this before allocating. */
#define CNN_IMAGE_MAX_PIXELS ((uint64_t)1 << 28)

/* A growing byte buffer that an encoder fills. */
struct cnn_buf {
	unsigned char *data;
	size_t len, cap;
};

/* Append n bytes; CNN_ERR (message set) when out of memory. */
CNN_HIDDEN int cnn_buf_append(struct cnn_buf *b, const void *p, size_t n);
/* A whole file into b ("-": standard input), and b into a file written
 * atomically ("-": standard output); errors name the file. */
CNN_HIDDEN int cnn_file_read(const char *path, struct cnn_buf *b);
CNN_HIDDEN int cnn_file_write(const char *path, const struct cnn_buf *b);

/* Scatter an interleaved row (native-endian for u16) into row y of the
 * planes of a u8 or u16 C x H x W image, and gather it back. */
CNN_HIDDEN void cnn_image_put_row(cnn_tensor *img, int64_t y, const void *row);
CNN_HIDDEN void cnn_image_get_row(const cnn_tensor *img, int64_t y, void *row);

/* Decoders return a tensor named "image", C x H x W, or NULL with a message
 * that starts "what: ".  PNG's flags: CNN_PNG_KEEP16 keeps 16-bit samples
 * (else scaled to 8 bits); CNN_PNG_INDICES keeps a palette's indices and
 * gray's values as they are, whatever their bit depth (masks), where
 * images expand palettes to colours and scale low depths to 0..255. */
enum { CNN_PNG_KEEP16 = 1, CNN_PNG_INDICES = 2 };
CNN_HIDDEN cnn_tensor *cnn_png_decode(const unsigned char *buf, size_t len,
				      const char *what, int flags);
CNN_HIDDEN cnn_tensor *cnn_jpeg_decode(const unsigned char *buf, size_t len,
				       const char *what);

/* Encoders take a 3-dimensional C x H x W tensor: u8 or u16 with C in 1..4
 * for PNG, u8 with C 1 or 3 for JPEG.  out must start empty; the caller
 * frees out->data whatever the result. */
CNN_HIDDEN int cnn_png_encode(const cnn_tensor *img, struct cnn_buf *out,
			      const char *what);
/* A palette PNG: img u8 1 x H x W, its values indices into 256 colours. */
CNN_HIDDEN int cnn_png_encode_palette(const cnn_tensor *img, const uint8_t (*palette)[3],
				      struct cnn_buf *out, const char *what);
CNN_HIDDEN int cnn_jpeg_encode(const cnn_tensor *img, int quality,
			       struct cnn_buf *out, const char *what);

#endif
