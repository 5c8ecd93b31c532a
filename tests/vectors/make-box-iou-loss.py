#!/usr/bin/python3
"""Write box-iou-loss.vec, the reference vectors of [yolo]'s iou_loss=.

Run with Debian's /usr/bin/python3 (it has torch and torchvision); it
rewrites box-iou-loss.vec beside this script, from a fixed seed.
test_box_iou_loss.c reads it.

Format: the records of make-vectors.py (a header line of key=value fields,
then float32 little-endian arrays):

  boxloss kind=iou|giou|diou|ciou n=
      then pred (n x 4), truth (n x 4), loss (n), grad (n x 4)

Boxes are centre x, centre y, width, height.  loss is 1 - IoU
(torchvision.ops.box_iou), torchvision.ops.generalized_box_iou_loss,
distance_box_iou_loss or complete_box_iou_loss (which holds CIoU's alpha
constant, as the paper does), and grad its gradient with respect to pred
by autograd, in float64.  The pairs overlap, touch, nest, lie apart and
coincide in centre, in equal parts.
"""
import math
import os
import struct

import torch
from torchvision import ops

HERE = os.path.dirname(os.path.abspath(__file__))


def floats(t):
    t = t.detach().contiguous().to(torch.float32).flatten()
    return struct.pack("<%df" % t.numel(), *t.tolist())


def corners(b):
    x, y, w, h = b.unbind(-1)
    return torch.stack([x - w / 2, y - h / 2, x + w / 2, y + h / 2], -1)


def loss(kind, p, t):
    if kind == "iou":
        return 1 - torch.diagonal(ops.box_iou(corners(p), corners(t)))
    f = {"giou": ops.generalized_box_iou_loss, "diou": ops.distance_box_iou_loss,
         "ciou": ops.complete_box_iou_loss}[kind]
    return f(corners(p), corners(t), reduction="none")


def pairs(gen, n):
    rows = []
    for i in range(n):
        r = torch.rand(8, generator=gen, dtype=torch.float64).tolist()
        t = [0.3 + 0.4 * r[0], 0.3 + 0.4 * r[1], 0.05 + 0.3 * r[2], 0.05 + 0.3 * r[3]]
        w, h = 0.05 + 0.3 * r[4], 0.05 + 0.3 * r[5]
        kind = i % 4
        if kind == 0:    # overlapping
            p = [t[0] + (r[6] - 0.5) * t[2], t[1] + (r[7] - 0.5) * t[3], w, h]
        elif kind == 1:  # apart
            p = [t[0] + (t[2] + w) * (0.6 + r[6]), t[1] - 0.2 + 0.4 * r[7], w, h]
        elif kind == 2:  # nested: pred inside the truth
            p = [t[0] + 0.1 * (r[6] - 0.5) * t[2], t[1] + 0.1 * (r[7] - 0.5) * t[3],
                 t[2] * (0.3 + 0.4 * r[4]), t[3] * (0.3 + 0.4 * r[5])]
        else:            # the same centre, another shape
            p = [t[0], t[1], w, h]
        rows.append((p, t))
    p = torch.tensor([a for a, _ in rows], dtype=torch.float64)
    t = torch.tensor([b for _, b in rows], dtype=torch.float64)
    return p.float().double(), t.float().double()


def main():
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(11)
    n = 40
    with open(os.path.join(HERE, "box-iou-loss.vec"), "wb") as out:
        for kind in ("iou", "giou", "diou", "ciou"):
            p, t = pairs(gen, n)
            p.requires_grad_()
            l = loss(kind, p, t)
            (g,) = torch.autograd.grad(l.sum(), p)
            assert all(math.isfinite(v) for v in g.flatten().tolist())
            out.write(("boxloss kind=%s n=%d\n" % (kind, n)).encode())
            out.write(floats(p) + floats(t) + floats(l) + floats(g))


if __name__ == "__main__":
    main()
