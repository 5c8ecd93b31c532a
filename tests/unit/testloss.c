/*
 * testloss.c - two loss layers of the tests' own, registered before main
 * runs, that read truths no shipped layer reads yet (the detection and
 * embedding work brings the real ones):
 *
 *   [boxes_test]      reads "boxes_true" (N x 6, any N): outputs 0..4
 *                     regress N and the mean x1, y1, x2, y2 of the boxes
 *                     (0 without boxes), squared error, mean over the batch
 *   [identity_probe]  reads "label" as an identity: the squared outputs
 *                     (a loss to have one), and every example's identity
 *                     and first input noted in testloss_seen[] for the
 *                     sampler tests
 *
 * Linked into the unit tests and into tests/cnn-train-testloss, which is
 * cnn-train itself with these two.
 */
#include <string.h>

#include "nn/net.h"
#include "testloss.h"

int64_t testloss_seen[TESTLOSS_MAX][2];
int testloss_nseen;

static int build_boxes(cnn_layer *l, cnn_net *net, cnn_cfg_section *s)
{
	(void)net;
	l->truth = (cnn_truth_field){"boxes_true", CNN_TRUTH_BOXES, CNN_BOX_FIELDS};
	if (l->inputs < 5)
		return cnn_cfg_error(s, "wants 5 inputs or more");
	return CNN_OK;
}

static int build_probe(cnn_layer *l, cnn_net *net, cnn_cfg_section *s)
{
	(void)net;
	(void)s;
	l->truth = (cnn_truth_field){"label", CNN_TRUTH_IDENTITY, 1};
	return CNN_OK;
}

static int forward_copy(cnn_layer *l, cnn_net *net)
{
	memcpy(l->output, l->input, sizeof(float) * net->n * l->outputs);
	return CNN_OK;
}

static int backward_copy(cnn_layer *l, cnn_net *net)
{
	for (long i = 0; l->input_delta && i < (long)net->n * l->outputs; i++)
		l->input_delta[i] += l->delta[i];
	return CNN_OK;
}

static int loss_boxes(cnn_layer *l, cnn_net *net, double *loss)
{
	double sum = 0;

	memset(l->delta, 0, sizeof(float) * net->n * l->outputs);
	for (int i = 0; i < net->n; i++) {
		int64_t rows;
		const float *b = cnn_layer_truth(l, net, i, &rows);
		float want[5] = {(float)rows, 0, 0, 0, 0};
		for (int64_t r = 0; r < rows; r++)
			for (int k = 0; k < 4; k++)
				want[1 + k] += b[r * CNN_BOX_FIELDS + k] / rows;
		for (int k = 0; k < 5; k++) {
			float d = l->output[i * l->outputs + k] - want[k];
			sum += d * d;
			l->delta[i * l->outputs + k] = 2 * d / net->n;
		}
	}
	*loss = sum / net->n;
	return CNN_OK;
}

static int loss_probe(cnn_layer *l, cnn_net *net, double *loss)
{
	double sum = 0;

	for (int i = 0; i < net->n; i++) {
		if (testloss_nseen < TESTLOSS_MAX) {
			testloss_seen[testloss_nseen][0] = (int64_t)*cnn_layer_truth(l, net, i, NULL);
			testloss_seen[testloss_nseen++][1] = (int64_t)l->input[i * l->inputs];
		}
		for (long k = 0; k < l->outputs; k++) {
			float y = l->output[i * l->outputs + k];
			sum += y * y;
			l->delta[i * l->outputs + k] = 2 * y / net->n;
		}
	}
	*loss = sum / net->n;
	return CNN_OK;
}

static const cnn_layer_type boxes_test = {
	.name = "boxes_test", .build = build_boxes, .forward = forward_copy,
	.backward = backward_copy, .loss = loss_boxes,
};

static const cnn_layer_type identity_probe = {
	.name = "identity_probe", .build = build_probe, .forward = forward_copy,
	.backward = backward_copy, .loss = loss_probe,
};

__attribute__((constructor)) static void add_test_losses(void)
{
	cnn_layer_type_add(&boxes_test);
	cnn_layer_type_add(&identity_probe);
}
