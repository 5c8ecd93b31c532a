/*
 * cnn-import - foreign models into model files of ours: the weights of a
 * TF.js manifest placed into one of our cfgs by a name map, a TF.js layers
 * model (Keras topology and weights) whole, and darknet's .weights; --list
 * shows the tensors a file holds without converting.
 *
 * Each kind of input is an option that picks a function (struct job's
 * run); a new kind is one more option, case and function.
 */
#include <stdlib.h>
#include <string.h>

#include "tool.h"

static const char help[] =
	"Usage: cnn-import --manifest FILE.json --cfg MODEL.cfg --map FILE -o MODEL\n"
	"       cnn-import --tfjs model.json [--input-rule RULE] [--mean M,..] [--std S,..]\n"
	"                  [--pad-square] [--cfg-out FILE] -o MODEL\n"
	"       cnn-import --darknet FILE.weights --cfg MODEL.cfg -o MODEL\n"
	"       cnn-import --list FILE [--cfg MODEL.cfg]\n"
	"Convert the weights of a model made elsewhere into a model file (cnn-model(5)),\n"
	"which cnn-predict, cnn-summary and cnn-train --init read: the network is the one\n"
	"MODEL.cfg describes, the weights come from FILE.\n\n"
	"      --manifest FILE  a TF.js weights manifest, or a model.json: its\n"
	"                     tensors, placed by --map\n"
	"      --tfjs FILE    a TF.js layers model (a Keras model.json and its shards):\n"
	"                     the cfg is made from its topology, layers named as Keras\n"
	"                     names them\n"
	"      --input-rule RULE  how images of other sizes are resized for it:\n"
	"                     default, tf_legacy or align_corners (nsfwjs)\n"
	"      --mean M,..  --std S,..  the input's normalisation, (x - mean) / std on\n"
	"                     pixels / 255 (default none)\n"
	"      --pad-square   pad images to a square before resizing\n"
	"      --cfg-out FILE  also write the cfg made from the topology\n"
	"      --darknet FILE  a darknet .weights file for MODEL.cfg (as cnn-darknet\n"
	"                     import does)\n"
	"      --list FILE    print the tensors of a manifest, a model.json or (with\n"
	"                     --cfg) a darknet .weights, a line each: name, shape,\n"
	"                     dtype, quantization, scale, min, byte offset, bytes\n"
	"      --cfg FILE     the network, in our cfg dialect (cnn-cfg(5))\n"
	"      --map FILE     which manifest tensor fills which parameter, a line each:\n"
	"                     \"TENSOR LAYER.PARAM\", \"- TENSOR\" (not used) or\n"
	"                     \"= VALUE LAYER.PARAM\" (VALUE throughout)\n"
	"  -o, --output FILE  the model file to write\n"
	TOOL_COMMON_HELP;

struct job {
	void (*run)(const struct job *j);
	const char *option;    /* the input's, for messages */
	const char *input, *cfg, *map, *output;
	const char *rule, *mean, *std, *cfg_out; /* --tfjs's */
	int pad_square;
};

enum {
	OPT_MANIFEST = 256, OPT_TFJS, OPT_DARKNET, OPT_LIST, OPT_CFG, OPT_MAP, OPT_RULE, OPT_MEAN,
	OPT_STD, OPT_PAD_SQUARE, OPT_CFG_OUT
};

/* ------------------------------------------------------------- checks */

static void need(const struct job *j, const char *value, const char *what)
{
	if (!value)
		usage_error("%s needs %s", j->option, what);
}

static void refuse(const struct job *j, const char *value, const char *what)
{
	if (value)
		usage_error("%s takes no %s", j->option, what);
}

/* An import writes a model file: its inputs may not be it. */
static void check_import(const struct job *j)
{
	need(j, j->cfg, "--cfg MODEL.cfg");
	need(j, j->output, "-o MODEL");
	if (strcmp(j->output, "-") == 0)
		usage_error("%s writes a model file: -o FILE, not -", j->option);
	tool_note_input(j->input);
	tool_note_input(j->cfg);
	tool_note_input(j->map);
	tool_check_output(j->output);
}

static void save(cnn_net *net, const char *output)
{
	if (!net || cnn_net_save(net, output, NULL, 0))
		die_lib();
	cnn_net_free(net);
}

/* ------------------------------------------------------------ imports */

static void import_manifest(const struct job *j)
{
	need(j, j->map, "--map FILE");
	check_import(j);
	save(cnn_tfjs_import(j->cfg, j->input, j->map), j->output);
}

