/*
 * cnn-summary - what a network is made of: per layer its type, name,
 * output shape, parameters, multiply-adds and receptive field, then the
 * totals; from a cfg file or a model file.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

static const char help[] =
	"Usage: cnn-summary [OPTION]... FILE...\n"
	"Summarise the network of each cfg or model FILE: per layer its type, name\n"
	"(when some layer has one), output shape C x H x W, trained parameters,\n"
	"multiply-adds per example and receptive field; then a line of totals.  A\n"
	"FILE that does not build is reported and skipped; the exit status is then 1.\n\n"
	"  -i, --input [Cx]HxW   summarise at this input size: set the [net] section's\n"
	"                        height=, width= (and channels=) before building\n"
	"  -q, --totals          only the totals line of each FILE\n"
	TOOL_COMMON_HELP;

/* The [net] keys that --input sets, in the order of its numbers. */
static const char *const input_keys[3] = {"channels", "height", "width"};

struct options {
	int input[3];      /* C, H, W to set; 0 keeps the cfg's (H: no --input) */
	int totals;
};

/* Model files are tensor streams (cnn-stream(5)): raw records start with
 * "CNNR", compressed ones with a zstd or a skippable frame.  Anything else
 * is taken for a cfg, whose loader gives the better error. */
static int is_stream(const char *path)
{
	FILE *f = fopen(path, "rb");
	unsigned char m[4];
	size_t n = f ? fread(m, 1, sizeof m, f) : 0;
	uint32_t v;

	if (f)
		fclose(f);
	if (n < sizeof m)
		return 0;
	v = m[0] | m[1] << 8 | m[2] << 16 | (uint32_t)m[3] << 24;
	return memcmp(m, "CNNR", 4) == 0 || v == 0xFD2FB528u || (v & ~0xFu) == 0x184D2A50u;
}

/* The cfg a model file carries in its first record; the weights that
 * follow are not needed for a summary, so they are not read. */
static cnn_cfg *model_cfg(const char *path)
{
	cnn_reader *rd = cnn_reader_open(path);
	cnn_record *rec = cnn_record_new();
	const cnn_tensor *t;
	cnn_cfg *cfg = NULL;
	char *text;

	if (!rd || !rec || cnn_read_first(rd, rec))
		goto done;
	t = cnn_record_get(rec, "cfg");
	if (!t || t->dtype != CNN_TEXT) {
		cnn_error("%s: not a model file (its first record has no cfg text)", path);
		goto done;
	}
	if (!(text = malloc(cnn_tensor_bytes(t) + 1))) {
		cnn_error("out of memory");
		goto done;
	}
	memcpy(text, t->data, cnn_tensor_bytes(t));
	text[cnn_tensor_bytes(t)] = 0;
	cfg = cnn_cfg_parse(text, path);
	free(text);
done:
	cnn_reader_close(rd);
	cnn_record_free(rec);
	return cfg;
}

/* Which of input_keys a "key=value" line sets, or -1. */
static int input_key(const char *line, size_t len)
{
	const char *eq = memchr(line, '=', len), *end = eq;

	if (!eq)
		return -1;
	while (line < eq && isspace((unsigned char)*line))
		line++;
	while (end > line && isspace((unsigned char)end[-1]))
		end--;
	for (int k = 0; k < 3; k++)
		if (strlen(input_keys[k]) == (size_t)(end - line) &&
		    memcmp(line, input_keys[k], end - line) == 0)
			return k;
	return -1;
}

static int is_header(const char *line, size_t len)
{
	while (len && isspace((unsigned char)*line))
		line++, len--;
	return len && *line == '[';
}

/* The cfg text with the first section's channels=, height= and width= set
 * to the wanted values, so that the engine builds the network at another
 * size exactly as if the file said so.  Each line is replaced where it
 * stands, keeping every error's line number true; a key the section lacks
 * goes right after its header. */
static char *set_input(const char *text, const int *want)
{
	int seen[3] = {0}, lines = 0, section = 0;
	const char *p, *next;
	char *out, *o;

	for (p = text; *p && section < 2; p = next) {
		next = strchr(p, '\n');
		next = next ? next + 1 : p + strlen(p);
		if (is_header(p, next - p))
			section++;
		else if (section == 1 && input_key(p, next - p) >= 0)
			seen[input_key(p, next - p)] = ++lines;
	}
	/* Each line written is "key=65536\n" at most: the lines replaced (a
	 * duplicate key is the parser's to report), and up to three added. */
	if (!(o = out = malloc(strlen(text) + (lines + 3) * 16 + 2)))
		return NULL;
	section = 0;
	for (p = text; *p; p = next) {
		int k;
		next = strchr(p, '\n');
		next = next ? next + 1 : p + strlen(p);
		k = section == 1 ? input_key(p, next - p) : -1;
		if (k >= 0 && want[k]) {
			o += sprintf(o, "%s=%d\n", input_keys[k], want[k]);
			continue;
		}
		memcpy(o, p, next - p);
		o += next - p;
		if (!is_header(p, next - p) || ++section != 1)
			continue;
		if (o[-1] != '\n')
			*o++ = '\n';
		for (k = 0; k < 3; k++)
			if (want[k] && !seen[k])
				o += sprintf(o, "%s=%d\n", input_keys[k], want[k]);
	}
	*o = 0;
	return out;
}

