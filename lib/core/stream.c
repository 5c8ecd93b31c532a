/*
 * stream.c - reading and writing tensor streams (cnn-stream(5)).
 *
 * A stream is records one after another, each either raw or inside zstd
 * frames.  The reader decides at every record boundary which kind comes
 * next, so `cat a.cnn b.cnn` reads as one stream whatever a and b are.  The
 * writer ends its zstd frame every FRAME_BYTES of input so that a reader
 * never holds more than one frame window, and at close so that everything
 * written before a failure can still be read.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "cnn.h"
#include "core/grow.h"

#define RECORD_MAGIC "CNNR"
#define VERSION_MAJOR 1
#define VERSION_MINOR 0
#define HEADER_BYTES 16
#define ZSTD_MAGIC 0xFD2FB528u
#define SKIPPABLE_MASK 0xFFFFFFF0u
#define SKIPPABLE_MAGIC 0x184D2A50u
#define IO_BYTES (1 << 17)
#define FRAME_BYTES (4 << 20)
/* The largest window our writer's levels use (level 22's, 128 MiB): a
 * frame header asking for more is not ours, and would cost its size. */
#define WINDOW_LOG_MAX 27

static uint64_t max_tensor_bytes;

void cnn_set_max_tensor_bytes(uint64_t bytes)
{
	max_tensor_bytes = bytes;
}

uint64_t cnn_max_tensor_bytes(void)
{
	if (max_tensor_bytes == 0) {
		const char *env = getenv("CNN_MAX_TENSOR_BYTES");
		unsigned long long v = env ? strtoull(env, NULL, 10) : 0;
		max_tensor_bytes = v ? v : (uint64_t)4 << 30;
	}
	return max_tensor_bytes;
}

