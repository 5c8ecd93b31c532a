/*
 * test_truth.c - truth from the record: a loss that reads variable-length
 * boxes (tests/unit/testloss.c) through batches, the example cache in
 * memory and spilled to a file, one pass and epochs; errors that name the
 * field; P x K sampling.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cnn.h"
#include "tap.h"
#include "testloss.h"

#define BOXES_CFG "[net]\nbatch=4\nchannels=1\nheight=4\nwidth=4\nlearning_rate=0.05\n" \
	"momentum=0.9\ndecay=0\n[connected]\noutput=5\nactivation=linear\n[boxes_test]\n"

static cnn_net *make(const char *text, uint64_t seed)
{
	cnn_cfg *cfg = cnn_cfg_parse(text, "t.cfg");
	cnn_net *net = cfg ? cnn_net_new(cfg, 0, seed) : NULL;

	if (!net)
		tap_ok(0, "build: %s", cnn_errmsg());
	return net;
}

/* Record i: i % 4 boxes (every fourth has none) and a 1x4x4 image that
 * tells which of four such records it is, so that there is something to
 * learn. */
static cnn_record *boxes_record(int i)
{
	cnn_record *r = cnn_record_new();
	cnn_tensor *img = cnn_tensor_new3("image", CNN_U8, 1, 4, 4);
	cnn_tensor *b = cnn_boxes_new("boxes_true", i % 4);
	cnn_rng rng;

	cnn_rng_seed(&rng, (uint64_t)(i % 4) + 7);
	for (int k = 0; k < 16; k++)
		((uint8_t *)img->data)[k] = (uint8_t)cnn_rng_below(&rng, 256);
	for (int k = 0; k < i % 4; k++) {
		float *row = (float *)b->data + k * CNN_BOX_FIELDS;
		row[0] = (float)cnn_rng_below(&rng, 2);
		row[1] = (float)cnn_rng_below(&rng, 2);
		row[2] = row[0] + 1 + (float)cnn_rng_below(&rng, 2);
		row[3] = row[1] + 1 + (float)cnn_rng_below(&rng, 2);
		row[4] = 1;
		row[5] = (float)k;
	}
	cnn_record_put(r, img);
	cnn_record_put(r, b);
	return r;
}

static void test_gradcheck(void)
{
	cnn_net *net = make(BOXES_CFG, 1);
	cnn_batch *b = net ? cnn_batch_new(net, NULL) : NULL;
	int64_t rows[4];
	double worst = -1;

	for (int i = 0; b && i < 4; i++) {
		cnn_record *r = boxes_record(i);
		tap_ok(cnn_batch_add(b, r) == CNN_OK, "example %d with %d boxes joins a batch", i,
		       i % 4);
		cnn_record_free(r);
	}
	for (int i = 0; b && i < 4; i++)
		cnn_batch_truth(b, 0, i, &rows[i]);
	tap_ok(b && rows[0] == 0 && rows[1] == 1 && rows[2] == 2 && rows[3] == 3,
	       "the batch keeps each example's boxes, 0 to 3");
	if (b)
		worst = cnn_net_gradcheck(net, b, 0, 1e-3, NULL, NULL);
	tap_ok(worst >= 0 && worst < 2e-3, "gradient check of a loss on boxes (worst %.1e)", worst);
	cnn_batch_free(b);
	cnn_net_free(net);
}

static void test_missing_field(void)
{
	cnn_net *net = make(BOXES_CFG, 1);
	cnn_batch *b = net ? cnn_batch_new(net, NULL) : NULL;
	cnn_record *r = boxes_record(3);

	cnn_tensor_free(cnn_record_take(r, "boxes_true"));
	tap_ok(b && cnn_batch_add(b, r) == CNN_ERR &&
	       strcmp(cnn_errmsg(), "no tensor \"boxes_true\" (the loss of layer 1 [boxes_test] "
			    "reads it)") == 0 && cnn_batch_count(b) == 0,
	       "a record without the field: \"%s\"", cnn_errmsg());
	cnn_record_free(r);
	cnn_batch_free(b);
	cnn_net_free(net);
}

