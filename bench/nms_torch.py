#!/usr/bin/python3
"""torchvision's side of bench/run-nms: the boxes that bench-nms wrote to
DIR/NAME.f32 (n x 6 float32: x1 y1 x2 y2 score class), through
torchvision.ops.nms (one class) or batched_nms, timed like bench/nms.c
(median after a warm-up; at least 5 runs and 1 s, or a single run when
one takes over 2 s), printed as "name milliseconds kept"."""
import os
import statistics
import sys
import time

import numpy as np
import torch
import torchvision

CASES = ["uniform-10k", "clustered-10k", "per-class-10k", "uniform-100k", "clustered-100k"]


def median_seconds(fn):
    fn()
    times = []
    start = time.perf_counter()
    while len(times) < 5 or time.perf_counter() - start < 1.0:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        if times[-1] > 2.0:
            break
    return statistics.median(times)


def main():
    torch.set_num_threads(2)
    for name in CASES:
        b = torch.from_numpy(np.fromfile(os.path.join(sys.argv[1], name + ".f32"),
                                         dtype=np.float32).reshape(-1, 6))
        boxes, scores, classes = b[:, :4].contiguous(), b[:, 4].contiguous(), b[:, 5].long()
        if classes.max() == 0:
            run = lambda: torchvision.ops.nms(boxes, scores, 0.5)
        else:
            run = lambda: torchvision.ops.batched_nms(boxes, scores, classes, 0.5)
        kept = len(run())
        print("%s %.3f %d" % (name, median_seconds(run) * 1000, kept), flush=True)


if __name__ == "__main__":
    main()
