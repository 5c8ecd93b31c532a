/*
 * gradcheck.h - numeric gradient checking: central differences of a scalar
 * loss, compared with the analytic gradient.
 */
#ifndef GRADCHECK_H
#define GRADCHECK_H

#include <math.h>

/* The worst disagreement between grad[i] and (L(v + h) - L(v - h)) / 2h
 * over n entries of v, as |a - b| / max(1, |a| + |b|).  loss() recomputes the
 * scalar loss from the current v. */
static double __attribute__((unused))
gradcheck(float *v, const float *grad, long n, double (*loss)(void *), void *ctx)
{
	const double h = 1e-2;
	double worst = 0;

	for (long i = 0; i < n; i++) {
		float keep = v[i];
		v[i] = (float)(keep + h);
		double up = loss(ctx);
		v[i] = (float)(keep - h);
		double down = loss(ctx);
		v[i] = keep;
		double num = (up - down) / (2 * h), a = grad[i];
		double err = fabs(num - a) / fmax(1, fabs(num) + fabs(a));
		if (err > worst || err != err)
			worst = err != err ? INFINITY : err;
	}
	return worst;
}

#endif