static void put_le(unsigned char *p, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le(const unsigned char *p, int bytes)
{
	uint64_t v = 0;

	for (int i = bytes - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* The payload in stream byte order (little-endian) from host order. */
static int host_is_le(void)
{
	const uint16_t one = 1;

	return *(const unsigned char *)&one == 1;
}

static void swap_elements(void *data, size_t count, size_t size)
{
	unsigned char *p = data;

	if (size == 1 || host_is_le())
		return;
	for (size_t i = 0; i < count; i++, p += size)
		for (size_t a = 0, b = size - 1; a < b; a++, b--) {
			unsigned char t = p[a];
			p[a] = p[b];
			p[b] = t;
		}
}

/* ------------------------------------------------------------- reading */

struct cnn_reader {
	int fd;
	char *name;
	int64_t count;
	int eof;
	unsigned char *in;       /* bytes read from fd, not yet consumed */
	size_t in_pos, in_len;
	ZSTD_DCtx *dctx;
	int in_frame;            /* inside a zstd frame */
	int compressed;          /* the current record came from zstd frames */
	unsigned char *out;      /* decompressed, not yet consumed */
	size_t out_pos, out_len;
};

cnn_reader *cnn_reader_open(const char *path)
{
	cnn_reader *rd = calloc(1, sizeof *rd);

	if (!rd)
		goto nomem;
	rd->fd = -1;
	rd->in = malloc(IO_BYTES);
	rd->out = malloc(ZSTD_DStreamOutSize());
	rd->dctx = ZSTD_createDCtx();
	rd->name = strdup(strcmp(path, "-") == 0 ? "<stdin>" : path);
	if (!rd->in || !rd->out || !rd->dctx || !rd->name)
		goto nomem;
	ZSTD_DCtx_setParameter(rd->dctx, ZSTD_d_windowLogMax, WINDOW_LOG_MAX);
	if (strcmp(path, "-") == 0) {
		rd->fd = STDIN_FILENO;
	} else if ((rd->fd = open(path, O_RDONLY)) < 0) {
		cnn_error("%s: %s", path, strerror(errno));
		cnn_reader_close(rd);
		return NULL;
	}
	return rd;
nomem:
	cnn_reader_close(rd);
	cnn_error("out of memory");
	return NULL;
}

void cnn_reader_close(cnn_reader *rd)
{
	if (!rd)
		return;
	if (rd->fd > STDIN_FILENO)
		close(rd->fd);
	ZSTD_freeDCtx(rd->dctx);
	free(rd->in);
	free(rd->out);
	free(rd->name);
	free(rd);
}

const char *cnn_reader_name(const cnn_reader *rd)
{
	return rd->name;
}

int64_t cnn_reader_count(const cnn_reader *rd)
{
	return rd->count;
}

/* Make at least `want` raw bytes available unless the input ends first;
 * returns how many are available. */
static ssize_t raw_fill(cnn_reader *rd, size_t want)
{
	if (rd->in_len - rd->in_pos >= want || rd->eof)
		return (ssize_t)(rd->in_len - rd->in_pos);
	memmove(rd->in, rd->in + rd->in_pos, rd->in_len - rd->in_pos);
	rd->in_len -= rd->in_pos;
	rd->in_pos = 0;
	while (rd->in_len < want && !rd->eof) {
		ssize_t n = read(rd->fd, rd->in + rd->in_len, IO_BYTES - rd->in_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return cnn_error("read error: %s", strerror(errno));
		if (n == 0)
			rd->eof = 1;
		rd->in_len += (size_t)n;
	}
	return (ssize_t)rd->in_len;
}

/* Copy n raw bytes; large copies bypass the buffer. */
static int raw_read(cnn_reader *rd, unsigned char *dst, size_t n)
{
	size_t have = rd->in_len - rd->in_pos, take = have < n ? have : n;

	memcpy(dst, rd->in + rd->in_pos, take);
	rd->in_pos += take;
	dst += take;
	n -= take;
	while (n >= IO_BYTES) {
		ssize_t got = read(rd->fd, dst, n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return cnn_error("read error: %s", strerror(errno));
		if (got == 0)
			return cnn_error("truncated record");
		dst += got;
		n -= (size_t)got;
	}
	if (n == 0)
		return CNN_OK;
	if (raw_fill(rd, n) < 0)
		return CNN_ERR;
	if (rd->in_len - rd->in_pos < n)
		return cnn_error("truncated record");
	memcpy(dst, rd->in + rd->in_pos, n);
	rd->in_pos += n;
	return CNN_OK;
}

/* Decompress into dst (capacity cap) until it holds something, the frame
 * ends, or the input does; returns the bytes produced. */
static ssize_t inflate_some(cnn_reader *rd, unsigned char *dst, size_t cap)
{
	ZSTD_outBuffer out = {dst, cap, 0};

	while (out.pos == 0 && rd->in_frame) {
		ZSTD_inBuffer in;
		size_t ret;

		if (rd->in_pos == rd->in_len) {
			if (raw_fill(rd, 1) < 0)
				return CNN_ERR;
			if (rd->in_pos == rd->in_len)
				return cnn_error("truncated compressed data");
		}
		in = (ZSTD_inBuffer){rd->in, rd->in_len, rd->in_pos};
		ret = ZSTD_decompressStream(rd->dctx, &out, &in);
		rd->in_pos = in.pos;
		if (ZSTD_getErrorCode(ret) == ZSTD_error_frameParameter_windowTooLarge)
			return cnn_error("a zstd frame whose window is over %d MiB, more "
					 "than any level writes", 1 << (WINDOW_LOG_MAX - 20));
		if (ZSTD_getErrorCode(ret) == ZSTD_error_memory_allocation)
			return cnn_error("out of memory in zstd");
		if (ZSTD_isError(ret))
			return cnn_error("corrupt compressed data (%s)", ZSTD_getErrorName(ret));
		if (ret == 0)
			rd->in_frame = 0;
	}
	return (ssize_t)out.pos;
}

/* Is a zstd frame next in the raw input?  Skippable frames are skipped. */
static int frame_next(cnn_reader *rd)
{
	for (;;) {
		uint32_t magic;

		if (raw_fill(rd, 8) < 0)
			return CNN_ERR;
		if (rd->in_len - rd->in_pos < 4)
			return 0;
		magic = (uint32_t)get_le(rd->in + rd->in_pos, 4);
		if (magic == ZSTD_MAGIC) {
			ZSTD_DCtx_reset(rd->dctx, ZSTD_reset_session_only);
			rd->in_frame = 1;
			return 1;
		}
		if ((magic & SKIPPABLE_MASK) != SKIPPABLE_MAGIC)
			return 0;
		if (rd->in_len - rd->in_pos < 8)
			return cnn_error("truncated skippable frame");
		uint64_t skip = 8 + get_le(rd->in + rd->in_pos + 4, 4);
		while (skip > 0) {
			size_t have = rd->in_len - rd->in_pos;
			size_t take = have < skip ? have : (size_t)skip;
			rd->in_pos += take;
			skip -= take;
			if (skip && raw_fill(rd, 1) <= 0)
				return cnn_error("truncated skippable frame");
		}
	}
}

/* Read n bytes of the current record, wherever they come from. */
static int stream_read(cnn_reader *rd, void *dst_, size_t n)
{
	unsigned char *dst = dst_;

	if (!rd->compressed)
		return raw_read(rd, dst, n);
	while (n > 0) {
		size_t have = rd->out_len - rd->out_pos;
		if (have > 0) {
			size_t take = have < n ? have : n;
			memcpy(dst, rd->out + rd->out_pos, take);
			rd->out_pos += take;
			dst += take;
			n -= take;
			continue;
		}
		if (!rd->in_frame) {
			int next = frame_next(rd);
			if (next < 0)
				return CNN_ERR;
			if (!next)
				return cnn_error("truncated record");
		}
		/* Big payloads decompress straight into place. */
		size_t cap = ZSTD_DStreamOutSize();
		ssize_t got = n >= cap ? inflate_some(rd, dst, n)
				       : inflate_some(rd, rd->out, cap);
		if (got < 0)
			return CNN_ERR;
		if (n >= cap) {
			dst += got;
			n -= (size_t)got;
		} else {
			rd->out_pos = 0;
			rd->out_len = (size_t)got;
		}
	}
	return CNN_OK;
}

/* Decide how the next record is stored; 0 at a clean end of input. */
static int record_begin(cnn_reader *rd)
{
	int next;

	if (rd->out_pos < rd->out_len || rd->in_frame) {
		rd->compressed = 1;
		/* The frame may end right here, exactly at the record boundary. */
		if (rd->out_pos == rd->out_len) {
			ssize_t got = inflate_some(rd, rd->out, ZSTD_DStreamOutSize());
			if (got < 0)
				return CNN_ERR;
			rd->out_pos = 0;
			rd->out_len = (size_t)got;
			if (got == 0)
				return record_begin(rd);
		}
		return 1;
	}
	next = frame_next(rd);
	if (next < 0)
		return CNN_ERR;
	rd->compressed = next;
	if (next)
		return record_begin(rd);
	return rd->in_len > rd->in_pos;
}

static int stream_source(void *rd, void *dst, size_t n)
{
	return stream_read(rd, dst, n);
}

static int read_tensor(cnn_reader *rd, cnn_record *rec, uint64_t *left)
{
	unsigned char head[4], dimbuf[8 * CNN_MAX_DIMS];
	char name[CNN_MAX_NAME + 1];
	int64_t dim[CNN_MAX_DIMS], count;
	size_t namelen, esize;
	uint64_t entry;
	cnn_tensor *t;
	int ndim;

	if (*left < 4)
		return cnn_error("record body shorter than its tensors");
	if (stream_read(rd, head, 4))
		return CNN_ERR;
	esize = cnn_dtype_size(head[0]);
	ndim = head[1];
	namelen = get_le(head + 2, 2);
	if (esize == 0)
		return cnn_error("unknown dtype %d", head[0]);
	if (ndim > CNN_MAX_DIMS)
		return cnn_error("%d dimensions (at most %d)", ndim, CNN_MAX_DIMS);
	if (namelen == 0 || namelen > CNN_MAX_NAME)
		return cnn_error("tensor name of %zu bytes (1 to %d)", namelen, CNN_MAX_NAME);
	if (stream_read(rd, name, namelen) || stream_read(rd, dimbuf, 8 * ndim))
		return CNN_ERR;
	name[namelen] = 0;
	if (memchr(name, 0, namelen))
		return cnn_error("tensor name contains a NUL byte");
	for (int i = 0; i < ndim; i++) {
		uint64_t d = get_le(dimbuf + 8 * i, 8);
		if (d > INT64_MAX)
			return cnn_error("tensor \"%s\": dimension %d is %llu", name, i,
					 (unsigned long long)d);
		dim[i] = (int64_t)d;
	}
	if (cnn_shape_count(ndim, dim, esize, cnn_max_tensor_bytes(), &count))
		return cnn_error_context("tensor \"%s\"", name);
	entry = 4 + namelen + 8 * (uint64_t)ndim + (uint64_t)count * esize;
	if (entry > *left)
		return cnn_error("tensor \"%s\" runs past the end of its record", name);
	*left -= entry;
	if (cnn_record_get(rec, name))
		return cnn_error("tensor \"%s\" appears twice", name);
	/* The payload may be shorter than its header says: memory grows as
	 * its bytes arrive. */
	t = cnn_tensor_read(name, head[0], ndim, dim, stream_source, rd);
	if (!t)
		return CNN_ERR;
	swap_elements(t->data, (size_t)count, esize);
	return cnn_record_put(rec, t);
}

static int read_record(cnn_reader *rd, cnn_record *rec)
{
	unsigned char head[HEADER_BYTES];
	uint64_t left;
	int begin, ntensors;

	cnn_record_clear(rec);
	begin = record_begin(rd);
	if (begin <= 0)
		return begin < 0 ? CNN_ERR : CNN_END;
	if (stream_read(rd, head, HEADER_BYTES))
		return CNN_ERR;
	if (memcmp(head, RECORD_MAGIC, 4) != 0)
		return cnn_error("not a tensor stream (bad magic)");
	if (head[4] != VERSION_MAJOR)
		return cnn_error("stream version %d.%d (this reader knows %d.x)",
				 head[4], head[5], VERSION_MAJOR);
	ntensors = (int)get_le(head + 6, 2);
	left = get_le(head + 8, 8);
	for (int i = 0; i < ntensors; i++)
		if (read_tensor(rd, rec, &left))
			return CNN_ERR;
	if (left != 0)
		return cnn_error("record body longer than its tensors");
	return CNN_OK;
}

int cnn_read(cnn_reader *rd, cnn_record *rec)
{
	int ret = read_record(rd, rec);

	if (ret == CNN_OK)
		rd->count++;
	else if (ret == CNN_ERR)
		cnn_error_context("%s record %lld", rd->name, (long long)rd->count + 1);
	return ret;
}

int cnn_read_first(cnn_reader *rd, cnn_record *rec)
{
	int ret = cnn_read(rd, rec);

	if (ret == CNN_END && rd->count == 0)
		return cnn_error("%s: empty input (no records)", rd->name);
	return ret;
}

/* ------------------------------------------------------------- writing */

struct cnn_writer {
	cnn_outfile *out;
	int fd;                  /* out's, written with write(2) unbuffered */
	int to_stdout;
	char *name;
	int level;
	int failed;
	ZSTD_CCtx *cctx;
	uint64_t frame_in;       /* bytes fed to the open frame */
	unsigned char *buf;      /* output waiting for write(2) */
	size_t len;
};

cnn_writer *cnn_writer_open(const char *path, int level)
{
	return cnn_writer_open_file(path, level, 0);
}

cnn_writer *cnn_writer_open_file(const char *path, int level, int flags)
{
	int to_stdout = strcmp(path, "-") == 0;
	cnn_writer *wr;

	if (level < 0 || level > ZSTD_maxCLevel()) {
		cnn_error("compression level %d (0 for none, 1 to %d)", level,
			  ZSTD_maxCLevel());
		return NULL;
	}
	if (to_stdout && isatty(STDOUT_FILENO)) {
		cnn_error("will not write a binary stream to a terminal (redirect or pipe it)");
		return NULL;
	}
	wr = calloc(1, sizeof *wr);
	if (!wr || !(wr->buf = malloc(IO_BYTES)) ||
	    !(wr->name = strdup(to_stdout ? "<stdout>" : path)) ||
	    (level && !(wr->cctx = ZSTD_createCCtx()))) {
		if (wr) {
			free(wr->buf);
			free(wr->name);
			free(wr);
		}
		cnn_error("out of memory");
		return NULL;
	}
	wr->level = level;
	if (wr->cctx) {
		ZSTD_CCtx_setParameter(wr->cctx, ZSTD_c_compressionLevel, level);
		ZSTD_CCtx_setParameter(wr->cctx, ZSTD_c_checksumFlag, 1);
	}
	if (!(wr->out = cnn_outfile_open(path, flags))) {
		ZSTD_freeCCtx(wr->cctx);
		free(wr->buf);
		free(wr->name);
		free(wr);
		return NULL;
	}
	wr->fd = fileno(cnn_outfile_stream(wr->out));
	wr->to_stdout = to_stdout;
	return wr;
}

static int write_all(cnn_writer *wr, const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t done = write(wr->fd, p, n);
		if (done < 0 && errno == EINTR)
			continue;
		if (done < 0) {
			wr->failed = 1;
			return cnn_error("%s: write error: %s", wr->name, strerror(errno));
		}
		p += done;
		n -= (size_t)done;
	}
	return CNN_OK;
}

static int drain(cnn_writer *wr)
{
	int ret = write_all(wr, wr->buf, wr->len);

	wr->len = 0;
	return ret;
}

/* Feed bytes through the compressor (or straight out), ending the frame if
 * mode is ZSTD_e_end. */
static int emit(cnn_writer *wr, const void *p, size_t n, ZSTD_EndDirective mode)
{
	ZSTD_inBuffer in = {p, n, 0};
	size_t left;

	if (!wr->cctx) {
		if (wr->len + n > IO_BYTES) {
			if (drain(wr))
				return CNN_ERR;
			if (n >= IO_BYTES)
				return write_all(wr, p, n);
		}
		memcpy(wr->buf + wr->len, p, n);
		wr->len += n;
		return CNN_OK;
	}
	wr->frame_in += n;
	do {
		ZSTD_outBuffer out = {wr->buf, IO_BYTES, wr->len};
		left = ZSTD_compressStream2(wr->cctx, &out, &in, mode);
		/* zstd allocates as it compresses: its failure is ours to name. */
		if (ZSTD_getErrorCode(left) == ZSTD_error_memory_allocation)
			return cnn_error("%s: out of memory in zstd", wr->name);
		if (ZSTD_isError(left))
			return cnn_error("%s: compression failed (%s)", wr->name,
					 ZSTD_getErrorName(left));
		wr->len = out.pos;
		if (wr->len == IO_BYTES && drain(wr))
			return CNN_ERR;
	} while (in.pos < in.size || (mode == ZSTD_e_end && left != 0));
	return CNN_OK;
}

int cnn_write(cnn_writer *wr, const cnn_record *rec)
{
	unsigned char head[HEADER_BYTES], entry[4 + CNN_MAX_NAME + 8 * CNN_MAX_DIMS];
	uint64_t body = 0;

	if (wr->failed)
		return cnn_error("%s: earlier write failed", wr->name);
	if (rec->n > 0xFFFF)
		return cnn_error("record of %d tensors (at most 65535)", rec->n);
	for (int i = 0; i < rec->n; i++) {
		const cnn_tensor *t = rec->tensor[i];
		body += 4 + strlen(t->name) + 8 * (uint64_t)t->ndim + cnn_tensor_bytes(t);
	}
	memcpy(head, RECORD_MAGIC, 4);
	head[4] = VERSION_MAJOR;
	head[5] = VERSION_MINOR;
	put_le(head + 6, (uint64_t)rec->n, 2);
	put_le(head + 8, body, 8);
	if (emit(wr, head, sizeof head, ZSTD_e_continue))
		return CNN_ERR;
	for (int i = 0; i < rec->n; i++) {
		const cnn_tensor *t = rec->tensor[i];
		size_t namelen = strlen(t->name), len = 4 + namelen;
		entry[0] = (unsigned char)t->dtype;
		entry[1] = (unsigned char)t->ndim;
		put_le(entry + 2, namelen, 2);
		memcpy(entry + 4, t->name, namelen);
		for (int d = 0; d < t->ndim; d++, len += 8)
			put_le(entry + len, (uint64_t)t->dim[d], 8);
		if (emit(wr, entry, len, ZSTD_e_continue))
			return CNN_ERR;
		/* Payloads are little-endian; big-endian hosts write a swapped copy. */
		if (host_is_le() || cnn_dtype_size(t->dtype) == 1) {
			if (emit(wr, t->data, cnn_tensor_bytes(t), ZSTD_e_continue))
				return CNN_ERR;
		} else {
			cnn_tensor *le = cnn_tensor_convert(t, t->dtype);
			int ret = le ? CNN_OK : CNN_ERR;
			if (le) {
				swap_elements(le->data, (size_t)cnn_tensor_count(le),
					      cnn_dtype_size(le->dtype));
				ret = emit(wr, le->data, cnn_tensor_bytes(le), ZSTD_e_continue);
			}
			cnn_tensor_free(le);
			if (ret)
				return CNN_ERR;
		}
	}
	if (wr->cctx && wr->frame_in >= FRAME_BYTES) {
		wr->frame_in = 0;
		return emit(wr, NULL, 0, ZSTD_e_end);
	}
	return CNN_OK;
}

static void free_writer(cnn_writer *wr)
{
	ZSTD_freeCCtx(wr->cctx);
	free(wr->buf);
	free(wr->name);
	free(wr);
}

int cnn_writer_close(cnn_writer *wr)
{
	int ret = CNN_OK;

	if (!wr)
		return CNN_OK;
	if (!wr->failed && wr->cctx && wr->frame_in > 0)
		ret = emit(wr, NULL, 0, ZSTD_e_end);
	if (ret == CNN_OK && !wr->failed)
		ret = drain(wr);
	if (ret == CNN_OK && wr->failed)
		ret = cnn_error("%s: an earlier write failed", wr->name);
	if (ret == CNN_OK)
		ret = cnn_outfile_commit(wr->out);
	else
		cnn_outfile_discard(wr->out);
	free_writer(wr);
	return ret;
}

/* Standard output gets what is buffered, with the frame ended, so that the
 * records written so far stay readable; a named file is left as it was. */
void cnn_writer_discard(cnn_writer *wr)
{
	if (!wr)
		return;
	if (wr->to_stdout) {
		cnn_writer_close(wr);
		return;
	}
	cnn_outfile_discard(wr->out);
	free_writer(wr);
}
