/*
 * layers.c - the one table of layer types, by cfg section name.  A new
 * layer is a file that defines a cnn_layer_type and a line here.
 */
#include <string.h>

#include "nn/net.h"

extern const cnn_layer_type cnn_layer_convolutional, cnn_layer_deconvolutional,
	cnn_layer_connected, cnn_layer_maxpool, cnn_layer_avgpool, cnn_layer_dropout,
	cnn_layer_batchnorm, cnn_layer_shortcut, cnn_layer_route, cnn_layer_upsample,
	cnn_layer_softmax, cnn_layer_cost, cnn_layer_logistic, cnn_layer_crop;

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
	{"softmax", &cnn_layer_softmax},
	{"cost", &cnn_layer_cost},
	{"logistic", &cnn_layer_logistic},
};

const cnn_layer_type *cnn_layer_type_find(const char *section)
{
	for (size_t i = 0; i < sizeof table / sizeof *table; i++)
		if (strcmp(table[i].section, section) == 0)
			return table[i].type;
	return NULL;
}
