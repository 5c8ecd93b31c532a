/*
 * jpeg.c - JPEG decoding and encoding with libjpeg(-turbo).
 *
 * libjpeg's default error handler prints and exits; ours keeps the message
 * and longjmps back to the setjmp in decode()/encode().  Everything those
 * functions allocate after setjmp lives in volatile locals so that the
 * error path can free it.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <jpeglib.h>
#include <jerror.h>

#include "core/grow.h"
#include "io/image.h"

struct jpeg_fail {
	struct jpeg_error_mgr mgr;
	jmp_buf jump;
	char msg[JMSG_LENGTH_MAX];
};

static void __attribute__((noreturn)) on_error(j_common_ptr cinfo)
{
	struct jpeg_fail *f = (struct jpeg_fail *)cinfo->err;

	if (f->mgr.msg_code == JWRN_JPEG_EOF)
		snprintf(f->msg, sizeof f->msg, "premature end of data");
	else if (f->mgr.msg_code == JERR_NO_BACKING_STORE)
		snprintf(f->msg, sizeof f->msg, "a progressive image of this size needs more "
			 "memory than CNN_MAX_TENSOR_BYTES allows");
	else
		f->mgr.format_message(cinfo, f->msg);
	longjmp(f->jump, 1);
}

/* Level -1 is a warning, higher levels are traces.  libjpeg warns where
 * it guesses: data cut short or corrupt, which it pads with gray or skips,
 * and a picture partly made up must not pass for the file's (PIL, too,
 * refuses a truncated image). */
static void on_message(j_common_ptr cinfo, int level)
{
	if (level < 0)
		on_error(cinfo);
}

static void __attribute__((noreturn, format(printf, 2, 3)))
fail(struct jpeg_fail *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(f->msg, sizeof f->msg, fmt, ap);
	va_end(ap);
	longjmp(f->jump, 1);
}

static void init_fail(struct jpeg_fail *f)
{
	jpeg_std_error(&f->mgr);
	f->mgr.error_exit = on_error;
	f->mgr.emit_message = on_message;
	f->msg[0] = '\0';
}

/* A scan whose data meets a marker (other than a restart) before its last
 * row of blocks is cut short.  The Huffman decoder warns of it, but the
 * arithmetic one reads zeros past the marker without a word and would
 * decode every row the header claims, however few bytes there are.  (A
 * progressive image is all read before its first row comes out.) */
static int scan_ended_early(struct jpeg_decompress_struct *cinfo)
{
	int m = cinfo->unread_marker;

	return m && !(m >= JPEG_RST0 && m <= JPEG_RST0 + 7) && !jpeg_has_multiple_scans(cinfo) &&
	       cinfo->input_iMCU_row + 1 < cinfo->total_iMCU_rows;
}

static cnn_tensor *decode(struct jpeg_decompress_struct *cinfo, struct jpeg_fail *f,
			  const unsigned char *buf, size_t len)
{
	cnn_tensor *volatile img = NULL;
	unsigned char *volatile row = NULL;
	int c;

	if (setjmp(f->jump)) {
		free(row);
		cnn_tensor_free(img);
		return NULL;
	}
	jpeg_create_decompress(cinfo);
	jpeg_mem_src(cinfo, buf, len);
	/* A progressive JPEG's coefficients are held whole, sized from the
	 * header: libjpeg may take what a few tensors may, so that a lying
	 * header is an error rather than gigabytes asked for. */
	cinfo->mem->max_memory_to_use = cnn_max_tensor_bytes() < LONG_MAX / 4
						? (long)(4 * cnn_max_tensor_bytes()) : LONG_MAX;
	jpeg_read_header(cinfo, TRUE);
	if (cinfo->jpeg_color_space == JCS_CMYK || cinfo->jpeg_color_space == JCS_YCCK)
		fail(f, "CMYK images are not supported");
	if ((uint64_t)cinfo->image_width * cinfo->image_height > CNN_IMAGE_MAX_PIXELS)
		fail(f, "%ux%u pixels is too large (at most %llu)", cinfo->image_width,
		     cinfo->image_height, (unsigned long long)CNN_IMAGE_MAX_PIXELS);
	c = cinfo->jpeg_color_space == JCS_GRAYSCALE ? 1 : 3;
	/* An image that could never be a tensor is refused before libjpeg
	 * sizes its buffers from the header. */
	if ((uint64_t)cinfo->image_width * cinfo->image_height * c > cnn_max_tensor_bytes())
		fail(f, "%ux%u pixels of %d channels is over CNN_MAX_TENSOR_BYTES (%llu bytes)",
		     cinfo->image_width, cinfo->image_height, c,
		     (unsigned long long)cnn_max_tensor_bytes());
	cinfo->out_color_space = c == 1 ? JCS_GRAYSCALE : JCS_RGB;
	jpeg_start_decompress(cinfo);

	/* The image grows as its rows decode, not as its header says. */
	img = cnn_tensor_new3("image", CNN_U8, c, 0, cinfo->output_width);
	if (!img)
		fail(f, "%s", cnn_errmsg());
	row = malloc((size_t)cinfo->output_width * c);
	if (!row)
		fail(f, "out of memory");
	while (cinfo->output_scanline < cinfo->output_height) {
		JSAMPROW r = row;
		int64_t y = cinfo->output_scanline;

		if (cnn_image_reserve(img, y + 1, cinfo->output_height))
			fail(f, "%s", cnn_errmsg());
		jpeg_read_scanlines(cinfo, &r, 1);
		if (scan_ended_early(cinfo))
			fail(f, "premature end of data");
		cnn_image_put_row(img, y, row);
	}
	jpeg_finish_decompress(cinfo);
	free(row);
	return img;
}

