/*
 * net.h - the insides of the network engine, shared by net.c, the layer
 * files (layer_*.c) and the optimizer; not part of the public interface.
 *
 * A network is a list of layers in cfg order.  Each layer reads the output
 * of the one before it (or, for route and shortcut, of others), keeps its
 * own output and delta (dLoss/doutput) for a whole batch, and on the way
 * back adds dLoss/dinput into the delta of whatever produced its input.
 * Adding, not writing, is what lets one output feed several layers.
 */
#ifndef NET_H
#define NET_H

#include "cnn.h"

#include "ops/activation.h"

#define MAX_PARAMS 6

typedef struct cnn_param {
	const char *name;        /* "weight", "bias", "scale", "mean", "variance" */
	float *value;
	float *grad;             /* NULL for state that is not trained */
	float *m, *v;            /* optimizer moments, allocated on first use */
	long count;
	int decay;               /* takes weight decay: weights yes, biases no */
	int ndim;
	int64_t dim[4];
} cnn_param;

typedef struct cnn_layer cnn_layer;
typedef struct cnn_layer_type cnn_layer_type;

/* Boxes as detection layers find them: n rows of CNN_BOX_FIELDS floats. */
typedef struct cnn_box_rows {
	float *row;
	int64_t n, cap;
} cnn_box_rows;
/* Append a box; a non-finite one is an error (a network gone wrong). */
int cnn_box_rows_add(cnn_box_rows *r, double x1, double y1, double x2, double y2,
		     double score, int cls);

struct cnn_layer {
	const cnn_layer_type *type;
	int index;
	int line;                /* of its section in the cfg */
	const char *name;        /* its section's name=, or NULL */
	int c, h, w;             /* one example's input */
	int out_c, out_h, out_w; /* one example's output */
	long inputs, outputs;
	const float *input;      /* batch x inputs: another layer's output */
	float *input_delta;      /* where dLoss/dinput goes, or NULL */
	float *output, *delta;   /* batch x outputs */
	float *pre;              /* pre-activation, when the gradient needs it */
	int activation;
	int nparam;
	cnn_param param[MAX_PARAMS];
	int frozen;              /* parameters not updated (transfer learning) */
	/* Loss layers: the record field they read (set by build), and its
	 * index among the network's (cnn_net_truth). */
	cnn_truth_field truth;
	int truth_index;
	/* A later layer takes its output.  A loss layer that feeds another
	 * (a softmax used as an activation) is not a loss of the network. */
	int read;
	double flops;            /* multiply-adds per example */
	int rf, jump;            /* receptive field and input pixels per output step */
	void *state;             /* the layer type's own */
};

struct cnn_layer_type {
	const char *name;        /* the cfg section that makes it */
	/* Read the section, set the output shape, add parameters. */
	int (*build)(cnn_layer *l, cnn_net *net, cnn_cfg_section *s);
	int (*forward)(cnn_layer *l, cnn_net *net);
	int (*backward)(cnn_layer *l, cnn_net *net);
	/* Fill parameters for training from scratch. */
	void (*init)(cnn_layer *l, cnn_rng *rng);
	/* Loss layers: the loss of the batch against its truth (see
	 * cnn_layer_truth) and the delta that starts the backward pass. */
	int (*loss)(cnn_layer *l, cnn_net *net, double *loss);
	/* Detection layers: the boxes in example b of the latest forward pass
	 * scoring above thresh, appended to out in the network input's
	 * pixels; *nms the IoU threshold of the NMS they want. */
	int (*detect)(const cnn_layer *l, const cnn_net *net, int b, double thresh,
		      cnn_box_rows *out, double *nms);
	void (*free)(cnn_layer *l);
};

/* The one table of layer types (layers.c); adding a layer is one file and
 * one line there. */
const cnn_layer_type *cnn_layer_type_find(const char *section);
/* A type of the program's own, its section named by type->name (before any
 * network is built; not thread-safe). */
int cnn_layer_type_add(const cnn_layer_type *type);

