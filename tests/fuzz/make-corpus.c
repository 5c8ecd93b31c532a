/*
 * make-corpus.c - write the seed inputs of the fuzz harnesses, small and
 * made by libcnn's own writers where it has them, into DIR/NAME/:
 *
 *   make-corpus DIR    (make fuzz-corpus writes tests/fuzz/corpus)
 *
 * The seeds are committed; run this again after a format changes.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "cnn.h"
#include "weights.h"

static const char *dir;

static void __attribute__((noreturn, format(printf, 1, 2))) fail(const char *fmt, ...)
{
	va_list ap;

	fputs("make-corpus: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void check(int ret, const char *what)
{
	if (ret != CNN_OK)
		fail("%s: %s", what, cnn_errmsg());
}

/* The path of seed file of harness, its folder made. */
static const char *seed(const char *harness, const char *file)
{
	static char path[4096];

	snprintf(path, sizeof path, "%s/%s", dir, harness);
	if (mkdir(path, 0777) != 0 && errno != EEXIST)
		fail("%s: %s", path, strerror(errno));
	snprintf(path, sizeof path, "%s/%s/%s", dir, harness, file);
	return path;
}

static void put_bytes(const char *harness, const char *file, const void *data, size_t len)
{
	const char *path = seed(harness, file);
	FILE *f = fopen(path, "wb");

	if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0)
		fail("%s: %s", path, strerror(errno));
}

static void put_text(const char *harness, const char *file, const char *text)
{
	put_bytes(harness, file, text, strlen(text));
}

static void *get_bytes(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *data;
	long n;

	if (!f || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
	    !(data = malloc((size_t)n + 1)) || fread(data, 1, (size_t)n, f) != (size_t)n)
		fail("%s: cannot read", path);
	fclose(f);
	data[n] = 0;
	*len = (size_t)n;
	return data;
}

/* A tensor of shape dims (ndim of them) holding first, first + 1, ... */
static cnn_tensor *counting(const char *name, cnn_dtype dtype, int ndim, const int64_t *dim,
			    double first)
{
	cnn_tensor *t = cnn_tensor_new(name, dtype, ndim, dim);

	if (!t)
		fail("%s: %s", name, cnn_errmsg());
	for (int64_t i = 0; i < cnn_tensor_count(t); i++)
		cnn_tensor_set(t, i, first + (double)i);
	return t;
}

static void put(cnn_record *r, cnn_tensor *t)
{
	check(cnn_record_put(r, t), "record");
}

static cnn_tensor *boxes(void)
{
	static const float rows[] = {10, 20, 110, 220, 0.9f, 8, 0, 0, 639.5f, 479, 0.25f, 1};
	cnn_tensor *t = cnn_boxes_new("boxes", 2);

	if (!t)
		fail("boxes: %s", cnn_errmsg());
	memcpy(t->data, rows, sizeof rows);
	return t;
}

/* ---------------------------------------------------------------- stream */

static void stream_seeds(void)
{
	cnn_record *a = cnn_record_new(), *b = cnn_record_new();
	cnn_tensor *text = cnn_tensor_new("path", CNN_TEXT, 1, (int64_t[]){5});
	static const int64_t img[] = {1, 2, 3}, two[] = {2, 2}, three[] = {3};

	if (!a || !b || !text)
		fail("stream: %s", cnn_errmsg());
	memcpy(text->data, "a.png", 5);
	put(a, counting("image", CNN_U8, 3, img, 250));
	put(a, counting("label", CNN_I32, 0, NULL, 7));
	put(a, boxes());
	put(a, text);
	put(b, counting("image", CNN_F32, 2, two, -1.5));
	put(b, counting("label", CNN_I64, 0, NULL, 1ll << 40));
	put(b, counting("x", CNN_U16, 1, three, 65534));
	put(b, counting("y", CNN_F64, 1, three, 0.125));
	for (int level = 0; level <= CNN_LEVEL_DEFAULT; level += CNN_LEVEL_DEFAULT) {
		cnn_writer *wr = cnn_writer_open(seed("stream", level ? "zstd.cnn" : "raw.cnn"), level);
		if (!wr)
			fail("stream: %s", cnn_errmsg());
		check(cnn_write(wr, a), "stream");
		check(cnn_write(wr, b), "stream");
		check(cnn_writer_close(wr), "stream");
	}
	cnn_record_free(a);
	cnn_record_free(b);
}

/* ------------------------------------------------- model and .weights */

