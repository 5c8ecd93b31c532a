/*
 * test_tfjs.c - TF.js weights: the manifest and its shards decoded as tfjs
 * decodes them (every dtype and quantization, unaligned float32, a tensor
 * across two shards, two groups), every error a one-line message, memory
 * that follows the bytes rather than the shapes; the map that places the
 * tensors into a network of ours, with its layout conversions and errors;
 * and, when they are there, face-api's seven real manifests against what
 * tfjs decodes from them (tests/vectors/faceapi-checksums.txt).
 *
 * The manifests and shards are written here, into a temporary folder.  The
 * expected values of the synthetic weights are what tfjs-core 4.22.0's
 * io.decodeWeights gives for the same bytes (tests/vectors/tfjs-decode.js
 * prints them).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cnn.h"
#include "tap.h"

#define FACEAPI_DEFAULT "examples/pretrained/npm/face-api/package/model"

static char dir[] = "/tmp/cnn-test-tfjs-XXXXXX";

static const char *path(const char *name)
{
	static char buf[4][512];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof buf[i], "%s/%s", dir, name);
	return buf[i];
}

static void write_file(const char *name, const void *data, size_t len)
{
	FILE *f = fopen(path(name), "wb");

	fwrite(data, 1, len, f);
	fclose(f);
}

static void write_text(const char *name, const char *text)
{
	write_file(name, text, strlen(text));
}

/* The message of opening a manifest, after "DIR/NAME: ", or "opened". */
static const char *open_error(const char *name)
{
	static char msg[1024];
	cnn_tfjs *w = cnn_tfjs_open(path(name));
	size_t skip = strlen(path(name)) + 2;

	if (w) {
		cnn_tfjs_close(w);
		return "opened";
	}
	snprintf(msg, sizeof msg, "%s", strlen(cnn_errmsg()) > skip ? cnn_errmsg() + skip : cnn_errmsg());
	return msg;
}

/* ": the library's message" after a failure, "" otherwise. */
static const char *failure(const void *result)
{
	static char buf[1100];

	if (result)
		return "";
	snprintf(buf, sizeof buf, ": %s", cnn_errmsg());
	return buf;
}

static void check_message(const char *got, const char *want, const char *what)
{
	if (!tap_ok(strcmp(got, want) == 0, "%s: %s", what, got))
		printf("#   want: %s\n", want);
}

/* --------------------------------------------------- the synthetic weights */

/* Two groups: the first's shards part1.bin and part2.bin (split inside
 * "anchors"), the second's head.bin. */
static const char groups[] =
	"[{\"paths\": [\"part1.bin\", \"part2.bin\"], \"weights\": [\n"
	" {\"name\": \"dense/kernel\", \"shape\": [2, 3], \"dtype\": \"float32\"},\n"
	" {\"name\": \"codes\", \"shape\": [5], \"dtype\": \"float32\", \"quantization\":"
	" {\"dtype\": \"uint8\", \"scale\": 0.009007044399485869, \"min\": -1.2069439495311063}},\n"
	" {\"name\": \"anchors\", \"shape\": [3], \"dtype\": \"float32\"},\n"
	" {\"name\": \"wide\", \"shape\": [3], \"dtype\": \"float32\", \"quantization\":"
	" {\"dtype\": \"uint16\", \"scale\": 1.5259021896696422e-05, \"min\": -0.5}},\n"
	" {\"name\": \"half\", \"shape\": [9], \"dtype\": \"float32\", \"quantization\":"
	" {\"dtype\": \"float16\"}},\n"
	" {\"name\": \"steps\", \"shape\": [3], \"dtype\": \"int32\"},\n"
	" {\"name\": \"rounded\", \"shape\": [6], \"dtype\": \"int32\", \"quantization\":"
	" {\"dtype\": \"uint8\", \"scale\": 0.5, \"min\": -1.5}},\n"
	" {\"name\": \"axis\", \"shape\": [], \"dtype\": \"int32\", \"quantization\":"
	" {\"dtype\": \"uint16\", \"scale\": 1, \"min\": 3000}},\n"
	" {\"name\": \"nothing\", \"shape\": [2, 0], \"dtype\": \"float32\"},\n"
	" {\"name\": \"gain\", \"shape\": [], \"dtype\": \"float32\", \"quantization\":"
	" {\"dtype\": \"uint8\", \"scale\": 0.1, \"min\": 0.2}},\n"
	" {\"name\": \"wrapped\", \"shape\": [2], \"dtype\": \"int32\", \"quantization\":"
	" {\"dtype\": \"uint8\", \"scale\": 1e10, \"min\": -5e9}}]},\n"
	" {\"paths\": [\"head.bin\"], \"weights\": [\n"
	" {\"name\": \"head/bias\", \"shape\": [2], \"dtype\": \"float32\", \"quantization\":"
	" {\"dtype\": \"uint8\", \"scale\": 2, \"min\": -1}}]}]\n";

#define GROUP1_BYTES 88
#define ALL_BYTES 90
#define SPLIT 35

static size_t put32(uint8_t *p, size_t at, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[at + i] = (uint8_t)(v >> (8 * i));
	return at + 4;
}

static size_t put16(uint8_t *p, size_t at, uint32_t v)
{
	p[at] = (uint8_t)v;
	p[at + 1] = (uint8_t)(v >> 8);
	return at + 2;
}

