/*
 * cnn-load - turn image files, labelled folders, CSV lists, IDX and NumPy
 * arrays, or text matrices into a tensor stream.
 */
#define _GNU_SOURCE /* asprintf */
#include <math.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tool.h"

static const char help[] =
	"Usage: cnn-load [OPTION]... FILE|DIR|NAME=ARRAY...\n"
	"Write a tensor stream with one record per image or array item.\n\n"
	"  FILE.png, FILE.jpg   one record {image: u8 C x H x W}\n"
	"  DIR                  every image below DIR; an image in DIR/CLASS/... gets\n"
	"                       label = the index of CLASS among the sorted class names\n"
	"  ARRAY (IDX or .npy)  one record per item along the first axis; several\n"
	"                       arrays are zipped item by item (after any images).  Items of rank 0 are\n"
	"                       named \"label\" (i32), others \"image\" (rank 2 gains a\n"
	"                       channel axis); NAME=ARRAY names the field\n"
	"  -w, --whole          with arrays: one record holding each whole array\n"
	"  FILE.txt, -          with --text: a matrix of numbers, rows by newline,\n"
	"                       channels by blank lines, '#' comments, as f32 C x H x W\n\n"
	"  -c, --channels N     convert images to N channels: 1 gray, 2 gray+alpha,\n"
	"                       3 RGB, 4 RGBA\n"
	"  -r, --resize HxW     resize images to H x W (a single N: N x N)\n"
	"      --letterbox      with -r: darknet's letterbox instead of a stretch (the\n"
	"                       image at its aspect, centred on gray; f32 images, as a\n"
	"                       cfg's letter_box=1 makes them)\n"
	"  -L, --labels         darknet's label files: each image's boxes_true from the\n"
	"                       .txt that darknet finds for it (images/ in its path made\n"
	"                       labels/, or beside it), \"class cx cy w h\" lines; an\n"
	"                       image without one is background\n"
	"      --list FILE      images named one per line (darknet's train.txt; paths\n"
	"                       relative to FILE)\n"
	"  -M, --masks DIR|CSV  each image's \"mask\" (the class of each pixel): the PNG\n"
	"                       of the same name in DIR (VOC's JPEGImages/x.jpg and\n"
	"                       SegmentationClass/x.png), or from CSV's \"image,mask\"\n"
	"                       lines; palette PNGs give their indices, gray PNGs their\n"
	"                       values; -r resizes masks by the nearest pixel\n"
	"      --keep16         keep 16-bit PNG samples as u16 (default: scale to u8)\n"
	"      --csv FILE       images and labels from lines \"path,label\" (paths\n"
	"                       relative to FILE; labels numbers or class names)\n"
	"      --classes FILE   class names, one per line, in label order, to use (with\n"
	"                       --labels, the classes the labels may have)\n"
	"      --save-classes FILE  write the class names found, in label order\n"
	"  -t, --text           read the files as text matrices\n"
	"  -P, --path           add the source path to each record as \"path\" (text)\n"
	"      --allow-nonfinite  let NaN and infinite values through (default: an\n"
	"                       error, as the programs after this one refuse them)\n"
	TOOL_OUTPUT_HELP TOOL_COMMON_HELP;

enum { OPT_KEEP16 = 256, OPT_CSV, OPT_CLASSES, OPT_SAVE_CLASSES, OPT_ALLOW_NONFINITE,
       OPT_LETTERBOX, OPT_LIST };

static struct {
	int channels, keep16, text, add_path, whole, allow_nonfinite, letterbox, labels;
	int64_t height, width;
	const char *csv, *classes, *save_classes, *list, *masks;
} opt;

/* --labels: the class names to check them against, and the images that
 * had none. */
static cnn_names *label_names;
static int64_t unlabelled, images_seen;
static char *first_unlabelled;

static cnn_writer *out;
static cnn_record *rec;
static int64_t written;

/* ------------------------------------------------------------- classes */

static char **class_names;
static int nclasses, class_list_given;

