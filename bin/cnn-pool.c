/*
 * cnn-pool - max, average or min pooling of each record's image.
 */
#include <stdlib.h>
#include <string.h>

#include "tool.h"

static const char help[] =
	"Usage: cnn-pool [OPTION]... [FILE]...\n"
	"Pool a tensor of each record of the stream in FILEs (or standard input)\n"
	"over windows of each channel: C x L in 1-D, C x H x W in 2-D, C x D x H x W\n"
	"in 3-D.  The output size is floor((n + 2p - f) / s) + 1.\n\n"
	"  -m, --max             max pooling (default)\n"
	"  -a, --avg             average pooling\n"
	"      --min             min pooling\n"
	"  -f, --size N[,N..]    window size f (default 2)\n"
	"  -s, --stride N[,N..]  stride s (default: the window size)\n"
	"  -p, --pad N[,N..]     zero padding p before and after; or lo,hi per dimension\n"
	"  -G, --global          one value per channel: the window is the whole input\n"
	"      --ceil            round the output size up (Caffe), not down\n"
	"      --count-pad       an average divides by the whole window, padding\n"
	"                        included (default: only the cells inside the input)\n"
	"      --field NAME      the tensor to pool (default: image)\n"
	TOOL_OUTPUT_HELP TOOL_COMMON_HELP;

enum { OPT_MIN = 256, OPT_CEIL, OPT_COUNT_PAD, OPT_FIELD };

struct options {
	cnn_pool_op op;
	int win[CNN_MAX_SPATIAL], nwin;
	int stride[CNN_MAX_SPATIAL], nstride;
	int pad[2 * CNN_MAX_SPATIAL], npad;
	int global, ceil_mode, count_pad;
};

static void per_dim(const tool_input *in, const char *opt, const int *v, int n,
		    int nd, int *dst, int dflt)
{
	if (n != 0 && n != 1 && n != nd)
		die_record(in, "%s: give 1 or %d numbers for a %d-D input", opt, nd, nd);
	for (int i = 0; i < nd; i++)
		dst[i] = n == 0 ? dflt : v[n == 1 ? 0 : i];
}

static cnn_tensor *pool(const struct options *o, const tool_input *in, const cnn_tensor *x)
{
	cnn_pool p = {0};
	int64_t dim[1 + CNN_MAX_SPATIAL];
	char desc[128];
	cnn_tensor *xf, *y;

	if (x->ndim < 2 || x->ndim > 1 + CNN_MAX_SPATIAL)
		die_record(in, "tensor \"%s\" is %s; pooling wants C x L, C x H x W or C x D x H x W",
			   x->name, cnn_tensor_describe(x, desc, sizeof desc));
	p.op = o->op;
	p.n = 1;
	p.c = (int)x->dim[0];
	p.nd = x->ndim - 1;
	p.ceil_mode = o->ceil_mode;
	p.count_pad = o->count_pad;
	for (int i = 0; i < p.nd; i++)
		p.in[i] = (int)x->dim[1 + i];
	if (o->global) {
		memcpy(p.win, p.in, sizeof p.win);
	} else {
		per_dim(in, "--size", o->win, o->nwin, p.nd, p.win, 2);
		per_dim(in, "--stride", o->stride, o->nstride, p.nd, p.stride, 0);
		if (o->npad == 2 * p.nd && p.nd > 1) {
			for (int i = 0; i < p.nd; i++) {
				p.pad_lo[i] = o->pad[2 * i];
				p.pad_hi[i] = o->pad[2 * i + 1];
			}
		} else if (o->npad == 2 && p.nd == 1) {
			p.pad_lo[0] = o->pad[0];
			p.pad_hi[0] = o->pad[1];
		} else {
			per_dim(in, "--pad", o->pad, o->npad, p.nd, p.pad_lo, 0);
			memcpy(p.pad_hi, p.pad_lo, sizeof p.pad_hi);
		}
	}
	if (cnn_pool_setup(&p))
		die_record(in, "tensor \"%s\" (%s): %s", x->name,
			   cnn_tensor_describe(x, desc, sizeof desc), cnn_errmsg());
	dim[0] = p.c;
	for (int i = 0; i < p.nd; i++)
		dim[1 + i] = p.out[i];
	xf = cnn_tensor_convert(x, CNN_F32);
	y = xf ? cnn_tensor_new(x->name, CNN_F32, 1 + p.nd, dim) : NULL;
	if (!y || cnn_pool_forward(&p, xf->data, y->data))
		die_record(in, "%s", cnn_errmsg());
	cnn_tensor_free(xf);
	/* A max or min is one of the inputs: keep the input's dtype. */
	if (p.op != CNN_POOL_AVG && x->dtype != CNN_F32) {
		cnn_tensor *same = cnn_tensor_convert(y, x->dtype);
		if (!same)
			die_lib();
		cnn_tensor_free(y);
		y = same;
	}
	return y;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"max", no_argument, 0, 'm'},
		{"avg", no_argument, 0, 'a'},
		{"min", no_argument, 0, OPT_MIN},
		{"size", required_argument, 0, 'f'},
		{"stride", required_argument, 0, 's'},
		{"pad", required_argument, 0, 'p'},
		{"global", no_argument, 0, 'G'},
		{"ceil", no_argument, 0, OPT_CEIL},
		{"count-pad", no_argument, 0, OPT_COUNT_PAD},
		{"field", required_argument, 0, OPT_FIELD},
		TOOL_OUTPUT_OPTIONS, TOOL_COMMON_OPTIONS, {0, 0, 0, 0}};
	struct options o = {.op = CNN_POOL_MAX};
	const char *field = "image", *output = "-";
	int level = CNN_LEVEL_DEFAULT, c;
	cnn_record *rec;
	cnn_writer *wr;
	tool_input in;

	tool_init("cnn-pool");
	while ((c = getopt_long(argc, argv, "maf:s:p:Go:z:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'm': o.op = CNN_POOL_MAX; break;
		case 'a': o.op = CNN_POOL_AVG; break;
		case OPT_MIN: o.op = CNN_POOL_MIN; break;
		case 'f': o.nwin = tool_ints("--size", optarg, o.win, CNN_MAX_SPATIAL, 1, 1 << 20); break;
		case 's': o.nstride = tool_ints("--stride", optarg, o.stride, CNN_MAX_SPATIAL, 1, 1 << 20); break;
		case 'p': o.npad = tool_ints("--pad", optarg, o.pad, 2 * CNN_MAX_SPATIAL, 0, 1 << 20); break;
		case 'G': o.global = 1; break;
		case OPT_CEIL: o.ceil_mode = 1; break;
		case OPT_COUNT_PAD: o.count_pad = 1; break;
		case OPT_FIELD: field = optarg; break;
		case 'o': output = optarg; break;
		case 'z': level = (int)tool_long("--level", optarg, 0, 22); break;
		case 'h': tool_help(help);
		case 'V': tool_version();
		default: usage_error(NULL);
		}
	}
	if (o.global && (o.nwin || o.nstride || o.npad))
		usage_error("--global takes no --size, --stride or --pad");

	tool_input_init(&in, argc - optind, argv + optind);
	wr = tool_output(output, level);
	if (!(rec = cnn_record_new()))
		die_lib();
	while (tool_read(&in, rec, 0)) {
		cnn_tensor *x = cnn_record_get(rec, field);
		if (!x)
			die_record(&in, "no tensor \"%s\"", field);
		if (cnn_record_put(rec, pool(&o, &in, x)))
			die_lib();
		tool_write(wr, rec);
	}
	tool_output_close(wr);
	cnn_record_free(rec);
	return 0;
}
