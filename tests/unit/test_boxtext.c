/*
 * test_boxtext.c - boxes as text: CSV, JSON (ours and darknet's), darknet
 * label files and -ext_output logs, class names; exact round trips; the
 * messages that bad text gets.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cnn.h"
#include "tap.h"

static char dir[] = "/tmp/cnn-test-boxtext-XXXXXX";

static const char *path(const char *name)
{
	static char buf[4][256];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof buf[i], "%s/%s", dir, name);
	return buf[i];
}

/* An error message about a file: its path, then msg. */
static const char *at(const char *name, const char *msg)
{
	static char buf[512];

	snprintf(buf, sizeof buf, "%s%s", path(name), msg);
	return buf;
}

static const char *file(const char *name, const char *text)
{
	const char *p = path(name);
	FILE *f = fopen(p, "w");

	fputs(text, f);
	fclose(f);
	return p;
}

/* Read every record of a text: the rows as "x1 y1 x2 y2 score class;" per
 * box and "|" after each record, or the error message. */
static const char *read_all(const char *p, cnn_box_format fmt, const cnn_names *nm,
			    double w, double h)
{
	static char out[2048];
	cnn_box_reader *br = cnn_box_reader_open(p, fmt, nm);
	cnn_tensor *t;
	size_t len = 0;
	int ret;

	if (!br)
		return cnn_errmsg();
	out[0] = 0;
	while ((ret = cnn_box_read(br, "boxes", w, h, &t)) == CNN_OK) {
		const float *b = t->data;
		for (int64_t i = 0; i < t->dim[0]; i++, b += 6)
			len += snprintf(out + len, sizeof out - len, "%g %g %g %g %g %g;", b[0], b[1],
					b[2], b[3], b[4], b[5]);
		len += snprintf(out + len, sizeof out - len, "|");
		cnn_tensor_free(t);
	}
	cnn_box_reader_close(br);
	return ret == CNN_ERR ? cnn_errmsg() : out;
}

static void check(const char *got, const char *want, const char *what)
{
	tap_ok(strcmp(got, want) == 0, "%s: %s", what, got);
}

static void names(void)
{
	cnn_names *nm = cnn_names_parse("person\nbicycle\r\n\ntraffic light\n", 31, "x");

	tap_ok(nm && nm->n == 4 && strcmp(cnn_names_get(nm, 1), "bicycle") == 0 &&
	       strcmp(cnn_names_get(nm, 2), "") == 0 && cnn_names_find(nm, "traffic light") == 3 &&
	       cnn_names_get(nm, 4) == NULL && cnn_names_get(nm, -1) == NULL,
	       "names: one per line, CR dropped, an empty line keeps its place");
	tap_ok(cnn_names_find(nm, "cat") == CNN_ERR &&
	       strcmp(cnn_errmsg(), "class \"cat\" is not among the names") == 0,
	       "an unknown name: \"%s\"", cnn_errmsg());
	cnn_names_free(nm);
	nm = cnn_names_load("/usr/share/darknet/data/coco.names");
	tap_ok(nm && nm->n == 80 && cnn_names_find(nm, "dog") == 16, "coco.names: 80 classes, dog 16");
	cnn_names_free(nm);
}

static void csv(void)
{
	check(read_all(file("a.csv", "record,x1,y1,x2,y2,score,class\n1,0,0,10,10,0.5,1\n"
				     "1,1,2,3,4,0.25,0\n3,5,5,6,6,1,2\n"), CNN_BOXES_CSV, NULL, 0, 0),
	      "0 0 10 10 0.5 1;1 2 3 4 0.25 0;||5 5 6 6 1 2;|",
	      "CSV with record numbers: record 2 has no lines, so no boxes");
	check(read_all(file("b.csv", "# six fields: one record\n0,0,1,1,0.9,3\n\n2,2,3,3,0.8,3\n"),
		       CNN_BOXES_CSV, NULL, 0, 0),
	      "0 0 1 1 0.9 3;2 2 3 3 0.8 3;|", "CSV without record numbers: one record");
	check(read_all(file("c.csv", "1,0,0,1,1,0.9,3\n1,0,0,1,1\n"), CNN_BOXES_CSV, NULL, 0, 0),
	      at("c.csv", ":2: want 6 or 7 numbers separated by commas"),
	      "CSV with 5 fields");
	check(read_all(file("d.csv", "2,0,0,1,1,0.9,3\n1,0,0,1,1,0.9,3\n"), CNN_BOXES_CSV, NULL, 0, 0),
	      at("d.csv", ":2: records out of order, not whole numbers, or more than 1048576 empty ones skipped"),
	      "CSV records out of order");
	check(read_all(file("e.csv", "1,5,0,1,1,0.9,3\n"), CNN_BOXES_CSV, NULL, 0, 0),
	      at("e.csv", ": record 1: box 1: x2 1 < x1 5"),
	      "CSV with x2 < x1");
}

