/*
 * cnn-boxes - boxes between the stream and text: CSV, JSON, darknet.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

static const char help[] =
	"Usage: cnn-boxes --to FORMAT [OPTION]... [FILE]...\n"
	"  or:  cnn-boxes --from FORMAT -t TEXT [OPTION]... [FILE]...\n"
	"Convert boxes between the stream in FILEs (or standard input) and text.\n\n"
	"      --to FORMAT     print each record's boxes as csv, json or darknet\n"
	"      --from FORMAT   put the boxes of text record N into stream record N\n"
	"                      (later records get none); csv, json, darknet or\n"
	"                      darknet-ext (darknet's detector test -ext_output)\n"
	"  -t, --text FILE     the text to read, '-' for standard input; repeat it for\n"
	"                      more (a darknet label file holds one record)\n"
	"  -n, --new           with --from: no stream, a record of boxes per text record\n"
	"  -S, --size WxH      the image size for darknet's relative coordinates\n"
	"                      (default: the record's image)\n"
	"  -N, --names FILE    class names, one per line, such as darknet's coco.names\n"
	"  -f, --field NAME    the boxes tensor (default: boxes); boxes_true is ground\n"
	"                      truth, written without scores as darknet labels\n"
	"  -o, --output FILE   --to: the text (default: standard output; darknet labels\n"
	"                      of several records need a %d pattern, numbered from 0);\n"
	"                      --from: the stream\n"
	"  -z, --level N       zstd level 1..22, 0 for uncompressed (default 3)\n"
	TOOL_COMMON_HELP;

struct options {
	int to, from, new_records;
	char **text;
	int ntext;
	double w, h; /* --size, 0 when not given */
	cnn_names *names;
	const char *field, *output;
	int level;
};

static int box_format(const char *opt, const char *arg)
{
	int f = cnn_box_format_parse(arg);

	if (f < 0)
		usage_error("%s: %s", opt, cnn_errmsg());
	return f;
}

static void parse_size(struct options *o, const char *arg)
{
	int v[2];

	if (tool_ints("--size", arg, v, 2, 1, 1 << 24) != 2)
		usage_error("--size: '%s' is not WxH", arg);
	o->w = v[0];
	o->h = v[1];
}

/* The image size of a record for relative coordinates: --size, else the
 * record's image (C x H x W or H x W); 0 x 0 when unknown. */
static void image_size(const struct options *o, const cnn_record *rec, double *w, double *h)
{
	const cnn_tensor *img = rec ? cnn_record_get(rec, "image") : NULL;

	*w = o->w;
	*h = o->h;
	if (!o->w && img && img->ndim >= 2) {
		*w = (double)img->dim[img->ndim - 1];
		*h = (double)img->dim[img->ndim - 2];
	}
}

/* --to: print every record's boxes. */
static void to_text(const struct options *o, tool_input *in)
{
	int pattern = tool_is_pattern(o->output), truth = strcmp(o->field, "boxes_true") == 0;
	cnn_record *rec = cnn_record_new();
	FILE *f = NULL;
	cnn_outfile *out = NULL;
	char name[4096];

	if (!rec)
		die_lib();
	if (!pattern) {
		f = tool_outfile(o->output, &out);
		fputs(cnn_box_header(o->to), f);
	}
	while (tool_read(in, rec, 1)) {
		const cnn_tensor *boxes = cnn_record_get(rec, o->field);
		double w, h;
		if (!boxes)
			die_record(in, "no tensor \"%s\"", o->field);
		if (o->to == CNN_BOXES_DARKNET && !pattern && in->records > 1)
			die_record(in, "darknet labels hold one image each: give --output a %%d pattern");
		if (pattern) {
			snprintf(name, sizeof name, o->output, (int)(in->records - 1));
			f = tool_outfile(name, &out);
		}
		image_size(o, rec, &w, &h);
		if (cnn_box_write(f, o->to, boxes, truth, in->records, w, h, o->names))
			die_record(in, "%s", cnn_errmsg());
		if (pattern)
			tool_outfile_commit(out);
	}
	if (!pattern)
		tool_outfile_commit(out);
	cnn_record_free(rec);
}

/* The text readers, one after another as one sequence of records. */
struct texts {
	const struct options *o;
	int next;
	cnn_box_reader *br;
};

/* The next text record's boxes into *boxes, for the record rec: 1, or 0
 * when all are read.  A probe only asks whether one is left, so any image
 * size will do. */
