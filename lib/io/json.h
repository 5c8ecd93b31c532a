/*
 * json.h - a small JSON parser for reading boxes as text (boxtext.c).
 *
 * Internal to libcnn.  It builds the whole value in memory, which suits
 * its job: one record of boxes at a time.
 */
#ifndef CNN_JSON_H
#define CNN_JSON_H

#include <stddef.h>

#include "core/box.h"

enum json_type { JSON_NULL, JSON_FALSE, JSON_TRUE, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json {
	enum json_type type;
	double number;
	char *string;      /* JSON_STRING: UTF-8, NUL-terminated */
	int n;             /* items of an array, members of an object */
	struct json *item; /* the items, or the members' values */
	char **key;        /* the members' names */
};

/* Parse the value that starts at text[*pos] after white space, leaving
 * *pos after it.  *line counts the newlines passed, for messages.
 * CNN_OK, CNN_END when only white space is left, or CNN_ERR ("line N:
 * what").  Free the value with cnn_json_free() (also after CNN_ERR). */
CNN_HIDDEN int cnn_json_parse(const char *text, size_t len, size_t *pos, int *line,
			      struct json *v);
CNN_HIDDEN void cnn_json_free(struct json *v);
/* The member called key of an object, or NULL. */
CNN_HIDDEN const struct json *cnn_json_get(const struct json *obj, const char *key);

#endif