static const uint8_t *weight_bytes(void)
{
	static const uint32_t dense[] = {0x3fc00000, 0xc0100000, 0x0020a8f6, 0x7f7fffff,
					 0x80000000, 0x3eaaaaab};
	static const uint32_t anchors[] = {0x3f800000, 0xbd0ccccd, 0x40490fdb};
	static const uint32_t wide[] = {0, 32768, 65535};
	static const uint32_t half[] = {0x0000, 0x8000, 0x3c00, 0x7bff, 0x0001,
					0x03ff, 0x0400, 0x3555, 0xc000};
	static const uint32_t steps[] = {0x80000000, 0, 0x7fffffff};
	static const uint8_t codes[] = {0, 1, 128, 254, 255}, rounded[] = {0, 1, 2, 3, 4, 255};
	static uint8_t b[ALL_BYTES];
	size_t at = 0;

	for (int i = 0; i < 6; i++)
		at = put32(b, at, dense[i]);
	memcpy(b + at, codes, 5);
	at += 5;
	for (int i = 0; i < 3; i++)
		at = put32(b, at, anchors[i]);
	for (int i = 0; i < 3; i++)
		at = put16(b, at, wide[i]);
	for (int i = 0; i < 9; i++)
		at = put16(b, at, half[i]);
	for (int i = 0; i < 3; i++)
		at = put32(b, at, steps[i]);
	memcpy(b + at, rounded, 6);
	at += 6;
	at = put16(b, at, 7);           /* axis */
	b[at++] = 3;                    /* gain */
	b[at++] = 0;                    /* wrapped */
	b[at++] = 1;
	b[at++] = 0;                    /* head/bias */
	b[at++] = 1;
	return b;
}

/* The manifest and its shards in DIR/NAME/, the shards cut as given. */
static const char *write_model(const char *name, const char *manifest, size_t part1,
			       size_t part2, size_t head)
{
	const uint8_t *b = weight_bytes();
	uint8_t padded[ALL_BYTES + 8] = {0};
	char file[256];

	memcpy(padded, b, ALL_BYTES);
	mkdir(path(name), 0755);
	snprintf(file, sizeof file, "%s/weights_manifest.json", name);
	write_text(file, manifest);
	snprintf(file, sizeof file, "%s/part1.bin", name);
	write_file(file, padded, part1);
	snprintf(file, sizeof file, "%s/part2.bin", name);
	write_file(file, padded + SPLIT, part2);
	snprintf(file, sizeof file, "%s/head.bin", name);
	write_file(file, padded + GROUP1_BYTES, head);
	snprintf(file, sizeof file, "%s/weights_manifest.json", name);
	return path(file);
}

struct want {
	const char *name;
	cnn_dtype dtype;
	const char *quantization;
	int64_t offset, bytes, count;
	uint32_t v[9];          /* float32 bits, or int32 values */
};

/* What tfjs 4.22.0 decodes (tests/vectors/tfjs-decode.js). */
static const struct want wants[] = {
	{"dense/kernel", CNN_F32, NULL, 0, 24, 6,
	 {0x3fc00000, 0xc0100000, 0x0020a8f6, 0x7f7fffff, 0x80000000, 0x3eaaaaab}},
	{"codes", CNN_F32, "uint8", 24, 5, 5,
	 {0xbf9a7d24, 0xbf9955ff, 0xbd5d5b6c, 0x3f8a5924, 0x3f8b8048}},
	{"anchors", CNN_F32, NULL, 29, 12, 3, {0x3f800000, 0xbd0ccccd, 0x40490fdb}},
	{"wide", CNN_F32, "uint16", 41, 6, 3, {0xbf000000, 0x37000080, 0x3f000000}},
	{"half", CNN_F32, "float16", 47, 18, 9,
	 {0x00000000, 0x80000000, 0x3f800000, 0x477fe000, 0x33800000, 0x387fc000, 0x38800000,
	  0x3eaaa000, 0xc0000000}},
	{"steps", CNN_I32, NULL, 65, 12, 3, {(uint32_t)INT32_MIN, 0, INT32_MAX}},
	{"rounded", CNN_I32, "uint8", 77, 6, 6,
	 {(uint32_t)-1, (uint32_t)-1, 0, 0, 1, 126}},
	{"axis", CNN_I32, "uint16", 83, 2, 1, {3007}},
	{"nothing", CNN_F32, NULL, 85, 0, 0, {0}},
	{"gain", CNN_F32, "uint8", 85, 1, 1, {0x3f000000}},
	{"wrapped", CNN_I32, "uint8", 86, 2, 2, {(uint32_t)-705032704, 705032704}},
	{"head/bias", CNN_F32, "uint8", 88, 2, 2, {0xbf800000, 0x3f800000}},
};

#define NWANTS ((int)(sizeof wants / sizeof *wants))

static int same_values(const cnn_tensor *t, const struct want *w)
{
	if (t->dtype != w->dtype || cnn_tensor_count(t) != w->count)
		return 0;
	for (int64_t i = 0; i < w->count; i++) {
		uint32_t u;
		memcpy(&u, (const char *)t->data + 4 * i, 4);
		if (u != w->v[i])
			return 0;
	}
	return 1;
}

static void check_tensor(const cnn_tfjs *w, int i, const char *what)
{
	const cnn_tfjs_info *info = cnn_tfjs_info_at(w, i);
	const struct want *want = &wants[i];
	cnn_tensor *t = cnn_tfjs_tensor(w, i);
	int place = info && !strcmp(info->name, want->name) && info->dtype == want->dtype &&
		    info->offset == want->offset && info->bytes == want->bytes &&
		    (info->quantization ? want->quantization &&
					  !strcmp(info->quantization, want->quantization)
					: !want->quantization);

	tap_ok(place && t && !strcmp(t->name, want->name) && same_values(t, want),
	       "%s: %s (%s, %s) at %lld as tfjs decodes it", what, want->name,
	       want->dtype == CNN_F32 ? "float32" : "int32",
	       want->quantization ? want->quantization : "raw", (long long)want->offset);
	cnn_tensor_free(t);
}