struct run {
	double first, last;    /* the first and the last epoch's loss */
	int epochs;
};

static void note(void *ctx, const cnn_train_report *r)
{
	struct run *run = ctx;

	if (r->kind != CNN_REPORT_EPOCH)
		return;
	if (run->epochs++ == 0)
		run->first = r->loss;
	run->last = r->loss;
}

/* Train on 40 records; one_pass feeds them 8 times over, else 8 epochs of
 * the cache, which holds memory bytes before it spills. */
static int train(const char *out, int one_pass, uint64_t memory, struct run *run)
{
	cnn_net *net = make(BOXES_CFG, 3);
	cnn_train_options o = {.output = out, .epochs = 8, .seed = 3, .memory = memory,
			       .report = note, .ctx = run};
	cnn_trainer *t = net ? cnn_trainer_new(net, &o) : NULL;
	int ret = t ? CNN_OK : CNN_ERR;

	memset(run, 0, sizeof *run);
	for (int pass = 0; ret == CNN_OK && pass < (one_pass ? 8 : 1); pass++)
		for (int i = 0; ret == CNN_OK && i < 40; i++) {
			cnn_record *r = boxes_record(i);
			ret = one_pass ? cnn_trainer_feed(t, r) : cnn_trainer_add(t, r);
			cnn_record_free(r);
		}
	if (ret == CNN_OK)
		ret = one_pass ? cnn_trainer_finish(t) : cnn_trainer_run(t);
	if (ret != CNN_OK)
		tap_ok(0, "training: %s", cnn_errmsg());
	cnn_trainer_free(t);
	cnn_net_free(net);
	return ret;
}

static int same_file(const char *a, const char *b)
{
	FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
	int same = fa && fb, ca, cb;

	while (same && (ca = getc(fa)) == (cb = getc(fb)) && ca != EOF)
		;
	same = same && ca == cb;
	if (fa)
		fclose(fa);
	if (fb)
		fclose(fb);
	return same;
}

static void test_training(const char *dir)
{
	char mem[4096], spilt[4096], pass[4096];
	struct run a, b, c;

	snprintf(mem, sizeof mem, "%s/mem.cnnm", dir);
	snprintf(spilt, sizeof spilt, "%s/spilt.cnnm", dir);
	snprintf(pass, sizeof pass, "%s/pass.cnnm", dir);
	int ra = train(mem, 0, 1 << 20, &a), rb = train(spilt, 0, 1, &b), rc = train(pass, 1, 0, &c);

	tap_ok(ra == CNN_OK && a.epochs == 8 && a.last < a.first / 4,
	       "8 epochs of boxes from the cache in memory: loss %.3f -> %.3f", a.first, a.last);
	tap_ok(rb == CNN_OK && b.last == a.last && same_file(mem, spilt),
	       "the same from a cache spilt to a file: the same model, byte for byte");
	tap_ok(rc == CNN_OK && c.epochs == 1 && c.last < a.first / 2,
	       "one pass over the same records 8 times: mean loss %.3f", c.last);
	unlink(mem);
	unlink(spilt);
	unlink(pass);
}

/* 7 identities with 1, 2, 3, 4, 5, 6 and 9 examples; batches of P = 3
 * identities x K = 4 examples, for 2 epochs. */