static void json(void)
{
	cnn_names *nm = cnn_names_parse("cat\ndog\n", 8, "names");

	check(read_all(file("a.json",
			    "{\"record\":1,\"boxes\":[{\"x1\":1,\"y1\":2,\"x2\":3,\"y2\":4,\"score\":0.5,\"class\":1}]}\n"
			    "{\"record\":3,\"boxes\":[{\"x1\":0,\"y1\":0,\"x2\":1e1,\"y2\":10,\"name\":\"cat\"}]}\n"
			    "{\"boxes\":[]}\n"),
		       CNN_BOXES_JSON, nm, 0, 0),
	      "1 2 3 4 0.5 1;||0 0 10 10 1 0;||", "JSON lines: numbered, a gap, a name, no score, none");
	/* What darknet's detector test -out writes. */
	check(read_all(file("b.json",
			    "[\n{\n \"frame_id\":1,\n \"filename\":\"data/dog.jpg\",\n \"objects\": [\n"
			    "  {\"class_id\":1, \"name\":\"dog\", \"relative_coordinates\":{\"center_x\":0.5, "
			    "\"center_y\":0.25, \"width\":0.5, \"height\":0.5}, \"confidence\":0.75}\n ]\n}\n]\n"),
		       CNN_BOXES_JSON, nm, 200, 100),
	      "50 0 150 50 0.75 1;|", "darknet's -out JSON, relative to a 200 x 100 image");
	check(read_all(file("c.json", "{\"record\":1,\"boxes\":[{\"x1\":1 \"y1\":2}]}\n"),
		       CNN_BOXES_JSON, nm, 0, 0),
	      at("c.json", ": line 1: expected ',' or '}'"),
	      "JSON syntax error");
	check(read_all(file("d.json", "\n\n{\"boxes\":[{\"x1\":1,\"y1\":2,\"x2\":3,\"class\":0}]}\n"),
		       CNN_BOXES_JSON, nm, 0, 0),
	      at("d.json", ": line 3: record 1 box 1: no \"y2\""),
	      "JSON box without y2");
	check(read_all(file("e.json", "{\"boxes\":[{\"x1\":1,\"y1\":2,\"x2\":3,\"y2\":4,\"name\":\"cow\"}]}"),
		       CNN_BOXES_JSON, nm, 0, 0),
	      at("e.json", ": line 1: record 1 box 1: class \"cow\" is not among the names"),
	      "JSON name not among the names");
	check(read_all(file("g.json", "{\"record\":1e19,\"boxes\":[]}\n"), CNN_BOXES_JSON, nm, 0, 0),
	      at("g.json", ": line 1: record numbers out of order, not whole numbers, or more than 1048576 empty records skipped"),
	      "JSON record number 1e19, past any integer");
	check(read_all(file("f.json", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]"),
		       CNN_BOXES_JSON, nm, 0, 0),
	      at("f.json", ": line 1: nested too deeply"),
	      "JSON nested 70 deep");
	cnn_names_free(nm);
}

