/*
 * optimizer.c - learning-rate policies and the update rules: SGD with
 * momentum, RMSprop and Adam, each with L2 weight decay.
 */
#include <math.h>
#include <stdlib.h>

#include "nn/net.h"
#include "simd/simd.h"

double cnn_net_learning_rate(const cnn_net *net)
{
	const cnn_train_params *hp = &net->hp;
	double lr = hp->learning_rate, t = (double)net->step;

	if (hp->burn_in && net->step < hp->burn_in)
		return lr * pow(t / hp->burn_in, hp->power);
	switch (hp->policy) {
	case CNN_LR_CONSTANT:
		return lr;
	case CNN_LR_STEP:
		return lr * pow(hp->scale, floor(t / hp->step));
	case CNN_LR_STEPS:
		for (int i = 0; i < hp->nsteps && net->step >= hp->steps[i]; i++)
			lr *= hp->scales[i];
		return lr;
	case CNN_LR_EXP:
		return lr * pow(hp->gamma, t);
	case CNN_LR_POLY:
		return t >= hp->max_batches ? 0 : lr * pow(1 - t / hp->max_batches, hp->power);
	case CNN_LR_SIGMOID:
		return lr / (1 + exp(hp->gamma * (t - hp->step)));
	case CNN_LR_COSINE:
		if (t >= hp->max_batches)
			return hp->lr_min;
		return hp->lr_min + 0.5 * (lr - hp->lr_min) * (1 + cos(M_PI * t / hp->max_batches));
	}
	return lr;
}

static int moments(cnn_param *p, int both)
{
	if (!p->m && !(p->m = calloc(p->count, sizeof *p->m)))
		return CNN_ERR;
	if (both && !p->v && !(p->v = calloc(p->count, sizeof *p->v)))
		return CNN_ERR;
	return CNN_OK;
}

/* One parameter's step; g includes weight decay. */
static void update(const cnn_train_params *hp, cnn_param *p, float lr, double t)
{
	float decay = p->decay ? hp->decay : 0;
	float *w = p->value, *grad = p->grad;

	switch (hp->optimizer) {
	case CNN_SGD:
		/* PyTorch's form: v = momentum v + g; w -= lr v. */
		cnn_simd_grad()->sgd(w, p->m, grad, p->count, lr, hp->momentum, decay);
		break;
	case CNN_RMSPROP:
		for (long i = 0; i < p->count; i++) {
			float g = grad[i] + decay * w[i];
			p->m[i] = hp->beta2 * p->m[i] + (1 - hp->beta2) * g * g;
			w[i] -= lr * g / (sqrtf(p->m[i]) + hp->eps);
		}
		break;
	case CNN_ADAM: {
		/* Bias correction folded into the step size. */
		float c1 = (float)(1 - pow(hp->beta1, t)), c2 = (float)(1 - pow(hp->beta2, t));
		float step = lr * sqrtf(c2) / c1, eps = hp->eps * sqrtf(c2);
		for (long i = 0; i < p->count; i++) {
			float g = grad[i] + decay * w[i];
			p->m[i] = hp->beta1 * p->m[i] + (1 - hp->beta1) * g;
			p->v[i] = hp->beta2 * p->v[i] + (1 - hp->beta2) * g * g;
			w[i] -= step * p->m[i] / (sqrtf(p->v[i]) + eps);
		}
		break;
	}
	}
}

int cnn_net_update(cnn_net *net, int n)
{
	float lr = (float)cnn_net_learning_rate(net);
	double t = (double)net->step + 1;

	net->param_gen++;
	for (int i = 0; i < net->nlayers; i++) {
		cnn_layer *l = &net->layer[i];
		if (l->frozen)
			continue;
		for (int k = 0; k < l->nparam; k++) {
			cnn_param *p = &l->param[k];
			if (!p->grad)
				continue;
			if (moments(p, net->hp.optimizer == CNN_ADAM))
				return cnn_error("out of memory for the optimizer's state");
			update(&net->hp, p, lr, t);
		}
	}
	net->step++;
	net->seen += n;
	return CNN_OK;
}