static void decoding(void)
{
	const char *m = write_model("good", groups, SPLIT, GROUP1_BYTES - SPLIT, 2);
	cnn_tfjs *w = cnn_tfjs_open(m);
	char *json;

	if (!tap_ok(w && cnn_tfjs_count(w) == NWANTS, "a manifest of two groups, three shards: "
		    "%d tensors%s", w ? cnn_tfjs_count(w) : -1, failure(w)))
		return;
	for (int i = 0; i < NWANTS; i++)
		check_tensor(w, i, "manifest");
	{
		const cnn_tfjs_info *codes = cnn_tfjs_info_at(w, 1);
		tap_ok(codes->scale == 0.009007044399485869 && codes->min == -1.2069439495311063 &&
			       cnn_tfjs_info_at(w, 4)->ndim == 1 && cnn_tfjs_info_at(w, 7)->ndim == 0,
		       "scale and min exactly as written, shapes as given");
	}
	tap_ok(cnn_tfjs_find(w, "head/bias") == 11 && cnn_tfjs_find(w, "gain") == 9 &&
		       cnn_tfjs_find(w, "dense") == CNN_ERR &&
		       strstr(cnn_errmsg(), ": no tensor \"dense\""),
	       "tensors by name: %s", cnn_errmsg());
	tap_ok(cnn_tfjs_tensor(w, NWANTS) == NULL && cnn_tfjs_info_at(w, -1) == NULL,
	       "no tensor past the end");
	cnn_tfjs_close(w);

	/* The same weights as the weightsManifest of a layers model.json. */
	json = malloc(sizeof groups + 200);
	snprintf(json, sizeof groups + 200,
		 "{\"format\": \"layers-model\", \"modelTopology\": {\"class_name\": "
		 "\"Sequential\", \"config\": [1, 2.5, null, true]},\n\"weightsManifest\": %s}",
		 groups);
	write_text("good/model.json", json);
	free(json);
	w = cnn_tfjs_open(path("good/model.json"));
	tap_ok(w && cnn_tfjs_count(w) == NWANTS, "a model.json's weightsManifest%s", failure(w));
	for (int i = 0; w && i < NWANTS; i++)
		check_tensor(w, i, "model.json");
	cnn_tfjs_close(w);

	/* A manifest named without a folder: the shards are beside it. */
	{
		char cwd[4096];
		if (getcwd(cwd, sizeof cwd) && chdir(path("good")) == 0) {
			w = cnn_tfjs_open("weights_manifest.json");
			tap_ok(w && cnn_tfjs_count(w) == NWANTS,
			       "a manifest in the current folder finds its shards%s", failure(w));
			cnn_tfjs_close(w);
			if (chdir(cwd))
				tap_ok(0, "back to %s", cwd);
		}
	}
}

/* ---------------------------------------------------------------- errors */

static void shard_errors(void)
{
	write_model("short", groups, SPLIT, GROUP1_BYTES - SPLIT - 1, 2);
	check_message(open_error("short/weights_manifest.json"),
		      "tensor \"wrapped\" (2 bytes at offset 86) is cut short: the shards end at "
		      "byte 87, 1 short of the tensors (a short shard, or a manifest of other "
		      "shards)",
		      "a short shard");
	write_model("short2", groups, SPLIT, GROUP1_BYTES - SPLIT, 0);
	check_message(open_error("short2/weights_manifest.json"),
		      "tensor \"head/bias\" (2 bytes at offset 88) is cut short: the shards end at "
		      "byte 88, 2 short of the tensors (a short shard, or a manifest of other "
		      "shards)",
		      "an empty shard of the second group");
	write_model("long", groups, SPLIT, GROUP1_BYTES - SPLIT + 3, 2);
	check_message(open_error("long/weights_manifest.json"),
		      "3 bytes after the last tensor \"wrapped\" (the shards hold 91, the tensors "
		      "take 88: a shard too long, or a manifest of other shards)",
		      "extra bytes in the first group");
	write_model("missing", groups, SPLIT, GROUP1_BYTES - SPLIT, 2);
	unlink(path("missing/part2.bin"));
	{
		char want[1024];
		snprintf(want, sizeof want, "shard \"%s\": No such file or directory, so tensor "
			 "\"anchors\" and those after it have no bytes", path("missing/part2.bin"));
		check_message(open_error("missing/weights_manifest.json"), want, "a missing shard");
	}
	check_message(open_error("none.json"), "No such file or directory", "no manifest");
}

/* A manifest of one group, shard one.bin of the given bytes. */
static const char *one(const char *name, const char *weights, const void *data, size_t len)
{
	char text[4096], file[256];

	snprintf(text, sizeof text, "[{\"paths\": [\"%s.bin\"], \"weights\": [%s]}]", name,
		 weights);
	snprintf(file, sizeof file, "%s.json", name);
	write_text(file, text);
	snprintf(file, sizeof file, "%s.bin", name);
	write_file(file, data, len);
	snprintf(file, sizeof file, "%s.json", name);
	return open_error(file);
}

