/*
 * cnn-conv - convolve each record's image with named, literal or learned
 * filters.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

static const char help[] =
	"Usage: cnn-conv [OPTION]... [FILE]...\n"
	"Convolve (cross-correlate) a tensor of each record of the stream in FILEs\n"
	"(or standard input) and write the stream with the result in its place.\n"
	"A tensor C x H x W is convolved in 2-D, C x L in 1-D, C x D x H x W in 3-D.\n\n"
	"  -k, --kernel SPEC     filters by name, separated by commas (one output\n"
	"                        channel each), or one kernel written out: values by\n"
	"                        ',' rows by ';' planes by '|', e.g. '1,0,-1;1,0,-1;1,0,-1'\n"
	"  -K, --kernel-file F   a filter bank: a stream whose first record holds\n"
	"                        \"weight\" (K x C/groups x kernel) and maybe \"bias\" (K)\n"
	"  -p, --pad P           valid (default), same, full, N, or per dimension\n"
	"                        N,N (symmetric) or lo,hi,lo,hi\n"
	"  -s, --stride N[,N..]  stride (default 1)\n"
	"  -d, --dilation N[,N..]  dilation (default 1)\n"
	"  -g, --groups N        split channels into N groups\n"
	"      --depthwise       one filter per input channel (groups = channels)\n"
	"  -b, --bias B          add B to every output (named or literal kernels)\n"
	"      --flip            true convolution: rotate the kernel by 180 degrees\n"
	"      --abs             absolute value of the result\n"
	"      --magnitude       one channel: the length sqrt(sum y_k^2) of the outputs\n"
	"                        of all filters (e.g. the gradient of sobel-x,sobel-y)\n"
	"      --rescale         map each result's min..max to 0..255, as u8\n"
	"      --clamp           round and clamp the result to 0..255, as u8\n"
	"      --field NAME      the tensor to convolve (default: image)\n"
	TOOL_OUTPUT_HELP TOOL_COMMON_HELP
	"\nNamed filters: ";

enum { OPT_DEPTHWISE = 256, OPT_FLIP, OPT_ABS, OPT_MAGNITUDE, OPT_RESCALE, OPT_CLAMP, OPT_FIELD };

struct options {
	const char *kernel, *kernel_file, *pad, *field, *output;
	int stride[CNN_MAX_SPATIAL], nstride;
	int dil[CNN_MAX_SPATIAL], ndil;
	int groups, depthwise, flip, abs, magnitude, rescale, clamp, level;
	double bias;
};

/* Padding from the --pad words, for the rank of the input at hand. */
static void set_padding(const struct options *o, const tool_input *in, cnn_conv *cv)
{
	int v[2 * CNN_MAX_SPATIAL], n;

	if (!o->pad || strcmp(o->pad, "valid") == 0)
		return;
	for (int i = 0; i < cv->nd; i++) {
		int span = cv->dil[i] * (cv->ker[i] - 1);
		if (strcmp(o->pad, "full") == 0) {
			cv->pad_lo[i] = cv->pad_hi[i] = span;
		} else if (strcmp(o->pad, "same") == 0) {
			/* As TensorFlow and PyTorch: out = ceil(in / stride), any odd
			 * pixel of padding goes after. */
			int out = (cv->in[i] + cv->stride[i] - 1) / cv->stride[i];
			int total = (out - 1) * cv->stride[i] + span + 1 - cv->in[i];
			total = total > 0 ? total : 0;
			cv->pad_lo[i] = total / 2;
			cv->pad_hi[i] = total - total / 2;
		}
	}
	if (strcmp(o->pad, "full") == 0 || strcmp(o->pad, "same") == 0)
		return;
	n = tool_ints("--pad", o->pad, v, 2 * CNN_MAX_SPATIAL, 0, 1 << 20);
	for (int i = 0; i < cv->nd; i++) {
		if (n == 1) {
			cv->pad_lo[i] = cv->pad_hi[i] = v[0];
		} else if (n == cv->nd) {
			cv->pad_lo[i] = cv->pad_hi[i] = v[i];
		} else if (n == 2 * cv->nd) {
			cv->pad_lo[i] = v[2 * i];
			cv->pad_hi[i] = v[2 * i + 1];
		} else {
			die_record(in, "--pad %s: give 1, %d or %d numbers for a %d-D input",
				   o->pad, cv->nd, 2 * cv->nd, cv->nd);
		}
	}
}

