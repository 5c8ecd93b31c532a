/*
 * cnn-eval - score a classifier's predictions against the labels: accuracy,
 * top-5, the confusion matrix, precision and recall per class; or a
 * segmentation's masks against the true ones: pixel accuracy, IoU and
 * Dice per class and their means, the confusion over the pixels.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

static const char help[] =
	"Usage: cnn-eval [OPTION]... [FILE]...\n"
	"Compare the \"prediction\" (or the most probable of \"probabilities\") of every\n"
	"record of the stream in FILEs (or standard input) with its \"label\" (a class,\n"
	"or K class weights of which the heaviest counts), and print accuracy, top-5\n"
	"accuracy (from \"probabilities\"), the confusion matrix and per-class\n"
	"precision, recall and F1.  Records with \"mask\" and \"mask_true\" (cnn-segment's)\n"
	"are scored pixel by pixel instead: pixel accuracy, each class's IoU and Dice,\n"
	"mean IoU and mean Dice, the confusion over the pixels.\n\n"
	"  -n, --names FILE   class names, one per line\n"
	"  -k, --top K        the top-K accuracy to report besides top-1 (default 5)\n"
	"      --ignore N     masks: the true class that marks pixels not to count\n"
	"                     (default 255, VOC's; -1: none)\n"
	"  -q, --quiet        only the summary lines\n"
	TOOL_COMMON_HELP;

enum { OPT_IGNORE = 256 };

static cnn_names *names;

static const char *name(int k, char *buf, size_t size)
{
	const char *known = names ? cnn_names_get(names, k) : NULL;

	if (known)
		return known;
	snprintf(buf, size, "%d", k);
	return buf;
}

static void require_numbers(const tool_input *in, const cnn_tensor *t)
{
	char desc[300];
	int64_t bad;

	if (t && (cnn_tensor_count(t) == 0 || t->dtype == CNN_TEXT))
		die_record(in, "tensor \"%s\" is %s", t->name,
			   t->dtype == CNN_TEXT ? "text" : "empty");
	/* NaN compares false with everything: it would rank anywhere. */
	if (t && (bad = cnn_tensor_nonfinite(t)) >= 0)
		die_record(in, "%s", cnn_nonfinite_describe(t, bad, desc, sizeof desc));
}

/* A class held in a scalar: a whole number. */
static int class_index(const tool_input *in, const cnn_tensor *t)
{
	double v = cnn_tensor_get(t, 0);

	if (!(fabs(v) < 1 << 30) || v != floor(v))
		die_record(in, "%s %g is not a whole number", t->name, v);
	return (int)v;
}

/* The index of the largest value, the first on a tie. */
static int64_t heaviest(const cnn_tensor *t)
{
	int64_t best = 0;

	for (int64_t j = 1; j < cnn_tensor_count(t); j++)
		if (cnn_tensor_get(t, j) > cnn_tensor_get(t, best))
			best = j;
	return best;
}

/* The class a label names: a scalar class index, or the heaviest class
 * of a vector of K weights (a one-hot or a soft label, as cnn-augment's
 * mixup writes), the first on a tie. */
static int true_class(const tool_input *in, const cnn_tensor *label, const cnn_tensor *probs)
{
	int64_t n = cnn_tensor_count(label);

	if (n == 1)
		return class_index(in, label);
	if (probs && cnn_tensor_count(probs) != n)
		die_record(in, "tensor \"label\" has %lld weights, \"probabilities\" %lld",
			   (long long)n, (long long)cnn_tensor_count(probs));
	return (int)heaviest(label);
}

/* The matrix, rows the true classes, columns the predicted. */
static void print_confusion(const int64_t *confusion, int classes)
{
	char b1[32], b2[32];

	printf("\nconfusion (rows: true class, columns: predicted)\n%-12s", "");
	for (int j = 0; j < classes; j++)
		printf(" %6.6s", name(j, b2, sizeof b2));
	putchar('\n');
	for (int k = 0; k < classes; k++) {
		printf("%-12s", name(k, b1, sizeof b1));
		for (int j = 0; j < classes; j++)
			printf(" %6lld", (long long)confusion[(size_t)k * classes + j]);
		putchar('\n');
	}
}

/* Segmentation: the first record had mask and mask_true; so must all. */
static void eval_masks(tool_input *in, cnn_record *rec, int ignore, int quiet)
{
	cnn_seg_tally *t = cnn_seg_tally_new(ignore);
	cnn_seg_scores all;
	char b[32];

	if (!t)
		die_lib();
	do {
		const cnn_tensor *m = cnn_record_get(rec, "mask"), *truth = cnn_record_get(rec, "mask_true");
		if (!m || !truth)
			die_record(in, "no tensor \"%s\" (the records before had masks)",
				   m ? "mask_true" : "mask");
		if (cnn_seg_tally_add(t, m, truth))
			die_record(in, "%s", cnn_errmsg());
	} while (tool_read(in, rec, 0));
	cnn_seg_scores_all(t, &all);
	printf("records %lld\npixels %lld\n", (long long)in->records, (long long)all.pixels);
	printf("pixel accuracy %.4f\nmean IoU %.4f (%d classes)\nmean Dice %.4f\n", all.accuracy,
	       all.iou, all.present, all.dice);
	if (quiet) {
		cnn_seg_tally_free(t);
		return;
	}
	printf("\n%-12s %9s %9s %9s %10s\n", "class", "accuracy", "iou", "dice", "pixels");
	for (int k = 0; k < cnn_seg_tally_classes(t); k++) {
		cnn_seg_scores c;
		cnn_seg_class_scores(t, k, &c);
		if (c.present)
			printf("%-12s %9.4f %9.4f %9.4f %10lld\n", name(k, b, sizeof b), c.accuracy,
			       c.iou, c.dice, (long long)c.pixels);
	}
	print_confusion(cnn_seg_tally_confusion(t), cnn_seg_tally_classes(t));
	cnn_seg_tally_free(t);
}

