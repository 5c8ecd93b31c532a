/*
 * arrayfile.c - IDX and NumPy .npy files, read one item at a time, and
 * .npy written from a stream of tensors.
 *
 * Reading goes through zlib's gz* functions, which pass uncompressed data
 * through unchanged, so MNIST's .gz files and plain ones (or a gzipped
 * .npy) read alike.  Each element type of the file maps to the smallest
 * cnn dtype that holds all its values exactly.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "cnn.h"
#include "core/grow.h"

#define HOST_BIG (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__)

/* How file elements become cnn elements, after byte swapping. */
enum conv {
	CONV_COPY, /* same layout */
	CONV_I8,   /* int8 to i32 */
	CONV_I16,  /* int16 to i32 */
	CONV_U32,  /* uint32 to i64 */
	CONV_U64,  /* uint64 to i64, if it fits */
	CONV_F16,  /* half to f32 */
};

struct cnn_array_reader {
	gzFile gz;
	char *name;
	cnn_dtype dtype;
	enum conv conv;
	size_t fsize; /* bytes of one element in the file */
	int swap;
	int cut; /* the gzip stream ended early */
	int ndim; /* of an item */
	int64_t dim[CNN_MAX_DIMS];
	int64_t count, next, elems;
	off_t size; /* of a regular file from where we started, else -1 */
};

/* --------------------------------------------------------------- input */

/* zlib's message is "path: reason"; the path is said already. */
static const char *zlib_reason(const char *msg)
{
	const char *p = msg, *s;

	while ((s = strstr(p, ": ")))
		p = s + 2;
	return p;
}

/* n bytes, or as many as there were before the end; CNN_ERR on a read
 * error, with a message the caller puts in context.  gzread() takes an
 * unsigned int, so large items go in parts. */
static int64_t read_bytes(cnn_array_reader *ar, void *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		unsigned part = n - got < (1u << 30) ? (unsigned)(n - got) : 1u << 30;
		int r = gzread(ar->gz, (char *)buf + got, part);
		int err;
		const char *msg;

		if (r <= 0) {
			msg = gzerror(ar->gz, &err);
			if (err == Z_OK)
				break;
			/* The gzip stream stops short, maybe just before
			 * its checksum: a truncation all the same. */
			if (err == Z_BUF_ERROR) {
				ar->cut = 1;
				break;
			}
			if (err == Z_ERRNO)
				return cnn_error("%s", strerror(errno));
			return cnn_error("gzip: %s", zlib_reason(msg));
		}
		got += (size_t)r;
	}
	return (int64_t)got;
}

