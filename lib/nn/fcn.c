/*
 * fcn.c - a classifier made fully convolutional: the course's
 * "convolutional implementation of sliding windows" (OverFeat's, and
 * FCN's first step).  Each [connected] layer becomes the [convolutional]
 * layer that computes the same numbers where its input was: a window of
 * its input's H x W (size_y, size_x), filters its outputs, no padding,
 * stride 1; a later [connected], on a 1 x 1 input, a 1 x 1 convolution.
 * The weights need no reordering: a connected layer's row for output n is
 * its input flattened C x H x W, which is the convolution's filter n.  A
 * [softmax] after them takes spatial=1, a softmax at each position.
 *
 * On an input larger than the one it was trained at, the network then
 * gives a map of outputs in one pass, the one at row i, column j being
 * what the classifier says of the window of its training size at (i, j)
 * times the network's stride (its last layer's jump).
 */
#define _GNU_SOURCE /* open_memstream */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/net.h"

/* Section s as it is, but height= and width= (for [net]) changed. */
static void copy_section(FILE *f, const cnn_cfg_section *s, int h, int w)
{
	int is_net = !strcmp(cnn_cfg_name(s), "net") || !strcmp(cnn_cfg_name(s), "network");

	fprintf(f, "[%s]\n", cnn_cfg_name(s));
	for (int i = 0; i < cnn_cfg_entries(s); i++) {
		const char *value, *key = cnn_cfg_entry_at(s, i, &value);
		if (is_net && h > 0 && !strcmp(key, "height"))
			fprintf(f, "height=%d\n", h);
		else if (is_net && w > 0 && !strcmp(key, "width"))
			fprintf(f, "width=%d\n", w);
		else
			fprintf(f, "%s=%s\n", key, value);
	}
	fputc('\n', f);
}

/* [connected] layer l as the convolution over its whole input. */
static int convolution(FILE *f, const cnn_layer *l, const cnn_cfg_section *s)
{
	fprintf(f, "[convolutional]\nfilters=%d\nsize_y=%d\nsize_x=%d\n", l->out_c, l->h, l->w);
	for (int i = 0; i < cnn_cfg_entries(s); i++) {
		const char *value, *key = cnn_cfg_entry_at(s, i, &value);
		if (!strcmp(key, "activation") || !strcmp(key, "batch_normalize") ||
		    !strcmp(key, "name"))
			fprintf(f, "%s=%s\n", key, value);
		else if (strcmp(key, "output"))
			return cnn_error("layer %d [connected]: %s= has no convolution's "
					 "equivalent", l->index, key);
	}
	fputc('\n', f);
	return CNN_OK;
}

/* The new cfg's text (malloc'ed), or NULL. */
static char *rewrite(const cnn_net *net, int h, int w, size_t *len)
{
	const cnn_cfg *cfg = net->cfg;
	char *text = NULL;
	FILE *f = open_memstream(&text, len);
	int converted = 0, ret = CNN_OK;

	if (!f) {
		cnn_error("out of memory");
		return NULL;
	}
	copy_section(f, cnn_cfg_section_at(cfg, 0), h, w);
	for (int i = 0; i < net->nlayers && ret == CNN_OK; i++) {
		const cnn_layer *l = &net->layer[i];
		cnn_cfg_section *s = cnn_cfg_section_at(cfg, i + 1);
		if (!strcmp(l->type->name, "connected")) {
			ret = convolution(f, l, s);
			converted++;
		} else if (converted && !strcmp(l->type->name, "softmax") && l->inputs > 1) {
			if (cnn_cfg_has(s, "groups"))
				ret = cnn_error("layer %d [softmax]: groups= over a map of positions",
						i);
			fprintf(f, "[softmax]\nspatial=1\n");
			for (int k = 0; k < cnn_cfg_entries(s); k++) {
				const char *value, *key = cnn_cfg_entry_at(s, k, &value);
				if (strcmp(key, "spatial"))
					fprintf(f, "%s=%s\n", key, value);
			}
			fputc('\n', f);
		} else {
			copy_section(f, s, 0, 0);
		}
	}
	if (fclose(f) || ret) {
		if (ret == CNN_OK)
			cnn_error("out of memory");
		free(text);
		return NULL;
	}
	if (!converted) {
		free(text);
		cnn_error("the network has no [connected] layer: it is fully convolutional already");
		return NULL;
	}
	return text;
}

cnn_net *cnn_net_convolutionalize(const cnn_net *net, int h, int w)
{
	size_t len;
	char *text = rewrite(net, h, w, &len);
	cnn_cfg *cfg = text ? cnn_cfg_parse(text, cnn_cfg_path(net->cfg)) : NULL;
	cnn_net *out = cfg ? cnn_net_build(cfg, 1) : NULL;

	free(text);
	if (!out)
		return NULL;
	for (int i = 0; i < net->nlayers; i++) {
		const cnn_layer *a = &net->layer[i];
		cnn_layer *b = &out->layer[i];
		for (int p = 0; p < a->nparam; p++) {
			if (p >= b->nparam || a->param[p].count != b->param[p].count) {
				cnn_error("layer %d [%s]: its %s does not carry over", i, a->type->name,
					  a->param[p].name);
				cnn_net_free(out);
				return NULL;
			}
			memcpy(b->param[p].value, a->param[p].value, sizeof(float) * a->param[p].count);
		}
	}
	out->param_gen++;
	return out;
}
