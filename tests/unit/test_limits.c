/*
 * test_limits.c - a model description's numbers are range-checked, and a
 * network whose buffers exceed CNN_MAX_TENSOR_BYTES is refused before they
 * are allocated.
 */
#include <stdlib.h>
#include <string.h>

#include "cnn.h"
#include "tap.h"

/* The message of building text as a network ("" if it builds). */
static const char *build_error(const char *text)
{
	cnn_cfg *cfg = cnn_cfg_parse(text, "t.cfg");
	cnn_net *net = cfg ? cnn_net_build(cfg, 0) : NULL;

	cnn_net_free(net);
	return net ? "" : cnn_errmsg();
}

/* Does building text fail with a message holding part?  Says which. */
static void refused(const char *text, const char *part, const char *what)
{
	const char *msg = build_error(text);

	tap_ok(strstr(msg, part) != NULL, "%s: %s", what, msg);
}

static void test_integers(void)
{
	const char *fc = "[net]\ninputs=4\n[connected]\noutput=2\n";
	char text[512];
	cnn_cfg *cfg;
	cnn_net *net;

	snprintf(text, sizeof text, "%s[route]\nlayers=8444444444\n", fc);
	refused(text, "t.cfg:5: [route]: layers=8444444444 is not an earlier layer",
		"a layer number past int");
	snprintf(text, sizeof text, "%s[route]\nlayers=-1.5\n", fc);
	refused(text, "t.cfg:5: [route]: layers=-1.5: want earlier layers' numbers or names",
		"a fractional layer number");
	refused("[net]\ninputs=4\npolicy=steps\nsteps=1e20\nscales=.1\n[connected]\noutput=2\n",
		"t.cfg:4: [net] steps=1e20: want up to 16 whole numbers", "steps=1e20");
	refused("[net]\ninputs=4\nsteps=\n[connected]\noutput=2\n", "t.cfg:3: [net] steps=: want",
		"an empty steps=");
	refused("[net]\ninputs=4\nsteps=-1,99999999999999999999\n[connected]\noutput=2\n",
		"t.cfg:3: [net] steps=-1,99999999999999999999: want", "a step past 64 bits");
	cfg = cnn_cfg_parse("[net]\ninputs=4\npolicy=steps\nsteps=100, 9000000000\n"
			    "scales=.1,.5\n[connected]\noutput=2\n", "t.cfg");
	net = cfg ? cnn_net_build(cfg, 0) : NULL;
	tap_ok(net && cnn_net_params(net)->nsteps == 2 && cnn_net_params(net)->steps[0] == 100 &&
		       cnn_net_params(net)->steps[1] == 9000000000 &&
		       cnn_net_params(net)->scales[1] == 0.5f,
	       "steps=100, 9000000000 are kept exactly");
	cnn_net_free(net);
	refused("[net]\nwidth=65536\nheight=1\nchannels=1\n[upsample]\nstride=32\n"
		"[upsample]\nstride=1024\n",
		"t.cfg:7: [upsample]: 32x2097152 upsampled 1024 times is too large",
		"an upsampled size past int");
}

static void test_sizes(void)
{
	/* Six lines asking for 2 GiB of weights (and as much of gradients). */
	const char *big = "[net]\nchannels=65536\nheight=1\nwidth=1\n[connected]\noutput=8192\n";
	char text[4096] = "[net]\ninputs=256\n";

	cnn_set_max_tensor_bytes(64 << 20);
	refused(big, "t.cfg:5: [connected]: weight: shape too large (over 67108864 bytes) "
		     "(CNN_MAX_TENSOR_BYTES sets the limit)", "a cfg claiming 2 GiB of weights");
	refused("[net]\nchannels=64\nheight=4096\nwidth=4096\nbatch=2\n[connected]\noutput=1\n",
		"t.cfg:1: [net]: input: shape too large", "an input over the limit");
	refused("[net]\ninputs=1\nbatch=2\n[connected]\noutput=16777216\n",
		"t.cfg:4: [connected]: outputs: shape too large", "outputs over the limit");
	refused("[net]\nchannels=1\nheight=1024\nwidth=1024\n"
		"[convolutional]\nfilters=64\nsize=1\nbatch_normalize=1\n",
		"t.cfg:5: [convolutional]: batch_normalize: shape too large",
		"a workspace over the limit");
	/* 40 layers of 256 KiB weights: each fits, all of them do not. */
	for (int i = 0; i < 40; i++)
		strcat(text, "[connected]\noutput=256\n");
	tap_ok(strcmp(build_error(text), "") == 0, "40 layers of 256 KiB build under 64 MiB a tensor");
	cnn_set_max_tensor_bytes(1 << 20);
	refused(text, "weight takes the network's buffers over 16777216 bytes (16 times "
		      "CNN_MAX_TENSOR_BYTES)", "but not under 1 MiB");
	cnn_set_max_tensor_bytes(0);
}

int main(void)
{
	test_integers();
	test_sizes();
	return tap_done();
}