static void add_class(const char *name)
{
	class_names = realloc(class_names, (nclasses + 1) * sizeof *class_names);
	if (!class_names || !(class_names[nclasses] = strdup(name)))
		die("out of memory");
	nclasses++;
}

static int class_index(const char *name)
{
	for (int i = 0; i < nclasses; i++)
		if (strcmp(class_names[i], name) == 0)
			return i;
	return -1;
}

static void read_class_list(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[4096];

	if (!f)
		die("%s: %s", path, strerror(errno));
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\r\n")] = 0;
		if (line[0])
			add_class(line);
	}
	fclose(f);
	class_list_given = 1;
}

static void save_class_list(const char *path)
{
	cnn_outfile *out;
	FILE *f = tool_outfile(path, &out);

	for (int i = 0; i < nclasses; i++)
		fprintf(f, "%s\n", class_names[i]);
	tool_outfile_commit(out);
}

/* The label of a class name: from the given list, or the index in
 * sorted order that sort_classes() settles. */
static int label_of(const char *name, const char *where)
{
	int i = class_index(name);

	if (i < 0 && class_list_given)
		die("%s: class \"%s\" is not in %s", where, name, opt.classes);
	if (i < 0)
		die("%s: unknown class \"%s\"", where, name);
	return i;
}

static int compare_strings(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void note_class(const char *name)
{
	if (!class_list_given && class_index(name) < 0)
		add_class(name);
}

static void sort_classes(void)
{
	if (!class_list_given && nclasses > 0)
		qsort(class_names, nclasses, sizeof *class_names, compare_strings);
}

/* -------------------------------------------------------------- output */

static void put_scalar_label(int label)
{
	cnn_tensor *t = cnn_tensor_new("label", CNN_I32, 0, NULL);

	if (!t)
		die_lib();
	*(int32_t *)t->data = label;
	if (cnn_record_put(rec, t))
		die_lib();
}

static void put_path(const char *path)
{
	int64_t len = (int64_t)strlen(path);
	cnn_tensor *t = cnn_tensor_new("path", CNN_TEXT, 1, &len);

	if (!t)
		die_lib();
	memcpy(t->data, path, len);
	if (cnn_record_put(rec, t))
		die_lib();
}

/* Write the record made from source (a file, or "FILE item K"). */
static void emit(const char *source)
{
	char desc[300];

	for (int i = 0; i < rec->n && !opt.allow_nonfinite; i++) {
		int64_t bad = cnn_tensor_nonfinite(rec->tensor[i]);
		if (bad >= 0)
			die("%s: %s (--allow-nonfinite lets it through)", source,
			    cnn_nonfinite_describe(rec->tensor[i], bad, desc, sizeof desc));
	}
	tool_write(out, rec);
	cnn_record_clear(rec);
	written++;
	if (isatty(STDERR_FILENO) && written % 1000 == 0)
		fprintf(stderr, "\r%s: %lld records", tool_name, (long long)written);
}

/* Resize and convert channels as the options ask; boxes (may be NULL, in
 * the image's pixels) follow the resize. */
static cnn_tensor *shape_image(cnn_tensor *img, const char *path, cnn_tensor *boxes)
{
	static const cnn_input_rule stretch = {CNN_RESIZE_DEFAULT, CNN_PAD_NONE};
	static const cnn_input_rule letterbox = {CNN_RESIZE_DARKNET, CNN_PAD_LETTERBOX};
	int64_t h = img->dim[1], w = img->dim[2];
	cnn_tensor *r;

	if (opt.channels && img->dim[0] != opt.channels) {
		cnn_tensor *c = cnn_image_channels(img, opt.channels);
		if (!c)
			die("%s: %s", path, cnn_errmsg());
		cnn_tensor_free(img);
		img = c;
	}
	if (!opt.height || (!opt.letterbox && h == opt.height && w == opt.width))
		return img;
	r = opt.letterbox ? cnn_image_fit(img, opt.height, opt.width, &letterbox)
			  : cnn_image_resize(img, opt.height, opt.width);
	if (!r)
		die("%s: %s", path, cnn_errmsg());
	if (boxes)
		cnn_image_fit_boxes_in(opt.letterbox ? &letterbox : &stretch, h, w, opt.height,
				       opt.width, boxes->data, boxes->dim[0]);
	cnn_tensor_free(img);
	return r;
}

/* Where directory name dir (as "images/") is a whole component of path,
 * or NULL. */
static const char *component(const char *path, const char *dir)
{
	for (const char *at = path; (at = strstr(at, dir)); at++)
		if (at == path || at[-1] == '/')
			return at;
	return NULL;
}

/* darknet's label file for an image: its images/ (or JPEGImages/)
 * folder made labels/ and the extension .txt, or else the .txt beside it;
 * NULL when neither is there. */
static char *label_path(const char *image)
{
	static const char *const dirs[] = {"images/", "JPEGImages/"};
	const char *dot = strrchr(image, '.'), *slash = strrchr(image, '/');
	size_t stem = dot && (!slash || dot > slash) ? (size_t)(dot - image) : strlen(image);
	char *beside, *darknet = NULL;

	if (asprintf(&beside, "%.*s.txt", (int)stem, image) < 0)
		die("out of memory");
	for (int i = 0; i < 2 && !darknet; i++) {
		const char *at = component(image, dirs[i]);
		size_t skip = strlen(dirs[i]);
		if (at && (size_t)(at - image) + skip < stem &&
		    asprintf(&darknet, "%.*slabels/%.*s.txt", (int)(at - image), image,
			     (int)(stem - (size_t)(at - image) - skip), at + skip) < 0)
			die("out of memory");
	}
	if (darknet && access(darknet, F_OK) == 0) {
		free(beside);
		return darknet;
	}
	free(darknet);
	if (access(beside, F_OK) == 0)
		return beside;
	free(beside);
	return NULL;
}

/* The image's boxes_true from its label file, in its pixels (clipped to
 * it); none when it has no label file. */
static cnn_tensor *read_labels(const char *image, int64_t h, int64_t w)
{
	char *path = label_path(image);
	cnn_box_reader *br;
	cnn_tensor *boxes = NULL;

	images_seen++;
	if (!path) {
		if (!unlabelled++ && !(first_unlabelled = strdup(image)))
			die("out of memory");
		if (!(boxes = cnn_boxes_new("boxes_true", 0)))
			die_lib();
		return boxes;
	}
	if (!(br = cnn_box_reader_open(path, CNN_BOXES_DARKNET, label_names)) ||
	    cnn_box_read(br, "boxes_true", (double)w, (double)h, &boxes) == CNN_ERR)
		die_lib();
	cnn_box_reader_close(br);
	if (!boxes && !(boxes = cnn_boxes_new("boxes_true", 0)))
		die_lib();
	for (int64_t i = 0; i < boxes->dim[0]; i++) {
		float *b = (float *)boxes->data + i * CNN_BOX_FIELDS;
		b[0] = b[0] < 0 ? 0 : b[0];
		b[1] = b[1] < 0 ? 0 : b[1];
		b[2] = b[2] > w ? (float)w : b[2];
		b[3] = b[3] > h ? (float)h : b[3];
	}
	free(path);
	return boxes;
}

/* ---------------------------------------------------------------- masks */

static int is_image_name(const char *name);

/* --masks CSV: the images' real paths and their masks'. */
static struct mask_pair {
	char *image, *mask;
} *mask_pairs;
static int nmask_pairs;

static void read_mask_csv(const char *csv)
{
	FILE *f = fopen(csv, "r");
	char *line = NULL, *base = strdup(csv), *slash;
	size_t cap = 0;
	int64_t lineno = 0;

	if (!f)
		die("%s: %s", csv, strerror(errno));
	if (!base)
		die("out of memory");
	slash = strrchr(base, '/');
	*(slash ? slash + 1 : base) = 0;
	while (getline(&line, &cap, f) >= 0) {
		char *comma, *image, *real;
		lineno++;
		line[strcspn(line, "\r\n")] = 0;
		if (!line[0] || (lineno == 1 && !is_image_name(line)))
			continue;
		if (!(comma = strchr(line, ',')) || !comma[1])
			die("%s: line %lld: expected image,mask", csv, (long long)lineno);
		*comma = 0;
		if (asprintf(&image, "%s%s", line[0] == '/' ? "" : base, line) < 0)
			die("out of memory");
		if (!(real = realpath(image, NULL)))
			die("%s: line %lld: %s: %s", csv, (long long)lineno, image, strerror(errno));
		mask_pairs = realloc(mask_pairs, (nmask_pairs + 1) * sizeof *mask_pairs);
		if (!mask_pairs)
			die("out of memory");
		mask_pairs[nmask_pairs].image = real;
		if (asprintf(&mask_pairs[nmask_pairs].mask, "%s%s", comma[1] == '/' ? "" : base,
			     comma + 1) < 0)
			die("out of memory");
		nmask_pairs++;
		free(image);
	}
	fclose(f);
	free(line);
	free(base);
}

/* The mask file of an image: its line of the CSV, or the PNG of its name
 * (without the extension) in the --masks folder. */
static char *mask_path(const char *image)
{
	const char *name = strrchr(image, '/'), *dot;
	char *path = NULL, *real;

	if (nmask_pairs) {
		if (!(real = realpath(image, NULL)))
			die("%s: %s", image, strerror(errno));
		for (int i = 0; i < nmask_pairs && !path; i++)
			if (!strcmp(real, mask_pairs[i].image) && !(path = strdup(mask_pairs[i].mask)))
				die("out of memory");
		free(real);
		if (!path)
			die("%s: %s has no line for it", image, opt.masks);
		return path;
	}
	name = name ? name + 1 : image;
	dot = strrchr(name, '.');
	if (asprintf(&path, "%s/%.*s.png", opt.masks, (int)(dot ? dot - name : (long)strlen(name)),
		     name) < 0)
		die("out of memory");
	return path;
}

/* The image's mask, the image's size (h x w before any -r), resized as
 * the image is. */
static cnn_tensor *read_mask(const char *image, int64_t h, int64_t w)
{
	char *path = mask_path(image);
	cnn_tensor *mask = cnn_mask_load(path), *r;

	if (!mask)
		die("%s: %s", image, cnn_errmsg());
	if (mask->dim[0] != h || mask->dim[1] != w)
		die("%s: its mask %s is %lldx%lld, the image %lldx%lld", image, path,
		    (long long)mask->dim[1], (long long)mask->dim[0], (long long)w, (long long)h);
	free(path);
	if (!opt.height || (h == opt.height && w == opt.width))
		return mask;
	if (!(r = cnn_mask_resize(mask, opt.height, opt.width)))
		die("%s: %s", image, cnn_errmsg());
	cnn_tensor_free(mask);
	return r;
}

static void load_image(const char *path, int label)
{
	cnn_tensor *img = cnn_image_load(path, 0, opt.keep16), *boxes = NULL, *mask = NULL;

	if (!img)
		die_lib();
	if (opt.labels)
		boxes = read_labels(path, img->dim[1], img->dim[2]);
	if (opt.masks)
		mask = read_mask(path, img->dim[1], img->dim[2]);
	if (cnn_record_put(rec, shape_image(img, path, boxes)) || (boxes && cnn_record_put(rec, boxes)) ||
	    (mask && cnn_record_put(rec, mask)))
		die_lib();
	if (label >= 0)
		put_scalar_label(label);
	if (opt.add_path)
		put_path(path);
	emit(path);
}

/* ---------------------------------------------------------- text files */

static void load_text(const char *path)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	const char *name = strcmp(path, "-") == 0 ? "<stdin>" : path;
	cnn_tensor *t;

	if (!f)
		die("%s: %s", path, strerror(errno));
	t = cnn_text_matrix_read(f, name);
	if (f != stdin)
		fclose(f);
	if (!t || cnn_record_put(rec, t))
		die_lib();
	emit(name);
}