struct cnn_net {
	cnn_cfg *cfg;
	int batch;               /* examples the buffers hold */
	int n;                   /* examples in the current batch */
	int train;               /* forward for training: dropout, batch statistics */
	int ran;                 /* layers the latest forward pass ran, from 0 */
	/* Backward for dLoss/dinput alone (cnn_net_input_gradient): layers
	 * with parameters skip their gradients' work and leave them alone. */
	int no_param_grads;
	int nlayers;
	cnn_layer *layer;
	int c, h, w;             /* one example's input */
	float *input;            /* batch x c*h*w */
	float *in_mean, *in_std; /* [net] mean= and std=, per channel, or NULL */
	cnn_input_rule rule;     /* [net] resize= and pad_square= */
	int has_rule;
	const cnn_batch *in_hand;  /* the batch whose truth the losses read */
	int ntruth;                /* fields the loss layers read */
	cnn_truth_field truth[CNN_MAX_TRUTH];
	int truth_layer[CNN_MAX_TRUTH]; /* the first layer that reads each */
	cnn_rng rng;
	cnn_train_params hp;
	int64_t step;            /* batches trained */
	/* Bumped at every write of the parameters (an update, a copy, a
	 * visit, a load), so that what is made from them (packed weights)
	 * knows when it is stale. */
	uint64_t param_gen;
	cnn_record *constants;   /* tensors kept beside the weights, or NULL */
	int64_t seen;            /* examples trained */
	uint64_t claimed;        /* bytes of the buffers, see cnn_net_claim() */
	/* Mixup of the next training pass: after layer mix_layer (-1: the
	 * input), the next layer reads mix_out = lambda out + (1 - lambda)
	 * out[perm]; off when mix_layer < -1. */
	int mix_layer;
	float mix_lambda;
	int *mix_perm;
	float *mix_out, *mix_delta;
};

/* Helpers for layer files. */
int cnn_layer_alloc_output(cnn_layer *l, cnn_net *net);
cnn_param *cnn_layer_add_param(cnn_layer *l, const char *name, int trained,
			       int decay, int ndim, const int64_t *dim);
/* Before allocating `copies` float buffers of that shape for the section
 * being built (the layer net->nlayers, or [net] before the first): each may
 * take at most cnn_max_tensor_bytes(), and all of the network's together
 * NET_LIMIT_TIMES times that, so that a cfg of a few lines cannot ask for
 * more than the machine has.  A cfg error naming the section otherwise.
 * Layers claim their large parameters (value and gradient) before
 * cnn_layer_add_param(), and their workspaces. */
#define NET_LIMIT_TIMES 16
int cnn_net_claim(cnn_net *net, int copies, int ndim, const int64_t *dim, const char *what);
/* Loss layers: the truth of example i of the batch in hand, in the form
 * l->truth asked for; *rows (unless NULL) its rows (1 but for boxes).  The
 * examples of a fixed field follow one another: example 0's values start
 * an n x size array. */
const float *cnn_layer_truth(const cnn_layer *l, const cnn_net *net, int i, int64_t *rows);
/* dLoss/d(the input before mean= and std=) from dLoss/d(after), in place. */
void cnn_net_unnormalise_grad(const cnn_net *net, float *dx, int n);
/* TensorFlow's SAME padding of a window reaching `reach` input pixels
 * (dilation x (size - 1) + 1) at a stride: the output is ceil(in /
 * stride), and of the padding that takes, the odd pixel goes after (bottom,
 * right), lo before and hi after. */
void cnn_same_padding(int in, int reach, int stride, int *lo, int *hi);
/* Is the layer one of the network's losses: a loss type that feeds no
 * other layer? */
int cnn_layer_is_loss(const cnn_layer *l);
/* "layer 7 [softmax]": the first layer that reads truth field f. */
void cnn_net_truth_reader(const cnn_net *net, int f, char *buf, size_t size);
/* Layer names and references (layerref.c).  While building layer l: take
 * its section's name= (a cfg error if malformed or taken). */
int cnn_net_name_layer(cnn_net *net, cnn_layer *l, cnn_cfg_section *s);
/* The earlier layers that the section's key refers to (route's layers=,
 * shortcut's from=): a comma-separated list of names and numbers, negative
 * ones counting back from l (-1 is the layer before), others absolute
 * indices.  At most max into src, *n of them (0 when the key is absent);
 * a cfg error naming the section otherwise. */
int cnn_net_layer_refs(cnn_net *net, const cnn_layer *l, cnn_cfg_section *s,
		       const char *key, cnn_layer **src, int max, int *n);
/* Exactly one such layer, the key required; NULL after a cfg error. */
cnn_layer *cnn_net_layer_ref(cnn_net *net, const cnn_layer *l, cnn_cfg_section *s,
			     const char *key);

#endif
