/*
 * layerref.c - layer names and references to layers.
 *
 * A layer section may have a name= (our addition to darknet's dialect,
 * which darknet itself skips as an unused key).  Wherever a layer refers to
 * others (route's layers=, shortcut's from=) and wherever a program picks a
 * layer (cnn_net_layer_find, cnn-predict --features), a reference is a name
 * or darknet's number: negative counts back, from 0 up is an index.  One
 * resolver serves them all, so that every layer reads references alike.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nn/net.h"

#define NAME_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789.-"

/* [A-Za-z_][A-Za-z0-9_.-]*: never a number, so a reference is one or the
 * other. */
static int valid_name(const char *s)
{
	return (isalpha((unsigned char)*s) || *s == '_') && s[strspn(s, NAME_CHARS)] == 0;
}

int cnn_net_name_layer(cnn_net *net, cnn_layer *l, cnn_cfg_section *s)
{
	const char *name = cnn_cfg_str(s, "name", NULL);

	if (!name)
		return CNN_OK;
	if (!valid_name(name))
		return cnn_cfg_error(s, "name=%s: want a letter or _, then letters, digits, "
				     "_, . or -", name);
	for (int i = 0; i < l->index; i++)
		if (net->layer[i].name && strcmp(net->layer[i].name, name) == 0)
			return cnn_cfg_error(s, "name=%s is taken by layer %d (line %d)", name, i,
					     net->layer[i].line);
	l->name = name;
	return CNN_OK;
}

/* The index of the layer ref (trimmed) refers to among layers 0..at-1,
 * seen from at: a name, an index, or a negative number counting back from
 * at.  -1 when there is none; -2 when ref is neither a number nor a name. */
static int resolve(const cnn_net *net, const char *ref, int at)
{
	char *end;
	long v;

	if (valid_name(ref)) {
		for (int i = 0; i < at; i++)
			if (net->layer[i].name && strcmp(net->layer[i].name, ref) == 0)
				return i;
		return -1;
	}
	errno = 0;
	v = strtol(ref, &end, 10);
	if (end == ref || *end || errno)
		return -2;
	if (v < 0)
		v += at;
	return v >= 0 && v < at ? (int)v : -1;
}

static char *trim(char *s)
{
	char *end = s + strlen(s);

	while (isspace((unsigned char)*s))
		s++;
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = 0;
	return s;
}

/* One item of a reference list, into src[*n]. */
static int ref_item(cnn_net *net, const cnn_layer *l, cnn_cfg_section *s, const char *key,
		    const char *value, const char *item, cnn_layer **src, int max, int *n)
{
	int at = resolve(net, item, l->index);

	if (at == -2)
		return cnn_cfg_error(s, "%s=%s: want earlier layers' numbers or names, "
				     "separated by commas", key, value);
	/* "from=-3 is not ...", "layers=-1,-5: -5 is not ..." */
	if (at == -1)
		return cnn_cfg_error(s, "%s=%s%s%s is not %s earlier layer", key,
				     strcmp(item, value) ? value : "",
				     strcmp(item, value) ? ": " : "", item,
				     valid_name(item) ? "the name of an" : "an");
	if (*n == max)
		return cnn_cfg_error(s, "%s=%s: at most %d layer%s", key, value, max,
				     max == 1 ? "" : "s");
	src[(*n)++] = &net->layer[at];
	net->layer[at].read = 1;
	return CNN_OK;
}

int cnn_net_layer_refs(cnn_net *net, const cnn_layer *l, cnn_cfg_section *s,
		       const char *key, cnn_layer **src, int max, int *n)
{
	const char *value = cnn_cfg_str(s, key, NULL);
	char *copy, *item, *next;
	int ret = CNN_OK;

	*n = 0;
	if (!value)
		return CNN_OK;
	if (!(copy = strdup(value)))
		return cnn_error("out of memory");
	for (item = copy; item && !ret; item = next) {
		if ((next = strchr(item, ',')))
			*next++ = 0;
		ret = ref_item(net, l, s, key, value, trim(item), src, max, n);
	}
	free(copy);
	return ret;
}

cnn_layer *cnn_net_layer_ref(cnn_net *net, const cnn_layer *l, cnn_cfg_section *s,
			     const char *key)
{
	cnn_layer *src;
	int n;

	if (cnn_net_layer_refs(net, l, s, key, &src, 1, &n))
		return NULL;
	if (n == 0) {
		cnn_cfg_error(s, "needs %s= (an earlier layer, by number or name)", key);
		return NULL;
	}
	return src;
}

int cnn_net_layer_find(const cnn_net *net, const char *name_or_index)
{
	char *copy = strdup(name_or_index), *ref;
	int at;

	if (!copy)
		return cnn_error("out of memory");
	ref = trim(copy);
	at = resolve(net, ref, net->nlayers);
	if (at == -1 && valid_name(ref))
		cnn_error("no layer is named %s", ref);
	else if (at == -1)
		cnn_error("no layer %s: the network has layers 0 to %d (or -%d to -1)", ref,
			  net->nlayers - 1, net->nlayers);
	else if (at == -2)
		cnn_error("layer '%s': neither a number nor a name", name_or_index);
	free(copy);
	return at >= 0 ? at : CNN_ERR;
}