static int read_exact(cnn_array_reader *ar, void *buf, size_t n, const char *what)
{
	int64_t got = read_bytes(ar, buf, n);

	if (got < 0)
		return cnn_error_context("%s", ar->name);
	if ((size_t)got < n)
		return cnn_error("%s: truncated %s", ar->name, what);
	return CNN_OK;
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* ------------------------------------------------------------------ IDX */

static int open_idx(cnn_array_reader *ar, const unsigned char *magic)
{
	static const struct {
		unsigned char code;
		cnn_dtype dtype;
		enum conv conv;
		size_t fsize;
	} types[] = {
		{0x08, CNN_U8, CONV_COPY, 1},  {0x09, CNN_I32, CONV_I8, 1},
		{0x0b, CNN_I32, CONV_I16, 2},  {0x0c, CNN_I32, CONV_COPY, 4},
		{0x0d, CNN_F32, CONV_COPY, 4}, {0x0e, CNN_F64, CONV_COPY, 8},
	};
	unsigned char d[4 * (CNN_MAX_DIMS + 1)];
	int ndim = magic[3];
	size_t t = 0;

	while (t < sizeof types / sizeof types[0] && types[t].code != magic[2])
		t++;
	if (t == sizeof types / sizeof types[0])
		return cnn_error("%s: IDX element type 0x%02x (0x08, 0x09, 0x0b to 0x0e)",
				 ar->name, magic[2]);
	ar->dtype = types[t].dtype;
	ar->conv = types[t].conv;
	ar->fsize = types[t].fsize;
	if (ndim < 1 || ndim > CNN_MAX_DIMS + 1)
		return cnn_error("%s: IDX of %d dimensions (1 to %d)", ar->name, ndim,
				 CNN_MAX_DIMS + 1);
	if (read_exact(ar, d, 4 * (size_t)ndim, "header"))
		return CNN_ERR;
	ar->count = be32(d);
	ar->ndim = ndim - 1;
	for (int i = 1; i < ndim; i++)
		ar->dim[i - 1] = be32(d + 4 * i);
	ar->swap = !HOST_BIG && ar->fsize > 1;
	return CNN_OK;
}

/* ------------------------------------------------------------------ npy */

/* The header is a Python dict literal such as
 *   {'descr': '<f4', 'fortran_order': False, 'shape': (10, 3), }
 * parsed here as exactly that, not evaluated. */
struct npy_parse {
	const char *p, *end;
	char descr[16];
	int fortran, ndim, seen;
	int64_t dim[CNN_MAX_DIMS + 1];
};

static void skip_space(struct npy_parse *np)
{
	while (np->p < np->end && (*np->p == ' ' || *np->p == '\n' || *np->p == '\t'))
		np->p++;
}

/* Skip spaces, then take c if it is next. */
static int take(struct npy_parse *np, char c)
{
	skip_space(np);
	if (np->p < np->end && *np->p == c) {
		np->p++;
		return 1;
	}
	return 0;
}

static int parse_string(struct npy_parse *np, char *buf, size_t size)
{
	const char *start;
	char q;

	skip_space(np);
	if (np->p >= np->end || (*np->p != '\'' && *np->p != '"'))
		return cnn_error("a string expected");
	q = *np->p++;
	start = np->p;
	while (np->p < np->end && *np->p != q && *np->p != '\\')
		np->p++;
	if (np->p >= np->end || *np->p != q)
		return cnn_error("unterminated string");
	if ((size_t)(np->p - start) >= size)
		return cnn_error("string '%.*s' too long", (int)(np->p - start), start);
	memcpy(buf, start, np->p - start);
	buf[np->p - start] = '\0';
	np->p++;
	return CNN_OK;
}

static int parse_bool(struct npy_parse *np, int *v)
{
	skip_space(np);
	if (np->end - np->p >= 4 && memcmp(np->p, "True", 4) == 0)
		*v = 1, np->p += 4;
	else if (np->end - np->p >= 5 && memcmp(np->p, "False", 5) == 0)
		*v = 0, np->p += 5;
	else
		return cnn_error("True or False expected");
	return CNN_OK;
}

static int parse_number(struct npy_parse *np, int64_t *v)
{
	skip_space(np);
	if (np->p >= np->end || *np->p < '0' || *np->p > '9')
		return cnn_error("shape: a number expected");
	*v = 0;
	while (np->p < np->end && *np->p >= '0' && *np->p <= '9') {
		if (*v > (INT64_MAX - 9) / 10)
			return cnn_error("shape: dimension too large");
		*v = *v * 10 + (*np->p++ - '0');
	}
	if (np->p < np->end && *np->p == 'L') /* a Python 2 long */
		np->p++;
	return CNN_OK;
}

static int parse_shape(struct npy_parse *np)
{
	int comma = 0;

	if (!take(np, '('))
		return cnn_error("shape: a tuple expected");
	for (np->ndim = 0; !take(np, ')');) {
		if (np->ndim && !comma)
			return cnn_error("shape: ',' or ')' expected");
		if (np->ndim == CNN_MAX_DIMS + 1)
			return cnn_error("shape: more than %d dimensions", CNN_MAX_DIMS + 1);
		if (parse_number(np, &np->dim[np->ndim++]))
			return CNN_ERR;
		comma = take(np, ',');
	}
	if (np->ndim == 1 && !comma)
		return cnn_error("shape: (%lld) is not a tuple", (long long)np->dim[0]);
	return CNN_OK;
}

static int parse_entry(struct npy_parse *np)
{
	char key[32];
	int bit;

	if (parse_string(np, key, sizeof key))
		return CNN_ERR;
	if (!take(np, ':'))
		return cnn_error("':' expected after '%s'", key);
	if (strcmp(key, "descr") == 0) {
		bit = 1;
		skip_space(np);
		if (np->p < np->end && *np->p == '[')
			return cnn_error("structured dtypes are not supported");
		if (parse_string(np, np->descr, sizeof np->descr))
			return CNN_ERR;
	} else if (strcmp(key, "fortran_order") == 0) {
		bit = 2;
		if (parse_bool(np, &np->fortran))
			return CNN_ERR;
	} else if (strcmp(key, "shape") == 0) {
		bit = 4;
		if (parse_shape(np))
			return CNN_ERR;
	} else {
		return cnn_error("unknown key '%s'", key);
	}
	if (np->seen & bit)
		return cnn_error("'%s' given twice", key);
	np->seen |= bit;
	return CNN_OK;
}

static int parse_header(struct npy_parse *np)
{
	int comma = 0;

	if (!take(np, '{'))
		return cnn_error("'{' expected");
	while (!take(np, '}')) {
		if (np->seen && !comma)
			return cnn_error("',' or '}' expected");
		if (parse_entry(np))
			return CNN_ERR;
		comma = take(np, ',');
	}
	skip_space(np);
	if (np->p != np->end)
		return cnn_error("text after the dict");
	if (np->seen != 7)
		return cnn_error("'descr', 'fortran_order' and 'shape' expected");
	return CNN_OK;
}

/* The cnn dtype for a NumPy type string such as '<f4'. */
static int npy_dtype(cnn_array_reader *ar, const char *descr)
{
	static const struct {
		char kind, size;
		cnn_dtype dtype;
		enum conv conv;
	} map[] = {
		{'b', '1', CNN_U8, CONV_COPY},  {'u', '1', CNN_U8, CONV_COPY},
		{'i', '1', CNN_I32, CONV_I8},   {'u', '2', CNN_U16, CONV_COPY},
		{'i', '2', CNN_I32, CONV_I16},  {'u', '4', CNN_I64, CONV_U32},
		{'i', '4', CNN_I32, CONV_COPY}, {'u', '8', CNN_I64, CONV_U64},
		{'i', '8', CNN_I64, CONV_COPY}, {'f', '2', CNN_F32, CONV_F16},
		{'f', '4', CNN_F32, CONV_COPY}, {'f', '8', CNN_F64, CONV_COPY},
	};
	char order = descr[0];
	size_t n = strlen(descr) == 3 && order && strchr("<>|=", order) ?
			   sizeof map / sizeof map[0] : 0;

	for (size_t i = 0; i < n; i++) {
		if (descr[1] != map[i].kind || descr[2] != map[i].size)
			continue;
		ar->dtype = map[i].dtype;
		ar->conv = map[i].conv;
		ar->fsize = (size_t)(descr[2] - '0');
		if (ar->fsize > 1 && order == '|')
			return cnn_error("dtype '%s' has no byte order", descr);
		ar->swap = ar->fsize > 1 && (order == '>') != HOST_BIG && order != '=';
		return CNN_OK;
	}
	return cnn_error("dtype '%s' is not supported (bool, signed and unsigned "
			 "integers of 1 to 8 bytes, floats of 2 to 8)", descr);
}

static int open_npy(cnn_array_reader *ar, const unsigned char *magic)
{
	unsigned char v[8];
	struct npy_parse np = {0};
	size_t len;
	char *text;
	int rc;

	if (memcmp(magic, "\x93NUM", 4) || read_exact(ar, v, 4, "header") ||
	    memcmp(v, "PY", 2))
		return cnn_error("%s: not an IDX or .npy file", ar->name);
	if (v[2] < 1 || v[2] > 3)
		return cnn_error("%s: .npy version %d.%d (1.0 to 3.0)", ar->name, v[2], v[3]);
	if (read_exact(ar, v + 4, v[2] == 1 ? 2 : 4, "header"))
		return CNN_ERR;
	len = v[2] == 1 ? (size_t)v[4] | (size_t)v[5] << 8 : le32(v + 4);
	if (len > 1 << 20)
		return cnn_error("%s: .npy header of %zu bytes", ar->name, len);
	text = malloc(len + 1);
	if (!text)
		return cnn_error("out of memory");
	rc = read_exact(ar, text, len, "header");
	np.p = text;
	np.end = text + len;
	if (rc == CNN_OK && (parse_header(&np) || npy_dtype(ar, np.descr)))
		rc = cnn_error_context("%s: .npy header", ar->name);
	free(text);
	if (rc)
		return CNN_ERR;
	if (np.fortran && np.ndim > 1)
		return cnn_error("%s: Fortran order is not supported (save a C-ordered "
				 "copy, e.g. with numpy.ascontiguousarray)", ar->name);
	if (np.ndim == 0)
		return cnn_error("%s: a 0-dimensional array has no items", ar->name);
	ar->count = np.dim[0];
	ar->ndim = np.ndim - 1;
	memcpy(ar->dim, np.dim + 1, ar->ndim * sizeof *ar->dim);
	return CNN_OK;
}

/* ------------------------------------------------------------- reading */

/* Also note the size of a regular file, which bounds what a plain
 * (not gzipped) header may claim. */
static gzFile open_gz(cnn_array_reader *ar, const char *path)
{
	struct stat st;
	off_t at;
	int fd;
	gzFile gz;

	/* gzclose() closes the descriptor: give it a copy of stdin's. */
	fd = strcmp(path, "-") ? open(path, O_RDONLY) : dup(STDIN_FILENO);
	if (fd < 0)
		return NULL;
	ar->size = -1;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (at = lseek(fd, 0, SEEK_CUR)) >= 0)
		ar->size = st.st_size - at;
	gz = gzdopen(fd, "rb");
	if (!gz)
		close(fd);
	return gz;
}

