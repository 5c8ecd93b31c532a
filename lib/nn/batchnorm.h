/*
 * batchnorm.h - batch normalisation shared by the layers that offer it.
 */
#ifndef BATCHNORM_H
#define BATCHNORM_H

#include "nn/net.h"

/* PyTorch's and darknet's training epsilon; Keras's is 1e-3, which its
 * imported networks give as [batchnorm] epsilon=. */
#define CNN_BN_EPS 1e-5f

typedef struct cnn_bn {
	int c;
	float eps;                            /* var + eps under the root */
	cnn_param *scale, *mean, *variance;   /* the shift is the layer's bias */
	float *xhat;                          /* batch x outputs, normalised */
	float *batch_mean, *batch_invstd;     /* of the last training batch */
	int batch_stats;                      /* the last forward was training's */
} cnn_bn;

int cnn_bn_add_params(cnn_layer *l, cnn_bn *bn, int channels);
int cnn_bn_alloc(cnn_bn *bn, long values);
void cnn_bn_free(cnn_bn *bn);
/* y (n x c x spatial) = scale * normalised(y) + bias, in place. */
void cnn_bn_forward(cnn_bn *bn, const cnn_param *bias, float *y, int n, long spatial,
		    int train);
/* delta: dL/dy in, dL/d(the input of the normalisation) out; with grads,
 * accumulates the scale's and the bias's gradients.  After an inference
 * forward the statistics are constants and the normalisation an affine map
 * of each channel: then only dL/dinput (cnn_net_input_gradient's case). */
void cnn_bn_backward(cnn_bn *bn, cnn_param *bias, float *delta, int n, long spatial,
		     int grads);

#endif
