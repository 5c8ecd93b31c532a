/*
 * error.c - the per-thread message of the last failure.
 *
 * The library reports failure by return value and leaves the words here,
 * so that a program can print them with its own name and context and an
 * embedding application can show them however it likes.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cnn.h"

static _Thread_local char message[1024];

const char *cnn_errmsg(void)
{
	return message;
}

int cnn_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof message, fmt, ap);
	va_end(ap);
	return CNN_ERR;
}

int cnn_error_context(const char *fmt, ...)
{
	char old[sizeof message];
	size_t n;
	va_list ap;

	memcpy(old, message, sizeof old);
	va_start(ap, fmt);
	n = (size_t)vsnprintf(message, sizeof message, fmt, ap);
	va_end(ap);
	if (n < sizeof message)
		snprintf(message + n, sizeof message - n, ": %s", old);
	return CNN_ERR;
}
