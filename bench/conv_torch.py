#!/usr/bin/python3
"""PyTorch's side of bench/run-conv: the cases of bench/cases.txt, timed
like bench/conv.c does (median of at least 5 runs and 1 s, after two
warm-up runs), printed as "name GFLOP/s"."""
import statistics
import sys
import time

import torch
import torch.nn.functional as F


def median_seconds(fn):
    fn()
    fn()
    times = []
    start = time.perf_counter()
    while len(times) < 5 or (time.perf_counter() - start < 1.0
                             and len(times) < 1000):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    torch.set_num_threads(2)
    torch.manual_seed(0)
    path = sys.argv[1] if len(sys.argv) > 1 else "bench/cases.txt"
    with torch.no_grad():
        for line in open(path):
            f = line.split()
            if not f or f[0].startswith("#"):
                continue
            name, v = f[0], [int(x) for x in f[1:]]
            if len(v) == 3:
                m, n, k = v
                a, b = torch.rand(m, k) * 2 - 1, torch.rand(k, n) * 2 - 1
                flops = 2.0 * m * n * k
                fn = lambda: torch.mm(a, b)
            else:
                n, c, h, w, k, ker, pad, groups = v
                x = torch.rand(n, c, h, w) * 2 - 1
                wt = torch.rand(k, c // groups, ker, ker) * 2 - 1
                bias = torch.rand(k) * 2 - 1
                oh, ow = h + 2 * pad - ker + 1, w + 2 * pad - ker + 1
                flops = 2.0 * n * k * oh * ow * (c // groups) * ker * ker
                fn = lambda: F.conv2d(x, wt, bias, padding=pad, groups=groups)
            print("%s %.1f" % (name, flops / median_seconds(fn) * 1e-9),
                  flush=True)


if __name__ == "__main__":
    main()