static int next_boxes(struct texts *t, const cnn_record *rec, int probe, cnn_tensor **boxes)
{
	for (;;) {
		double w = 1, h = 1;
		int ret;
		if (!t->br) {
			if (t->next == t->o->ntext)
				return 0;
			if (!(t->br = cnn_box_reader_open(t->o->text[t->next++], t->o->from,
							  t->o->names)))
				die_lib();
		}
		if (!probe)
			image_size(t->o, rec, &w, &h);
		if ((ret = cnn_box_read(t->br, t->o->field, w, h, boxes)) == CNN_OK)
			return 1;
		if (ret == CNN_ERR)
			die_lib();
		cnn_box_reader_close(t->br);
		t->br = NULL;
	}
}

/* --from: attach the boxes to the stream's records, or make records. */
static void from_text(const struct options *o, tool_input *in)
{
	struct texts t = {o, 0, NULL};
	cnn_writer *wr = tool_output(o->output, o->level);
	cnn_record *rec = cnn_record_new();
	cnn_tensor *boxes;
	int more = 1;

	if (!rec)
		die_lib();
	if (o->new_records) {
		while (next_boxes(&t, NULL, 0, &boxes)) {
			cnn_record_clear(rec);
			if (cnn_record_put(rec, boxes))
				die_lib();
			tool_write(wr, rec);
		}
	} else {
		while (tool_read(in, rec, 0)) {
			more = more && next_boxes(&t, rec, 0, &boxes);
			if ((!more && !(boxes = cnn_boxes_new(o->field, 0))) ||
			    cnn_record_put(rec, boxes))
				die_lib();
			tool_write(wr, rec);
		}
		if (more && next_boxes(&t, NULL, 1, &boxes))
			die("%s: more records of boxes than the stream's %lld",
			    o->text[t.next - 1], (long long)in->records);
	}
	cnn_box_reader_close(t.br);
	tool_output_close(wr);
	cnn_record_free(rec);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"to", required_argument, 0, 'T'},
		{"from", required_argument, 0, 'F'},
		{"text", required_argument, 0, 't'},
		{"new", no_argument, 0, 'n'},
		{"size", required_argument, 0, 'S'},
		{"names", required_argument, 0, 'N'},
		{"field", required_argument, 0, 'f'},
		TOOL_OUTPUT_OPTIONS, TOOL_COMMON_OPTIONS, {0, 0, 0, 0}};
	struct options o = {.field = "boxes", .output = "-", .level = CNN_LEVEL_DEFAULT};
	const char *names = NULL;
	int c, text_stdin = 0;
	tool_input in;

	tool_init("cnn-boxes");
	if (!(o.text = calloc((size_t)argc + 1, sizeof *o.text)))
		die("out of memory");
	while ((c = getopt_long(argc, argv, "t:nS:N:f:o:z:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'T': o.to = box_format("--to", optarg); break;
		case 'F': o.from = box_format("--from", optarg); break;
		case 't': o.text[o.ntext++] = optarg; text_stdin |= strcmp(optarg, "-") == 0; break;
		case 'n': o.new_records = 1; break;
		case 'S': parse_size(&o, optarg); break;
		case 'N': names = optarg; break;
		case 'f': o.field = optarg; break;
		case 'o': o.output = optarg; break;
		case 'z': o.level = (int)tool_long("--level", optarg, 0, 22); break;
		case 'h': tool_help(help);
		case 'V': tool_version();
		default: usage_error(NULL);
		}
	}
	if (!o.to == !o.from)
		usage_error("give one of --to and --from");
	if (o.to && (o.ntext || o.new_records))
		usage_error("--text and --new go with --from");
	if (o.to == CNN_BOXES_DARKNET_EXT)
		usage_error("--to darknet-ext: darknet's log is read, not written");
	if (o.from == CNN_BOXES_DARKNET_EXT && !names)
		usage_error("--from darknet-ext names its classes: give --names");
	if (o.from && !o.ntext)
		usage_error("--from needs the text to read (-t FILE, '-' for standard input)");
	if (o.from && o.new_records && optind < argc)
		usage_error("--new reads no stream, but FILEs were given");
	if (o.from && !o.new_records && text_stdin && optind == argc)
		usage_error("the text and the stream cannot both be standard input");
	if (names && !(o.names = cnn_names_load(names)))
		die_lib();

	tool_note_inputs(o.text, o.ntext);
	tool_input_init(&in, argc - optind, argv + optind);
	if (o.to)
		to_text(&o, &in);
	else
		from_text(&o, &in);
	cnn_names_free(o.names);
	free(o.text);
	return 0;
}