/* Items of no values would be read for ever from nothing; and the items
 * of a plain file must be in it, found before any is read. */
static int check_items(cnn_array_reader *ar)
{
	size_t bytes = (size_t)ar->elems * ar->fsize;
	int64_t left = ar->size - gztell(ar->gz);

	if (ar->elems == 0)
		return ar->count == 0 ? CNN_OK :
		       cnn_error("%s: %lld items of no values (a dimension is 0)", ar->name,
				 (long long)ar->count);
	if (ar->size >= 0 && gzdirect(ar->gz) && left / (int64_t)bytes < ar->count)
		return cnn_error("%s: item %lld: truncated", ar->name,
				 (long long)(left / (int64_t)bytes));
	return CNN_OK;
}

int cnn_array_probe(const char *path)
{
	unsigned char m[4];
	struct stat st;
	FILE *f;
	int ok;

	/* Only a regular file: reading a pipe's first bytes would lose them. */
	if (stat(path, &st) || !S_ISREG(st.st_mode) || !(f = fopen(path, "rb")))
		return 0;
	/* gzip (IDX as MNIST ships it), IDX (two zeros, a type code), .npy */
	ok = fread(m, 1, 4, f) == 4 &&
	     ((m[0] == 0x1f && m[1] == 0x8b) || (m[0] == 0 && m[1] == 0 && m[2] >= 0x08 && m[2] <= 0x0e) ||
	      memcmp(m, "\x93NUM", 4) == 0);
	fclose(f);
	return ok;
}