static void manifest_errors(void)
{
	static const uint8_t zeros[16];
	static const struct {
		const char *weights, *message, *what;
	} cases[] = {
		{"{\"name\": \"x\", \"shape\": [2], \"dtype\": \"float64\"}",
		 "tensor \"x\": dtype \"float64\" is not float32, int32, bool, complex64 or "
		 "string", "dtype float64"},
		{"{\"name\": \"x\", \"shape\": [2], \"dtype\": \"bool\", \"quantization\": "
		 "{\"dtype\": \"uint8\", \"scale\": 1, \"min\": 0}}",
		 "tensor \"x\": a bool tensor cannot be quantized", "a quantized bool"},
		{"{\"name\": \"x\", \"shape\": [2]}", "tensor \"x\": no \"dtype\"", "no dtype"},
		{"{\"name\": \"x\", \"shape\": [2], \"dtype\": \"float32\", \"quantization\": "
		 "{\"dtype\": \"int8\", \"scale\": 1, \"min\": 0}}",
		 "tensor \"x\": quantization dtype \"int8\" is not uint8, uint16 or float16",
		 "quantization int8"},
		{"{\"name\": \"x\", \"shape\": [2], \"dtype\": \"float32\", \"quantization\": "
		 "{\"dtype\": \"uint8\", \"scale\": 1}}",
		 "tensor \"x\": uint8 quantization needs a \"scale\" and a \"min\", both numbers",
		 "uint8 without a min"},
		{"{\"name\": \"x\", \"shape\": [2], \"dtype\": \"float32\", \"quantization\": "
		 "{\"dtype\": \"uint16\", \"scale\": \"1\", \"min\": 0}}",
		 "tensor \"x\": uint16 quantization needs a \"scale\" and a \"min\", both numbers",
		 "a scale that is a string"},
		{"{\"name\": \"x\", \"shape\": [2], \"dtype\": \"int32\", \"quantization\": "
		 "{\"dtype\": \"float16\"}}",
		 "tensor \"x\": float16 quantization holds float32 tensors, not int32",
		 "float16 of an int32"},
		{"{\"name\": \"x\", \"shape\": [2], \"dtype\": \"float32\", \"quantization\": 3}",
		 "tensor \"x\": \"quantization\" must be an object with a \"dtype\"",
		 "a quantization that is a number"},
		{"{\"shape\": [2], \"dtype\": \"float32\"}",
		 "group 1, weight 1: not an object with a \"name\"", "no name"},
		{"{\"name\": \"x\", \"shape\": [2, -1], \"dtype\": \"float32\"}",
		 "tensor \"x\": \"shape\" must be an array of whole numbers >= 0", "a negative dim"},
		{"{\"name\": \"x\", \"shape\": [2.5], \"dtype\": \"float32\"}",
		 "tensor \"x\": \"shape\" must be an array of whole numbers >= 0", "a fractional dim"},
		{"{\"name\": \"x\", \"shape\": 4, \"dtype\": \"float32\"}",
		 "tensor \"x\": \"shape\" must be an array of at most 8 whole numbers",
		 "a shape that is a number"},
		{"{\"name\": \"x\", \"shape\": [1,1,1,1,1,1,1,1,1], \"dtype\": \"float32\"}",
		 "tensor \"x\": \"shape\" must be an array of at most 8 whole numbers", "9 dims"},
		{"{\"name\": \"x\", \"shape\": [1099511627776], \"dtype\": \"float32\", "
		 "\"quantization\": {\"dtype\": \"uint8\", \"scale\": 1, \"min\": 0}}",
		 "tensor \"x\": shape too large (over 4294967296 bytes)", "2^40 elements"},
		{"{\"name\": \"x\", \"shape\": [1], \"dtype\": \"float32\"}, "
		 "{\"name\": \"x\", \"shape\": [2], \"dtype\": \"float32\"}",
		 "tensor \"x\" is listed twice (weights 1 and 2)", "a name twice"},
		{"{\"name\": \"\", \"shape\": [1], \"dtype\": \"float32\"}",
		 "group 1, weight 1: a name of 0 bytes (1 to 255)", "an empty name"},
		{"{\"name\": \"x\", \"shape\": [2], \"dtype\": \"float64\", \"dtype\": \"float32\"}",
		 "opened", "a key twice: the last counts, as in JSON.parse"},
	};
	static const struct {
		const char *text, *message, *what;
	} files[] = {
		{"weights", "line 1: not a JSON value", "not JSON"},
		{"", "empty: not a TF.js weights manifest", "an empty file"},
		{"[{\"paths\": [], \"weights\": []}] x",
		 "more after the manifest's JSON value, which ends on line 1",
		 "garbage after the JSON"},
		{"{\"format\": \"graph-model\"}",
		 "not a TF.js weights manifest (a JSON array of groups) or model.json (an object "
		 "with \"weightsManifest\")", "a model.json without weightsManifest"},
		{"[{\"weights\": []}]", "group 1: not an object with \"paths\" and \"weights\" arrays",
		 "a group without paths"},
		{"[{\"paths\": [3], \"weights\": []}]", "group 1: \"paths\" must be file names",
		 "a path that is a number"},
		{"[{\"paths\": [\"a.bin\"], \"weights\": [{\"name\": \"x\", \"shape\": [1], "
		 "\"dtype\": \"float32\"]}]", "line 1: expected ',' or '}'", "broken JSON"},
	};

	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
		check_message(one("case", cases[i].weights, zeros, 8), cases[i].message,
			      cases[i].what);
	for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
		write_text("file.json", files[i].text);
		check_message(open_error("file.json"), files[i].message, files[i].what);
	}
	write_text("empty.bin", "abc");
	write_text("empty.json", "[{\"paths\": [\"empty.bin\"], \"weights\": []}]");
	check_message(open_error("empty.json"),
		      "3 bytes in the shards of group 1, which lists no tensors",
		      "bytes in a group without tensors");
	write_text("nothing.json", "[]");
	check_message(open_error("nothing.json"), "opened", "a manifest of no groups");
}

/* A shape of 2^29 elements (2 GiB decoded) with 10 bytes present costs
 * those bytes, not the shape. */
/* A graph model's other dtypes: bool decodes to bytes; complex64 and
 * string are laid out (a string's size is in its data) but not decoded. */