/* One value per spatial dimension from a list of 1 or nd. */
static void per_dim(const tool_input *in, const char *opt, const int *v, int n,
		    int nd, int *dst)
{
	if (n == 0) {
		for (int i = 0; i < nd; i++)
			dst[i] = 1;
		return;
	}
	if (n != 1 && n != nd)
		die_record(in, "%s: give 1 or %d numbers for a %d-D input", opt, nd, nd);
	for (int i = 0; i < nd; i++)
		dst[i] = v[n == 1 ? 0 : i];
}

static void rotate180(cnn_tensor *w)
{
	int64_t per = 1, n = cnn_tensor_count(w);
	float *v = w->data;

	for (int i = 2; i < w->ndim; i++)
		per *= w->dim[i];
	for (int64_t base = 0; base < n; base += per)
		for (int64_t a = 0, b = per - 1; a < b; a++, b--) {
			float t = v[base + a];
			v[base + a] = v[base + b];
			v[base + b] = t;
		}
}

/* The filter bank of a kernel file: its first record's weight and bias. */
static void load_bank(const char *path, cnn_tensor **weight, cnn_tensor **bias)
{
	cnn_reader *rd = cnn_reader_open(path);
	cnn_record *rec = cnn_record_new();
	cnn_tensor *w, *b;

	if (!rd || !rec || cnn_read_first(rd, rec))
		die_lib();
	w = cnn_record_take(rec, "weight");
	b = cnn_record_take(rec, "bias");
	if (!w)
		die("%s: the first record has no tensor \"weight\"", path);
	if (w->ndim < 3 || w->ndim > 2 + CNN_MAX_SPATIAL)
		die("%s: weight has %d dimensions (K x C x kernel: 3 to %d)", path,
		    w->ndim, 2 + CNN_MAX_SPATIAL);
	if (b && (b->ndim != 1 || b->dim[0] != w->dim[0]))
		die("%s: bias has %lld values for %lld filters", path,
		    (long long)(b->ndim == 1 ? b->dim[0] : cnn_tensor_count(b)),
		    (long long)w->dim[0]);
	*weight = cnn_tensor_convert(w, CNN_F32);
	*bias = b ? cnn_tensor_convert(b, CNN_F32) : NULL;
	if (!*weight || (b && !*bias))
		die_lib();
	cnn_tensor_free(w);
	cnn_tensor_free(b);
	cnn_record_free(rec);
	cnn_reader_close(rd);
}

/* Channels K x ... into one channel: the length of each K-vector. */
static cnn_tensor *magnitude(cnn_tensor *y)
{
	int64_t dim[CNN_MAX_DIMS], k = y->dim[0], per = cnn_tensor_count(y) / y->dim[0];
	const float *v = y->data;
	cnn_tensor *m;
	float *out;

	memcpy(dim, y->dim, sizeof dim);
	dim[0] = 1;
	if (!(m = cnn_tensor_new(y->name, CNN_F32, y->ndim, dim)))
		die_lib();
	out = m->data;
	for (int64_t c = 0; c < k; c++)
		for (int64_t i = 0; i < per; i++)
			out[i] += v[c * per + i] * v[c * per + i];
	for (int64_t i = 0; i < per; i++)
		out[i] = sqrtf(out[i]);
	cnn_tensor_free(y);
	return m;
}

/* The output's last touch: --abs or --magnitude, then --rescale or
 * --clamp to u8. */
static cnn_tensor *finish(const struct options *o, cnn_tensor *y)
{
	int64_t n;
	float *v, lo = INFINITY, hi = -INFINITY;
	cnn_tensor *u8;

	if (o->magnitude)
		y = magnitude(y);
	n = cnn_tensor_count(y);
	v = y->data;
	if (o->abs)
		for (int64_t i = 0; i < n; i++)
			v[i] = fabsf(v[i]);
	if (!o->rescale && !o->clamp)
		return y;
	if (o->rescale) {
		for (int64_t i = 0; i < n; i++) {
			lo = v[i] < lo ? v[i] : lo;
			hi = v[i] > hi ? v[i] : hi;
		}
		float scale = hi > lo ? 255 / (hi - lo) : 0;
		for (int64_t i = 0; i < n; i++)
			v[i] = (v[i] - lo) * scale;
	}
	u8 = cnn_tensor_convert(y, CNN_U8);
	if (!u8)
		die_lib();
	cnn_tensor_free(y);
	return u8;
}