cnn_array_reader *cnn_array_open(const char *path)
{
	cnn_array_reader *ar = calloc(1, sizeof *ar);
	unsigned char magic[4];
	int rc;

	if (!ar || !(ar->name = strdup(strcmp(path, "-") ? path : "<stdin>"))) {
		free(ar);
		cnn_error("out of memory");
		return NULL;
	}
	ar->gz = open_gz(ar, path);
	if (!ar->gz) {
		cnn_error("%s: %s", ar->name, strerror(errno));
		goto fail;
	}
	gzbuffer(ar->gz, 1 << 17);
	rc = (int)read_bytes(ar, magic, 4);
	if (rc < 0) {
		cnn_error_context("%s", ar->name);
		goto fail;
	}
	if (rc == 4 && magic[0] == 0 && magic[1] == 0)
		rc = open_idx(ar, magic);
	else if (rc == 4)
		rc = open_npy(ar, magic);
	else
		rc = cnn_error("%s: not an IDX or .npy file", ar->name);
	if (rc)
		goto fail;
	if (cnn_shape_count(ar->ndim, ar->dim, cnn_dtype_size(ar->dtype),
			    cnn_max_tensor_bytes(), &ar->elems)) {
		cnn_error_context("%s: items", ar->name);
		goto fail;
	}
	if (check_items(ar))
		goto fail;
	return ar;
fail:
	cnn_array_close(ar);
	return NULL;
}

int64_t cnn_array_count(const cnn_array_reader *ar)
{
	return ar->count;
}

static void swap_bytes(void *buf, int64_t n, size_t size)
{
	uint16_t *p2 = buf;
	uint32_t *p4 = buf;
	uint64_t *p8 = buf;

	for (int64_t i = 0; i < n; i++) {
		if (size == 2)
			p2[i] = __builtin_bswap16(p2[i]);
		else if (size == 4)
			p4[i] = __builtin_bswap32(p4[i]);
		else
			p8[i] = __builtin_bswap64(p8[i]);
	}
}

static float half_to_float(uint16_t h)
{
	int exp = h >> 10 & 0x1f, man = h & 0x3ff;
	float v;

	if (exp == 0)
		v = ldexpf((float)man, -24);
	else if (exp == 31)
		v = man ? NAN : INFINITY;
	else
		v = ldexpf((float)(man + 1024), exp - 25);
	return h & 0x8000 ? -v : v;
}