static void other_dtypes(void)
{
	static const char weights[] =
		"{\"name\": \"flag\", \"shape\": [3], \"dtype\": \"bool\"}, "
		"{\"name\": \"words\", \"shape\": [2], \"dtype\": \"string\"}, "
		"{\"name\": \"z\", \"shape\": [1], \"dtype\": \"complex64\"}, "
		"{\"name\": \"after\", \"shape\": [], \"dtype\": \"float32\"}";
	static const struct { int64_t offset, bytes; const char *type; } place[] = {
		{0, 3, "bool"}, {3, 10, "string"}, {13, 8, "complex64"}, {21, 4, "float32"},
	};
	uint8_t data[32] = {1, 0, 1, 2, 0, 0, 0, 'h', 'i', 0, 0, 0, 0};
	cnn_tfjs *w;
	cnn_tensor *t;
	float f = 1.5f;
	int good;

	memcpy(data + 21, &f, 4);
	check_message(one("mixed", weights, data, 25), "opened", "bool, string, complex64");
	w = cnn_tfjs_open(path("mixed.json"));
	good = w && cnn_tfjs_count(w) == 4;
	for (int i = 0; good && i < 4; i++) {
		const cnn_tfjs_info *info = cnn_tfjs_info_at(w, i);
		good = info->offset == place[i].offset && info->bytes == place[i].bytes &&
		       !strcmp(info->type, place[i].type);
	}
	tap_ok(good, "... laid out: a string's bytes are its lengths and characters");
	t = w ? cnn_tfjs_tensor(w, 0) : NULL;
	tap_ok(t && t->dtype == CNN_U8 && !memcmp(t->data, data, 3), "... bool as bytes 1 0 1");
	cnn_tensor_free(t);
	t = w ? cnn_tfjs_tensor(w, 3) : NULL;
	tap_ok(t && *(float *)t->data == 1.5f, "... and the float32 after the string%s",
	       failure(t));
	cnn_tensor_free(t);
	t = w ? cnn_tfjs_tensor(w, 1) : NULL;
	tap_ok(!t && strstr(cnn_errmsg(), "tensor \"words\" is string, which libcnn does not hold"),
	       "... a string tensor is not decoded: %s", cnn_errmsg());
	cnn_tfjs_close(w);

	check_message(one("mixedshort", weights, data, 8),
		      "tensor \"words\" (string at offset 3) is cut short: the shards end at byte 8 "
		      "(a short shard, or a manifest of other shards)",
		      "a string cut short");
	check_message(one("mixedlong", weights, data, 27),
		      "2 bytes after the last tensor \"after\" (the shards hold 27, the tensors take "
		      "25: a shard too long, or a manifest of other shards)",
		      "bytes after a group with strings");
}

static void bounded_memory(void)
{
	static const uint8_t ten[10];
	struct rusage before, after;
	const char *msg;

	getrusage(RUSAGE_SELF, &before);
	msg = one("huge", "{\"name\": \"x\", \"shape\": [536870912], \"dtype\": \"float32\", "
		  "\"quantization\": {\"dtype\": \"uint8\", \"scale\": 1, \"min\": 0}}", ten, 10);
	getrusage(RUSAGE_SELF, &after);
	check_message(msg,
		      "tensor \"x\" (536870912 bytes at offset 0) is cut short: the shards end at "
		      "byte 10, 536870902 short of the tensors (a short shard, or a manifest of "
		      "other shards)",
		      "a shape far beyond the bytes present");
	tap_ok(after.ru_maxrss - before.ru_maxrss < 16 * 1024,
	       "... and memory grew %ld KiB, not 512 MiB", after.ru_maxrss - before.ru_maxrss);
}

static void nonfinite(void)
{
	uint8_t nan_bytes[8];
	cnn_tfjs *w;
	cnn_tensor *t;

	put32(nan_bytes, 0, 0x3f800000);
	put32(nan_bytes, 4, 0x7fc00000);
	one("nan", "{\"name\": \"x\", \"shape\": [2], \"dtype\": \"float32\"}", nan_bytes, 8);
	w = cnn_tfjs_open(path("nan.json"));
	t = w ? cnn_tfjs_tensor(w, 0) : NULL;
	tap_ok(w && !t && strstr(cnn_errmsg(), "nan.json: tensor \"x\" holds nan at index 1"),
	       "a NaN is an error naming the tensor: %s", cnn_errmsg());
	cnn_tfjs_close(w);
	put16(nan_bytes, 0, 0x7c00);
	one("inf", "{\"name\": \"y\", \"shape\": [1], \"dtype\": \"float32\", \"quantization\": "
	    "{\"dtype\": \"float16\"}}", nan_bytes, 2);
	w = cnn_tfjs_open(path("inf.json"));
	t = w ? cnn_tfjs_tensor(w, 0) : NULL;
	tap_ok(w && !t && strstr(cnn_errmsg(), "inf.json: tensor \"y\" holds inf at index 0"),
	       "a float16 infinity too: %s", cnn_errmsg());
	cnn_tfjs_close(w);
}

/* ------------------------------------------------------------ the import */

/* A 3x3 convolution (HWIO), a depthwise one with multiplier 2 and batch
 * normalisation, and a connected layer over a 6 x 4 x 4 input (NHWC
 * flattened in TF), each tensor's values its own indices. */
static const char cfg[] =
	"[net]\nchannels=2\nheight=4\nwidth=4\n\n"
	"[convolutional]\nname=conv\nfilters=3\nsize=3\npad=1\nactivation=linear\n\n"
	"[convolutional]\nname=dw\nfilters=6\ngroups=3\nsize=3\npad=1\nbatch_normalize=1\n"
	"activation=relu\n\n"
	"[connected]\nname=fc\noutput=2\nactivation=linear\n";

