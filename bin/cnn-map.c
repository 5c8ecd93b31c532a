/*
 * cnn-map - average precision of detections against ground truth.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

static const char help[] =
	"Usage: cnn-map [OPTION]... [FILE]...\n"
	"Evaluate the detections (boxes) of every record of the stream in FILEs (or\n"
	"standard input) against its ground truth (boxes_true), and print the average\n"
	"precision of each class and their mean: VOC 11-point and all-point at IoU\n"
	"0.5, COCO's AP@[.5:.95] (101-point), AP50 and AP75.\n\n"
	"  -N, --names FILE      class names, one per line (darknet's coco.names)\n"
	"      --pr FILE         write the precision-recall curves (VOC, IoU 0.5) as CSV\n"
	"      --plot FILE       draw them into a PNG or JPEG picture\n"
	"      --plot-size WxH   its size (default 800x600)\n"
	"  -f, --field NAME      the detections (default: boxes)\n"
	"      --truth-field NAME  the ground truth (default: boxes_true)\n"
	TOOL_COMMON_HELP;

enum { OPT_PR = 256, OPT_PLOT, OPT_PLOT_SIZE, OPT_TRUTH_FIELD };

struct options {
	cnn_names *names;
	const char *field, *truth_field, *pr, *plot;
	int plot_w, plot_h;
};

static const char *class_name(const struct options *o, int cls, char *buf, size_t size)
{
	const char *name = cnn_names_get(o->names, cls);

	if (name)
		return name;
	snprintf(buf, size, "%d", cls);
	return buf;
}

static void print_ap(double v)
{
	if (isnan(v))
		printf(" %7s", "-");
	else
		printf(" %7.4f", v);
}

static void print_row(const char *name, int width, const cnn_ap *a)
{
	printf("%-*s %7lld %7lld", width, name, (long long)a->ntruth, (long long)a->ndet);
	print_ap(a->voc11);
	print_ap(a->voc);
	print_ap(a->coco);
	print_ap(a->ap50);
	print_ap(a->ap75);
	putchar('\n');
}

static void print_table(const struct options *o, const cnn_detmetrics *m)
{
	char buf[32];
	int width = 5;

	for (int i = 0; i < m->nclass; i++) {
		int n = (int)strlen(class_name(o, m->cls[i].cls, buf, sizeof buf));
		width = n > width ? n : width;
	}
	width = width > 40 ? 40 : width;
	printf("%-*s %7s %7s %7s %7s %7s %7s %7s\n", width, "class", "truths", "dets", "VOC11",
	       "VOC", "COCO", "AP50", "AP75");
	for (int i = 0; i < m->nclass; i++)
		print_row(class_name(o, m->cls[i].cls, buf, sizeof buf), width, &m->cls[i]);
	print_row("mAP", width, &m->mean);
}

/* The curve of each class with truths: from cnn_deteval_pr into pt. */
static cnn_pr_point *class_curve(cnn_deteval *ev, const cnn_ap *a)
{
	cnn_pr_point *pt = malloc((size_t)a->ndet * sizeof *pt + 1);

	if (!pt || cnn_deteval_pr(ev, a->cls, pt) < 0)
		die("out of memory");
	return pt;
}

static void write_pr(const struct options *o, cnn_deteval *ev, const cnn_detmetrics *m)
{
	cnn_outfile *out;
	FILE *f = tool_outfile(o->pr, &out);

	fprintf(f, "class,name,rank,score,tp,fp,precision,recall\n");
	for (int i = 0; i < m->nclass; i++) {
		const cnn_ap *a = &m->cls[i];
		const char *name = cnn_names_get(o->names, a->cls);
		cnn_pr_point *pt;
		if (a->ntruth == 0)
			continue;
		pt = class_curve(ev, a);
		for (int64_t k = 0; k < a->ndet; k++)
			fprintf(f, "%d,%s,%lld,%.6g,%lld,%lld,%.6f,%.6f\n", a->cls, name ? name : "",
				(long long)k + 1, pt[k].score,
				(long long)pt[k].tp, (long long)pt[k].fp, pt[k].precision, pt[k].recall);
		free(pt);
	}
	tool_outfile_commit(out);
}

