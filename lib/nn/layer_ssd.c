/*
 * layer_ssd.c - [ssd], the SSD detector's head (Liu et al. 2016) as
 * torchvision's SSD has it: default boxes over several feature maps, each
 * map with a loc layer (boxes x 4 channels: the encoded offsets) and a
 * conf layer (boxes x logits channels: the class scores), box b of a cell
 * in channels b x 4 + k and b x logits + k.
 *
 *   loc=L0,L1,...   conf=C0,C1,...   the layers, map by map
 *   classes=N       object classes (the logits are background, then them)
 *   logits=K        conf values per box (default classes + 1)
 *   aspect_ratios=[[2],[2,3],...]   per map, torchvision's form: 2 + 2 x
 *                   (its ratios) boxes a cell; min_ratio= (0.15),
 *                   max_ratio= (0.9), scales= (maps + 1 of them), steps=,
 *                   clip= (1): the default boxes (ssd_priors.c)
 *   priors=NAME     instead: the model's constant NAME holds them
 *   variance=0.1,0.1,0.2,0.2   the box code's (torchvision's weights
 *                   10, 10, 5, 5 are their inverses)
 *   code=xywh       the order of the 4 offsets: dx, dy, dw, dh; yxhw is
 *                   TensorFlow's (face-api's)
 *   score=softmax   the class scores: a softmax over the logits; sigmoid
 *                   takes the logistic of each class's logit (TensorFlow's
 *                   object detection API, face-api), for running only
 *   iou_thresh= (0.5), neg_pos= (3), alpha= (1): the loss (ssd_loss.c)
 *   nms= (0.45)     the IoU of cnn-detect's NMS
 *
 * A box's decoding (torchvision's BoxCoder.decode_single): with the
 * default box's centre, width and height in the input's pixels,
 * cx = dx v0 w_a + cx_a, cy = dy v1 h_a + cy_a, w = e^(dw v2) w_a,
 * h = e^(dh v3) h_a (dw and dh at most log(1000 / 16) / v), clipped to the
 * input; a row for each class whose score passes the threshold.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/ssd.h"

static const char *const scores[] = {"softmax", "sigmoid", NULL};
static const char *const codes[] = {"xywh", "yxhw", NULL};

/* [[2],[2,3],[]]: a list of ratios for each map, as torchvision writes
 * aspect_ratios. */
static int parse_ratios(struct ssd *s, cnn_cfg_section *sec, const char *text)
{
	const char *p = text;
	int k = 0;

#define SKIP() while (isspace((unsigned char)*p)) p++
	SKIP();
	if (*p++ != '[')
		goto bad;
	for (;;) {
		SKIP();
		if (*p == ']' && k == 0)
			goto bad;
		if (*p++ != '[' || k == SSD_MAX_MAPS)
			goto bad;
		struct ssd_map *m = &s->map[k++];
		SKIP();
		while (*p != ']') {
			char *end;
			double a = strtod(p, &end);
			if (end == p || !(a > 0 && a < 1e3) || m->nratios == SSD_MAX_RATIOS)
				goto bad;
			m->ratio[m->nratios++] = (float)a;
			p = end;
			SKIP();
			if (*p == ',')
				p++;
			SKIP();
		}
		p++;
		SKIP();
		if (*p == ']')
			break;
		if (*p++ != ',')
			goto bad;
	}
	p++;
	SKIP();
	if (*p)
		goto bad;
#undef SKIP
	if (k != s->nmaps)
		return cnn_cfg_error(sec, "aspect_ratios= has %d lists for %d maps", k, s->nmaps);
	return CNN_OK;
bad:
	return cnn_cfg_error(sec, "aspect_ratios=%s: want torchvision's form, a list of "
			     "positive ratios for each map: [[2],[2,3],[2,3]] (at most %d maps "
			     "of %d)", text, SSD_MAX_MAPS, SSD_MAX_RATIOS);
}