/* -------------------------------------------------------------- inputs */

/* Every input but arrays, in command-line order.  Labels are settled once
 * all are known, so that every folder and list agrees on them. */
static struct input {
	char *path;
	char *class;   /* a class name, or NULL */
	int label;     /* a numeric label, or -1 */
	int text;      /* a text matrix, not an image */
} *inputs;
static int ninputs;

static void add_input(const char *path, const char *class, int label, int text)
{
	struct input *in;

	inputs = realloc(inputs, (ninputs + 1) * sizeof *inputs);
	if (!inputs)
		die("out of memory");
	in = &inputs[ninputs++];
	in->path = strdup(path);
	in->class = class ? strdup(class) : NULL;
	in->label = label;
	in->text = text;
	if (!in->path || (class && !in->class))
		die("out of memory");
	if (class)
		note_class(class);
}

static void load_inputs(void)
{
	sort_classes();
	for (int i = 0; i < ninputs; i++) {
		struct input *in = &inputs[i];
		if (in->text)
			load_text(in->path);
		else
			load_image(in->path, in->class ? label_of(in->class, in->path) : in->label);
		free(in->path);
		free(in->class);
	}
	free(inputs);
}

static int is_image_name(const char *name)
{
	const char *dot = strrchr(name, '.');

	return dot && (strcasecmp(dot, ".png") == 0 || strcasecmp(dot, ".jpg") == 0 ||
		       strcasecmp(dot, ".jpeg") == 0);
}