static cnn_cfg *load_cfg(const char *path, const struct options *o)
{
	cnn_cfg *cfg = is_stream(path) ? model_cfg(path) : cnn_cfg_load(path);
	char *text;

	if (!cfg || !o->input[1])
		return cfg;
	text = set_input(cnn_cfg_text(cfg), o->input);
	cnn_cfg_free(cfg);
	if (!text) {
		cnn_error("out of memory");
		return NULL;
	}
	cfg = cnn_cfg_parse(text, path);
	free(text);
	return cfg;
}

/* 1234567 as "1,234,567"; buf holds at least 32 bytes. */
static char *commas(double v, char *buf)
{
	char digits[24];
	int n = snprintf(digits, sizeof digits, "%.0f", v), j = 0;

	for (int i = 0; i < n; i++) {
		if (i > 0 && (n - i) % 3 == 0)
			buf[j++] = ',';
		buf[j++] = digits[i];
	}
	buf[j] = 0;
	return buf;
}

/* The width of the name column: 0 when no layer has a name, which leaves
 * the column out. */
static int name_width(const cnn_net *net)
{
	int width = 0;

	for (int i = 0; i < cnn_net_layers(net); i++) {
		cnn_layer_info li;
		cnn_net_layer_info(net, i, &li);
		if (li.name && (int)strlen(li.name) > width)
			width = (int)strlen(li.name);
	}
	return width && width < 4 ? 4 : width;
}

static void print_header(int names)
{
	printf("%5s  %-15s ", "layer", "type");
	if (names)
		printf("%-*s ", names, "name");
	printf("%14s %13s %17s %6s\n", "output CxHxW", "parameters", "multiply-adds", "rf");
}

static void print_layer(int i, const cnn_layer_info *li, int names)
{
	char shape[48], params[32], macs[32];

	snprintf(shape, sizeof shape, "%dx%dx%d", li->out_c, li->out_h, li->out_w);
	printf("%5d  %-15s ", i, li->type);
	if (names)
		printf("%-*s ", names, li->name ? li->name : "");
	printf("%14s %13s %17s %6d\n", shape, commas((double)li->params, params),
	       commas(li->flops, macs), li->rf);
}

static int summarise(const char *path, const struct options *o)
{
	static int tables;          /* printed so far, to separate them */
	cnn_cfg *cfg = load_cfg(path, o);
	cnn_net *net = cfg ? cnn_net_build(cfg, 1) : NULL;
	double params = 0, macs = 0;
	char buf[32];
	int c, h, w, names;

	if (!net) {
		/* After the summaries before it, also when both go to one pipe. */
		fflush(stdout);
		fprintf(stderr, "%s: %s\n", tool_name, cnn_errmsg());
		return 1;
	}
	names = name_width(net);
	if (!o->totals) {
		if (tables++)
			putchar('\n');
		print_header(names);
	}
	for (int i = 0; i < cnn_net_layers(net); i++) {
		cnn_layer_info li;
		cnn_net_layer_info(net, i, &li);
		if (!o->totals)
			print_layer(i, &li, names);
		params += li.params;
		macs += li.flops;
	}
	cnn_net_input_shape(net, &c, &h, &w);
	printf("%s: %s parameters, %.2f %s multiply-adds, input %dx%dx%d\n", path,
	       commas(params, buf), macs >= 1e9 ? macs / 1e9 : macs / 1e6,
	       macs >= 1e9 ? "G" : "M", c, h, w);
	cnn_net_free(net);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"input", required_argument, 0, 'i'},
		{"totals", no_argument, 0, 'q'},
		TOOL_COMMON_OPTIONS, {0, 0, 0, 0}};
	struct options o = {{0}, 0};
	int c, n, v[3], status = 0;

	tool_init("cnn-summary");
	while ((c = getopt_long(argc, argv, "i:qhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			n = tool_ints("--input", optarg, v, 3, 1, 1 << 16);
			if (n < 2)
				usage_error("--input: '%s' is not HxW or CxHxW", optarg);
			memset(o.input, 0, sizeof o.input);
			memcpy(o.input + 3 - n, v, n * sizeof *v);
			break;
		case 'q': o.totals = 1; break;
		case 'h': tool_help(help);
		case 'V': tool_version();
		default: usage_error(NULL);
		}
	}
	if (optind == argc)
		usage_error("no FILE: give one or more cfg or model files");
	for (int i = optind; i < argc; i++)
		status |= summarise(argv[i], &o);
	return status;
}