static cnn_tensor *convolve(const struct options *o, const tool_input *in,
			    const cnn_tensor *x, cnn_tensor *weight,
			    const cnn_tensor *bias)
{
	cnn_conv cv = {0};
	int64_t dim[1 + CNN_MAX_SPATIAL];
	char desc[128];
	cnn_tensor *xf, *y;
	float *b = bias ? bias->data : NULL;
	int wants;

	if (x->ndim < 2 || x->ndim > 1 + CNN_MAX_SPATIAL)
		die_record(in, "tensor \"%s\" is %s; convolution wants C x L, C x H x W or C x D x H x W",
			   x->name, cnn_tensor_describe(x, desc, sizeof desc));
	cv.nd = x->ndim - 1;
	if (weight->ndim != 2 + cv.nd)
		die_record(in, "tensor \"%s\" is %s but the filters are %d-D", x->name,
			   cnn_tensor_describe(x, desc, sizeof desc), weight->ndim - 2);
	cv.n = 1;
	cv.c = (int)x->dim[0];
	cv.k = (int)weight->dim[0];
	cv.groups = o->depthwise ? cv.c : o->groups;
	wants = (int)weight->dim[1] * cv.groups;
	if (wants != cv.c)
		die_record(in, "tensor \"%s\" has %d channel%s, kernel wants %d", x->name,
			   cv.c, cv.c == 1 ? "" : "s", wants);
	for (int i = 0; i < cv.nd; i++) {
		cv.in[i] = (int)x->dim[1 + i];
		cv.ker[i] = (int)weight->dim[2 + i];
	}
	per_dim(in, "--stride", o->stride, o->nstride, cv.nd, cv.stride);
	per_dim(in, "--dilation", o->dil, o->ndil, cv.nd, cv.dil);
	set_padding(o, in, &cv);
	if (cnn_conv_setup(&cv))
		die_record(in, "tensor \"%s\" (%s): %s", x->name,
			   cnn_tensor_describe(x, desc, sizeof desc), cnn_errmsg());
	xf = cnn_tensor_convert(x, CNN_F32);
	dim[0] = cv.k;
	for (int i = 0; i < cv.nd; i++)
		dim[1 + i] = cv.out[i];
	y = xf ? cnn_tensor_new(x->name, CNN_F32, 1 + cv.nd, dim) : NULL;
	if (!y || cnn_conv_forward(&cv, xf->data, weight->data, b, y->data))
		die_record(in, "%s", cnn_errmsg());
	cnn_tensor_free(xf);
	return finish(o, y);
}

