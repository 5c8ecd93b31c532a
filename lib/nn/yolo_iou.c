/*
 * yolo_iou.c - the box losses of [yolo] iou_loss=iou, giou, diou and
 * ciou: 1 - IoU, 1 - GIoU (Rezatofighi et al. 2019), 1 - DIoU and 1 - CIoU
 * (Zheng et al. 2020) of a predicted box against a truth, and the gradient
 * with respect to the prediction's centre and size.
 *
 * The gradient is the exact one, worked through the corners, where
 * AlexeyAB's darknet uses dx_box_iou's approximation and skips the
 * logistic's derivative; CIoU's trade-off alpha = v / (1 - IoU + v) is held
 * constant, as the paper and torchvision's complete_box_iou_loss hold it.
 * The small constants in the denominators are torchvision's 1e-7, so that
 * its values are the reference (tests/vectors/make-box-iou-loss.py).
 */
#include <math.h>

#include "nn/yolo.h"

#define EPS 1e-7

/* One axis of two boxes by their corners: the intersection's length and
 * the enclosing one's, and their derivatives by the first box's low and
 * high corner. */
struct axis {
	double inter, d_inter[2];
	double span, d_span[2];
};

static struct axis along(double lo, double hi, double tlo, double thi)
{
	struct axis a = {0};
	double l = fmax(lo, tlo), h = fmin(hi, thi);

	if (h > l) {
		a.inter = h - l;
		a.d_inter[0] = lo > tlo ? -1 : 0;
		a.d_inter[1] = hi < thi ? 1 : 0;
	}
	a.span = fmax(hi, thi) - fmin(lo, tlo);
	a.d_span[0] = lo < tlo ? -1 : 0;
	a.d_span[1] = hi > thi ? 1 : 0;
	return a;
}

double cnn_yolo_iou_loss(int kind, struct cbox p, struct cbox t, double grad[4])
{
	double c[4] = {p.x - p.w / 2, p.y - p.h / 2, p.x + p.w / 2, p.y + p.h / 2};
	struct axis ax = along(c[0], c[2], t.x - t.w / 2, t.x + t.w / 2);
	struct axis ay = along(c[1], c[3], t.y - t.h / 2, t.y + t.h / 2);
	double inter = ax.inter * ay.inter, area = (double)p.w * p.h;
	/* torchvision's box_iou has no EPS, its losses have */
	double uni = area + (double)t.w * t.h - inter + (kind == YOLO_IOU ? 0 : EPS);
	double iou = inter / uni;
	double value = iou;
	/* d(value) by the corners x1, y1, x2, y2 */
	double d[4];

	for (int k = 0; k < 4; k++) {
		int x = k % 2 == 0, hi = k / 2;
		double d_inter = x ? ax.d_inter[hi] * ay.inter : ay.d_inter[hi] * ax.inter;
		double d_area = (hi ? 1 : -1) * (x ? p.h : p.w);
		d[k] = d_inter / uni - inter / (uni * uni) * (d_area - d_inter);
	}
	if (kind == YOLO_GIOU) {
		double hull = ax.span * ay.span + EPS;
		value = iou - (hull - uni) / hull;
		for (int k = 0; k < 4; k++) {
			int x = k % 2 == 0, hi = k / 2;
			double d_inter = x ? ax.d_inter[hi] * ay.inter : ay.d_inter[hi] * ax.inter;
			double d_uni = (hi ? 1 : -1) * (x ? p.h : p.w) - d_inter;
			double d_hull = x ? ax.d_span[hi] * ay.span : ay.d_span[hi] * ax.span;
			/* -(hull - uni) / hull = uni / hull - 1 */
			d[k] += d_uni / hull - uni / (hull * hull) * d_hull;
		}
	} else if (kind == YOLO_DIOU || kind == YOLO_CIOU) {
		double dx = p.x - t.x, dy = p.y - t.y, rho = dx * dx + dy * dy;
		double diag = ax.span * ax.span + ay.span * ay.span + EPS;
		value = iou - rho / diag;
		for (int k = 0; k < 4; k++) {
			int x = k % 2 == 0, hi = k / 2;
			/* the centre moves half as far as a corner */
			double d_rho = x ? dx : dy;
			double d_diag = 2 * (x ? ax.span * ax.d_span[hi] : ay.span * ay.d_span[hi]);
			d[k] -= d_rho / diag - rho / (diag * diag) * d_diag;
		}
		if (kind == YOLO_CIOU) {
			double turn = atan((double)t.w / t.h) - atan((double)p.w / p.h);
			double v = 4 / (M_PI * M_PI) * turn * turn;
			double alpha = v / (1 - iou + v + EPS);
			/* dv/dw and dv/dh: atan(w / h) moves by h / (w^2 + h^2) dw */
			double k2 = 8 / (M_PI * M_PI) * turn, r = (double)p.w * p.w + (double)p.h * p.h;
			double dv_dw = -k2 * p.h / r, dv_dh = k2 * p.w / r;
			value -= alpha * v;
			/* w = x2 - x1, h = y2 - y1 */
			d[0] += alpha * dv_dw;
			d[2] -= alpha * dv_dw;
			d[1] += alpha * dv_dh;
			d[3] -= alpha * dv_dh;
		}
	}
	/* x = (x1 + x2) / 2, w = x2 - x1: d/dx = d1 + d2, d/dw = (d2 - d1) / 2 */
	grad[0] = -(d[0] + d[2]);
	grad[1] = -(d[1] + d[3]);
	grad[2] = -(d[2] - d[0]) / 2;
	grad[3] = -(d[3] - d[1]) / 2;
	return 1 - value;
}
