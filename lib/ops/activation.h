/*
 * activation.h - the activation functions of the layers, elementwise over
 * arrays (activation.c).
 */
#ifndef ACTIVATION_H
#define ACTIVATION_H

#include "cnn.h"

enum cnn_activation {
	ACT_LINEAR, ACT_RELU, ACT_LEAKY, ACT_RELU6, ACT_LOGISTIC, ACT_TANH, ACT_SWISH,
	ACT_RAMP, ACT_ELU, ACT_HARDTAN, ACT_COUNT
};

extern const char *const cnn_activation_names[];

/* y = f(x) in place over n values; pre keeps x when the gradient needs it
 * (swish), else may be NULL. */
void cnn_activate(int act, float *y, float *pre, long n);
/* delta *= f'(x), from the output y (and pre for swish). */
void cnn_activate_grad(int act, const float *y, const float *pre, float *delta, long n);
int cnn_activation_needs_pre(int act);

#endif