/* Build the filter bank (and bias) once, from the first record's shape. */
static void make_bank(const struct options *o, const tool_input *in,
		      const cnn_tensor *x, cnn_tensor **weight, cnn_tensor **bias)
{
	int nd = x->ndim - 1, channels;

	if (o->kernel_file) {
		load_bank(o->kernel_file, weight, bias);
	} else {
		if (nd < 1 || nd > CNN_MAX_SPATIAL)
			die_record(in, "tensor \"%s\" has %d dimensions; convolution wants 2 to %d",
				   x->name, x->ndim, 1 + CNN_MAX_SPATIAL);
		channels = o->depthwise ? 1 : (int)x->dim[0] / o->groups;
		*weight = cnn_filter_bank(o->kernel, nd, channels > 0 ? channels : 1);
		if (!*weight)
			die_record(in, "tensor \"%s\": %s", x->name, cnn_errmsg());
		if (o->depthwise) {
			/* One copy of the bank per channel, in channel order. */
			int64_t k = (*weight)->dim[0], c = x->dim[0], per = cnn_tensor_count(*weight) / k;
			int64_t dim[2 + CNN_MAX_SPATIAL];
			memcpy(dim, (*weight)->dim, sizeof dim);
			dim[0] = k * c;
			cnn_tensor *dw = cnn_tensor_new("weight", CNN_F32, (*weight)->ndim, dim);
			if (!dw)
				die_lib();
			for (int64_t ch = 0; ch < c; ch++)
				memcpy((float *)dw->data + ch * k * per, (*weight)->data,
				       k * per * sizeof(float));
			cnn_tensor_free(*weight);
			*weight = dw;
		}
		*bias = NULL;
		if (o->bias != 0) {
			int64_t k = (*weight)->dim[0];
			*bias = cnn_tensor_new("bias", CNN_F32, 1, &k);
			if (!*bias)
				die_lib();
			for (int64_t i = 0; i < k; i++)
				((float *)(*bias)->data)[i] = (float)o->bias;
		}
	}
	if (o->flip)
		rotate180(*weight);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"kernel", required_argument, 0, 'k'},
		{"kernel-file", required_argument, 0, 'K'},
		{"pad", required_argument, 0, 'p'},
		{"stride", required_argument, 0, 's'},
		{"dilation", required_argument, 0, 'd'},
		{"groups", required_argument, 0, 'g'},
		{"bias", required_argument, 0, 'b'},
		{"depthwise", no_argument, 0, OPT_DEPTHWISE},
		{"flip", no_argument, 0, OPT_FLIP},
		{"abs", no_argument, 0, OPT_ABS},
		{"magnitude", no_argument, 0, OPT_MAGNITUDE},
		{"rescale", no_argument, 0, OPT_RESCALE},
		{"clamp", no_argument, 0, OPT_CLAMP},
		{"field", required_argument, 0, OPT_FIELD},
		TOOL_OUTPUT_OPTIONS, TOOL_COMMON_OPTIONS, {0, 0, 0, 0}};
	struct options o = {.field = "image", .output = "-", .groups = 1,
			    .level = CNN_LEVEL_DEFAULT};
	cnn_tensor *weight = NULL, *bias = NULL;
	cnn_record *rec;
	cnn_writer *wr;
	tool_input in;
	int c;

	tool_init("cnn-conv");
	while ((c = getopt_long(argc, argv, "k:K:p:s:d:g:b:o:z:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'k': o.kernel = optarg; break;
		case 'K': o.kernel_file = optarg; break;
		case 'p': o.pad = optarg; break;
		case 's': o.nstride = tool_ints("--stride", optarg, o.stride, CNN_MAX_SPATIAL, 1, 1 << 16); break;
		case 'd': o.ndil = tool_ints("--dilation", optarg, o.dil, CNN_MAX_SPATIAL, 1, 1 << 16); break;
		case 'g': o.groups = (int)tool_long("--groups", optarg, 1, 1 << 16); break;
		case 'b': o.bias = tool_double("--bias", optarg, -1e30, 1e30); break;
		case OPT_DEPTHWISE: o.depthwise = 1; break;
		case OPT_FLIP: o.flip = 1; break;
		case OPT_ABS: o.abs = 1; break;
		case OPT_MAGNITUDE: o.magnitude = 1; break;
		case OPT_RESCALE: o.rescale = 1; break;
		case OPT_CLAMP: o.clamp = 1; break;
		case OPT_FIELD: o.field = optarg; break;
		case 'o': o.output = optarg; break;
		case 'z': o.level = (int)tool_long("--level", optarg, 0, 22); break;
		case 'h':
			fputs(help, stdout);
			puts(cnn_filter_names());
			exit(0);
		case 'V': tool_version();
		default: usage_error(NULL);
		}
	}
	if (!o.kernel == !o.kernel_file)
		usage_error("give one of --kernel and --kernel-file");
	if (o.kernel_file && o.bias != 0)
		usage_error("--bias is for --kernel; a kernel file carries its own bias");
	if (o.depthwise && o.groups != 1)
		usage_error("--depthwise and --groups together");
	if (o.kernel) {
		/* Check the spec now, not at the first record. */
		cnn_tensor *check = cnn_filter_bank(o.kernel, CNN_MAX_SPATIAL, 1);
		if (!check)
			usage_error("--kernel %s", cnn_errmsg());
		cnn_tensor_free(check);
	}
	if (o.rescale && o.clamp)
		usage_error("--rescale and --clamp together");
	if (o.abs && o.magnitude)
		usage_error("--abs and --magnitude together (a magnitude is never negative)");
	if (o.pad && strcmp(o.pad, "valid") && strcmp(o.pad, "same") && strcmp(o.pad, "full")) {
		int v[2 * CNN_MAX_SPATIAL];
		tool_ints("--pad", o.pad, v, 2 * CNN_MAX_SPATIAL, 0, 1 << 20);
	}

	tool_input_init(&in, argc - optind, argv + optind);
	wr = tool_output(o.output, o.level);
	if (!(rec = cnn_record_new()))
		die_lib();
	while (tool_read(&in, rec, 0)) {
		cnn_tensor *x = cnn_record_get(rec, o.field);
		if (!x)
			die_record(&in, "no tensor \"%s\"", o.field);
		if (!weight)
			make_bank(&o, &in, x, &weight, &bias);
		if (cnn_record_put(rec, convolve(&o, &in, x, weight, bias)))
			die_lib();
		tool_write(wr, rec);
	}
	tool_output_close(wr);
	cnn_record_free(rec);
	cnn_tensor_free(weight);
	cnn_tensor_free(bias);
	return 0;
}
