/*
 * cnn-plot - draw a training log (cnn-train's key=value lines) as loss and
 * accuracy curves in a PNG.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

static const char help[] =
	"Usage: cnn-plot [OPTION]... -o PICTURE.png [LOG]...\n"
	"Draw the epoch lines of cnn-train logs (or standard input) as two plots,\n"
	"loss above and accuracy below, training and validation, against the epoch.\n"
	"Several logs are drawn together, each named by its file.\n\n"
	"  -o, --output FILE  the picture (.png or .jpg)\n"
	"  -x, --x KEY        the horizontal axis: epoch (default) or step\n"
	"  -W, --width N      picture width (default 800)\n"
	"      --log-loss     loss on a logarithmic scale\n"
	TOOL_COMMON_HELP;

/* One log's epoch lines, as columns. */
struct curves {
	const char *name;
	double *x, *loss, *acc, *val_loss, *val_acc;
	int n, cap;
};

/* The value of key in a "k=v k=v" line, or NaN. */
static double field(const char *line, const char *key)
{
	size_t len = strlen(key);

	for (const char *p = line; (p = strstr(p, key)); p += len)
		if ((p == line || p[-1] == ' ') && p[len] == '=')
			return strtod(p + len + 1, NULL);
	return NAN;
}

static void grow(struct curves *c)
{
	double **cols[] = {&c->x, &c->loss, &c->acc, &c->val_loss, &c->val_acc};

	if (c->n < c->cap)
		return;
	c->cap = c->cap ? 2 * c->cap : 64;
	for (size_t i = 0; i < sizeof cols / sizeof *cols; i++)
		if (!(*cols[i] = realloc(*cols[i], sizeof **cols[i] * c->cap)))
			die("out of memory");
}

static void read_log(const char *path, const char *xkey, struct curves *c)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;

	if (!f)
		die("%s: %s", path, strerror(errno));
	c->name = strcmp(path, "-") == 0 ? "" : path;
	while (getline(&line, &cap, f) >= 0) {
		if (strncmp(line, "epoch=", 6) != 0)
			continue;
		grow(c);
		c->x[c->n] = field(line, xkey);
		c->loss[c->n] = field(line, "loss");
		c->acc[c->n] = field(line, "acc");
		c->val_loss[c->n] = field(line, "val_loss");
		c->val_acc[c->n] = field(line, "val_acc");
		c->n++;
	}
	free(line);
	if (f != stdin)
		fclose(f);
	if (c->n == 0)
		die("%s: no epoch lines (is it a cnn-train log?)", path);
}

static int all_nan(const double *v, int n)
{
	for (int i = 0; i < n; i++)
		if (!isnan(v[i]))
			return 0;
	return 1;
}

static void add(cnn_plot *p, const struct curves *c, int several, const char *what,
		const double *ys)
{
	char name[512];

	if (all_nan(ys, c->n))
		return;
	snprintf(name, sizeof name, "%s%s%s", several ? c->name : "", several ? " " : "", what);
	if (cnn_plot_series(p, name, c->x, ys, c->n))
		die_lib();
}

/* Stack two pictures (3 x H x W each) into one. */
static cnn_tensor *stack(const cnn_tensor *a, const cnn_tensor *b)
{
	int64_t h = a->dim[1] + b->dim[1], w = a->dim[2];
	cnn_tensor *t = cnn_tensor_new3("image", CNN_U8, 3, h, w);

	if (!t)
		die_lib();
	for (int c = 0; c < 3; c++) {
		memcpy((uint8_t *)t->data + c * h * w, (uint8_t *)a->data + c * a->dim[1] * w,
		       a->dim[1] * w);
		memcpy((uint8_t *)t->data + (c * h + a->dim[1]) * w,
		       (uint8_t *)b->data + c * b->dim[1] * w, b->dim[1] * w);
	}
	return t;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"output", required_argument, 0, 'o'},
		{"x", required_argument, 0, 'x'},
		{"width", required_argument, 0, 'W'},
		{"log-loss", no_argument, 0, 256},
		TOOL_COMMON_OPTIONS, {0, 0, 0, 0}};
	const char *output = NULL, *xkey = "epoch";
	int width = 800, logloss = 0, c, n;
	struct curves *logs;
	cnn_plot *loss, *acc;
	cnn_tensor *top, *bottom, *both;

	tool_init("cnn-plot");
	while ((c = getopt_long(argc, argv, "o:x:W:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': output = optarg; break;
		case 'x':
			if (strcmp(optarg, "epoch") && strcmp(optarg, "step"))
				usage_error("--x %s: epoch or step", optarg);
			xkey = optarg;
			break;
		case 'W': width = (int)tool_long("--width", optarg, 200, 8000); break;
		case 256: logloss = 1; break;
		case 'h': tool_help(help);
		case 'V': tool_version();
		default: usage_error(NULL);
		}
	}
	if (!output)
		usage_error("no --output picture");
	n = argc > optind ? argc - optind : 1;
	if (!(logs = calloc(n, sizeof *logs)))
		die("out of memory");
	for (int i = 0; i < n; i++)
		tool_note_input(argc > optind ? argv[optind + i] : "-");
	tool_check_output(output);
	for (int i = 0; i < n; i++)
		read_log(argc > optind ? argv[optind + i] : "-", xkey, &logs[i]);
	loss = cnn_plot_new(width, width * 3 / 8, "loss", xkey, "loss");
	acc = cnn_plot_new(width, width * 3 / 8, "accuracy", xkey, "accuracy");
	if (!loss || !acc)
		die_lib();
	cnn_plot_logy(loss, logloss);
	for (int i = 0; i < n; i++) {
		add(loss, &logs[i], n > 1, "training", logs[i].loss);
		add(loss, &logs[i], n > 1, "validation", logs[i].val_loss);
		add(acc, &logs[i], n > 1, "training", logs[i].acc);
		add(acc, &logs[i], n > 1, "validation", logs[i].val_acc);
	}
	if (!(top = cnn_plot_render(loss)) || !(bottom = cnn_plot_render(acc)))
		die_lib();
	both = stack(top, bottom);
	if (cnn_image_save(output, both, 0))
		die_lib();
	cnn_tensor_free(top);
	cnn_tensor_free(bottom);
	cnn_tensor_free(both);
	cnn_plot_free(loss);
	cnn_plot_free(acc);
	for (int i = 0; i < n; i++) {
		free(logs[i].x);
		free(logs[i].loss);
		free(logs[i].acc);
		free(logs[i].val_loss);
		free(logs[i].val_acc);
	}
	free(logs);
	return 0;
}