static const struct {
	const char *name;
	int ndim;
	int64_t dim[4];
} import_tensors[] = {
	{"conv/kernel", 4, {3, 3, 2, 3}}, {"conv/bias", 1, {3}},
	{"dw/depthwise_kernel", 4, {3, 3, 3, 2}}, {"dw/gamma", 1, {6}},
	{"dw/moving_mean", 1, {6}}, {"dw/moving_variance", 1, {6}},
	{"fc/kernel", 2, {96, 2}}, {"fc/bias", 1, {2}}, {"step", 0, {0}},
};

#define NIMPORT ((int)(sizeof import_tensors / sizeof *import_tensors))

static const char map[] =
	"# TF.js tensor        our parameter\n"
	"conv/kernel           conv.weight\n"
	"conv/bias             0.bias\n"
	"dw/depthwise_kernel   dw.weight\n"
	"= 0                   dw.bias\n"
	"dw/gamma              dw.scale\n"
	"dw/moving_mean        dw.mean\n"
	"dw/moving_variance    dw.variance\n"
	"\n"
	"fc/kernel             -1.weight\n"
	"fc/bias               fc.bias\n"
	"- step\n";

static void write_import_model(void)
{
	char weights[2048] = "";
	float *values = malloc(sizeof *values * 192 * NIMPORT);
	size_t len = 0, n = 0;

	for (int i = 0; i < NIMPORT; i++) {
		int64_t count = 1;
		char shape[64] = "";
		for (int d = 0; d < import_tensors[i].ndim; d++) {
			count *= import_tensors[i].dim[d];
			snprintf(shape + strlen(shape), sizeof shape - strlen(shape), "%s%lld",
				 d ? "," : "", (long long)import_tensors[i].dim[d]);
		}
		for (int64_t k = 0; k < count; k++)
			values[n++] = (float)k;
		len += (size_t)snprintf(weights + len, sizeof weights - len,
					"%s{\"name\": \"%s\", \"shape\": [%s], \"dtype\": \"float32\"}",
					i ? ", " : "", import_tensors[i].name, shape);
	}
	one("import", weights, values, n * sizeof *values);
	free(values);
	write_text("import.cfg", cfg);
}

struct expect {
	int bad;
	char first[128];
};

/* Every parameter against the index formulas of the layout conversions. */
static int check_param(void *ctx, const char *name, float *v, int ndim, const int64_t *dim,
		       int trained)
{
	struct expect *e = ctx;
	int64_t n = 1;

	(void)trained;
	for (int d = 0; d < ndim; d++)
		n *= dim[d];
	for (int64_t i = 0; i < n; i++) {
		double want = (double)i;
		if (!strcmp(name, "0.weight")) { /* [o][c][y][x] from [y][x][c][o] */
			int64_t o = i / 18, c = i / 9 % 2, y = i / 3 % 3, x = i % 3;
			want = (double)(((y * 3 + x) * 2 + c) * 3 + o);
		} else if (!strcmp(name, "1.weight")) { /* [c*2+m][0][y][x] from [y][x][c][m] */
			int64_t c = i / 18, m = i / 9 % 2, y = i / 3 % 3, x = i % 3;
			want = (double)(((y * 3 + x) * 3 + c) * 2 + m);
		} else if (!strcmp(name, "2.weight")) { /* [k][ch*16+s] from [s*6+ch][k] */
			int64_t k = i / 96, ch = i % 96 / 16, s = i % 16;
			want = (double)((s * 6 + ch) * 2 + k);
		} else if (!strcmp(name, "1.bias")) {
			want = 0;
		}
		if (v[i] != want && !e->bad++)
			snprintf(e->first, sizeof e->first, "%s[%lld] is %g, want %g", name,
				 (long long)i, v[i], want);
	}
	return CNN_OK;
}

static void import_good(void)
{
	cnn_net *net;
	struct expect e = {0};

	write_import_model();
	write_text("import.map", map);
	net = cnn_tfjs_import(path("import.cfg"), path("import.json"), path("import.map"));
	if (!tap_ok(net != NULL, "import through a map%s", failure(net)))
		return;
	cnn_net_visit_params(net, check_param, &e);
	tap_ok(!e.bad, "HWIO, depthwise and NHWC-flattened connected weights in our layouts, "
	       "1-D as they are, a declared zero (%d wrong%s%s)", e.bad, e.bad ? ": " : "",
	       e.first);
	cnn_net_free(net);
}

/* A map with line `at` (from 1) replaced by `line` ("" drops it); two
 * buffers, so that one edit can take another's result. */
static const char *edit(const char *text, int at, const char *line)
{
	static char buf[2][sizeof map + 256];
	static int k;
	char *out = buf[k = !k];
	size_t len = 0;

	for (int n = 1; *text; n++) {
		const char *end = strchr(text, '\n');
		if (n == at)
			len += (size_t)snprintf(out + len, sizeof buf[0] - len, "%s%s", line,
						*line ? "\n" : "");
		else
			len += (size_t)snprintf(out + len, sizeof buf[0] - len, "%.*s\n",
						(int)(end - text), text);
		text = end + 1;
	}
	return out;
}

/* The message of importing through the map text, after "DIR/bad.map". */
static const char *import_error(const char *text)
{
	static char msg[1024];
	cnn_net *net;

	write_text("bad.map", text);
	net = cnn_tfjs_import(path("import.cfg"), path("import.json"), path("bad.map"));
	cnn_net_free(net);
	snprintf(msg, sizeof msg, "%s", net ? "imported" : cnn_errmsg() + strlen(path("bad.map")));
	return msg;
}