static cnn_net *small_net(void)
{
	cnn_cfg *cfg = cnn_cfg_parse(fuzz_weights_cfg, "weights.cfg");
	cnn_net *net = cfg ? cnn_net_new(cfg, 1, 1) : NULL;

	if (!net)
		fail("weights.cfg: %s", cnn_errmsg());
	return net;
}

/* The model file at path again as raw records, which mutations get into
 * (the writer compresses). */
static void raw_copy(const char *from, const char *to)
{
	cnn_reader *rd = cnn_reader_open(from);
	cnn_writer *wr = cnn_writer_open(to, 0);
	cnn_record *r = cnn_record_new();
	int ret;

	if (!rd || !wr || !r)
		fail("%s: %s", from, cnn_errmsg());
	while ((ret = cnn_read(rd, r)) == CNN_OK)
		check(cnn_write(wr, r), to);
	check(ret == CNN_END ? CNN_OK : ret, from);
	check(cnn_writer_close(wr), to);
	cnn_reader_close(rd);
	cnn_record_free(r);
}

static void model_seeds(void)
{
	cnn_net *net = small_net();
	char zstd[4096];

	snprintf(zstd, sizeof zstd, "%s", seed("model", "model.cnnm"));
	check(cnn_net_save(net, zstd, NULL, 0), "model");
	raw_copy(zstd, seed("model", "model-raw.cnnm"));
	remove(zstd);
	snprintf(zstd, sizeof zstd, "%s", seed("model", "state.cnnm"));
	check(cnn_net_save(net, zstd, NULL, 1), "model");
	raw_copy(zstd, seed("model", "state-raw.cnnm"));
	remove(zstd);
	cnn_net_free(net);
}

static void put_le32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> 8 * i);
}

static void weights_seeds(void)
{
	cnn_net *net = small_net();
	unsigned char *w;
	size_t len;

	/* Lossy: a fresh [batchnorm] shift is 0 anyway. */
	check(cnn_darknet_save(net, seed("weights", "v0.2.weights"), CNN_DARKNET_LOSSY), "weights");
	cnn_net_free(net);
	/* The header: major, minor, revision, seen.  Version 0.1 counts seen
	 * in 32 bits: the same file 4 bytes shorter.  So does a file whose
	 * minor is above 1000, which marks transposed connected weights. */
	w = get_bytes(seed("weights", "v0.2.weights"), &len);
	put_le32(w + 4, 1);
	memmove(w + 16, w + 20, len - 20);
	put_bytes("weights", "v0.1.weights", w, len - 4);
	put_le32(w + 4, 1001);
	put_bytes("weights", "transposed.weights", w, len - 4);
	free(w);
}

/* ---------------------------------------------------------------- images */

static void image_seed(const char *harness, const char *file, cnn_dtype dtype, int64_t c,
		       int64_t h, int64_t w)
{
	int64_t dim[3] = {c, h, w};
	cnn_tensor *t = cnn_tensor_new("image", dtype, 3, dim);

	if (!t)
		fail("%s: %s", file, cnn_errmsg());
	/* A spread of values, so that the encoders have something to code. */
	for (int64_t i = 0; i < cnn_tensor_count(t); i++)
		cnn_tensor_set(t, i, (double)((i * 37) % 256) * (dtype == CNN_U16 ? 257 : 1));
	check(cnn_image_save(seed(harness, file), t, 90), file);
	cnn_tensor_free(t);
}

/* A palette PNG, as cnn-save writes masks: classes 0 to 20 and VOC's 255. */
static void mask_seed(void)
{
	int64_t dim[2] = {4, 6};
	cnn_tensor *t = cnn_tensor_new("mask", CNN_U8, 2, dim);

	if (!t)
		fail("palette.png: %s", cnn_errmsg());
	for (int64_t i = 0; i < 24; i++)
		((uint8_t *)t->data)[i] = i == 0 ? 255 : (uint8_t)(i % 21);
	check(cnn_mask_save(seed("png", "palette.png"), t), "palette.png");
	cnn_tensor_free(t);
}

static void image_seeds(void)
{
	image_seed("png", "gray.png", CNN_U8, 1, 3, 4);
	image_seed("png", "gray-alpha.png", CNN_U8, 2, 2, 3);
	image_seed("png", "rgb.png", CNN_U8, 3, 4, 2);
	image_seed("png", "rgba.png", CNN_U8, 4, 2, 2);
	image_seed("png", "rgb16.png", CNN_U16, 3, 2, 3);
	image_seed("png", "gray16.png", CNN_U16, 1, 3, 2);
	mask_seed();
	image_seed("jpeg", "gray.jpg", CNN_U8, 1, 8, 8);
	image_seed("jpeg", "rgb.jpg", CNN_U8, 3, 16, 8);
}

