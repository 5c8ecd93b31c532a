/*
 * test_box_iou_loss.c - [yolo]'s iou_loss=iou, giou, diou and ciou
 * (yolo_iou.c): the loss and its gradient by the predicted box against
 * torchvision's losses and autograd (tests/vectors/make-box-iou-loss.py),
 * on boxes that overlap, lie apart, nest and share a centre; and, but for
 * CIoU (whose alpha is held constant, so its gradient is not the
 * derivative of its value), against central differences.
 */
#include <math.h>

#include "nn/yolo.h"
#include "tap.h"
#include "vectors.h"

static const char *const kinds[] = {"mse", "iou", "giou", "diou", "ciou"};

static void check_record(struct vec_file *f, const char *line)
{
	int n, kind = 0;
	char name[16] = "";

	vec_ints(f, line, "n", &n, 1);
	sscanf(strstr(line, "kind=") ? strstr(line, "kind=") + 5 : "", "%15s", name);
	for (int k = 1; k < 5; k++)
		if (!strcmp(name, kinds[k]))
			kind = k;
	float *p = vec_floats(f, 4L * n), *t = vec_floats(f, 4L * n);
	float *loss = vec_floats(f, n), *grad = vec_floats(f, 4L * n);
	double worst_loss = 0, worst_grad = 0, worst_numeric = 0;

	for (int i = 0; p && t && loss && grad && i < n; i++) {
		struct cbox pb = {p[4 * i], p[4 * i + 1], p[4 * i + 2], p[4 * i + 3]};
		struct cbox tb = {t[4 * i], t[4 * i + 1], t[4 * i + 2], t[4 * i + 3]};
		double g[4], value = cnn_yolo_iou_loss(kind, pb, tb, g);
		worst_loss = fmax(worst_loss, fabs(value - loss[i]));
		for (int k = 0; k < 4; k++) {
			worst_grad = fmax(worst_grad, fabs(g[k] - grad[4 * i + k]));
			if (kind == YOLO_CIOU)
				continue;
			double h = 1e-3, up, down, ignored[4];
			float *v = &pb.x + k, keep = *v;
			*v = keep + (float)h;
			up = cnn_yolo_iou_loss(kind, pb, tb, ignored);
			*v = keep - (float)h;
			down = cnn_yolo_iou_loss(kind, pb, tb, ignored);
			*v = keep;
			worst_numeric = fmax(worst_numeric, fabs((up - down) / (2 * h) - g[k]));
		}
	}
	tap_ok(kind && worst_loss < 1e-6 && worst_grad < 1e-5,
	       "iou_loss=%s, %d boxes: torchvision's loss (within %.1e) and gradient (%.1e)", name, n,
	       worst_loss, worst_grad);
	if (kind != YOLO_CIOU)
		tap_ok(worst_numeric < 1e-3, "iou_loss=%s: the gradient agrees with central differences "
		       "(worst %.1e)", name, worst_numeric);
	free(p), free(t), free(loss), free(grad);
}

int main(void)
{
	struct vec_file f;
	char line[256];
	int records = 0;

	if (vec_open(&f, "box-iou-loss.vec")) {
		tap_ok(0, "read box-iou-loss.vec: %s", cnn_errmsg());
		return tap_done();
	}
	while (vec_header(&f, line, sizeof line)) {
		check_record(&f, line);
		records++;
	}
	tap_ok(records == 4 && !f.bad, "box-iou-loss.vec: %d records, format %s", records,
	       f.bad ? "broken" : "fine");
	vec_close(&f);
	return tap_done();
}