/* Widen the file's elements in src into t. */
static int convert(const cnn_array_reader *ar, const void *src, cnn_tensor *t)
{
	int64_t n = ar->elems;
	int32_t *i32 = t->data;
	int64_t *i64 = t->data;
	float *f32 = t->data;

	for (int64_t i = 0; i < n; i++) {
		switch (ar->conv) {
		case CONV_COPY:
			return CNN_OK; /* read in place */
		case CONV_I8:
			i32[i] = ((const int8_t *)src)[i];
			break;
		case CONV_I16:
			i32[i] = ((const int16_t *)src)[i];
			break;
		case CONV_U32:
			i64[i] = ((const uint32_t *)src)[i];
			break;
		case CONV_U64:
			if (((const uint64_t *)src)[i] > INT64_MAX)
				return cnn_error("uint64 value %llu does not fit in i64",
						 (unsigned long long)((const uint64_t *)src)[i]);
			i64[i] = (int64_t)((const uint64_t *)src)[i];
			break;
		case CONV_F16:
			f32[i] = half_to_float(((const uint16_t *)src)[i]);
			break;
		}
	}
	return CNN_OK;
}

/* Past the last item the file must end. */
static int at_end(cnn_array_reader *ar)
{
	unsigned char c;
	int64_t got = read_bytes(ar, &c, 1);

	if (got < 0)
		return cnn_error_context("%s", ar->name);
	if (ar->cut)
		return cnn_error("%s: truncated after the last item", ar->name);
	if (got)
		return cnn_error("%s: more data after the %lld items of the header",
				 ar->name, (long long)ar->count);
	return CNN_END;
}

static int item_source(void *ar, void *dst, size_t n)
{
	int64_t got = read_bytes(ar, dst, n);

	if (got < 0)
		return CNN_ERR;
	return (size_t)got < n ? cnn_error("truncated") : CNN_OK;
}

/* The item grows as gzip delivers it, whatever its header claims; an item
 * to convert is read as bytes, then widened. */
int cnn_array_read(cnn_array_reader *ar, const char *name, cnn_tensor **item)
{
	int64_t bytes = ar->elems * (int64_t)ar->fsize;
	cnn_tensor *t = NULL, *raw = NULL;
	int rc = CNN_ERR;

	*item = NULL;
	if (ar->next == ar->count)
		return at_end(ar);
	if (ar->conv == CONV_COPY)
		t = cnn_tensor_read(name, ar->dtype, ar->ndim, ar->dim, item_source, ar);
	else if ((raw = cnn_tensor_read(name, CNN_U8, 1, &bytes, item_source, ar)))
		t = cnn_tensor_empty(name, ar->dtype, ar->ndim, ar->dim);
	if (t) {
		void *src = raw ? raw->data : t->data;
		if (ar->swap)
			swap_bytes(src, ar->elems, ar->fsize);
		rc = convert(ar, src, t);
	}
	cnn_tensor_free(raw);
	if (rc) {
		cnn_tensor_free(t);
		return cnn_error_context("%s: item %lld", ar->name, (long long)ar->next);
	}
	ar->next++;
	*item = t;
	return CNN_OK;
}

void cnn_array_close(cnn_array_reader *ar)
{
	if (!ar)
		return;
	if (ar->gz)
		gzclose(ar->gz);
	free(ar->name);
	free(ar);
}

/* ------------------------------------------------------------- writing */

struct cnn_npy_writer {
	cnn_outfile *out;
	FILE *f;      /* out's */
	char *name;
	off_t start;  /* where the header begins */
	size_t hlen;  /* header bytes, 0 until the first tensor */
	cnn_tensor first; /* dtype and shape of all (data unused) */
	int64_t n;
};

cnn_npy_writer *cnn_npy_writer_open(const char *path)
{
	int std = strcmp(path, "-") == 0, fd;
	cnn_npy_writer *nw = calloc(1, sizeof *nw);

	if (!nw || !(nw->name = strdup(std ? "<stdout>" : path))) {
		free(nw);
		cnn_error("out of memory");
		return NULL;
	}
	if (!(nw->out = cnn_outfile_open(path, 0)))
		goto fail;
	nw->f = cnn_outfile_stream(nw->out);
	/* The item count is only known at the end, when the header at the
	 * start gets rewritten: appending or a pipe would not allow that. */
	fd = fileno(nw->f);
	nw->start = ftello(nw->f);
	if (nw->start < 0 || (fcntl(fd, F_GETFL) & O_APPEND)) {
		cnn_error("%s: a .npy file is written in place, so it cannot go to "
			  "a pipe or an appended file: give a file name", nw->name);
		goto fail;
	}
	return nw;
fail:
	cnn_outfile_discard(nw->out);
	free(nw->name);
	free(nw);
	return NULL;
}