/* ---------------------------------------------------------------- arrays */

/* An IDX file (big-endian: 0, 0, type, rank, the dims, the values) of
 * three items of 2 x 2 elements, 0, 1, .. 11 as that type. */
static void idx_seed(const char *file, unsigned char type)
{
	unsigned char b[16 + 12 * 8] = {0, 0, type, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 2};
	int size = type == 0x0B ? 2 : type == 0x0C || type == 0x0D ? 4 : type == 0x0E ? 8 : 1;

	for (int i = 0; i < 12; i++) {
		float f = (float)i;
		double d = i;
		uint32_t f_bits;
		uint64_t bits = (uint64_t)i;
		if (type == 0x0D) {
			memcpy(&f_bits, &f, 4);
			bits = f_bits;
		} else if (type == 0x0E) {
			memcpy(&bits, &d, 8);
		}
		for (int k = 0; k < size; k++)
			b[16 + i * size + k] = (unsigned char)(bits >> 8 * (size - 1 - k));
	}
	put_bytes("array", file, b, 16 + 12 * (size_t)size);
}

static void npy_seed(const char *file, cnn_dtype dtype)
{
	static const int64_t dim[] = {2, 3};
	cnn_npy_writer *nw = cnn_npy_writer_open(seed("array", file));

	if (!nw)
		fail("%s: %s", file, cnn_errmsg());
	for (int i = 0; i < 2; i++) {
		cnn_tensor *t = counting("x", dtype, 2, dim, 6 * i);
		check(cnn_npy_writer_add(nw, t), file);
		cnn_tensor_free(t);
	}
	check(cnn_npy_writer_close(nw), file);
}

static void gzip_seed(const char *from, const char *to)
{
	size_t len;
	void *data = get_bytes(seed("array", from), &len);
	gzFile gz = gzopen(seed("array", to), "wb9");

	if (!gz || gzwrite(gz, data, (unsigned)len) != (int)len || gzclose(gz) != Z_OK)
		fail("%s: cannot write", to);
	free(data);
}

static void array_seeds(void)
{
	idx_seed("u8.idx", 0x08);
	idx_seed("i8.idx", 0x09);
	idx_seed("i16.idx", 0x0B);
	idx_seed("i32.idx", 0x0C);
	idx_seed("f32.idx", 0x0D);
	idx_seed("f64.idx", 0x0E);
	gzip_seed("u8.idx", "u8.idx.gz");
	npy_seed("u8.npy", CNN_U8);
	npy_seed("f32.npy", CNN_F32);
	npy_seed("i64.npy", CNN_I64);
	gzip_seed("f32.npy", "f32.npy.gz");
}

/* ----------------------------------------------------------------- boxes */

static void box_file(const char *harness, const char *file, cnn_box_format fmt,
		     const cnn_names *names)
{
	const char *path = seed(harness, file);
	FILE *f = fopen(path, "w");
	cnn_tensor *b = boxes();

	if (!f)
		fail("%s: %s", path, strerror(errno));
	fputs(cnn_box_header(fmt), f);
	for (int record = 1; record <= 2; record++)
		check(cnn_box_write(f, fmt, b, 0, record, 640, 480, names), file);
	if (fclose(f) != 0)
		fail("%s: %s", path, strerror(errno));
	cnn_tensor_free(b);
}

static const char names_text[] = "person\nbicycle\ncar\nmotorbike\naeroplane\nbus\ntrain\ntruck\ndog\n";