/* The images below dir, sorted; the first level of folders names the
 * classes.  Returns how many were found. */
static int add_dir(const char *dir, const char *class, int depth)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort), found = 0;

	if (n < 0)
		die("%s: %s", dir, strerror(errno));
	for (int i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		struct stat st;
		char *path;
		if (name[0] != '.' && asprintf(&path, "%s/%s", dir, name) >= 0) {
			if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
				int images = add_dir(path, depth == 0 ? name : class, depth + 1);
				/* Dropping a class would renumber the ones after it, and the
				 * train and test trees would then disagree. */
				if (depth == 0 && images == 0 && !class_list_given)
					die("%s: a class folder with no PNG or JPEG files (remove it, "
					    "or name every class with --classes)", path);
				found += images;
			}
			else if (is_image_name(name)) {
				add_input(path, class, -1, 0);
				found++;
			}
			free(path);
		}
		free(names[i]);
	}
	free(names);
	return found;
}

static int parse_label(const char *s, int *v)
{
	char *end;
	long x = strtol(s, &end, 10);

	if (end == s || *end || x < 0 || x > INT32_MAX)
		return 0;
	*v = (int)x;
	return 1;
}

/* A label that reads as a number (1.7, -2, 1e9) but is no class number
 * must not become a class name. */
