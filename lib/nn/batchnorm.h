/*
 * batchnorm.h - batch normalisation shared by the layers that offer it.
 */
#ifndef BATCHNORM_H
#define BATCHNORM_H

#include "nn/net.h"

/* Two rules.  darknet's, for its sections (batch_normalize=1, [batchnorm]
 * without epsilon=): (x - mean) / (sqrt(var) + 1e-6), the batch's variance
 * unbiased, running statistics moved 1% a batch.  PyTorch's and Keras's,
 * for [batchnorm] epsilon=E (what the importers write): (x - mean) /
 * sqrt(var + E), the batch's variance biased, the running one unbiased and
 * moved 10%. */
#define CNN_BN_DARKNET_EPS 1e-6f

typedef struct cnn_bn {
	int c;
	float eps;                            /* 0: darknet's rule; else under the root */
	cnn_param *scale, *mean, *variance;   /* the shift is the layer's bias */
	float *xhat;                          /* batch x outputs, normalised */
	float *batch_mean, *batch_invstd;     /* of the last training batch */
	float *batch_vgain;                   /* the variance's term in dL/dx, relative */
	int batch_stats;                      /* the last forward was training's */
} cnn_bn;

/* 1 / the divisor of a channel whose variance is var, by bn's rule. */
float cnn_bn_invstd(const cnn_bn *bn, float var);

/* darknet's rule; set eps after for the other. */
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
