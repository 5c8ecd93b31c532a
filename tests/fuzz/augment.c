/*
 * augment.c - fuzz the augmentation chains of cnn-augment (lib/vision/augment.c):
 * each input line is an operation and its arguments ("crop 24,pad=2"),
 * parsed as the options are; a chain that parses is applied to a small
 * image with a box, so that odd values reach the operations too.
 */
#include <stdlib.h>
#include <string.h>

#include "cnn.h"
#include "fuzz.h"

/* An operation's work grows with the image it makes (a mosaic of 142 x
 * 14208 from a 12 x 16 sample, then a blur, took 15 s under the
 * sanitizers): 256 KiB of image bounds every input's work while leaving
 * every operation room to reach its edge cases. */
const char *fuzz_tensor_cap = "262144";

static cnn_record *sample(void)
{
	cnn_record *r = cnn_record_new();
	cnn_tensor *img = cnn_tensor_new3("image", CNN_U8, 3, 12, 16);
	cnn_tensor *boxes = cnn_boxes_new("boxes", 1);

	if (!r || !img || !boxes) {
		cnn_tensor_free(img);
		cnn_tensor_free(boxes);
		return r;
	}
	for (int64_t i = 0; i < cnn_tensor_count(img); i++)
		((uint8_t *)img->data)[i] = (uint8_t)(i * 37);
	memcpy(boxes->data, (float[]){2, 3, 10, 9, 1, 0}, 6 * sizeof(float));
	cnn_record_put(r, img);
	cnn_record_put(r, boxes);
	return r;
}

/* Statistics of the sample, for normalize and pca-color from the data. */
static int set_stats(cnn_augment *a, const cnn_record *r)
{
	cnn_image_stats s;

	cnn_image_stats_init(&s);
	return cnn_image_stats_add(&s, cnn_record_get(r, "image")) ||
	       cnn_image_stats_finish(&s) || cnn_augment_set_stats(a, &s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_string(data, size), *save = NULL;
	cnn_augment *a = cnn_augment_new();
	cnn_record *in = sample();
	int ok = a && in && text;

	for (char *line = ok ? strtok_r(text, "\n", &save) : NULL; ok && line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *args = strchr(line, ' ');
		if (args)
			*args++ = 0;
		ok = cnn_augment_add(a, line, args ? args : "") == CNN_OK;
	}
	if (ok && (!cnn_augment_needs_stats(a) || set_stats(a, in) == CNN_OK)) {
		const cnn_record *pool[1] = {in};
		cnn_record_free(cnn_augment_record(a, in, 1, pool, 1));
	}
	cnn_record_free(in);
	cnn_augment_free(a);
	free(text);
	return 0;
}