static void darknet(void)
{
	cnn_names *nm = cnn_names_load("/usr/share/darknet/data/coco.names");
	/* As AlexeyAB's darknet prints it, chatter and all. */
	const char *log =
		" Detection layer: 139 - type = 28 \n"
		"data/dog.jpg: Predicted in 25.139000 milli-seconds.\n"
		"bicycle: 92%\t(left_x:  114   top_y:  128   width:  458   height:  299)\n"
		"dog: 98%, cat: 55%\t(left_x:  129   top_y:  225   width:  184   height:  317)\n"
		"Enter Image Path: data/horses.jpg: Predicted in 24.5 milli-seconds.\n"
		"data/eagle.jpg: Predicted in 24.5 milli-seconds.\n"
		"traffic light: 61%\t(left_x:   -3   top_y:   10   width:   20   height:   40)\n";

	check(read_all(file("a.txt", "16 0.5 0.5 0.25 0.5\n\n1 0.1 0.2 0.2 0.2 0.9\n"),
		       CNN_BOXES_DARKNET, NULL, 100, 200),
	      "37.5 50 62.5 150 1 16;0 20 20 60 0.9 1;|", "a darknet label file, 100 x 200 image");
	check(read_all(file("b.txt", "16 0.5 0.5 0.25 0.5\n"), CNN_BOXES_DARKNET, NULL, 0, 0),
	      at("b.txt", ":1: darknet labels are relative to the image, whose size is unknown"),
	      "darknet labels without the image size");
	check(read_all(file("c.txt", ""), CNN_BOXES_DARKNET, NULL, 0, 0), "|",
	      "an empty label file: one record, no boxes");
	check(read_all(file("d.txt", log), CNN_BOXES_DARKNET_EXT, nm, 0, 0),
	      "114 128 572 427 0.92 1;129 225 313 542 0.98 16;129 225 313 542 0.55 15;||"
	      "-3 10 17 50 0.61 9;|", "darknet -ext_output: 3 images, one with two classes");
	check(read_all(file("e.txt", "dog: 98%\t(left_x: 129 top_y: 225 width: 184)\n"),
		       CNN_BOXES_DARKNET_EXT, nm, 0, 0),
	      at("e.txt", ":1: unreadable (left_x: top_y: width: height:)"), "a cut darknet line");
	cnn_names_free(nm);
}

/* Write boxes in a format and read them back. */
static int round_trip(cnn_box_format fmt, const cnn_tensor *t, double w, double h, double tol)
{
	const char *p = path("rt");
	FILE *f = fopen(p, "w");
	cnn_box_reader *br;
	cnn_tensor *back = NULL;
	int same;

	fputs(cnn_box_header(fmt), f);
	cnn_box_write(f, fmt, t, 0, 1, w, h, NULL);
	fclose(f);
	br = cnn_box_reader_open(p, fmt, NULL);
	same = cnn_box_read(br, "boxes", w, h, &back) == CNN_OK && back->dim[0] == t->dim[0];
	for (int64_t i = 0; same && i < cnn_tensor_count(t); i++)
		same = fabs(cnn_tensor_get(back, i) - cnn_tensor_get(t, i)) <= tol;
	cnn_tensor_free(back);
	cnn_box_reader_close(br);
	return same;
}

static void writing(void)
{
	cnn_tensor *t = cnn_boxes_new("boxes", 50);
	cnn_rng rng;
	char buf[512];
	FILE *f;

	cnn_rng_seed(&rng, 3);
	for (int i = 0; i < 50; i++) {
		float *b = (float *)t->data + i * 6, x = (float)cnn_rng_uniform(&rng) * 600;
		float y = (float)cnn_rng_uniform(&rng) * 400;
		b[0] = x, b[1] = y;
		b[2] = x + (float)cnn_rng_uniform(&rng) * 100;
		b[3] = y + (float)cnn_rng_uniform(&rng) * 100;
		b[4] = (float)cnn_rng_uniform(&rng);
		b[5] = (float)cnn_rng_below(&rng, 80);
	}
	tap_ok(round_trip(CNN_BOXES_CSV, t, 0, 0, 0), "CSV round trip: every float exact");
	tap_ok(round_trip(CNN_BOXES_JSON, t, 0, 0, 0), "JSON round trip: every float exact");
	tap_ok(round_trip(CNN_BOXES_DARKNET, t, 700, 500, 1e-3),
	       "darknet round trip within the 6 decimals of the relative coordinates");
	cnn_tensor_free(t);
	t = cnn_boxes_new("boxes", 1);
	memcpy(t->data, (float[]){10, 20, 30, 60, 0.5f, 2}, 6 * sizeof(float));
	f = fmemopen(buf, sizeof buf, "w");
	cnn_box_write(f, CNN_BOXES_DARKNET, t, 1, 1, 100, 100, NULL);
	cnn_box_write(f, CNN_BOXES_DARKNET, t, 0, 1, 100, 100, NULL);
	fclose(f);
	check(buf, "2 0.200000 0.400000 0.200000 0.400000\n2 0.200000 0.400000 0.200000 0.400000 0.500000\n",
	      "darknet labels: truths without the score, detections with it");
	cnn_tensor_free(t);
}

int main(void)
{
	char cmd[300];

	if (!mkdtemp(dir))
		return 1;
	names();
	csv();
	json();
	darknet();
	writing();
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		tap_ok(0, "remove %s", dir);
	return tap_done();
}
