/*
 * layers.c - the one table of layer types, by cfg section name.  A new
 * layer is a file that defines a cnn_layer_type and a line here.
 */
#include <string.h>

#include "nn/net.h"

extern const cnn_layer_type cnn_layer_convolutional, cnn_layer_deconvolutional,
	cnn_layer_connected, cnn_layer_maxpool, cnn_layer_avgpool, cnn_layer_dropout,
	cnn_layer_batchnorm, cnn_layer_shortcut, cnn_layer_route, cnn_layer_upsample,
	cnn_layer_softmax, cnn_layer_cost, cnn_layer_logistic, cnn_layer_crop,
	cnn_layer_lrn, cnn_layer_normalization, cnn_layer_scale_channels, cnn_layer_l2norm,
	cnn_layer_activation, cnn_layer_zeropad, cnn_layer_affine, cnn_layer_region,
	cnn_layer_yolo, cnn_layer_reorg, cnn_layer_reorg3d, cnn_layer_local,
	cnn_layer_detection, cnn_layer_ssd, cnn_layer_localization;

static const struct {
	const char *section;
	const cnn_layer_type *type;
} table[] = {
	{"convolutional", &cnn_layer_convolutional},
	{"conv", &cnn_layer_convolutional},
	{"deconvolutional", &cnn_layer_deconvolutional},
	{"deconv", &cnn_layer_deconvolutional},
	{"connected", &cnn_layer_connected},
	{"maxpool", &cnn_layer_maxpool},
	{"avgpool", &cnn_layer_avgpool},
	{"dropout", &cnn_layer_dropout},
	{"batchnorm", &cnn_layer_batchnorm},
	{"shortcut", &cnn_layer_shortcut},
	{"route", &cnn_layer_route},
	{"upsample", &cnn_layer_upsample},
	{"crop", &cnn_layer_crop},
	{"lrn", &cnn_layer_lrn},
	{"normalization", &cnn_layer_normalization},
	{"scale_channels", &cnn_layer_scale_channels},
	{"l2norm", &cnn_layer_l2norm},
	{"activation", &cnn_layer_activation},
	{"zeropad", &cnn_layer_zeropad},
	{"affine", &cnn_layer_affine},
	{"region", &cnn_layer_region},
	{"yolo", &cnn_layer_yolo},
	{"reorg", &cnn_layer_reorg},
	{"reorg3d", &cnn_layer_reorg3d},
	{"local", &cnn_layer_local},
	{"detection", &cnn_layer_detection},
	{"ssd", &cnn_layer_ssd},
	{"localization", &cnn_layer_localization},
	{"softmax", &cnn_layer_softmax},
	{"cost", &cnn_layer_cost},
	{"logistic", &cnn_layer_logistic},
};

/* Types a program adds before it builds networks: the tests' own losses,
 * which exercise the engine with truths no shipped layer reads yet. */
#define MAX_ADDED 8
static const cnn_layer_type *added[MAX_ADDED];
static int nadded;

int cnn_layer_type_add(const cnn_layer_type *type)
{
	if (nadded == MAX_ADDED || cnn_layer_type_find(type->name))
		return cnn_error("cannot add the layer type [%s]", type->name);
	added[nadded++] = type;
	return CNN_OK;
}

const cnn_layer_type *cnn_layer_type_find(const char *section)
{
	for (size_t i = 0; i < sizeof table / sizeof *table; i++)
		if (strcmp(table[i].section, section) == 0)
			return table[i].type;
	for (int i = 0; i < nadded; i++)
		if (strcmp(added[i]->name, section) == 0)
			return added[i];
	return NULL;
}