static void import_errors(void)
{
	static const struct {
		int at;
		const char *line, *message, *what;
	} cases[] = {
		{5, "", ": layer 1 [convolutional] dw (cfg line 13): its bias is neither filled "
		 "nor declared (a line \"TENSOR dw.bias\" or \"= 0 dw.bias\")", "a parameter left out"},
		{3, "", ": layer 0 [convolutional] conv (cfg line 6): its bias is neither filled nor "
		 "declared (a line \"TENSOR conv.bias\" or \"= 0 conv.bias\")",
		 "a tensor and its parameter left out"},
		{12, "", ": tensor \"step\" of the manifest is neither used nor ignored (a line "
		 "\"step LAYER.PARAM\" or \"- step\")", "a tensor left out"},
		{2, "conv/kernel dw.weight", ":4: dw.weight is already filled on line 2",
		 "a parameter filled twice"},
		{4, "conv/kernel 1.weight", ":4: tensor \"conv/kernel\" is already on line 2",
		 "a tensor used twice"},
		{6, "dw/gamma fc.bias", ":11: fc.bias is already filled on line 6",
		 "the later line is the one in error"},
		{6, "dw/gamma dw.mean", ":7: dw.mean is already filled on line 6",
		 "a statistic filled twice"},
		{2, "conv/kernel conv", ":2: 'conv': want LAYER.PARAM, a layer's name or number and a "
		 "parameter (weight, bias, scale, mean, variance)", "no parameter named"},
		{2, "conv/kernel nope.weight", ":2: no layer is named nope", "an unknown layer"},
		{2, "conv/kernel 7.weight", ":2: no layer 7: the network has layers 0 to 2 (or -3 to -1)",
		 "a layer number past the end"},
		{2, "conv/kernel conv.gamma",
		 ":2: layer 0 [convolutional] conv (cfg line 6) has no parameter \"gamma\" (it has "
		 "weight, bias)", "an unknown parameter"},
		{2, "conv/kernel conv.weight extra",
		 ":2: want \"TENSOR LAYER.PARAM\", \"- TENSOR\", \"+ TENSOR NAME\" or \"= VALUE "
		 "LAYER.PARAM\"", "three words"},
		{2, "= conv.weight", ":2: want \"TENSOR LAYER.PARAM\", \"- TENSOR\", \"+ TENSOR NAME\" "
		 "or \"= VALUE LAYER.PARAM\"", "a value left out"},
		{5, "= zero dw.bias", ":5: '= zero': want a finite number", "a value that is not one"},
		{5, "= 1e39 dw.bias", ":5: '= 1e39': want a finite number", "a value past float"},
		{5, "= 0.5 dw.bias", "imported", "a declared value"},
	};
	/* Shapes that do not fit: two lines swapped, the first applied fails. */
	static const struct {
		int at1;
		const char *line1;
		int at2;
		const char *line2, *message, *what;
	} swaps[] = {
		{2, "fc/kernel conv.weight", 10, "conv/kernel fc.weight",
		 ":2: tensor \"fc/kernel\" is 96x2, but layer 0 [convolutional] conv (cfg line 6) "
		 "has weight 3x2x3x3, which takes a TF.js 3x3x2x3", "a connected kernel into a conv"},
		{2, "dw/depthwise_kernel conv.weight", 4, "conv/kernel dw.weight",
		 ":2: tensor \"dw/depthwise_kernel\" is 3x3x3x2, but layer 0 [convolutional] conv "
		 "(cfg line 6) has weight 3x2x3x3, which takes a TF.js 3x3x2x3",
		 "a depthwise kernel into a plain convolution"},
		{4, "dw/gamma dw.weight", 6, "dw/depthwise_kernel dw.scale",
		 ":4: tensor \"dw/gamma\" is 6, but layer 1 [convolutional] dw (cfg line 13) has "
		 "weight 6x1x3x3, which takes a TF.js 3x3x1x6 or 3x3x3x2", "a vector into a depthwise"},
		{3, "fc/bias conv.bias", 11, "conv/bias fc.bias",
		 ":3: tensor \"fc/bias\" is 2, but layer 0 [convolutional] conv (cfg line 6) has "
		 "bias 3, which takes a TF.js 3", "vectors of other lengths"},
		{10, "fc/kernel fc.bias", 11, "fc/bias fc.weight",
		 ":10: tensor \"fc/kernel\" is 96x2, but layer 2 [connected] fc (cfg line 22) has "
		 "bias 2, which takes a TF.js 2", "a kernel into a bias"},
	};
	static const struct {
		int at;
		const char *line, *missing;
	} unknown[] = {{2, "conv/kernels conv.weight", "conv/kernels"}, {12, "- nope", "nope"}};

	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
		check_message(import_error(edit(map, cases[i].at, cases[i].line)), cases[i].message,
			      cases[i].what);
	for (size_t i = 0; i < sizeof swaps / sizeof *swaps; i++)
		check_message(import_error(edit(edit(map, swaps[i].at1, swaps[i].line1),
						swaps[i].at2, swaps[i].line2)),
			      swaps[i].message, swaps[i].what);
	for (size_t i = 0; i < sizeof unknown / sizeof *unknown; i++) {
		char want[1024];
		snprintf(want, sizeof want, ":%d: %s: no tensor \"%s\"", unknown[i].at,
			 path("import.json"), unknown[i].missing);
		check_message(import_error(edit(map, unknown[i].at, unknown[i].line)), want,
			      "a tensor the manifest lacks");
	}
	{
		cnn_net *net = cnn_tfjs_import(path("import.cfg"), path("import.json"),
					       path("none.map"));
		char want[600];
		snprintf(want, sizeof want, "%s: No such file or directory", path("none.map"));
		check_message(net ? "imported" : cnn_errmsg(), want, "no map");
		cnn_net_free(net);
	}
	{
		static const uint8_t two_ints[8] = {1, 0, 0, 0, 2, 0, 0, 0};
		one("ints", "{\"name\": \"b\", \"shape\": [2], \"dtype\": \"int32\"}", two_ints, 8);
		write_text("ints.cfg", "[net]\nchannels=1\nheight=1\nwidth=1\n\n"
			   "[connected]\noutput=2\nactivation=linear\n");
		write_text("ints.map", "b 0.bias\n= 1 0.weight\n");
		cnn_net *net = cnn_tfjs_import(path("ints.cfg"), path("ints.json"), path("ints.map"));
		char want[600];
		snprintf(want, sizeof want, "%s:1: tensor \"b\" is int32, and parameters are float32",
			 path("ints.map"));
		check_message(net ? "imported" : cnn_errmsg(), want, "an int32 tensor");
		cnn_net_free(net);
	}
}

