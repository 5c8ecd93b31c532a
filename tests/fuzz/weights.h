/*
 * weights.h - the network that the weights harness loads .weights files
 * into, shared with make-corpus.c, which writes its seeds: every kind of
 * layer that has darknet weights, convolution and deconvolution with and
 * without batch norm, a connected layer with it, a [batchnorm] of its own.
 */
#ifndef FUZZ_WEIGHTS_H
#define FUZZ_WEIGHTS_H

static const char fuzz_weights_cfg[] =
	"[net]\nchannels=2\nheight=6\nwidth=6\n\n"
	"[convolutional]\nfilters=3\nsize=3\nbatch_normalize=1\nactivation=leaky\n\n"
	"[deconvolutional]\nfilters=2\nsize=2\nstride=2\nactivation=linear\n\n"
	"[convolutional]\nfilters=2\nsize=1\nactivation=relu\n\n"
	"[batchnorm]\n\n"
	"[maxpool]\nsize=2\nstride=2\n\n"
	"[connected]\noutput=4\nbatch_normalize=1\nactivation=linear\n\n"
	"[softmax]\n";

#endif