static int looks_numeric(const char *s)
{
	char *end;

	strtod(s, &end);
	return end != s && *end == 0;
}

/* Lines "path,label"; numeric labels are used as they are, names become
 * class indices.  Paths are relative to the list's folder. */
static void add_csv(const char *csv)
{
	FILE *f = fopen(csv, "r");
	char *line = NULL, *base, *slash;
	size_t cap = 0;
	int64_t lineno = 0;
	struct { char *path, *label; } *rows = NULL;
	int nrows = 0, numeric = 1, label;

	if (!f)
		die("%s: %s", csv, strerror(errno));
	if (!(base = strdup(csv)))
		die("out of memory");
	slash = strrchr(base, '/');
	if (slash)
		slash[1] = 0;
	else
		base[0] = 0;
	while (getline(&line, &cap, f) >= 0) {
		char *comma;
		lineno++;
		line[strcspn(line, "\r\n")] = 0;
		if (!line[0])
			continue;
		if (!(comma = strrchr(line, ',')))
			die("%s: line %lld: expected path,label", csv, (long long)lineno);
		*comma = 0;
		/* A header line names its columns, not an image. */
		if (lineno == 1 && !is_image_name(line))
			continue;
		rows = realloc(rows, (nrows + 1) * sizeof *rows);
		if (!rows || asprintf(&rows[nrows].path, "%s%s", line[0] == '/' ? "" : base, line) < 0 ||
		    !(rows[nrows].label = strdup(comma + 1)))
			die("out of memory");
		numeric &= parse_label(rows[nrows].label, &label);
		if (!parse_label(rows[nrows].label, &label) && looks_numeric(rows[nrows].label))
			die("%s: line %lld: label %s is not a class number (a whole number from "
			    "0 to %d)", csv, (long long)lineno, rows[nrows].label, INT32_MAX);
		nrows++;
	}
	fclose(f);
	for (int i = 0; i < nrows; i++) {
		if (numeric) {
			parse_label(rows[i].label, &label);
			add_input(rows[i].path, NULL, label, 0);
		} else {
			add_input(rows[i].path, rows[i].label, -1, 0);
		}
		free(rows[i].path);
		free(rows[i].label);
	}
	free(rows);
	free(line);
	free(base);
}

