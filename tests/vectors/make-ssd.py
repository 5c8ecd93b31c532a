#!/usr/bin/python3
"""Write ssd.vec, the reference vectors of [ssd] (lib/nn/layer_ssd.c).

Run with Debian's /usr/bin/python3 (it has torch and torchvision); it
rewrites ssd.vec beside this script, from a fixed seed.  test_ssd.c reads
it.

Format: the records of make-vectors.py (a header line of key=value fields,
then float32 little-endian arrays):

  priors name=ssd300 n= every=
      torchvision's DefaultBoxGenerator as its SSD300 VGG16 has it
      (aspect_ratios [[2],[2,3],[2,3],[2,3],[2],[2]], scales 0.07 ... 1.05,
      steps 8 ... 300) on maps of 38, 19, 10, 5, 3 and 1 at 300 x 300: n
      default boxes in all; then every every-th box and the last, as x1, y1,
      x2, y2 in the input's pixels (its forward's output)
  priors name=small n= every=1
      the generator of the loss record (min_ratio and max_ratio as given,
      no steps) on its maps: every box
  loss h= w= maps=GH,GW,... ratios=... classes= batch= truths=N0,N1,...
      then each example's truths (n x 5: x1 y1 x2 y2 in pixels, class from
      0), the head's outputs of the whole batch (batch x boxes x (4 + classes
      + 1): torchvision's bbox_regression then cls_logits of each box), the
      loss (1: SSD.compute_loss's bbox_regression + classification, with
      SSDMatcher(0.5) and BoxCoder(10, 10, 5, 5)), its gradient with respect
      to the outputs by autograd (the same shape), and example 0's decoding
      (boxes x 4: BoxCoder.decode_single clipped to the input, as
      SSD.postprocess_detections makes them, then boxes x (classes + 1): the
      softmax)
"""
import os
import struct
from types import SimpleNamespace

import torch
from torchvision.models.detection import _utils as det_utils
from torchvision.models.detection.anchor_utils import DefaultBoxGenerator
from torchvision.models.detection.image_list import ImageList
from torchvision.models.detection.ssd import SSD
from torchvision.ops import boxes as box_ops

HERE = os.path.dirname(os.path.abspath(__file__))


def floats(t):
    t = t.detach().contiguous().to(torch.float32).flatten()
    return struct.pack("<%df" % t.numel(), *t.tolist())


def priors(gen, maps, h, w):
    images = ImageList(torch.zeros(1, 3, h, w), [(h, w)])
    features = [torch.zeros(1, 1, g[0], g[1]) for g in maps]
    return gen(images, features)[0]


def priors_record(out, name, boxes, every):
    pick = list(range(0, boxes.shape[0], every))
    if pick[-1] != boxes.shape[0] - 1:
        pick.append(boxes.shape[0] - 1)
    out.write(b"priors name=%s n=%d every=%d\n" % (name.encode(), boxes.shape[0], every))
    out.write(floats(boxes[pick]))


def random_truths(gen, n, h, w, classes):
    rows = []
    for _ in range(n):
        r = torch.rand(5, generator=gen, dtype=torch.float64).tolist()
        bw, bh = w * (0.1 + 0.5 * r[0]), h * (0.1 + 0.5 * r[1])
        x, y = (w - bw) * r[2], (h - bh) * r[3]
        rows.append([x, y, x + bw, y + bh, int(r[4] * classes)])
    return torch.tensor(rows, dtype=torch.float32).reshape(-1, 5)


def main():
    gen = torch.Generator().manual_seed(20261205)
    with open(os.path.join(HERE, "ssd.vec"), "wb") as out:
        ssd300 = DefaultBoxGenerator([[2], [2, 3], [2, 3], [2, 3], [2], [2]],
                                     scales=[0.07, 0.15, 0.33, 0.51, 0.69, 0.87, 1.05],
                                     steps=[8, 16, 32, 64, 100, 300])
        maps300 = [(38, 38), (19, 19), (10, 10), (5, 5), (3, 3), (1, 1)]
        priors_record(out, "ssd300", priors(ssd300, maps300, 300, 300), 37)

        h, w, classes, batch = 48, 64, 3, 3
        maps, ratios = [(6, 8), (3, 4)], [[2], [2, 3]]
        small = DefaultBoxGenerator(ratios, min_ratio=0.2, max_ratio=0.8)
        anchors = priors(small, maps, h, w)
        priors_record(out, "small", anchors, 1)

        counts = [2, 0, 3]
        truths = [random_truths(gen, n, h, w, classes) for n in counts]
        boxes = anchors.shape[0]
        head = torch.randn(batch, boxes, 4 + classes + 1, generator=gen, dtype=torch.float32)
        head.requires_grad_(True)
        fake = SimpleNamespace(box_coder=det_utils.BoxCoder(weights=(10.0, 10.0, 5.0, 5.0)),
                               neg_to_pos_ratio=3)
        matcher = det_utils.SSDMatcher(0.5)
        targets, matched = [], []
        for t in truths:
            targets.append({"boxes": t[:, :4], "labels": t[:, 4].long() + 1})
            if t.shape[0] == 0:
                matched.append(torch.full((boxes,), -1, dtype=torch.int64))
            else:
                matched.append(matcher(box_ops.box_iou(t[:, :4], anchors)))
        outputs = {"bbox_regression": head[:, :, :4], "cls_logits": head[:, :, 4:]}
        losses = SSD.compute_loss(fake, targets, outputs, [anchors] * batch, matched)
        loss = losses["bbox_regression"] + losses["classification"]
        loss.backward()
        decoded = box_ops.clip_boxes_to_image(
            fake.box_coder.decode_single(head[0, :, :4].detach(), anchors), (h, w))
        softmax = torch.softmax(head[0, :, 4:].detach(), dim=-1)

        out.write(b"loss h=%d w=%d maps=%s ratios=%s classes=%d batch=%d truths=%s\n" % (
            h, w, ",".join("%d,%d" % m for m in maps).encode(),
            str(ratios).replace(" ", "").encode(), classes, batch,
            ",".join(str(n) for n in counts).encode()))
        for t in truths:
            out.write(floats(t))
        out.write(floats(head))
        out.write(floats(loss.reshape(1)))
        out.write(floats(head.grad))
        out.write(floats(decoded))
        out.write(floats(softmax))
        print("ssd300: %d default boxes; loss %.6f (positives %s)" % (
            priors(ssd300, maps300, 300, 300).shape[0], loss.item(),
            [int((m >= 0).sum()) for m in matched]))


main()
