/*
 * boxes.h - reading every record of a box text file, for the boxtext and
 * boxjson harnesses.
 */
#ifndef FUZZ_BOXES_H
#define FUZZ_BOXES_H

#include <stdlib.h>
#include <string.h>

#include "cnn.h"

/* Class names for text that names its classes (darknet-ext, JSON's
 * "name"), as darknet's coco.names begins. */
static const char fuzz_names[] = "person\nbicycle\ncar\nmotorbike\naeroplane\nbus\ntrain\ntruck\ndog\n";

/* Every record of the file at path in format fmt, for an image of
 * 640 x 480 (which normalised coordinates need). */
static inline void fuzz_read_boxes(const char *path, cnn_box_format fmt)
{
	cnn_names *names = cnn_names_parse(fuzz_names, strlen(fuzz_names), "fuzz.names");
	cnn_box_reader *br;
	cnn_tensor *boxes;

	if (!names)
		abort();
	if ((br = cnn_box_reader_open(path, fmt, names))) {
		while (cnn_box_read(br, "boxes", 640, 480, &boxes) == CNN_OK)
			cnn_tensor_free(boxes);
		cnn_box_reader_close(br);
	}
	cnn_names_free(names);
}

#endif