/* scales=, or torchvision's from min_ratio= and max_ratio=. */
static int read_scales(struct ssd *s, cnn_cfg_section *sec)
{
	float lo, hi;
	int n;

	if (cnn_cfg_list(sec, "scales", s->scale, SSD_MAX_MAPS + 1, &n) ||
	    cnn_cfg_float(sec, "min_ratio", 0.15f, 0, 10, &lo) ||
	    cnn_cfg_float(sec, "max_ratio", 0.9f, 0, 10, &hi) ||
	    cnn_cfg_list(sec, "steps", s->step, SSD_MAX_MAPS, &s->nsteps) ||
	    cnn_cfg_int(sec, "clip", 1, 0, 1, &s->clip))
		return CNN_ERR;
	if (s->nsteps && s->nsteps != s->nmaps)
		return cnn_cfg_error(sec, "steps= has %d values for %d maps", s->nsteps, s->nmaps);
	for (int i = 0; i < s->nsteps; i++)
		if (!(s->step[i] > 0))
			return cnn_cfg_error(sec, "steps= must be positive");
	if (n) {
		if (n != s->nmaps + 1)
			return cnn_cfg_error(sec, "scales= has %d values; %d maps want %d", n,
					     s->nmaps, s->nmaps + 1);
		for (int i = 0; i < n; i++)
			if (!(s->scale[i] > 0))
				return cnn_cfg_error(sec, "scales= must be positive");
		return CNN_OK;
	}
	if (!(lo > 0) || !(hi >= lo))
		return cnn_cfg_error(sec, "min_ratio=%g and max_ratio=%g: want 0 < min <= max", lo,
				     hi);
	/* In double, as Python computes them. */
	if (s->nmaps > 1) {
		for (int k = 0; k < s->nmaps; k++)
			s->scale[k] = (float)((double)lo + ((double)hi - lo) * k / (s->nmaps - 1.0));
		s->scale[s->nmaps] = 1;
	} else {
		s->scale[0] = lo;
		s->scale[1] = hi;
	}
	return CNN_OK;
}

static int read_keys(struct ssd *s, cnn_cfg_section *sec)
{
	float variance[4] = {0.1f, 0.1f, 0.2f, 0.2f};
	int n;

	if (cnn_cfg_int(sec, "classes", 1, 1, CNN_BOX_MAX_CLASS, &s->classes) ||
	    cnn_cfg_int(sec, "logits", s->classes + 1, s->classes + 1, CNN_BOX_MAX_CLASS + 1,
			&s->logits) ||
	    cnn_cfg_choice(sec, "score", scores, SSD_SOFTMAX, &s->score) ||
	    cnn_cfg_choice(sec, "code", codes, SSD_XYWH, &s->code) ||
	    cnn_cfg_list(sec, "variance", variance, 4, &n) ||
	    cnn_cfg_float(sec, "iou_thresh", 0.5f, 0, 1, &s->iou_thresh) ||
	    cnn_cfg_float(sec, "neg_pos", 3, 0, 1e6f, &s->neg_pos) ||
	    cnn_cfg_float(sec, "alpha", 1, 0, 1e6f, &s->alpha) ||
	    cnn_cfg_float(sec, "nms", 0.45f, 0, 1, &s->nms))
		return CNN_ERR;
	if (n && n != 4)
		return cnn_cfg_error(sec, "variance= wants 4 numbers (x, y, w, h)");
	for (int i = 0; i < 4; i++) {
		if (!(variance[i] > 0))
			return cnn_cfg_error(sec, "variance= must be positive");
		s->weight[i] = (float)(1.0 / variance[i]);
	}
	s->priors_name = cnn_cfg_str(sec, "priors", NULL);
	return CNN_OK;
}

