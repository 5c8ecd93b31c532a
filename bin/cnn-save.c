/*
 * cnn-save - write a tensor of each record to image files, one NumPy
 * array, or text.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

static const char help[] =
	"Usage: cnn-save [OPTION]... -o OUTPUT [FILE]...\n"
	"Write a tensor of each record of the stream in FILEs (or standard input).\n\n"
	"  -o, --output OUTPUT  where, chosen by the name:\n"
	"                         out.png, out.jpg   one image (a single record)\n"
	"                         out-%04d.png       one image per record, numbered\n"
	"                         out.npy            one array, records x shape\n"
	"                         out.txt, -         numbers as text, channels\n"
	"                                            separated by blank lines\n"
	"  -f, --field NAME     the tensor to write (default: image); a mask (\"mask\",\n"
	"                       \"mask_true\", \"mask_...\") goes to a palette PNG in\n"
	"                       VOC's colours, its classes the indices\n"
	"  -n, --start N        the first number for a %d pattern (default 0)\n"
	"  -q, --quality Q      JPEG quality 1..100 (default 90)\n"
	"      --rescale        map each image's min..max to 0..255 first\n"
	TOOL_COMMON_HELP;

enum { OPT_RESCALE = 256 };

enum kind { IMAGE, NUMBERED, NPY, TEXT };

static int has_suffix(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcasecmp(s + a - b, suffix) == 0;
}

/* cnn-stream(5)'s masks, by name: their values are classes. */
static int is_mask(const cnn_tensor *t)
{
	return !strcmp(t->name, "mask") || !strncmp(t->name, "mask_", 5);
}

static cnn_tensor *rescaled(const cnn_tensor *t)
{
	cnn_tensor *f = cnn_tensor_convert(t, CNN_F32);
	int64_t n;
	float lo = INFINITY, hi = -INFINITY, *v;

	if (!f)
		die_lib();
	n = cnn_tensor_count(f);
	v = f->data;
	for (int64_t i = 0; i < n; i++) {
		lo = v[i] < lo ? v[i] : lo;
		hi = v[i] > hi ? v[i] : hi;
	}
	for (int64_t i = 0; i < n; i++)
		v[i] = hi > lo ? (v[i] - lo) * 255 / (hi - lo) : 0;
	return f;
}

/* Text: the last axis along a line, the one before it down the lines, and
 * a blank line between the planes of anything outside those two. */
static void write_text(FILE *f, const cnn_tensor *t)
{
	int64_t n = cnn_tensor_count(t);
	int64_t cols = t->ndim >= 1 ? t->dim[t->ndim - 1] : 1;
	int64_t rows = t->ndim >= 2 ? t->dim[t->ndim - 2] : 1;

	if (t->dtype == CNN_TEXT) {
		fwrite(t->data, 1, (size_t)n, f);
		fputc('\n', f);
		return;
	}
	for (int64_t i = 0; i < n; i++) {
		if (i > 0 && i % (rows * cols) == 0)
			fputc('\n', f);
		fprintf(f, "%.9g%c", cnn_tensor_get(t, i), (i + 1) % cols ? ' ' : '\n');
	}
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"output", required_argument, 0, 'o'},
		{"field", required_argument, 0, 'f'},
		{"start", required_argument, 0, 'n'},
		{"quality", required_argument, 0, 'q'},
		{"rescale", no_argument, 0, OPT_RESCALE},
		TOOL_COMMON_OPTIONS, {0, 0, 0, 0}};
	const char *output = NULL, *field = "image";
	long start = 0;
	int quality = 90, rescale = 0, c;
	enum kind kind;
	cnn_npy_writer *npy = NULL;
	FILE *text = NULL;
	cnn_outfile *text_out = NULL;
	cnn_record *rec;
	tool_input in;

	tool_init("cnn-save");
	while ((c = getopt_long(argc, argv, "o:f:n:q:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': output = optarg; break;
		case 'f': field = optarg; break;
		case 'n': start = tool_long("--start", optarg, 0, INT_MAX / 2); break;
		case 'q': quality = (int)tool_long("--quality", optarg, 1, 100); break;
		case OPT_RESCALE: rescale = 1; break;
		case 'h': tool_help(help);
		case 'V': tool_version();
		default: usage_error(NULL);
		}
	}
	if (!output)
		usage_error("no --output (an image name, a %%d pattern, .npy, .txt or -)");
	if (strcmp(output, "-") == 0 || has_suffix(output, ".txt"))
		kind = TEXT;
	else if (has_suffix(output, ".npy"))
		kind = NPY;
	else if (tool_is_pattern(output))
		kind = NUMBERED;
	else if (has_suffix(output, ".png") || has_suffix(output, ".jpg") ||
		 has_suffix(output, ".jpeg"))
		kind = IMAGE;
	else
		usage_error("--output %s: name a .png, .jpg, .npy or .txt file, or -", output);

	tool_input_init(&in, argc - optind, argv + optind);
	if (!(rec = cnn_record_new()))
		die_lib();
	while (tool_read(&in, rec, 0)) {
		const cnn_tensor *t = cnn_record_get(rec, field);
		cnn_tensor *scaled = NULL;
		char name[4096];
		if (!t)
			die_record(&in, "no tensor \"%s\"", field);
		if (rescale)
			t = scaled = rescaled(t);
		/* Opened at the first record, so that bad input leaves no empty file. */
		if (kind == NPY && !npy) {
			tool_check_output(output);
			if (!(npy = cnn_npy_writer_open(output)))
				die_lib();
		}
		if (kind == TEXT && !text)
			text = tool_outfile(output, &text_out);
		switch (kind) {
		case TEXT:
			if (in.records > 1)
				fputc('\n', text);
			write_text(text, t);
			break;
		case NPY:
			if (cnn_npy_writer_add(npy, t))
				die_record(&in, "%s", cnn_errmsg());
			break;
		case IMAGE:
			if (in.records > 1)
				die_record(&in, "a second record, but %s names one file "
					   "(use a %%d pattern such as out-%%04d.png)", output);
			/* fall through */
		case NUMBERED:
			snprintf(name, sizeof name, output, (int)(start + in.records - 1));
			tool_check_output(name);
			if (is_mask(t) && !has_suffix(name, ".png"))
				die_record(&in, "%s: tensor \"%s\" is a mask: its classes go to a PNG "
					   "file (a JPEG's would blur)", name, t->name);
			if (is_mask(t) ? cnn_mask_save(name, t) : cnn_image_save(name, t, quality))
				die_record(&in, "%s", cnn_errmsg());
			break;
		}
		cnn_tensor_free(scaled);
	}
	if (npy && cnn_npy_writer_close(npy))
		die_lib();
	if (text)
		tool_outfile_commit(text_out);
	cnn_record_free(rec);
	return 0;
}