/* The version 1.0 header for n items into buf (512 bytes hold any),
 * padded to hlen bytes; or when hlen is 0, just its length: a multiple of
 * 64, with room for any n, so that the data starts aligned. */
static size_t npy_header(const cnn_npy_writer *nw, int64_t n, size_t hlen,
			 char *buf, size_t size)
{
	static const char *descr[] = {
		[CNN_U8] = "|u1", [CNN_U16] = "<u2", [CNN_I32] = "<i4",
		[CNN_I64] = "<i8", [CNN_F32] = "<f4", [CNN_F64] = "<f8",
	};
	const cnn_tensor *t = &nw->first;
	char d[4];
	size_t len;

	strcpy(d, descr[t->dtype]);
	if (HOST_BIG && d[0] == '<')
		d[0] = '>';
	len = (size_t)snprintf(buf + 10, size - 10,
			       "{'descr': '%s', 'fortran_order': False, 'shape': (%lld",
			       d, (long long)(hlen ? n : INT64_MAX));
	for (int i = 0; i < t->ndim; i++)
		len += (size_t)snprintf(buf + 10 + len, size - 10 - len, ", %lld",
					(long long)t->dim[i]);
	len += (size_t)snprintf(buf + 10 + len, size - 10 - len, "%s), }",
				t->ndim ? "" : ",");
	if (!hlen)
		return (10 + len + 1 + 63) / 64 * 64;
	memcpy(buf, "\x93NUMPY\x01\x00", 8);
	buf[8] = (char)((hlen - 10) & 0xff);
	buf[9] = (char)((hlen - 10) >> 8);
	memset(buf + 10 + len, ' ', hlen - 10 - len - 1);
	buf[hlen - 1] = '\n';
	return hlen;
}

static int write_header(cnn_npy_writer *nw)
{
	char buf[512];

	npy_header(nw, nw->n, nw->hlen, buf, sizeof buf);
	if (fwrite(buf, 1, nw->hlen, nw->f) != nw->hlen)
		return cnn_error("%s: %s", nw->name, strerror(errno));
	return CNN_OK;
}

int cnn_npy_writer_add(cnn_npy_writer *nw, const cnn_tensor *t)
{
	char want[128], got[128], buf[512];
	size_t bytes = cnn_tensor_bytes(t);

	if (t->dtype == CNN_TEXT)
		return cnn_error("%s: text cannot go in a .npy file", nw->name);
	if (!nw->hlen) {
		nw->first = *t;
		nw->first.data = NULL;
		nw->hlen = npy_header(nw, 0, 0, buf, sizeof buf);
		if (write_header(nw))
			return CNN_ERR;
	} else if (t->dtype != nw->first.dtype || t->ndim != nw->first.ndim ||
		   memcmp(t->dim, nw->first.dim, t->ndim * sizeof *t->dim)) {
		return cnn_error("%s: tensor %lld is %s, unlike the first (%s)", nw->name,
				 (long long)nw->n, cnn_tensor_describe(t, got, sizeof got),
				 cnn_tensor_describe(&nw->first, want, sizeof want));
	}
	if (fwrite(t->data, 1, bytes, nw->f) != bytes)
		return cnn_error("%s: %s", nw->name, strerror(errno));
	nw->n++;
	return CNN_OK;
}

/* Put the real item count in the header, and go back to the end. */
static int finish(cnn_npy_writer *nw)
{
	off_t end;

	if (!nw->hlen)
		return cnn_error("%s: no tensors to write", nw->name);
	end = ftello(nw->f);
	if (end < 0 || fseeko(nw->f, nw->start, SEEK_SET) || write_header(nw) ||
	    fseeko(nw->f, end, SEEK_SET))
		return cnn_error("%s: %s", nw->name, strerror(errno));
	return CNN_OK;
}

int cnn_npy_writer_close(cnn_npy_writer *nw)
{
	int rc = finish(nw);

	if (rc == CNN_OK)
		rc = cnn_outfile_commit(nw->out);
	else
		cnn_outfile_discard(nw->out);
	free(nw->name);
	free(nw);
	return rc;
}