cnn_tensor *cnn_jpeg_decode(const unsigned char *buf, size_t len, const char *what)
{
	struct jpeg_decompress_struct cinfo = {0};
	struct jpeg_fail f;
	cnn_tensor *img;

	init_fail(&f);
	cinfo.err = &f.mgr;
	img = decode(&cinfo, &f, buf, len);
	jpeg_destroy_decompress(&cinfo);
	if (!img)
		cnn_error("%s: JPEG: %s", what, f.msg);
	return img;
}

/* A destination that appends to a cnn_buf.  Unlike jpeg_mem_dest(), whose
 * buffer is lost when an error strikes after it has grown, the buffer is
 * the caller's from the first byte. */
struct buf_dest {
	struct jpeg_destination_mgr mgr;
	struct cnn_buf *out;
	JOCTET chunk[16384];
};

static void dest_init(j_compress_ptr cinfo)
{
	struct buf_dest *d = (struct buf_dest *)cinfo->dest;

	d->mgr.next_output_byte = d->chunk;
	d->mgr.free_in_buffer = sizeof d->chunk;
}

static void dest_put(j_compress_ptr cinfo, size_t n)
{
	struct buf_dest *d = (struct buf_dest *)cinfo->dest;

	if (cnn_buf_append(d->out, d->chunk, n))
		fail((struct jpeg_fail *)cinfo->err, "%s", cnn_errmsg());
}

static boolean dest_empty(j_compress_ptr cinfo)
{
	dest_put(cinfo, sizeof ((struct buf_dest *)cinfo->dest)->chunk);
	dest_init(cinfo);
	return TRUE;
}

static void dest_term(j_compress_ptr cinfo)
{
	struct buf_dest *d = (struct buf_dest *)cinfo->dest;

	dest_put(cinfo, sizeof d->chunk - d->mgr.free_in_buffer);
}

static int encode(struct jpeg_compress_struct *cinfo, struct jpeg_fail *f,
		  struct buf_dest *dest, const cnn_tensor *img, int quality)
{
	unsigned char *volatile row = NULL;
	int64_t c = img->dim[0], h = img->dim[1], w = img->dim[2];

	if (setjmp(f->jump)) {
		free(row);
		return CNN_ERR;
	}
	if (h > JPEG_MAX_DIMENSION || w > JPEG_MAX_DIMENSION)
		fail(f, "%lldx%lld is too large (at most %d pixels a side)",
		     (long long)h, (long long)w, (int)JPEG_MAX_DIMENSION);
	jpeg_create_compress(cinfo);
	cinfo->dest = &dest->mgr;
	cinfo->image_width = (JDIMENSION)w;
	cinfo->image_height = (JDIMENSION)h;
	cinfo->input_components = (int)c;
	cinfo->in_color_space = c == 1 ? JCS_GRAYSCALE : JCS_RGB;
	jpeg_set_defaults(cinfo);
	jpeg_set_quality(cinfo, quality, TRUE);
	jpeg_start_compress(cinfo, TRUE);
	row = malloc((size_t)(w * c));
	if (!row)
		fail(f, "out of memory");
	while (cinfo->next_scanline < cinfo->image_height) {
		JSAMPROW r = row;

		cnn_image_get_row(img, cinfo->next_scanline, row);
		jpeg_write_scanlines(cinfo, &r, 1);
	}
	jpeg_finish_compress(cinfo);
	free(row);
	return CNN_OK;
}

int cnn_jpeg_encode(const cnn_tensor *img, int quality, struct cnn_buf *out,
		    const char *what)
{
	struct jpeg_compress_struct cinfo = {0};
	struct buf_dest dest = {
		.mgr = {
			.init_destination = dest_init,
			.empty_output_buffer = dest_empty,
			.term_destination = dest_term,
		},
		.out = out,
	};
	struct jpeg_fail f;
	int rc;

	init_fail(&f);
	cinfo.err = &f.mgr;
	rc = encode(&cinfo, &f, &dest, img, quality);
	jpeg_destroy_compress(&cinfo);
	if (rc)
		return cnn_error("%s: JPEG: %s", what, f.msg);
	return CNN_OK;
}
