/*
 * gradcheck.c - numeric gradient checking: central differences of a scalar
 * loss against the analytic gradient, for tests and `cnn-train --gradcheck`.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/net.h"

/* |a - b| relative to their size, but never to less than 1, so that tiny
 * gradients do not make noise look large. */
static double disagreement(double a, double b)
{
	return fabs(a - b) / fmax(1, fabs(a) + fabs(b));
}

/* The disagreement of the analytic a with the differences at step h. */
static double check_one(float *v, double a, double mid, double (*loss)(void *ctx),
			void *ctx, double h)
{
	float keep = *v;
	double up, down, right, left, err;

	*v = (float)(keep + h);
	up = loss(ctx);
	*v = (float)(keep - h);
	down = loss(ctx);
	*v = keep;
	right = (up - mid) / h;
	left = (mid - down) / h;
	err = disagreement((up - down) / (2 * h), a);
	/* One-sided differences that disagree mean the step crossed a kink (a
	 * max changed hands, a ReLU switched): there the analytic value must
	 * match one side. */
	if (disagreement(right, left) > 1e-3)
		err = fmin(err, fmin(disagreement(right, a), disagreement(left, a)));
	return err != err ? INFINITY : err;
}

double cnn_gradcheck(float *v, const float *grad, long n, long stride,
		     double (*loss)(void *ctx), void *ctx, double h)
{
	double worst = 0, mid = loss(ctx);

	for (long i = 0; i < n; i += stride) {
		double err = check_one(&v[i], grad[i], mid, loss, ctx, h);
		/* A parameter that moves many units (a bias under ReLUs and
		 * pooling) can cross kinks on both sides; a tenth of the step
		 * crosses fewer, at the price of more rounding noise. */
		if (err > 1e-3)
			err = fmin(err, check_one(&v[i], grad[i], mid, loss, ctx, h / 10));
		worst = err > worst ? err : worst;
	}
	return worst;
}

struct net_check {
	cnn_net *net;
	const cnn_batch *b;
	cnn_rng rng;
};

static double net_loss(void *ctx)
{
	struct net_check *c = ctx;
	double loss = NAN;

	/* The same dropout masks every time. */
	c->net->rng = c->rng;
	if (cnn_net_gradients(c->net, c->b, &loss))
		return NAN;
	return loss;
}

double cnn_net_gradcheck(cnn_net *net, const cnn_batch *b, long sample, double h,
			 cnn_gradcheck_report report, void *ctx)
{
	struct net_check c = {net, b, net->rng};
	double worst = 0, loss;

	for (int i = 0; i < net->nlayers; i++) {
		cnn_layer *l = &net->layer[i];
		for (int p = 0; p < l->nparam; p++) {
			cnn_param *par = &l->param[p];
			long stride = sample > 0 && par->count > sample ? par->count / sample : 1;
			float *analytic;
			double err;
			if (!par->grad)
				continue;
			/* Afresh: the differences of the parameters before left the
			 * gradients of their last step. */
			c.net->rng = c.rng;
			if (cnn_net_gradients(net, b, &loss))
				return -1;
			if (!(analytic = malloc(sizeof *analytic * par->count))) {
				cnn_error("out of memory");
				return -1;
			}
			memcpy(analytic, par->grad, sizeof *analytic * par->count);
			err = cnn_gradcheck(par->value, analytic, par->count, stride, net_loss, &c, h);
			free(analytic);
			if (report)
				report(ctx, i, l->type->name, par->name, err);
			worst = err > worst || err != err ? err : worst;
		}
	}
	net->rng = c.rng;
	return worst;
}
