/*
 * imagestats.c - per-channel statistics of a set of images: the mean and
 * standard deviation that normalisation needs, and the principal axes of
 * colour that AlexNet's PCA colour augmentation needs.
 */
#include <math.h>
#include <string.h>

#include "cnn.h"

void cnn_image_stats_init(cnn_image_stats *s)
{
	memset(s, 0, sizeof *s);
}

int cnn_image_stats_add(cnn_image_stats *s, const cnn_tensor *img)
{
	int64_t c, plane;
	double full, sum[CNN_STATS_MAX_CHANNELS] = {0};
	double cross[CNN_STATS_MAX_CHANNELS][CNN_STATS_MAX_CHANNELS] = {{0}};
	char desc[128];
	cnn_tensor *f;
	const float *x;

	if (img->ndim != 3 || img->dtype == CNN_TEXT || img->dim[0] > CNN_STATS_MAX_CHANNELS)
		return cnn_error("tensor \"%s\" is %s; statistics want an image C x H x W of up to %d channels",
				 img->name, cnn_tensor_describe(img, desc, sizeof desc),
				 CNN_STATS_MAX_CHANNELS);
	c = img->dim[0];
	plane = img->dim[1] * img->dim[2];
	if (s->channels && s->channels != c)
		return cnn_error("tensor \"%s\" has %lld channels, earlier images %d", img->name,
				 (long long)c, s->channels);
	/* Other dtypes through an f32 copy, the fast conversion of u8. */
	f = img->dtype == CNN_F32 ? NULL : cnn_tensor_convert(img, CNN_F32);
	if (img->dtype != CNN_F32 && !f)
		return CNN_ERR;
	x = f ? f->data : img->data;
	s->channels = (int)c;
	full = img->dtype == CNN_U16 ? 65535 : 255;
	/* Sums per image first, so that the running totals add numbers of
	 * like size. */
	for (int64_t i = 0; i < plane; i++) {
		double v[CNN_STATS_MAX_CHANNELS];
		for (int64_t k = 0; k < c; k++)
			v[k] = x[k * plane + i] / full;
		for (int64_t k = 0; k < c; k++) {
			sum[k] += v[k];
			for (int64_t j = 0; j <= k; j++)
				cross[k][j] += v[k] * v[j];
		}
	}
	for (int64_t k = 0; k < c; k++) {
		s->sum[k] += sum[k];
		for (int64_t j = 0; j <= k; j++)
			s->cross[k][j] += cross[k][j];
	}
	s->count += plane;
	cnn_tensor_free(f);
	return CNN_OK;
}

/* Eigenvalues and vectors of the symmetric n x n matrix a by Jacobi
 * rotations: a is destroyed, its diagonal left holding the eigenvalues,
 * v's columns the vectors. */
static void jacobi(int n, double a[][CNN_STATS_MAX_CHANNELS], double v[][CNN_STATS_MAX_CHANNELS])
{
	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++)
			v[i][j] = i == j;
	for (int sweep = 0; sweep < 100; sweep++) {
		double off = 0;
		for (int p = 0; p < n; p++)
			for (int q = p + 1; q < n; q++)
				off += a[p][q] * a[p][q];
		if (off < 1e-30)
			return;
		for (int p = 0; p < n; p++)
			for (int q = p + 1; q < n; q++) {
				if (a[p][q] == 0)
					continue;
				double theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
				double t = (theta >= 0 ? 1 : -1) / (fabs(theta) + sqrt(theta * theta + 1));
				double cs = 1 / sqrt(t * t + 1), sn = t * cs;
				for (int k = 0; k < n; k++) {
					double akp = a[k][p], akq = a[k][q];
					a[k][p] = cs * akp - sn * akq;
					a[k][q] = sn * akp + cs * akq;
				}
				for (int k = 0; k < n; k++) {
					double apk = a[p][k], aqk = a[q][k];
					a[p][k] = cs * apk - sn * aqk;
					a[q][k] = sn * apk + cs * aqk;
				}
				for (int k = 0; k < n; k++) {
					double vkp = v[k][p], vkq = v[k][q];
					v[k][p] = cs * vkp - sn * vkq;
					v[k][q] = sn * vkp + cs * vkq;
				}
			}
	}
}