static void add_curve(const struct options *o, cnn_plot *p, cnn_deteval *ev, const cnn_ap *a)
{
	cnn_pr_point *pt = class_curve(ev, a);
	double *x = malloc(((size_t)a->ndet + 1) * sizeof *x);
	double *y = malloc(((size_t)a->ndet + 1) * sizeof *y);
	char label[128], buf[32];

	if (!x || !y)
		die("out of memory");
	/* From recall 0 at the first precision, as the curve starts. */
	x[0] = 0;
	y[0] = a->ndet ? pt[0].precision : 0;
	for (int64_t k = 0; k < a->ndet; k++) {
		x[k + 1] = pt[k].recall;
		y[k + 1] = pt[k].precision;
	}
	snprintf(label, sizeof label, "%s (AP %.3f)", class_name(o, a->cls, buf, sizeof buf), a->voc);
	if (cnn_plot_series(p, label, x, y, a->ndet + 1))
		die_lib();
	free(pt);
	free(x);
	free(y);
}

static void draw_plot(const struct options *o, cnn_deteval *ev, const cnn_detmetrics *m)
{
	char title[128];
	cnn_plot *p;
	cnn_tensor *img;

	snprintf(title, sizeof title, "precision-recall at IoU 0.5 (VOC mAP %.3f)", m->mean.voc);
	if (!(p = cnn_plot_new(o->plot_w, o->plot_h, title, "recall", "precision")))
		die_lib();
	cnn_plot_range(p, 0, 1, 0, 1.05);
	for (int i = 0; i < m->nclass; i++)
		if (m->cls[i].ntruth > 0)
			add_curve(o, p, ev, &m->cls[i]);
	if (!(img = cnn_plot_render(p)) || cnn_image_save(o->plot, img, 0))
		die_lib();
	cnn_tensor_free(img);
	cnn_plot_free(p);
}

static void add_record(const struct options *o, const tool_input *in, cnn_deteval *ev,
		       const cnn_record *rec)
{
	const cnn_tensor *det = cnn_record_get(rec, o->field);
	const cnn_tensor *truth = cnn_record_get(rec, o->truth_field);

	if (!det || !truth)
		die_record(in, "no tensor \"%s\"", det ? o->truth_field : o->field);
	if (cnn_boxes_check(det, 0) || cnn_boxes_check(truth, 1) ||
	    cnn_deteval_add(ev, det->data, det->dim[0], truth->data, truth->dim[0]))
		die_record(in, "%s", cnn_errmsg());
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"names", required_argument, 0, 'N'},
		{"pr", required_argument, 0, OPT_PR},
		{"plot", required_argument, 0, OPT_PLOT},
		{"plot-size", required_argument, 0, OPT_PLOT_SIZE},
		{"field", required_argument, 0, 'f'},
		{"truth-field", required_argument, 0, OPT_TRUTH_FIELD},
		TOOL_COMMON_OPTIONS, {0, 0, 0, 0}};
	struct options o = {.field = "boxes", .truth_field = "boxes_true", .plot_w = 800, .plot_h = 600};
	const char *names = NULL;
	cnn_deteval *ev;
	cnn_detmetrics *m;
	cnn_record *rec;
	tool_input in;
	int c, size[2];

	tool_init("cnn-map");
	while ((c = getopt_long(argc, argv, "N:f:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'N': names = optarg; break;
		case OPT_PR: o.pr = optarg; break;
		case OPT_PLOT: o.plot = optarg; break;
		case OPT_PLOT_SIZE:
			if (tool_ints("--plot-size", optarg, size, 2, 120, 16384) != 2)
				usage_error("--plot-size: '%s' is not WxH", optarg);
			o.plot_w = size[0];
			o.plot_h = size[1];
			break;
		case 'f': o.field = optarg; break;
		case OPT_TRUTH_FIELD: o.truth_field = optarg; break;
		case 'h': tool_help(help);
		case 'V': tool_version();
		default: usage_error(NULL);
		}
	}
	if (names && !(o.names = cnn_names_load(names)))
		die_lib();

	if (o.plot)
		tool_check_output(o.plot);
	tool_input_init(&in, argc - optind, argv + optind);
	if (!(rec = cnn_record_new()) || !(ev = cnn_deteval_new()))
		die_lib();
	while (tool_read(&in, rec, 0))
		add_record(&o, &in, ev, rec);
	if (!(m = cnn_deteval_metrics(ev)))
		die_lib();
	print_table(&o, m);
	tool_flush_stdout();
	if (o.pr)
		write_pr(&o, ev, m);
	if (o.plot)
		draw_plot(&o, ev, m);
	cnn_detmetrics_free(m);
	cnn_deteval_free(ev);
	cnn_record_free(rec);
	cnn_names_free(o.names);
	return 0;
}