/* The [net] keys of --tfjs's options; the cfg parser checks the values. */
static char *net_keys(const struct job *j)
{
	size_t size = 64 + (j->rule ? strlen(j->rule) : 0) + (j->mean ? strlen(j->mean) : 0) +
		      (j->std ? strlen(j->std) : 0);
	char *keys = malloc(size);
	int n = 0;

	if (!keys)
		die("out of memory");
	keys[0] = 0;
	if (j->rule)
		n += snprintf(keys + n, size - n, "resize=%s\n", j->rule);
	if (j->mean)
		n += snprintf(keys + n, size - n, "mean=%s\n", j->mean);
	if (j->std)
		n += snprintf(keys + n, size - n, "std=%s\n", j->std);
	if (j->pad_square)
		snprintf(keys + n, size - n, "pad_square=1\n");
	return keys;
}

static void write_cfg(const char *path, const char *text)
{
	cnn_outfile *out = cnn_outfile_open(path, 0);

	if (!out)
		die_lib();
	fputs(text, cnn_outfile_stream(out)); /* a failed write fails the commit */
	if (cnn_outfile_commit(out))
		die_lib();
}

static void import_tfjs(const struct job *j)
{
	char *keys = net_keys(j), *cfg = NULL;
	cnn_net *net;

	refuse(j, j->cfg, "--cfg (the model.json has the topology)");
	refuse(j, j->map, "--map (the model.json names each layer's weights)");
	need(j, j->output, "-o MODEL");
	if (strcmp(j->output, "-") == 0)
		usage_error("%s writes a model file: -o FILE, not -", j->option);
	tool_note_input(j->input);
	tool_check_output(j->output);
	if (j->cfg_out)
		tool_check_output(j->cfg_out);
	net = cnn_keras_import(j->input, keys, j->cfg_out ? &cfg : NULL);
	if (cfg)
		write_cfg(j->cfg_out, cfg);
	free(cfg);
	free(keys);
	save(net, j->output);
}

static void import_darknet(const struct job *j)
{
	refuse(j, j->map, "--map (a .weights file says where each array goes)");
	check_import(j);
	save(cnn_darknet_import(j->cfg, j->input), j->output);
}

/* ------------------------------------------------------------ listing */

/* One line of the table. */
struct row {
	char name[CNN_MAX_NAME + 1];
	char shape[128];
	const char *dtype, *quantization;
	double scale, min;
	int64_t offset, bytes;
};

struct table {
	int n, cap;
	struct row *row;
};

static struct row *add_row(struct table *t, const char *name, int ndim, const int64_t *dim)
{
	struct row *r;
	size_t len = 0;

	if (t->n == t->cap) {
		t->cap = 2 * t->cap + 64;
		if (!(t->row = realloc(t->row, sizeof *t->row * t->cap)))
			die("out of memory");
	}
	r = memset(&t->row[t->n++], 0, sizeof *r);
	snprintf(r->name, sizeof r->name, "%s", name);
	snprintf(r->shape, sizeof r->shape, "%s", ndim ? "" : "scalar");
	for (int d = 0; d < ndim && len < sizeof r->shape; d++)
		len += (size_t)snprintf(r->shape + len, sizeof r->shape - len, "%s%lld",
					d ? "x" : "", (long long)dim[d]);
	r->dtype = "float32";
	return r;
}