/* darknet's list of images (train.txt), one path a line, relative to the
 * list's folder unless absolute. */
static void add_list(const char *list)
{
	FILE *f = fopen(list, "r");
	const char *slash = strrchr(list, '/');
	int dir = slash ? (int)(slash - list + 1) : 0, n = 0;
	char *line = NULL, *path;
	size_t cap = 0;

	if (!f)
		die("%s: %s", list, strerror(errno));
	while (getline(&line, &cap, f) >= 0) {
		line[strcspn(line, "\r\n")] = 0;
		if (!line[0])
			continue;
		if (asprintf(&path, "%.*s%s", line[0] == '/' ? 0 : dir, list, line) < 0)
			die("out of memory");
		add_input(path, NULL, -1, 0);
		free(path);
		n++;
	}
	fclose(f);
	free(line);
	if (!n)
		die("%s: no images listed", list);
}

/* -------------------------------------------------------------- arrays */

struct array {
	const char *path;
	char name[CNN_MAX_NAME + 1];
	cnn_array_reader *ar;
};

/* An unnamed scalar item as an i32 class label: a whole number that fits,
 * never rounded or clamped into one. */
static cnn_tensor *to_label(const cnn_tensor *item, const char *path, int64_t k)
{
	double v = cnn_tensor_get(item, 0);
	cnn_tensor *l;

	if (v != floor(v))
		die("%s item %lld: label %g is not a whole number (name the field, "
		    "NAME=%s, to keep it as it is)", path, (long long)k, v, path);
	if (!(v >= INT32_MIN && v <= INT32_MAX))
		die("%s item %lld: label %g does not fit a 32-bit class number", path,
		    (long long)k, v);
	if (!(l = cnn_tensor_convert(item, CNN_I32)))
		die_lib();
	return l;
}

/* The rest of an array as one tensor: the items stacked on a first axis. */
static cnn_tensor *read_whole(struct array *a)
{
	int64_t count = cnn_array_count(a->ar), dim[CNN_MAX_DIMS];
	cnn_tensor *item, *all = NULL;
	size_t bytes = 0;

	for (int64_t k = 0; k < count; k++) {
		if (cnn_array_read(a->ar, "item", &item) != CNN_OK)
			die("%s", cnn_errmsg()[0] ? cnn_errmsg() : "array ended early");
		if (!all) {
			if (item->ndim == CNN_MAX_DIMS)
				die("%s: too many dimensions", a->path);
			dim[0] = count;
			memcpy(dim + 1, item->dim, item->ndim * sizeof *dim);
			bytes = cnn_tensor_bytes(item);
			all = cnn_tensor_new(a->name[0] ? a->name : "data", item->dtype,
					     item->ndim + 1, dim);
			if (!all)
				die("%s: %s", a->path, cnn_errmsg());
		}
		memcpy((char *)all->data + k * bytes, item->data, bytes);
		cnn_tensor_free(item);
	}
	if (!all)
		die("%s: an empty array", a->path);
	return all;
}

