/*
 * layers.c - where a training step's time goes: one cfg's network on
 * random data, the median time of a whole step (cnn_net_gradients +
 * cnn_net_update), then each layer's forward and backward pass timed
 * alone.  Uses the engine's insides (net.h), so it is built against the
 * library's sources, not just its header.
 *
 * Usage: bench-layers CFG [BATCH [SECONDS]]      (CNN_THREADS=N to set threads)
 * Prints "step_ms X fastest_ms X gflop_per_step X gflops X ..." first, then
 * one line per layer (the fastest of several runs of each pass).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nn/net.h"

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	cnn_cfg *cfg;
	cnn_net *net;
	int batch, c, h, w, runs = 0;
	double seconds, flops = 0, loss, start, t[4096];
	long k;
	cnn_batch *b;
	cnn_rng rng;

	if (argc < 2) {
		fprintf(stderr, "usage: bench-layers CFG [BATCH [SECONDS]]\n");
		return 2;
	}
	if (!(cfg = cnn_cfg_load(argv[1])) ||
	    !(net = cnn_net_new(cfg, argc > 2 ? atoi(argv[2]) : 0, 1))) {
		fprintf(stderr, "bench-layers: %s\n", cnn_errmsg());
		return 1;
	}
	seconds = argc > 3 ? atof(argv[3]) : 2;
	batch = cnn_net_batch(net);
	cnn_net_input_shape(net, &c, &h, &w);
	k = cnn_net_outputs(net);
	/* Random images and classes. */
	cnn_rng_seed(&rng, 5);
	if (!(b = cnn_batch_new(net, NULL)))
		goto fail;
	for (int i = 0; i < batch; i++) {
		cnn_record *r = cnn_record_new();
		cnn_tensor *img = cnn_tensor_new3("image", CNN_F32, c, h, w);
		if (!r || !img)
			goto fail;
		for (long j = 0; j < (long)c * h * w; j++)
			((float *)img->data)[j] = (float)cnn_rng_uniform(&rng);
		cnn_record_put(r, img);
		if (cnn_record_put_i64(r, "label", (int64_t)cnn_rng_below(&rng, k)) ||
		    cnn_batch_add(b, r))
			goto fail;
		cnn_record_free(r);
	}
	for (int i = 0; i < net->nlayers; i++)
		flops += 2 * net->layer[i].flops;
	/* forward + input gradient + weight gradient: three times the forward */
	flops *= 3.0 * batch;

	/* Whole steps: the median. */
	for (int i = 0; i < 3; i++)
		if (cnn_net_gradients(net, b, &loss) || cnn_net_update(net, batch))
			goto fail;
	for (start = now(); runs < 4096 && (runs < 5 || now() - start < seconds); runs++) {
		double t0 = now();
		if (cnn_net_gradients(net, b, &loss) || cnn_net_update(net, batch))
			goto fail;
		t[runs] = now() - t0;
	}
	qsort(t, runs, sizeof *t, cmp);
	printf("step_ms %.3f fastest_ms %.3f gflop_per_step %.3f gflops %.1f images_per_s %.0f "
	       "threads %d\n", t[runs / 2] * 1e3, t[0] * 1e3, flops * 1e-9,
	       flops / t[runs / 2] * 1e-9, batch / t[runs / 2], cnn_threads());

	/* Per layer: the same passes, timed one at a time (the fastest of
	 * several runs: the machine may be shared). */
	{
		int n = net->nlayers, iters = runs < 30 ? runs : 30;
		double *fw = malloc(n * sizeof *fw), *bw = malloc(n * sizeof *bw), up = 1e9, zero = 1e9;
		for (int i = 0; i < n; i++)
			fw[i] = bw[i] = 1e9;

		for (int it = 0; it < iters; it++) {
			double t0;
			memcpy(net->input, cnn_batch_input(b), sizeof(float) * (size_t)batch * c * h * w);
			net->in_hand = b;
			net->n = batch;
			net->train = 1;
			for (int i = 0; i < n; i++) {
				t0 = now();
				if (net->layer[i].type->forward(&net->layer[i], net))
					goto fail;
				fw[i] = fmin(fw[i], now() - t0);
			}
			t0 = now();
			for (int i = 0; i < n; i++) {
				cnn_layer *l = &net->layer[i];
				memset(l->delta, 0, sizeof *l->delta * (size_t)batch * l->outputs);
				for (int p = 0; p < l->nparam; p++)
					if (l->param[p].grad)
						memset(l->param[p].grad, 0,
						       sizeof(float) * l->param[p].count);
			}
			for (int i = 0; i < n; i++)
				if (cnn_layer_is_loss(&net->layer[i]) &&
				    net->layer[i].type->loss(&net->layer[i], net, &loss))
					goto fail;
			zero = fmin(zero, now() - t0);
			for (int i = n - 1; i >= 0; i--) {
				t0 = now();
				if (net->layer[i].type->backward(&net->layer[i], net))
					goto fail;
				bw[i] = fmin(bw[i], now() - t0);
			}
			t0 = now();
			if (cnn_net_update(net, batch))
				goto fail;
			up = fmin(up, now() - t0);
		}
		printf("%-3s %-16s %-12s %9s %9s %8s\n", "#", "layer", "output", "fwd_ms",
		       "bwd_ms", "GFLOP/s");
		for (int i = 0; i < n; i++) {
			cnn_layer *l = &net->layer[i];
			char shape[32];
			double f = fw[i], b = bw[i];
			snprintf(shape, sizeof shape, "%dx%dx%d", l->out_c, l->out_h, l->out_w);
			printf("%-3d %-16s %-12s %9.3f %9.3f %8.1f\n", i, l->type->name, shape,
			       f * 1e3, b * 1e3,
			       l->flops > 0 ? 6 * l->flops * batch / (f + b) * 1e-9 : 0);
		}
		printf("    %-16s %-12s %9.3f\n", "zero+loss", "", zero * 1e3);
		printf("    %-16s %-12s %9.3f\n", "update", "", up * 1e3);
		free(fw);
		free(bw);
	}
	cnn_batch_free(b);
	cnn_net_free(net);
	return 0;
fail:
	fprintf(stderr, "bench-layers: %s\n", cnn_errmsg());
	return 1;
}