int cnn_image_stats_finish(cnn_image_stats *s)
{
	double cov[CNN_STATS_MAX_CHANNELS][CNN_STATS_MAX_CHANNELS];
	double vec[CNN_STATS_MAX_CHANNELS][CNN_STATS_MAX_CHANNELS];
	int n = s->channels, order[CNN_STATS_MAX_CHANNELS];

	if (s->count == 0)
		return cnn_error("no images to take statistics of");
	for (int k = 0; k < n; k++)
		s->mean[k] = s->sum[k] / s->count;
	for (int k = 0; k < n; k++)
		for (int j = 0; j <= k; j++)
			cov[k][j] = cov[j][k] = s->cross[k][j] / s->count - s->mean[k] * s->mean[j];
	for (int k = 0; k < n; k++)
		s->std[k] = sqrt(fmax(cov[k][k], 0));
	jacobi(n, cov, vec);
	/* Largest first; the spread along an axis is the square root of its
	 * eigenvalue. */
	for (int k = 0; k < n; k++)
		order[k] = k;
	for (int k = 1; k < n; k++)
		for (int j = k; j > 0 && cov[order[j]][order[j]] > cov[order[j - 1]][order[j - 1]]; j--) {
			int t = order[j];
			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	for (int k = 0; k < n; k++) {
		s->eigval[k] = sqrt(fmax(cov[order[k]][order[k]], 0));
		for (int j = 0; j < n; j++)
			s->eigvec[k][j] = vec[j][order[k]];
	}
	return CNN_OK;
}

int cnn_image_stats_to_record(const cnn_image_stats *s, cnn_record *rec)
{
	int64_t n = s->channels;
	cnn_tensor *t[4] = {
		cnn_tensor_new("mean", CNN_F32, 1, &n), cnn_tensor_new("std", CNN_F32, 1, &n),
		cnn_tensor_new("eigval", CNN_F32, 1, &n),
		cnn_tensor_new("eigvec", CNN_F32, 2, (int64_t[]){n, n}),
	};
	int rc = CNN_OK;

	for (int i = 0; i < 4; i++)
		if (!t[i])
			rc = CNN_ERR;
	for (int64_t k = 0; k < n && rc == CNN_OK; k++) {
		((float *)t[0]->data)[k] = (float)s->mean[k];
		((float *)t[1]->data)[k] = (float)s->std[k];
		((float *)t[2]->data)[k] = (float)s->eigval[k];
		for (int64_t j = 0; j < n; j++)
			((float *)t[3]->data)[k * n + j] = (float)s->eigvec[k][j];
	}
	for (int i = 0; i < 4; i++) {
		if (rc == CNN_OK)
			rc = cnn_record_put(rec, t[i]);
		else
			cnn_tensor_free(t[i]);
	}
	return rc;
}

int cnn_image_stats_from_record(cnn_image_stats *s, const cnn_record *rec)
{
	static const char *const names[4] = {"mean", "std", "eigval", "eigvec"};
	const cnn_tensor *t[4];
	int64_t n;

	cnn_image_stats_init(s);
	for (int i = 0; i < 4; i++)
		if (!(t[i] = cnn_record_get(rec, names[i])))
			return cnn_error("statistics: no tensor \"%s\"", names[i]);
	n = t[0]->ndim == 1 ? t[0]->dim[0] : 0;
	if (n < 1 || n > CNN_STATS_MAX_CHANNELS || t[1]->ndim != 1 || t[1]->dim[0] != n ||
	    t[2]->ndim != 1 || t[2]->dim[0] != n || t[3]->ndim != 2 || t[3]->dim[0] != n ||
	    t[3]->dim[1] != n)
		return cnn_error("statistics: want mean, std and eigval of C values and eigvec C x C, C 1..%d",
				 CNN_STATS_MAX_CHANNELS);
	s->channels = (int)n;
	for (int64_t k = 0; k < n; k++) {
		s->mean[k] = cnn_tensor_get(t[0], k);
		s->std[k] = cnn_tensor_get(t[1], k);
		s->eigval[k] = cnn_tensor_get(t[2], k);
		for (int64_t j = 0; j < n; j++)
			s->eigvec[k][j] = cnn_tensor_get(t[3], k * n + j);
		if (!isfinite(s->mean[k]) || !(s->std[k] >= 0) || !isfinite(s->std[k]))
			return cnn_error("statistics: channel %lld: mean %g, std %g", (long long)k,
					 s->mean[k], s->std[k]);
	}
	return CNN_OK;
}