static void test_pk(const char *dir)
{
	static const int counts[7] = {1, 2, 3, 4, 5, 6, 9};
	enum { P = 3, K = 4 };
	char out[4096];
	cnn_net *net = make("[net]\nbatch=12\nchannels=1\nheight=1\nwidth=1\n[identity_probe]\n", 1);
	cnn_train_options o = {.output = out, .epochs = 2, .seed = 5, .memory = 1 << 20,
			       .pk_identities = P, .pk_examples = K};
	cnn_trainer *t;
	int example = 0, ok = 1, batches;

	snprintf(out, sizeof out, "%s/pk.cnnm", dir);
	t = net ? cnn_trainer_new(net, &o) : NULL;
	for (int id = 0; t && id < 7; id++)
		for (int k = 0; k < counts[id]; k++, example++) {
			cnn_record *r = cnn_record_new();
			cnn_tensor *img = cnn_tensor_new3("image", CNN_F32, 1, 1, 1);
			*(float *)img->data = (float)example;
			cnn_record_put(r, img);
			cnn_record_put_i64(r, "label", id * 10 + 3);
			ok &= cnn_trainer_add(t, r) == CNN_OK;
			cnn_record_free(r);
		}
	testloss_nseen = 0;
	tap_ok(t && ok && cnn_trainer_run(t) == CNN_OK, "P x K training runs: %s",
	       ok ? "" : cnn_errmsg());
	/* 7 identities make 2 batches of 3 an epoch. */
	batches = testloss_nseen / (P * K);
	tap_ok(testloss_nseen == 2 * 2 * P * K, "2 epochs of 2 batches of %d (%d examples seen)",
	       P * K, testloss_nseen);
	for (int e = 0; e < 2 && batches == 4; e++) {
		int used[7] = {0};
		for (int bi = 0; bi < 2; bi++) {
			int64_t (*seen)[2] = testloss_seen + (e * 2 + bi) * P * K;
			for (int p = 0; p < P; p++) {
				int64_t id = seen[p * K][0];
				int base = 0, repeat = 0;
				ok &= (id - 3) % 10 == 0 && id >= 3 && id <= 63;
				id = (id - 3) / 10;
				used[id]++;
				for (int i = 0; i < id; i++)
					base += counts[i];
				for (int k = 0; k < K; k++) {
					int64_t ex = seen[p * K + k][1];
					ok &= seen[p * K + k][0] == id * 10 + 3 && ex >= base &&
					      ex < base + counts[id];
					for (int j = 0; j < k; j++)
						repeat |= seen[p * K + j][1] == ex;
				}
				/* Repeats only where the identity has fewer than K. */
				ok &= !repeat || counts[id] < K;
			}
		}
		for (int id = 0; id < 7; id++)
			ok &= used[id] <= 1;
	}
	tap_ok(ok, "each batch: %d identities x %d of their own examples, no identity twice an "
	       "epoch, repeats only for identities with fewer than %d", P, K, K);
	cnn_trainer_free(t);
	cnn_net_free(net);
	unlink(out);
}

/* Identities of one example each: every batch repeats each K times (and
 * the order, P x K per identity, is longer than the examples). */
static void test_pk_singletons(const char *dir)
{
	char out[4096];
	cnn_net *net = make("[net]\nbatch=12\nchannels=1\nheight=1\nwidth=1\n[identity_probe]\n", 1);
	cnn_train_options o = {.output = out, .epochs = 1, .seed = 2, .memory = 1 << 20,
			       .pk_identities = 3, .pk_examples = 4};
	cnn_trainer *t;
	int ok = 1;

	snprintf(out, sizeof out, "%s/pk1.cnnm", dir);
	t = net ? cnn_trainer_new(net, &o) : NULL;
	for (int id = 0; t && id < 7; id++) {
		cnn_record *r = cnn_record_new();
		cnn_tensor *img = cnn_tensor_new3("image", CNN_F32, 1, 1, 1);
		*(float *)img->data = (float)id;
		cnn_record_put(r, img);
		cnn_record_put_i64(r, "label", id);
		ok &= cnn_trainer_add(t, r) == CNN_OK;
		cnn_record_free(r);
	}
	testloss_nseen = 0;
	ok &= t && cnn_trainer_run(t) == CNN_OK && testloss_nseen == 24;
	for (int i = 0; ok && i < testloss_nseen; i++)
		ok &= testloss_seen[i][0] == testloss_seen[i][1] &&
		      testloss_seen[i][0] == testloss_seen[i - i % 4][0];
	tap_ok(ok, "P x K with one example an identity: 2 batches, each example K times");
	cnn_trainer_free(t);
	cnn_net_free(net);
	unlink(out);
}

int main(void)
{
	char dir[] = "/tmp/test-truth-XXXXXX";

	if (!mkdtemp(dir))
		return 1;
	test_gradcheck();
	test_missing_field();
	test_training(dir);
	test_pk(dir);
	test_pk_singletons(dir);
	rmdir(dir);
	return tap_done();
}