/* The shortest decimal that reads back as v. */
static const char *shortest(double v, char *buf, size_t size)
{
	for (int digits = 1; digits <= 17; digits++) {
		snprintf(buf, size, "%.*g", digits, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	return buf;
}

static void print_table(const struct table *t)
{
	int wname = 4, wshape = 5;

	for (int i = 0; i < t->n; i++) {
		int n = (int)strlen(t->row[i].name), s = (int)strlen(t->row[i].shape);
		wname = n > wname ? n : wname;
		wshape = s > wshape ? s : wshape;
	}
	printf("%-*s  %-*s  %-7s  %-12s  %-23s  %-23s  %10s  %10s\n", wname, "name", wshape,
	       "shape", "dtype", "quantization", "scale", "min", "offset", "bytes");
	for (int i = 0; i < t->n; i++) {
		const struct row *r = &t->row[i];
		char scale[32] = "-", min[32] = "-";
		if (r->quantization && strcmp(r->quantization, "float16")) {
			shortest(r->scale, scale, sizeof scale);
			shortest(r->min, min, sizeof min);
		}
		printf("%-*s  %-*s  %-7s  %-12s  %-23s  %-23s  %10lld  %10lld\n", wname, r->name,
		       wshape, r->shape, r->dtype, r->quantization ? r->quantization : "-", scale,
		       min, (long long)r->offset, (long long)r->bytes);
	}
}

static void list_manifest(const char *path, struct table *t)
{
	cnn_tfjs *w = cnn_tfjs_open(path);

	if (!w)
		die_lib();
	for (int i = 0; i < cnn_tfjs_count(w); i++) {
		const cnn_tfjs_info *info = cnn_tfjs_info_at(w, i);
		struct row *r = add_row(t, info->name, info->ndim, info->dim);
		r->dtype = info->type;
		r->quantization = info->quantization;
		r->scale = info->scale;
		r->min = info->min;
		r->offset = info->offset;
		r->bytes = info->bytes;
	}
	cnn_tfjs_close(w);
}

static int add_darknet_row(void *ctx, const char *name, int ndim, const int64_t *dim,
			   int64_t offset)
{
	struct row *r = add_row(ctx, name, ndim, dim);
	int64_t count = 1;

	for (int d = 0; d < ndim; d++)
		count *= dim[d];
	r->offset = offset;
	r->bytes = 4 * count;
	return CNN_OK;
}

/* The file must fit the cfg (as an import checks) for its table to mean
 * anything. */
static void list_darknet(const char *path, const char *cfg, struct table *t)
{
	cnn_net *net = cnn_darknet_import(cfg, path);

	if (!net || cnn_darknet_layout(net, path, add_darknet_row, t))
		die_lib();
	cnn_net_free(net);
}

static void list_file(const struct job *j)
{
	struct table t = {0};

	refuse(j, j->map, "--map");
	refuse(j, j->output, "-o (it prints to standard output)");
	if (strcmp(j->input, "-") == 0)
		usage_error("--list reads a named file, not standard input");
	if (j->cfg)
		list_darknet(j->input, j->cfg, &t);
	else
		list_manifest(j->input, &t);
	print_table(&t);
	free(t.row);
}

/* ---------------------------------------------------------------- main */

static void set_input(struct job *j, void (*run)(const struct job *), const char *option)
{
	if (j->run)
		usage_error("%s and %s: one input at a time", j->option, option);
	j->run = run;
	j->option = option;
	j->input = optarg;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"manifest", required_argument, 0, OPT_MANIFEST},
		{"tfjs", required_argument, 0, OPT_TFJS},
		{"input-rule", required_argument, 0, OPT_RULE},
		{"mean", required_argument, 0, OPT_MEAN},
		{"std", required_argument, 0, OPT_STD},
		{"pad-square", no_argument, 0, OPT_PAD_SQUARE},
		{"cfg-out", required_argument, 0, OPT_CFG_OUT},
		{"darknet", required_argument, 0, OPT_DARKNET},
		{"list", required_argument, 0, OPT_LIST},
		{"cfg", required_argument, 0, OPT_CFG},
		{"map", required_argument, 0, OPT_MAP},
		{"output", required_argument, 0, 'o'},
		TOOL_COMMON_OPTIONS, {0, 0, 0, 0}};
	struct job j = {0};
	int c;

	tool_init("cnn-import");
	while ((c = getopt_long(argc, argv, "o:hV", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_MANIFEST: set_input(&j, import_manifest, "--manifest"); break;
		case OPT_TFJS: set_input(&j, import_tfjs, "--tfjs"); break;
		case OPT_RULE: j.rule = optarg; break;
		case OPT_MEAN: j.mean = optarg; break;
		case OPT_STD: j.std = optarg; break;
		case OPT_PAD_SQUARE: j.pad_square = 1; break;
		case OPT_CFG_OUT: j.cfg_out = optarg; break;
		case OPT_DARKNET: set_input(&j, import_darknet, "--darknet"); break;
		case OPT_LIST: set_input(&j, list_file, "--list"); break;
		case OPT_CFG: j.cfg = optarg; break;
		case OPT_MAP: j.map = optarg; break;
		case 'o': j.output = optarg; break;
		case 'h': tool_help(help);
		case 'V': tool_version();
		default: usage_error(NULL);
		}
	}
	if (optind < argc)
		usage_error("'%s': the input is an option (--manifest, --tfjs, --darknet, --list)",
			    argv[optind]);
	if (!j.run)
		usage_error("what to import? --manifest, --tfjs, --darknet or --list");
	if (j.run != import_tfjs && (j.rule || j.mean || j.std || j.pad_square || j.cfg_out))
		usage_error("--input-rule, --mean, --std, --pad-square and --cfg-out are --tfjs's");
	j.run(&j);
	return 0;
}