static void load_arrays(struct array *a, int n)
{
	int64_t count = -1;

	for (int i = 0; i < n; i++) {
		a[i].ar = cnn_array_open(a[i].path);
		if (!a[i].ar)
			die_lib();
		if (count >= 0 && cnn_array_count(a[i].ar) != count)
			die("%s has %lld items but %s has %lld", a[i].path,
			    (long long)cnn_array_count(a[i].ar), a[0].path, (long long)count);
		count = cnn_array_count(a[i].ar);
	}
	if (opt.whole) {
		for (int i = 0; i < n; i++) {
			cnn_tensor *t = read_whole(&a[i]);
			if (cnn_record_get(rec, t->name))
				die("%s: field \"%s\" given twice; name the arrays NAME=FILE",
				    a[i].path, t->name);
			if (cnn_record_put(rec, t))
				die_lib();
		}
		emit(a[0].path);
		count = 0;
	}
	for (int64_t k = 0; k < count; k++) {
		char source[4200];
		snprintf(source, sizeof source, "%s item %lld", a[0].path, (long long)k);
		for (int i = 0; i < n; i++) {
			cnn_tensor *item;
			if (cnn_array_read(a[i].ar, "item", &item) != CNN_OK)
				die("%s", cnn_errmsg()[0] ? cnn_errmsg() : "array ended early");
			/* Guess the role of an unnamed field from its rank. */
			const char *name = a[i].name[0] ? a[i].name : item->ndim == 0 ? "label" : "image";
			if (item->ndim == 0 && !a[i].name[0]) {
				cnn_tensor *l = to_label(item, a[i].path, k);
				cnn_tensor_free(item);
				item = l;
			} else if (item->ndim == 2 && !a[i].name[0]) {
				item->dim[2] = item->dim[1];
				item->dim[1] = item->dim[0];
				item->dim[0] = 1;
				item->ndim = 3;
			}
			if (cnn_tensor_rename(item, name) || cnn_record_get(rec, name))
				die("%s: field \"%s\" given twice; name the arrays NAME=FILE",
				    a[i].path, name);
			if (cnn_record_put(rec, item))
				die_lib();
		}
		emit(source);
	}
	for (int i = 0; i < n; i++)
		cnn_array_close(a[i].ar);
}

/* ---------------------------------------------------------------- main */

