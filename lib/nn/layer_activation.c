/*
 * layer_activation.c - [activation] (darknet's): an activation function on
 * its own, for graphs that keep it apart from the layer before (Keras's
 * Activation and ReLU layers, a ReLU after a residual add).
 */
#include <string.h>

#include "nn/net.h"
#include "core/threads.h"

/* The values are copied and activated a piece at a time, while the piece
 * is in L1, and the pieces shared between the threads when there are
 * enough of them to be worth waking a second (Inception v3's 94 ReLUs
 * took 2.3% of its time on two threads, copied whole and then, below 64k
 * values, rectified on one). */
enum { PIECE = 4096, SHARE = 1 << 15 };

static int build(cnn_layer *l, cnn_net *net, cnn_cfg_section *s)
{
	(void)net;
	return cnn_cfg_choice(s, "activation", cnn_activation_names, ACT_LINEAR, &l->activation);
}

struct forward_job {
	cnn_layer *l;
	long n;
};

/* Values [piece * PIECE, ...) of the batch. */
static void forward_piece(void *ctx, long piece, int t)
{
	const struct forward_job *j = ctx;
	cnn_layer *l = j->l;
	long at = piece * PIECE, len = j->n - at < PIECE ? j->n - at : PIECE;

	(void)t;
	memcpy(l->output + at, l->input + at, sizeof(float) * len);
	cnn_activate(l->activation, l->output + at, l->pre ? l->pre + at : NULL, len);
}

static int forward(cnn_layer *l, cnn_net *net)
{
	long n = (long)net->n * l->outputs;

	cnn_parallel_pieces(n < SHARE ? 1 : cnn_threads(), (n + PIECE - 1) / PIECE,
			    forward_piece, &(struct forward_job){ l, n });
	return CNN_OK;
}

static int backward(cnn_layer *l, cnn_net *net)
{
	long n = (long)net->n * l->outputs;

	cnn_activate_grad(l->activation, l->output, l->pre, l->delta, n);
	for (long i = 0; l->input_delta && i < n; i++)
		l->input_delta[i] += l->delta[i];
	return CNN_OK;
}

const cnn_layer_type cnn_layer_activation = {
	.name = "activation", .build = build, .forward = forward, .backward = backward,
};