static void box_seeds(void)
{
	cnn_names *names = cnn_names_parse(names_text, strlen(names_text), "names");

	if (!names)
		fail("names: %s", cnn_errmsg());
	box_file("boxtext", "boxes.csv", CNN_BOXES_CSV, NULL);
	box_file("boxtext", "labels.txt", CNN_BOXES_DARKNET, NULL);
	put_text("boxtext", "ext.txt",
		 "data/dog.jpg: Predicted in 25.139000 milli-seconds.\n"
		 "bicycle: 92%\t(left_x:  114   top_y:  128   width:  458   height:  299)\n"
		 "dog: 98%, truck: 55%\t(left_x:  129   top_y:  225   width:  184   height:  317)\n"
		 "Enter Image Path: data/horses.jpg: Predicted in 24.5 milli-seconds.\n"
		 "car: 61%\t(left_x:   -3   top_y:   10   width:   20   height:   40)\n");
	put_text("boxtext", "coco.names", names_text);
	box_file("boxjson", "boxes.json", CNN_BOXES_JSON, names);
	put_text("boxjson", "darknet-out.json",
		 "[\n{\n \"frame_id\":1,\n \"filename\":\"data/dog.jpg\",\n \"objects\": [\n"
		 "  {\"class_id\":8, \"name\":\"dog\", \"relative_coordinates\":{\"center_x\":0.5,"
		 " \"center_y\":0.25, \"width\":0.5, \"height\":0.5}, \"confidence\":0.75}\n ]\n},\n"
		 "{\n \"frame_id\":2,\n \"filename\":\"data/x.jpg\",\n \"objects\": [ ]\n}\n]\n");
	put_text("boxjson", "escapes.json",
		 "{\"record\":1,\"boxes\":[{\"x1\":1e1,\"y1\":-0.5,\"x2\":20,\"y2\":3,"
		 "\"name\":\"do\\u0067\",\"score\":null}],\"extra\":[true,false,{\"a\":\"\\n\"}]}\n");
	cnn_names_free(names);
}

/* ------------------------------------------------ cfg, kernels, matrices */

static void cfg_seeds(void)
{
	size_t len;
	char *lenet = get_bytes("examples/zoo/lenet5.cfg", &len);

	put_bytes("cfg", "lenet5.cfg", lenet, len);
	free(lenet);
	put_text("cfg", "weights.cfg", fuzz_weights_cfg);
	put_text("cfg", "layers.cfg",
		 "# every layer type once\n[net]\nbatch=2\nchannels=3\nheight=8\nwidth=8\n"
		 "learning_rate=0.1\noptimizer=adam\npolicy=steps\nsteps=10,20\nscales=0.1,0.5\n\n"
		 "[convolutional]\nfilters=4\nsize=3\npad=1\ngroups=1\nbatch_normalize=1\nactivation=leaky\n\n"
		 "[route]\nlayers=-1,0\n\n[shortcut]\nfrom=-2\nactivation=linear\n\n"
		 "[upsample]\nstride=2\n\n[crop]\ncrop_height=12\ncrop_width=12\n\n"
		 "[deconvolutional]\nfilters=2\nsize=2\nstride=2\nactivation=relu\n\n"
		 "[maxpool]\nsize=2\nstride=2\n\n[avgpool]\n\n[dropout]\nprobability=0.5\n\n"
		 "[batchnorm]\n\n[connected]\noutput=3\nactivation=linear\n\n[logistic]\n\n[cost]\ntype=sse\n");
}

static void text_seeds(void)
{
	put_text("text", "names", "sobel-x,sobel-y,box5");
	put_text("text", "2d", "1,0,-1;1,0,-1;1,0,-1");
	put_text("text", "3d", "1 2;3 4|5 6;7 8");
	put_text("text", "1d", "0.25,-1e-3,+5");
	put_text("text", "matrix-notes", "3 0 1 2 7 4\n1 5 8 9 3 1\n");
	put_text("text", "matrix-2ch", "# a 2-channel matrix\n1 2 3\n4 5 6\n\n7,8,9\n-1e-3 0x10 inf\n");
}

/* Augmentation chains, a line per operation as cnn-augment's options. */
static void augment_seeds(void)
{
	put_text("augment", "geometry", "flip p=1\ncrop 8x10,pad=2\nrotate 15\n");
	put_text("augment", "colour", "brightness 0.5:1.5\nhue 0.1\npca-color 0.1\nnoise 0.05\nnormalize\n");
	put_text("augment", "mixed", "resized-crop 8,scale=0.2:1\nelastic 10,sigma=3\nerase p=1\nmixup 0.4,classes=3\n");
	put_text("augment", "mosaic", "mosaic 12x16\ncutout 4,count=2\nblur 1\ngrayscale p=1\n");
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fputs("usage: make-corpus DIR\n", stderr);
		return 2;
	}
	dir = argv[1];
	if (mkdir(dir, 0777) != 0 && errno != EEXIST)
		fail("%s: %s", dir, strerror(errno));
	stream_seeds();
	model_seeds();
	weights_seeds();
	image_seeds();
	array_seeds();
	box_seeds();
	cfg_seeds();
	text_seeds();
	augment_seeds();
	return 0;
}