/* A record's true class, predicted class and whether the truth is among
 * the top k of the probabilities (-1 without them). */
static void judge(const tool_input *in, const cnn_record *rec, int topk, int *truth,
		  int *pred, int *in_top)
{
	const cnn_tensor *label = cnn_record_get(rec, "label");
	const cnn_tensor *probs = cnn_record_get(rec, "probabilities");
	const cnn_tensor *p = cnn_record_get(rec, "prediction");

	if (!label)
		die_record(in, "no tensor \"label\"");
	require_numbers(in, label);
	require_numbers(in, p);
	require_numbers(in, probs);
	if (p && cnn_tensor_count(p) != 1)
		die_record(in, "tensor \"prediction\" is not a scalar");
	if (!p && !probs)
		die_record(in, "no \"prediction\" or \"probabilities\" (run cnn-predict first)");
	*truth = true_class(in, label, probs);
	*in_top = -1;
	if (probs) {
		int64_t n = cnn_tensor_count(probs), better = 0;
		if (*truth < 0 || *truth >= n)
			die_record(in, "label %d is not one of the %lld classes", *truth, (long long)n);
		for (int64_t j = 0; j < n; j++)
			better += cnn_tensor_get(probs, j) > cnn_tensor_get(probs, *truth);
		*in_top = better < topk;
		*pred = (int)heaviest(probs);
	}
	if (p)
		*pred = class_index(in, p);
	if (*truth < 0 || *pred < 0)
		die_record(in, "negative class");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"names", required_argument, 0, 'n'},
		{"top", required_argument, 0, 'k'},
		{"quiet", no_argument, 0, 'q'},
		{"ignore", required_argument, 0, OPT_IGNORE},
		TOOL_COMMON_OPTIONS, {0, 0, 0, 0}};
	int topk = 5, quiet = 0, c, classes = 0, ignore = 255;
	int64_t *confusion = NULL, correct = 0, top = 0, with_probs = 0;
	cnn_record *rec;
	tool_input in;
	char b1[32];

	tool_init("cnn-eval");
	while ((c = getopt_long(argc, argv, "n:k:qhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (!(names = cnn_names_load(optarg)))
				die_lib();
			break;
		case 'k': topk = (int)tool_long("--top", optarg, 1, 1 << 20); break;
		case 'q': quiet = 1; break;
		case OPT_IGNORE: ignore = (int)tool_long("--ignore", optarg, -1, CNN_SEG_MAX_CLASSES - 1); break;
		case 'h': tool_help(help);
		case 'V': tool_version();
		default: usage_error(NULL);
		}
	}
	tool_input_init(&in, argc - optind, argv + optind);
	if (!(rec = cnn_record_new()))
		die_lib();
	if (tool_read(&in, rec, 0) && cnn_record_get(rec, "mask") && cnn_record_get(rec, "mask_true")) {
		eval_masks(&in, rec, ignore, quiet);
		cnn_names_free(names);
		cnn_record_free(rec);
		return 0;
	}
	/* The first record is in hand. */
	for (int more = in.records > 0; more; more = tool_read(&in, rec, 0)) {
		int truth, pred = 0, in_top, need;
		judge(&in, rec, topk, &truth, &pred, &in_top);
		need = (truth > pred ? truth : pred) + 1;
		if (need > 1 << 16)
			die_record(&in, "class %d: too many classes", need - 1);
		if (need > classes) {
			/* Grow the square matrix, keeping what it counted. */
			int64_t *grown = calloc((size_t)need * need, sizeof *grown);
			if (!grown)
				die("out of memory");
			for (int i = 0; i < classes; i++)
				memcpy(grown + (size_t)i * need, confusion + (size_t)i * classes,
				       sizeof *grown * classes);
			free(confusion);
			confusion = grown;
			classes = need;
		}
		confusion[(size_t)truth * classes + pred]++;
		correct += truth == pred;
		if (in_top >= 0) {
			with_probs++;
			top += in_top;
		}
	}
	printf("records %lld\n", (long long)in.records);
	printf("accuracy %.4f (%lld of %lld)\n", (double)correct / in.records,
	       (long long)correct, (long long)in.records);
	if (with_probs)
		printf("top-%d %.4f\n", topk, (double)top / with_probs);
	if (!quiet) {
		printf("\n%-12s %9s %9s %9s %8s\n", "class", "precision", "recall", "f1", "support");
		for (int k = 0; k < classes; k++) {
			int64_t tp = confusion[(size_t)k * classes + k], predicted = 0, actual = 0;
			for (int j = 0; j < classes; j++) {
				predicted += confusion[(size_t)j * classes + k];
				actual += confusion[(size_t)k * classes + j];
			}
			double p = predicted ? (double)tp / predicted : 0, r = actual ? (double)tp / actual : 0;
			printf("%-12s %9.4f %9.4f %9.4f %8lld\n", name(k, b1, sizeof b1), p, r,
			       p + r > 0 ? 2 * p * r / (p + r) : 0, (long long)actual);
		}
		print_confusion(confusion, classes);
	}
	free(confusion);
	cnn_names_free(names);
	cnn_record_free(rec);
	return 0;
}
