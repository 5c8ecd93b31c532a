/*
 * windows.c - sliding-window detection with a classifier: the course's
 * detector before YOLO.  Windows of the classifier's input size, a stride
 * apart, over the image at each scale; each window whose best class (not
 * the background) scores above the threshold becomes a box.
 *
 * Either each window goes through the classifier, in batches, or
 * (convolutional) the classifier made fully convolutional (nn/fcn.c) runs
 * once over the whole image at each scale and its map holds every
 * window's scores, the windows then its stride apart: the shared
 * computation of overlapping windows is done once.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/net.h"

/* The best class of a window's k scores (each step floats apart), not the
 * background; -1 when none passes the threshold. */
static int best(const float *p, long k, long step, const cnn_windows_opts *o, float *score)
{
	int top = -1;

	for (long c = 0; c < k; c++)
		if (c != o->background && p[c * step] > o->threshold &&
		    (top < 0 || p[c * step] > p[top * step]))
			top = (int)c;
	if (top >= 0)
		*score = p[top * step];
	return top;
}

/* Every window of img (the image at this scale, f32 on the network's
 * scale) through the classifier, batch by batch. */
static int each_window(cnn_net *net, const cnn_tensor *img, double scale,
		       const cnn_windows_opts *o, cnn_box_rows *out)
{
	int c, h, w, batch = cnn_net_batch(net), n = 0;
	int64_t H = img->dim[1], W = img->dim[2], at[1024][2];
	long k = cnn_net_outputs(net), size;
	float *x;

	cnn_net_input_shape(net, &c, &h, &w);
	size = (long)c * h * w;
	batch = batch < 1024 ? batch : 1024;
	if (!(x = malloc(sizeof *x * size * batch)))
		return cnn_error("out of memory");
	for (int64_t top = 0; top + h <= H; top += o->stride)
		for (int64_t left = 0; left + w <= W; left += o->stride) {
			for (int ch = 0; ch < c; ch++)
				for (int y = 0; y < h; y++)
					memcpy(x + (long)n * size + ((long)ch * h + y) * w,
					       (const float *)img->data + (ch * H + top + y) * W + left,
					       sizeof *x * w);
			at[n][0] = top;
			at[n][1] = left;
			int last = top + o->stride + h > H && left + o->stride + w > W;
			if (++n < batch && !last)
				continue;
			const float *p = cnn_net_forward(net, x, n, 0);
			if (!p) {
				free(x);
				return CNN_ERR;
			}
			for (int i = 0; i < n; i++) {
				float score;
				int cls = best(p + i * k, k, 1, o, &score);
				if (cls >= 0 &&
				    cnn_box_rows_add(out, at[i][1] / scale, at[i][0] / scale,
						     (at[i][1] + w) / scale, (at[i][0] + h) / scale, score,
						     cls)) {
					free(x);
					return CNN_ERR;
				}
			}
			n = 0;
		}
	free(x);
	return CNN_OK;
}

/* The whole image through the classifier made fully convolutional: its
 * map's position (i, j) is the window at (j, i) times its stride. */
static int one_pass(const cnn_net *net, const cnn_tensor *img, double scale,
		    const cnn_windows_opts *o, cnn_box_rows *out)
{
	int c, h, w, mc, mh, mw;
	cnn_net *fcn = cnn_net_convolutionalize(net, (int)img->dim[1], (int)img->dim[2]);
	const float *map;
	int ret = CNN_OK;

	if (!fcn)
		return CNN_ERR;
	cnn_net_input_shape(net, &c, &h, &w);
	if (!(map = cnn_net_forward(fcn, img->data, 1, 0)) ||
	    !cnn_net_layer_output(fcn, cnn_net_layers(fcn) - 1, &mc, &mh, &mw)) {
		cnn_net_free(fcn);
		return CNN_ERR;
	}
	cnn_layer_info info;
	cnn_net_layer_info(fcn, cnn_net_layers(fcn) - 1, &info);
	for (int i = 0; i < mh && ret == CNN_OK; i++)
		for (int j = 0; j < mw && ret == CNN_OK; j++) {
			float score;
			int cls = best(map + (long)i * mw + j, mc, (long)mh * mw, o, &score);
			double x = (double)j * info.jump, y = (double)i * info.jump;
			if (cls >= 0)
				ret = cnn_box_rows_add(out, x / scale, y / scale, (x + w) / scale,
						       (y + h) / scale, score, cls);
		}
	cnn_net_free(fcn);
	return ret;
}

cnn_tensor *cnn_sliding_windows(cnn_net *net, const cnn_tensor *image,
				const cnn_windows_opts *o)
{
	static const cnn_input_rule stretch = {CNN_RESIZE_DEFAULT, CNN_PAD_NONE};
	cnn_box_rows out = {0};
	cnn_tensor *boxes = NULL;
	int c, h, w, ret = CNN_OK;

	cnn_net_input_shape(net, &c, &h, &w);
	if (image->ndim != 3 || image->dim[0] != c)
		return cnn_error("the image has %lld channels, the classifier takes %d",
				 image->ndim == 3 ? (long long)image->dim[0] : 0LL, c), NULL;
	for (int s = 0; s < o->nscales && ret == CNN_OK; s++) {
		double scale = o->scale[s];
		int64_t H = (int64_t)lround(image->dim[1] * scale), W = (int64_t)lround(image->dim[2] * scale);
		cnn_tensor *img;
		if (H < h || W < w)
			continue; /* no window fits */
		/* At its own size the image is only made f32 on the network's scale. */
		if (!(img = cnn_image_fit(image, H, W, &stretch)))
			return free(out.row), NULL;
		ret = o->convolutional ? one_pass(net, img, scale, o, &out)
				       : each_window(net, img, scale, o, &out);
		cnn_tensor_free(img);
	}
	if (ret == CNN_OK && (boxes = cnn_boxes_new("boxes", out.n)) && out.n)
		memcpy(boxes->data, out.row, sizeof(float) * CNN_BOX_FIELDS * out.n);
	free(out.row);
	return boxes;
}