/* ------------------------------------------------------------- face-api */

struct sums {
	double sum, sumabs, min, max;
};

static struct sums sums_of(const cnn_tensor *t)
{
	const float *v = t->data;
	struct sums s = {0, 0, INFINITY, -INFINITY};

	for (int64_t i = 0; i < cnn_tensor_count(t); i++) {
		double x = t->dtype == CNN_F32 ? v[i] : ((const int32_t *)t->data)[i];
		s.sum += x;
		s.sumabs += fabs(x);
		s.min = x < s.min ? x : s.min;
		s.max = x > s.max ? x : s.max;
	}
	return s;
}

/* One line of faceapi-checksums.txt against the decoded tensor. */
static int matches(const cnn_tfjs *w, char *line, char *why, size_t size)
{
	char *save = NULL, *name;
	double num[11];
	int n = 0, i, ok;
	cnn_tensor *t;
	struct sums s;

	strtok_r(line, " \n", &save); /* the model */
	name = strtok_r(NULL, " \n", &save);
	for (char *p; n < 11 && (p = strtok_r(NULL, " \n", &save)); n++)
		num[n] = strtod(p, NULL);
	if ((i = cnn_tfjs_find(w, name)) < 0 || !(t = cnn_tfjs_tensor(w, i))) {
		snprintf(why, size, "%s", cnn_errmsg());
		return 0;
	}
	s = sums_of(t);
	{
		const cnn_tfjs_info *info = cnn_tfjs_info_at(w, i);
		const double got[7] = {(double)info->offset, (double)info->bytes,
				       (double)cnn_tensor_count(t), s.sum, s.sumabs, s.min, s.max};
		static const char *const what[7] = {"offset", "bytes", "count", "sum", "sum of |v|",
						    "min", "max"};
		ok = n >= 7;
		for (int k = 0; ok && k < n; k++) {
			double v = k < 7 ? got[k] : cnn_tensor_get(t, k - 7);
			char label[32];
			if (k < 7)
				snprintf(label, sizeof label, "%s", what[k]);
			else
				snprintf(label, sizeof label, "value %d", k - 7);
			if (v != num[k]) {
				snprintf(why, size, "%s: %s is %.17g, want %.17g", name, label, v,
					 num[k]);
				ok = 0;
			}
		}
	}
	cnn_tensor_free(t);
	return ok;
}

static void faceapi(void)
{
	const char *data = getenv("CNN_TEST_DATA"), *models = getenv("CNN_FACEAPI_MODELS");
	char file[4096], line[4096], current[128] = "", why[512] = "", first[512];
	int tensors = 0, bad = 0;
	cnn_tfjs *w = NULL;
	FILE *f;

	models = models ? models : FACEAPI_DEFAULT;
	snprintf(file, sizeof file, "%s/tiny_face_detector_model-weights_manifest.json", models);
	if (access(file, R_OK)) {
		tap_ok(1, "# SKIP face-api's weights are not in %s (make -C examples/pretrained "
		       "weights)", models);
		return;
	}
	snprintf(file, sizeof file, "%s/faceapi-checksums.txt", data ? data : "tests/vectors");
	if (!tap_ok((f = fopen(file, "r")) != NULL, "%s", file))
		return;
	for (;;) {
		int more = fgets(line, sizeof line, f) != NULL;
		char model[128] = "";
		if (more && line[0] == '#')
			continue;
		if (more)
			sscanf(line, "%127s", model);
		if (*current && (!more || strcmp(model, current))) {
			tap_ok(w && !bad && tensors == cnn_tfjs_count(w),
			       "face-api %s: %d tensors decode as tfjs decodes them%s%s", current,
			       tensors, bad ? ": " : "", why);
			cnn_tfjs_close(w);
			w = NULL;
		}
		if (!more)
			break;
		if (strcmp(model, current)) {
			snprintf(current, sizeof current, "%s", model);
			snprintf(file, sizeof file, "%s/%s-weights_manifest.json", models, model);
			tensors = bad = 0;
			if (!(w = cnn_tfjs_open(file)))
				snprintf(why, sizeof why, "%s", cnn_errmsg());
		}
		tensors++;
		if (!w) {
			bad++;
		} else if (!matches(w, line, first, sizeof first) && !bad++) {
			snprintf(why, sizeof why, "%s", first);
		}
	}
	fclose(f);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	decoding();
	shard_errors();
	manifest_errors();
	other_dtypes();
	bounded_memory();
	nonfinite();
	import_good();
	import_errors();
	faceapi();
	{
		char cmd[600];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
		if (system(cmd))
			tap_ok(0, "removing %s", dir);
	}
	return tap_done();
}
