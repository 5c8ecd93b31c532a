/*
 * test_mask.c - masks in PNG files (lib/io/mask.c): a mask with VOC's
 * ignore class 255 through a palette PNG and back, the palette's colours
 * VOC's, gray PNGs of 8 and 16 bits read as their values, colour PNGs and
 * JPEGs refused, and the nearest-pixel resize.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cnn.h"
#include "tap.h"

static char path[] = "/tmp/test-mask-XXXXXX";

static void palette_round_trip(void)
{
	cnn_tensor *m = cnn_tensor_new("mask", CNN_U8, 2, (int64_t[]){5, 7}), *back, *rgb;
	uint8_t *v = m->data, c1[3], c255[3];
	int same;

	for (int i = 0; i < 35; i++)
		v[i] = i == 0 ? 255 : (uint8_t)(i % 21);
	tap_ok(cnn_mask_save(path, m) == CNN_OK, "a 7x5 mask with classes 0 to 20 and 255 saved");
	back = cnn_mask_load(path);
	same = back && back->dtype == CNN_U8 && back->ndim == 2 && back->dim[0] == 5 &&
	       back->dim[1] == 7 && !strcmp(back->name, "mask") && !memcmp(back->data, v, 35);
	tap_ok(same, "read back as the same u8 5 x 7 classes (a palette PNG's indices)");
	/* As an image the palette expands to VOC's colours. */
	rgb = cnn_image_load(path, 0, 0);
	cnn_mask_colour(1, c1);
	cnn_mask_colour(255, c255);
	tap_ok(rgb && rgb->dim[0] == 3 && c1[0] == 128 && !c1[1] && !c1[2] && c255[0] == 224 &&
		       c255[1] == 224 && c255[2] == 192 &&
		       ((uint8_t *)rgb->data)[1] == 128 && ((uint8_t *)rgb->data)[0] == 224 &&
		       ((uint8_t *)rgb->data)[35] == 224 && ((uint8_t *)rgb->data)[70] == 192,
	       "its colours are VOC's: class 1 128,0,0, class 255 224,224,192");
	cnn_tensor *big = cnn_tensor_new("mask", CNN_I32, 2, (int64_t[]){1, 2});
	((int32_t *)big->data)[1] = 300;
	tap_ok(cnn_mask_save(path, big) == CNN_ERR &&
		       strstr(cnn_errmsg(), "pixel 1 is 300; a palette PNG holds the classes 0 to 255"),
	       "class 300 refused: %s", cnn_errmsg());
	cnn_tensor_free(big);
	cnn_tensor_free(m);
	cnn_tensor_free(back);
	cnn_tensor_free(rgb);
}

/* A gray image saved as a PNG, read back as a mask. */
static void gray(cnn_dtype dtype, int value)
{
	cnn_tensor *g = cnn_tensor_new3("image", dtype, 1, 2, 3), *m;

	for (int i = 0; i < 6; i++)
		cnn_tensor_set(g, i, i == 5 ? value : i);
	m = cnn_image_save(path, g, 0) == CNN_OK ? cnn_mask_load(path) : NULL;
	tap_ok(m && m->dtype == dtype && m->ndim == 2 && cnn_tensor_get(m, 4) == 4 &&
		       cnn_tensor_get(m, 5) == value,
	       "a %s gray PNG reads as its values (%g, %g)", dtype == CNN_U8 ? "8-bit" : "16-bit",
	       m ? cnn_tensor_get(m, 4) : -1, m ? cnn_tensor_get(m, 5) : -1);
	cnn_tensor_free(g);
	cnn_tensor_free(m);
}

static void refusals(void)
{
	cnn_tensor *rgb = cnn_tensor_new3("image", CNN_U8, 3, 2, 2);
	char jpg[] = "/tmp/test-mask-XXXXXX.jpg";
	int fd = mkstemps(jpg, 4);

	memset(rgb->data, 7, 12);
	tap_ok(cnn_image_save(path, rgb, 0) == CNN_OK && !cnn_mask_load(path) &&
		       strstr(cnn_errmsg(), "an RGB PNG; a mask is a palette or gray PNG"),
	       "an RGB PNG is no mask: %s", cnn_errmsg());
	tap_ok(fd >= 0 && cnn_image_save(jpg, rgb, 0) == CNN_OK && !cnn_mask_load(jpg) &&
		       strstr(cnn_errmsg(), "a mask is a PNG file"),
	       "nor a JPEG: %s", cnn_errmsg());
	if (fd >= 0) {
		close(fd);
		unlink(jpg);
	}
	cnn_tensor_free(rgb);
}

static void resize(void)
{
	cnn_tensor *m = cnn_tensor_new("mask", CNN_U8, 2, (int64_t[]){2, 4}), *r;
	/* Columns 0, 1, 1, 2, 3, 3 and rows 0, 0, 1, 1, as PyTorch's
	 * interpolate(mode="nearest-exact") gives them. */
	static const uint8_t want[] = {0, 1, 1, 2, 3, 3, 0, 1, 1, 2, 3, 3,
				       4, 5, 5, 6, 7, 7, 4, 5, 5, 6, 7, 7};

	for (int i = 0; i < 8; i++)
		((uint8_t *)m->data)[i] = (uint8_t)i;
	r = cnn_mask_resize(m, 4, 6);
	tap_ok(r && r->dim[0] == 4 && r->dim[1] == 6 && !memcmp(r->data, want, sizeof want),
	       "2x4 to 4x6 by the nearest pixel centre (PyTorch's nearest-exact)");
	cnn_tensor_free(r);
	cnn_tensor_free(m);
}

int main(void)
{
	int fd = mkstemp(path);

	if (fd < 0)
		return 1;
	close(fd);
	palette_round_trip();
	gray(CNN_U8, 200);
	gray(CNN_U16, 40000);
	refusals();
	resize();
	unlink(path);
	return tap_done();
}