/* Each map's layers, their shapes, and the boxes a cell. */
static int read_maps(cnn_layer *l, cnn_net *net, struct ssd *s, cnn_cfg_section *sec)
{
	cnn_layer *loc[SSD_MAX_MAPS], *conf[SSD_MAX_MAPS];
	const char *ratios = cnn_cfg_str(sec, "aspect_ratios", NULL);
	int nconf;

	if (cnn_net_layer_refs(net, l, sec, "loc", loc, SSD_MAX_MAPS, &s->nmaps) ||
	    cnn_net_layer_refs(net, l, sec, "conf", conf, SSD_MAX_MAPS, &nconf))
		return CNN_ERR;
	if (s->nmaps == 0 || nconf != s->nmaps)
		return cnn_cfg_error(sec, "needs loc= and conf=, a layer of each for every map "
				     "(%d and %d)", s->nmaps, nconf);
	if (!ratios == !s->priors_name)
		return cnn_cfg_error(sec, "needs aspect_ratios= (default boxes made here) or "
				     "priors= (a constant of the model), one of them");
	if (ratios && parse_ratios(s, sec, ratios))
		return CNN_ERR;
	for (int k = 0; k < s->nmaps; k++) {
		struct ssd_map *m = &s->map[k];
		m->loc = loc[k];
		m->conf = conf[k];
		m->boxes = ratios ? 2 + 2 * m->nratios : loc[k]->out_c / 4;
		if (loc[k]->out_h != conf[k]->out_h || loc[k]->out_w != conf[k]->out_w)
			return cnn_cfg_error(sec, "map %d: loc layer %d is %dx%d, conf layer %d "
					     "%dx%d", k, loc[k]->index, loc[k]->out_h, loc[k]->out_w,
					     conf[k]->index, conf[k]->out_h, conf[k]->out_w);
		if (loc[k]->out_c != 4 * m->boxes)
			return cnn_cfg_error(sec, "map %d: %d boxes a cell want filters=%d in loc "
					     "layer %d (it has %d)", k, m->boxes, 4 * m->boxes,
					     loc[k]->index, loc[k]->out_c);
		if (conf[k]->out_c != s->logits * m->boxes)
			return cnn_cfg_error(sec, "map %d: %d boxes a cell of %d logits want "
					     "filters=%d in conf layer %d (it has %d)", k, m->boxes,
					     s->logits, s->logits * m->boxes, conf[k]->index,
					     conf[k]->out_c);
		m->first = s->boxes;
		s->boxes += (long)m->boxes * loc[k]->out_h * loc[k]->out_w;
		loc[k]->read = conf[k]->read = 1;
		l->rf = loc[k]->rf > l->rf ? loc[k]->rf : l->rf;
		l->rf = conf[k]->rf > l->rf ? conf[k]->rf : l->rf;
	}
	return CNN_OK;
}

static int build(cnn_layer *l, cnn_net *net, cnn_cfg_section *sec)
{
	struct ssd *s = calloc(1, sizeof *s);

	if (!(l->state = s))
		return cnn_error("out of memory");
	l->truth = (cnn_truth_field){"boxes_true", CNN_TRUTH_BOXES, CNN_BOX_FIELDS};
	l->rf = 0;
	if (read_keys(s, sec) || read_maps(l, net, s, sec) ||
	    (!s->priors_name && read_scales(s, sec)))
		return CNN_ERR;
	if (s->boxes > (1L << 24))
		return cnn_cfg_error(sec, "%ld default boxes", s->boxes);
	l->out_c = 1;
	l->out_h = (int)s->boxes;
	l->out_w = 4 + s->logits;
	/* Like [route], its input is what it gathers. */
	l->c = l->out_c;
	l->h = l->out_h;
	l->w = l->out_w;
	l->inputs = (long)l->c * l->h * l->w;
	l->input_delta = NULL;
	l->flops = (double)l->inputs;
	s->match = malloc(sizeof *s->match * s->boxes);
	s->negative = malloc(sizeof *s->negative * s->boxes);
	if (!s->match || !s->negative)
		return cnn_error("out of memory");
	return s->priors_name ? CNN_OK : cnn_ssd_make_priors(s, net->h, net->w);
}

/* Every default box's offsets and logits, gathered into its row. */
static int forward(cnn_layer *l, cnn_net *net)
{
	struct ssd *s = l->state;
	long per = 4 + s->logits;

	if (s->priors_name && cnn_ssd_constant_priors(s, net))
		return CNN_ERR;
	for (int b = 0; b < net->n; b++)
		for (int k = 0; k < s->nmaps; k++) {
			const struct ssd_map *m = &s->map[k];
			long plane = (long)m->loc->out_h * m->loc->out_w;
			const float *loc = m->loc->output + (long)b * m->loc->outputs;
			const float *conf = m->conf->output + (long)b * m->conf->outputs;
			float *out = l->output + (long)b * l->outputs + m->first * per;
			for (long p = 0; p < plane; p++)
				for (int a = 0; a < m->boxes; a++, out += per) {
					for (int v = 0; v < 4; v++)
						out[v] = loc[(a * 4 + v) * plane + p];
					for (int v = 0; v < s->logits; v++)
						out[4 + v] = conf[((long)a * s->logits + v) * plane + p];
				}
		}
	return CNN_OK;
}

