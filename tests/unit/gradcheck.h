/*
 * gradcheck.h - numeric gradient checking: central differences of a scalar
 * loss, compared with the analytic gradient.
 */
#ifndef GRADCHECK_H
#define GRADCHECK_H

#include <math.h>

/* The worst disagreement between grad[i] and (L(v + h) - L(v - h)) / 2h
 * over n entries of v, as |a - b| / max(1, |a| + |b|).  loss() recomputes the
 * scalar loss from the current v.  Where the two one-sided differences
 * disagree, the step crossed a kink (a max changed hands, a ReLU switched):
 * there the analytic value must match one of the sides. */
static double __attribute__((unused))
gradcheck_h(float *v, const float *grad, long n, double (*loss)(void *), void *ctx,
	    double h)
{
	double worst = 0, mid = loss(ctx);

	for (long i = 0; i < n; i++) {
		float keep = v[i];
		v[i] = (float)(keep + h);
		double up = loss(ctx);
		v[i] = (float)(keep - h);
		double down = loss(ctx);
		v[i] = keep;
		double a = grad[i], num = (up - down) / (2 * h);
		double right = (up - mid) / h, left = (mid - down) / h;
		double err = fabs(num - a) / fmax(1, fabs(num) + fabs(a));
		if (fabs(right - left) / fmax(1, fabs(right) + fabs(left)) > 1e-3) {
			double er = fabs(right - a) / fmax(1, fabs(right) + fabs(a));
			double el = fabs(left - a) / fmax(1, fabs(left) + fabs(a));
			err = fmin(err, fmin(er, el));
		}
		if (err > worst || err != err)
			worst = err != err ? INFINITY : err;
	}
	return worst;
}

static double __attribute__((unused))
gradcheck(float *v, const float *grad, long n, double (*loss)(void *), void *ctx)
{
	return gradcheck_h(v, grad, n, loss, ctx, 1e-2);
}

#endif
