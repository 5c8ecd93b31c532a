/*
 * ssd_priors.c - [ssd]'s default boxes, as torchvision's
 * DefaultBoxGenerator makes them (the SSD paper, page 6): map k of m has
 * scale s_k (min_ratio + (max_ratio - min_ratio) k / (m - 1), then 1.0
 * after the last, unless scales= gives all m + 1), and at each cell of its
 * grid, centred at ((j + 0.5) / f_x, (i + 0.5) / f_y) (f the grid's size,
 * or the input over steps= when given), the boxes s_k x s_k,
 * sqrt(s_k s_k+1) squared, and for each aspect ratio a, s_k sqrt(a) x
 * s_k / sqrt(a) and its transpose; with clip=1 the widths and heights are
 * clamped to 0..1.  Arithmetic as torchvision's: the scales in double,
 * the boxes in float.
 *
 * Or the model brings them (face-api's SSD MobileNet v1): a constant of
 * boxes x 4 in TensorFlow's order, ymin, xmin, ymax, xmax.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/ssd.h"

int cnn_ssd_make_priors(struct ssd *s, int h, int w)
{
	float *p = s->prior = malloc(sizeof(float) * 4 * (size_t)s->boxes);

	if (!p)
		return cnn_error("out of memory for %ld default boxes", s->boxes);
	for (int k = 0; k < s->nmaps; k++) {
		const struct ssd_map *m = &s->map[k];
		int gh = m->loc->out_h, gw = m->loc->out_w, n = 0;
		double sk = s->scale[k], wh[2 * (2 + 2 * SSD_MAX_RATIOS)];
		float fx = s->nsteps ? (float)((double)w / s->step[k]) : (float)gw;
		float fy = s->nsteps ? (float)((double)h / s->step[k]) : (float)gh;

		wh[n++] = sk;
		wh[n++] = sk;
		wh[n++] = sqrt(sk * s->scale[k + 1]);
		wh[n++] = sqrt(sk * s->scale[k + 1]);
		for (int r = 0; r < m->nratios; r++) {
			double a = sqrt(m->ratio[r]);
			wh[n++] = sk * a;
			wh[n++] = sk / a;
			wh[n++] = sk / a;
			wh[n++] = sk * a;
		}
		for (int i = 0; i < gh; i++)
			for (int j = 0; j < gw; j++)
				for (int b = 0; b < m->boxes; b++) {
					float bw = (float)wh[2 * b], bh = (float)wh[2 * b + 1];
					if (s->clip) {
						bw = fminf(fmaxf(bw, 0), 1);
						bh = fminf(fmaxf(bh, 0), 1);
					}
					*p++ = ((float)j + 0.5f) / fx;
					*p++ = ((float)i + 0.5f) / fy;
					*p++ = bw;
					*p++ = bh;
				}
	}
	return CNN_OK;
}

int cnn_ssd_constant_priors(struct ssd *s, const cnn_net *net)
{
	const cnn_tensor *t = cnn_net_constant(net, s->priors_name);
	char desc[128];

	if (s->prior)
		return CNN_OK;
	if (!t)
		return cnn_error("[ssd] priors=%s: the model has no such constant", s->priors_name);
	if (t->dtype != CNN_F32 || cnn_tensor_count(t) != 4 * s->boxes)
		return cnn_error("[ssd] priors=%s is %s; its maps have %ld default boxes (x 4 "
				 "floats: ymin, xmin, ymax, xmax)", s->priors_name,
				 cnn_tensor_describe(t, desc, sizeof desc), s->boxes);
	if (!(s->prior = malloc(sizeof(float) * 4 * (size_t)s->boxes)))
		return cnn_error("out of memory for %ld default boxes", s->boxes);
	for (long i = 0; i < s->boxes; i++) {
		const float *b = (const float *)t->data + 4 * i;
		float bh = b[2] - b[0], bw = b[3] - b[1];
		s->prior[4 * i] = b[1] + bw / 2;
		s->prior[4 * i + 1] = b[0] + bh / 2;
		s->prior[4 * i + 2] = bw;
		s->prior[4 * i + 3] = bh;
	}
	return CNN_OK;
}

void cnn_ssd_prior_corners(const struct ssd *s, long i, int h, int w, float box[4])
{
	const float *p = s->prior + 4 * i;

	box[0] = (p[0] - 0.5f * p[2]) * (float)w;
	box[1] = (p[1] - 0.5f * p[3]) * (float)h;
	box[2] = (p[0] + 0.5f * p[2]) * (float)w;
	box[3] = (p[1] + 0.5f * p[3]) * (float)h;
}
