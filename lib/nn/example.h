/*
 * example.h - the insides of batches (batch.c), shared with the dataset
 * (dataset.c) and the trainer (trainer.c); not part of the public interface.
 *
 * An example is the record's input and the truth of every field the
 * network reads.  Kept for many epochs it is bytes, made by
 * cnn_example_encode() and turned back into a batch's floats by
 * cnn_example_decode():
 *
 *   u32 tag            1: the input is u8 bytes (values / 255), 0: f32
 *   the input          inputs bytes (padded to 4) or inputs floats
 *   per field, fixed   size floats
 *   per field, boxes   u32 rows, then rows x 6 floats
 *
 * so that a Fashion-MNIST example takes 4 + 784 + 40 bytes, not 3,180.
 */
#ifndef EXAMPLE_H
#define EXAMPLE_H

#include "nn/net.h"

/* The bytes of a record's example, in the batch's scratch space (valid
 * until the next call); CNN_ERR naming the field at fault. */
int cnn_example_encode(cnn_batch *b, const cnn_record *r, const unsigned char **bytes,
		       size_t *len);
/* Append an encoded example to the batch (which has room for it). */
int cnn_example_decode(cnn_batch *b, const unsigned char *bytes, size_t len);
/* The identity of an encoded example: its IDENTITY field, or if it has
 * none the class of its CLASS field (the largest value); CNN_ERR when it
 * has neither. */
int cnn_example_identity(const cnn_batch *b, const unsigned char *bytes, int64_t *id);
/* The values of a fixed field of the whole batch, count x size, writable
 * (mixup blends the labels). */
float *cnn_batch_fixed(cnn_batch *b, int f);
/* The network's batch size, which a batch holds. */
int cnn_batch_room(const cnn_batch *b);
/* Was the batch made for a network of this input and truth? */
int cnn_batch_fits(const cnn_batch *b, const cnn_net *net);
/* Multi-scale training: the examples of src (c x src_h x src_w) resized
 * to the input of net, which dst was made for, their boxes with them; the
 * other truth copied. */
int cnn_batch_rescale(cnn_batch *dst, const cnn_batch *src, const cnn_net *net, int c,
		      int src_h, int src_w);
/* The input size of the batch after `step` of a run of `last` steps (-1:
 * not known), for a network made at h0 x w0 with those parameters
 * (multiscale.c). */
void cnn_multi_scale_size(const cnn_train_params *hp, uint64_t seed, int h0, int w0,
			  int64_t step, int64_t last, int *h, int *w);

#endif
