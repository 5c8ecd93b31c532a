/*
 * tap.h - the unit tests' harness: each check prints one TAP line, and
 * tap_done() prints the plan and returns the exit status.  scripts/run-tests
 * counts the lines.
 */
#ifndef TAP_H
#define TAP_H

#include <math.h>
#include <stdio.h>

static int tap_n, tap_failed;

static int tap_ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3), unused));
#include <stdarg.h>
static int tap_ok(int cond, const char *fmt, ...)
{
	va_list ap;
	printf("%sok %d - ", cond ? "" : "not ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (!cond)
		tap_failed++;
	return cond;
}

/* Largest relative error of got against want, relative to want's largest
 * magnitude (so that entries near zero do not dominate). */
static double __attribute__((unused))
tap_relerr(const float *got, const float *want, long n)
{
	double maxabs = 0, maxdiff = 0;
	for (long i = 0; i < n; i++) {
		double d = fabs((double)got[i] - want[i]);
		if (d > maxdiff || d != d)
			maxdiff = d != d ? INFINITY : d;
		if (fabs(want[i]) > maxabs)
			maxabs = fabs(want[i]);
	}
	return maxdiff / (maxabs > 0 ? maxabs : 1);
}

static int __attribute__((unused)) tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