static void parse_size(const char *arg)
{
	int v[2];
	int n = tool_ints("--resize", arg, v, 2, 1, 1 << 16);

	opt.height = v[0];
	opt.width = n == 2 ? v[1] : v[0];
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"channels", required_argument, 0, 'c'},
		{"resize", required_argument, 0, 'r'},
		{"keep16", no_argument, 0, OPT_KEEP16},
		{"csv", required_argument, 0, OPT_CSV},
		{"classes", required_argument, 0, OPT_CLASSES},
		{"save-classes", required_argument, 0, OPT_SAVE_CLASSES},
		{"allow-nonfinite", no_argument, 0, OPT_ALLOW_NONFINITE},
		{"text", no_argument, 0, 't'},
		{"labels", no_argument, 0, 'L'},
		{"letterbox", no_argument, 0, OPT_LETTERBOX},
		{"list", required_argument, 0, OPT_LIST},
		{"masks", required_argument, 0, 'M'},
		{"path", no_argument, 0, 'P'},
		{"whole", no_argument, 0, 'w'},
		TOOL_OUTPUT_OPTIONS, TOOL_COMMON_OPTIONS, {0, 0, 0, 0}};
	const char *output = "-";
	int level = CNN_LEVEL_DEFAULT, c, narrays = 0;
	struct array *arrays;

	tool_init("cnn-load");
	while ((c = getopt_long(argc, argv, "LM:c:r:tPwo:z:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': opt.channels = (int)tool_long("--channels", optarg, 1, 4); break;
		case 'r': parse_size(optarg); break;
		case OPT_KEEP16: opt.keep16 = 1; break;
		case OPT_CSV: opt.csv = optarg; break;
		case OPT_CLASSES: opt.classes = optarg; break;
		case OPT_SAVE_CLASSES: opt.save_classes = optarg; break;
		case OPT_ALLOW_NONFINITE: opt.allow_nonfinite = 1; break;
		case 't': opt.text = 1; break;
		case 'L': opt.labels = 1; break;
		case OPT_LETTERBOX: opt.letterbox = 1; break;
		case OPT_LIST: opt.list = optarg; break;
		case 'M': opt.masks = optarg; break;
		case 'P': opt.add_path = 1; break;
		case 'w': opt.whole = 1; break;
		case 'o': output = optarg; break;
		case 'z': level = (int)tool_long("--level", optarg, 0, 22); break;
		case 'h': tool_help(help);
		case 'V': tool_version();
		default: usage_error(NULL);
		}
	}
	if (optind == argc && !opt.csv && !opt.list)
		usage_error("no input files (give image files, folders, arrays, --csv or --list)");
	if (opt.letterbox && !opt.height)
		usage_error("--letterbox fits the images into -r HxW: give it");
	if (opt.letterbox && opt.masks)
		usage_error("--letterbox pads the images with gray, which is no class: resize "
			    "images with masks by -r alone");
	if (opt.masks && opt.text)
		usage_error("--masks pairs images with masks; text matrices have none");
	if (opt.classes)
		read_class_list(opt.classes);
	if (opt.labels && opt.classes && !(label_names = cnn_names_load(opt.classes)))
		die_lib();
	arrays = calloc(argc, sizeof *arrays);
	if (!arrays || !(rec = cnn_record_new()))
		die("out of memory");
	tool_note_inputs(argv + optind, argc - optind);
	tool_note_input(opt.csv);
	tool_note_input(opt.list);
	tool_note_input(opt.classes);
	tool_note_input(opt.masks);
	if (opt.masks) {
		struct stat st;
		if (stat(opt.masks, &st) != 0)
			die("--masks %s: %s", opt.masks, strerror(errno));
		if (!S_ISDIR(st.st_mode))
			read_mask_csv(opt.masks);
	}
	if (opt.save_classes)
		tool_check_output(opt.save_classes);
	out = tool_output(output, level);

	if (opt.csv)
		add_csv(opt.csv);
	if (opt.list)
		add_list(opt.list);
	for (int i = optind; i < argc; i++) {
		char *arg = argv[i], *eq = strchr(arg, '=');
		size_t len = strlen(arg);
		struct stat st;
		while (len > 1 && arg[len - 1] == '/')
			arg[--len] = 0;
		if (opt.text) {
			add_input(arg, NULL, -1, 1);
		} else if (eq && eq > arg && access(arg, F_OK) != 0) {
			arrays[narrays].path = eq + 1;
			snprintf(arrays[narrays].name, sizeof arrays[narrays].name, "%.*s",
				 (int)(eq - arg), arg);
			narrays++;
		} else if (stat(arg, &st) != 0) {
			die("%s: %s", arg, strerror(errno));
		} else if (S_ISDIR(st.st_mode)) {
			if (add_dir(arg, NULL, 0) == 0)
				die("%s: no PNG or JPEG files", arg);
		} else if (cnn_array_probe(arg)) {
			arrays[narrays++].path = arg;
		} else {
			add_input(arg, NULL, -1, 0);
		}
	}
	load_inputs();
	if (narrays)
		load_arrays(arrays, narrays);
	if (opt.save_classes)
		save_class_list(opt.save_classes);
	if (isatty(STDERR_FILENO) && written >= 1000)
		fputc('\n', stderr);
	/* Said once: darknet takes such images as background too. */
	if (unlabelled)
		fprintf(stderr, "%s: %lld of %lld images have no label file and are background "
			"(the first: %s)\n", tool_name, (long long)unlabelled, (long long)images_seen,
			first_unlabelled);
	tool_output_close(out);
	free(first_unlabelled);
	cnn_names_free(label_names);
	for (int i = 0; i < nclasses; i++)
		free(class_names[i]);
	free(class_names);
	for (int i = 0; i < nmask_pairs; i++) {
		free(mask_pairs[i].image);
		free(mask_pairs[i].mask);
	}
	free(mask_pairs);
	free(arrays);
	cnn_record_free(rec);
	return 0;
}