/* The gathered delta back to the maps' layers. */
static int backward(cnn_layer *l, cnn_net *net)
{
	struct ssd *s = l->state;
	long per = 4 + s->logits;

	for (int b = 0; b < net->n; b++)
		for (int k = 0; k < s->nmaps; k++) {
			const struct ssd_map *m = &s->map[k];
			long plane = (long)m->loc->out_h * m->loc->out_w;
			float *loc = m->loc->delta + (long)b * m->loc->outputs;
			float *conf = m->conf->delta + (long)b * m->conf->outputs;
			const float *d = l->delta + (long)b * l->outputs + m->first * per;
			for (long p = 0; p < plane; p++)
				for (int a = 0; a < m->boxes; a++, d += per) {
					for (int v = 0; v < 4; v++)
						loc[(a * 4 + v) * plane + p] += d[v];
					for (int v = 0; v < s->logits; v++)
						conf[((long)a * s->logits + v) * plane + p] += d[4 + v];
				}
		}
	return CNN_OK;
}

/* Box i's offsets decoded against its default box, in the input's pixels
 * (torchvision's decode_single), clipped to the input. */
static void decode(const struct ssd *s, long i, const float *code, int h, int w, float box[4])
{
	const float clamp = logf(1000.0f / 16);
	float a[4], dx, dy, dw, dh, aw, ah, cx, cy;
	int yx = s->code == SSD_YXHW;

	cnn_ssd_prior_corners(s, i, h, w, a);
	aw = a[2] - a[0];
	ah = a[3] - a[1];
	cx = a[0] + 0.5f * aw;
	cy = a[1] + 0.5f * ah;
	dx = code[yx ? 1 : 0] / s->weight[0];
	dy = code[yx ? 0 : 1] / s->weight[1];
	dw = fminf(code[yx ? 3 : 2] / s->weight[2], clamp);
	dh = fminf(code[yx ? 2 : 3] / s->weight[3], clamp);
	cx += dx * aw;
	cy += dy * ah;
	aw *= expf(dw);
	ah *= expf(dh);
	box[0] = fminf(fmaxf(cx - 0.5f * aw, 0), (float)w);
	box[1] = fminf(fmaxf(cy - 0.5f * ah, 0), (float)h);
	box[2] = fminf(fmaxf(cx + 0.5f * aw, 0), (float)w);
	box[3] = fminf(fmaxf(cy + 0.5f * ah, 0), (float)h);
}

static int detect(const cnn_layer *l, const cnn_net *net, int b, double thresh,
		  cnn_box_rows *out, double *nms)
{
	const struct ssd *s = l->state;
	long per = 4 + s->logits;

	*nms = s->nms;
	for (long i = 0; i < s->boxes; i++) {
		const float *row = l->output + (long)b * l->outputs + i * per, *z = row + 4;
		float box[4], top = z[0];
		double sum = 0;
		int decoded = 0;
		if (s->score == SSD_SOFTMAX) {
			for (int k = 1; k < s->logits; k++)
				top = fmaxf(top, z[k]);
			for (int k = 0; k < s->logits; k++)
				sum += exp((double)z[k] - top);
		}
		for (int k = 0; k < s->classes; k++) {
			double p = s->score == SSD_SOFTMAX ? exp((double)z[k + 1] - top) / sum
							   : 1 / (1 + exp(-(double)z[k + 1]));
			if (!(p > thresh))
				continue;
			if (!decoded++)
				decode(s, i, row, net->h, net->w, box);
			if (cnn_box_rows_add(out, box[0], box[1], box[2], box[3], p, k))
				return CNN_ERR;
		}
	}
	return CNN_OK;
}

static void free_state(cnn_layer *l)
{
	struct ssd *s = l->state;

	if (s) {
		free(s->prior);
		free(s->match);
		free(s->negative);
	}
	free(s);
}

const cnn_layer_type cnn_layer_ssd = {
	.name = "ssd", .build = build, .forward = forward, .backward = backward,
	.loss = cnn_ssd_loss, .detect = detect, .free = free_state,
};
