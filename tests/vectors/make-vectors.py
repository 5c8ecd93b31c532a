#!/usr/bin/python3
"""Write the reference vectors of the convolution and pooling tests.

Run from anywhere with Debian's /usr/bin/python3 (it has torch); it
rewrites conv.vec and pool.vec beside this script.  Seeds are fixed, so
the output only changes when the cases below do.

Format: a .vec file is a sequence of records.  Each record is one text line
of space-separated key=value fields, ending in a newline, followed by the
record's float32 little-endian arrays back to back; list values are
comma-separated, in D, H, W order.

  conv  nd= n= c= k= groups= in= ker= stride= dil= pad_lo= pad_hi= bias=0|1 out=
        then x (n*c*in), w (k*(c/groups)*ker), b (k, only if bias=1),
        y (n*k*out)
  pool  op=max|avg|min nd= n= c= in= win= stride= pad_lo= pad_hi= ceil=0|1
        count_pad=0|1 out=
        then x (n*c*in), y (n*c*out)

Inputs are uniform in [-1, 1), weights scaled by 1/sqrt(fan-in) so that
outputs stay near unit size.
"""
import os
import struct

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))


def csv(v):
    return ",".join(str(int(i)) for i in v)


def floats(t):
    t = t.detach().contiguous().to(torch.float32).flatten()
    return struct.pack("<%df" % t.numel(), *t.tolist())


def header(fields):
    return (" ".join("%s=%s" % kv for kv in fields) + "\n").encode()


def conv_case(out, gen, nd, n, c, k, inp, ker, stride=1, dil=1, pad=0,
              groups=1, bias=True):
    """pad is an int, a per-dim list, or a list of (lo, hi) pairs."""
    def per_dim(v):
        return list(v) if isinstance(v, (list, tuple)) else [v] * nd
    inp, ker, stride, dil = map(per_dim, (inp, ker, stride, dil))
    pad = per_dim(pad)
    lo = [p[0] if isinstance(p, tuple) else p for p in pad]
    hi = [p[1] if isinstance(p, tuple) else p for p in pad]
    x = torch.rand([n, c] + inp, generator=gen) * 2 - 1
    fan = c // groups
    for kk in ker:
        fan *= kk
    w = (torch.rand([k, c // groups] + ker, generator=gen) * 2 - 1) / fan ** 0.5
    b = torch.rand([k], generator=gen) * 2 - 1 if bias else None
    # F.pad lists the last dimension first.
    fpad = []
    for d in reversed(range(nd)):
        fpad += [lo[d], hi[d]]
    conv = (F.conv1d, F.conv2d, F.conv3d)[nd - 1]
    x64 = x.double()
    y = conv(F.pad(x64, fpad), w.double(), None if b is None else b.double(),
             stride=stride, dilation=dil, groups=groups).float()
    out.write(header([
        ("conv", ""), ("nd", nd), ("n", n), ("c", c), ("k", k),
        ("groups", groups), ("in", csv(inp)), ("ker", csv(ker)),
        ("stride", csv(stride)), ("dil", csv(dil)), ("pad_lo", csv(lo)),
        ("pad_hi", csv(hi)), ("bias", int(b is not None)),
        ("out", csv(y.shape[2:]))]).replace(b"conv=", b"conv"))
    out.write(floats(x) + floats(w) + (floats(b) if b is not None else b"")
              + floats(y))


def pool_out(inp, win, stride, lo, hi, ceil):
    """Output size, with PyTorch's ceil_mode rule that the last window
    starts inside the input or the left padding."""
    span = inp + lo + hi - win
    out = (span + (stride - 1 if ceil else 0)) // stride + 1
    if ceil and (out - 1) * stride >= inp + lo:
        out -= 1
    return out


def pool_ref(op, nd, x, win, stride, lo, hi, ceil, count_pad):
    """Pooling by brute force over unfolded windows, for what PyTorch's
    operators cannot say (asymmetric padding, min)."""
    out = [pool_out(x.shape[2 + d], win[d], stride[d], lo[d], hi[d], ceil)
           for d in range(nd)]
    size = x.shape[2:]
    fpad = []
    for d in reversed(range(nd)):
        fpad += [lo[d], (out[d] - 1) * stride[d] + win[d] - lo[d] - size[d]]
    inside = F.pad(torch.ones_like(x), fpad)
    x = F.pad(x, fpad)
    # the declared padding counts, the overhang of ceil_mode does not
    padded = torch.ones_like(x)
    for d in range(nd):
        shape = [1] * x.dim()
        shape[2 + d] = -1
        keep = torch.arange(x.shape[2 + d]) < lo[d] + size[d] + hi[d]
        padded = padded * keep.to(x.dtype).view(shape)
    for d in range(nd):
        x = x.unfold(2 + d, win[d], stride[d])
        inside = inside.unfold(2 + d, win[d], stride[d])
        padded = padded.unfold(2 + d, win[d], stride[d])
    cells = tuple(range(2 + nd, 2 + 2 * nd))
    if op == "max":
        return x.masked_fill(inside == 0, -float("inf")).amax(dim=cells)
    if op == "min":
        return x.masked_fill(inside == 0, float("inf")).amin(dim=cells)
    return (x * inside).sum(dim=cells) / \
        (padded if count_pad else inside).sum(dim=cells)


def pool_case(out, gen, op, nd, n, c, inp, win, stride=0, pad=0, ceil=False,
              count_pad=True, native=True):
    def per_dim(v):
        return list(v) if isinstance(v, (list, tuple)) else [v] * nd
    inp, win = per_dim(inp), per_dim(win)
    stride = per_dim(stride if stride else win)
    pad = per_dim(pad)
    lo = [p[0] if isinstance(p, tuple) else p for p in pad]
    hi = [p[1] if isinstance(p, tuple) else p for p in pad]
    x = torch.rand([n, c] + inp, generator=gen, dtype=torch.float64) * 2 - 1
    if native and lo == hi and op in ("max", "avg"):
        # PyTorch's own operator where it can express the case.
        f = {"max": (F.max_pool1d, F.max_pool2d, F.max_pool3d),
             "avg": (F.avg_pool1d, F.avg_pool2d, F.avg_pool3d)}[op][nd - 1]
        kw = {"ceil_mode": ceil}
        if op == "avg":
            kw["count_include_pad"] = count_pad
        y = f(x, win, stride, lo, **kw)
    else:
        y = pool_ref(op, nd, x, win, stride, lo, hi, ceil, count_pad)
    out.write(header([
        ("pool", ""), ("op", op), ("nd", nd), ("n", n), ("c", c),
        ("in", csv(inp)), ("win", csv(win)), ("stride", csv(stride)),
        ("pad_lo", csv(lo)), ("pad_hi", csv(hi)), ("ceil", int(ceil)),
        ("count_pad", int(count_pad)), ("out", csv(y.shape[2:]))])
        .replace(b"pool=", b"pool"))
    out.write(floats(x) + floats(y))


def conv_cases(out):
    g = torch.Generator().manual_seed(1)
    # 2-D: padding, stride, dilation, channels, 1x1, odd sizes
    conv_case(out, g, 2, 1, 1, 1, [6, 6], [3, 3])
    conv_case(out, g, 2, 2, 3, 4, [7, 7], [3, 3], pad=1)
    conv_case(out, g, 2, 2, 3, 5, [9, 8], [3, 3], stride=2, pad=1)
    conv_case(out, g, 2, 1, 4, 6, [11, 13], [5, 5], stride=2, pad=2)
    conv_case(out, g, 2, 1, 3, 4, [10, 10], [3, 3], dil=2, pad=2)
    conv_case(out, g, 2, 1, 2, 3, [12, 9], [3, 2], stride=[2, 3],
              dil=[2, 1], pad=[1, 0])
    conv_case(out, g, 2, 2, 8, 16, [6, 6], [1, 1])
    conv_case(out, g, 2, 1, 16, 8, [5, 7], [1, 1], stride=2)
    conv_case(out, g, 2, 1, 5, 3, [4, 4], [1, 1], pad=1, bias=False)
    conv_case(out, g, 2, 1, 3, 2, [5, 5], [5, 5])
    conv_case(out, g, 2, 1, 3, 2, [3, 3], [5, 5], pad=1)
    conv_case(out, g, 2, 3, 1, 6, [32, 32], [5, 5])
    conv_case(out, g, 2, 1, 3, 8, [15, 15], [7, 7], stride=2, pad=3)
    conv_case(out, g, 2, 1, 16, 24, [14, 14], [3, 3], pad=1)
    conv_case(out, g, 2, 1, 40, 33, [9, 9], [3, 3], pad=1)
    conv_case(out, g, 2, 1, 300, 20, [4, 4], [1, 1])  # K beyond one pass
    conv_case(out, g, 2, 1, 40, 9, [8, 8], [3, 3], pad=1, bias=False)
    conv_case(out, g, 2, 2, 4, 4, [7, 6], [3, 3], stride=3, pad=[(2, 0), (0, 1)])
    conv_case(out, g, 2, 1, 2, 3, [6, 5], [2, 3], pad=[(0, 2), (1, 3)])
    conv_case(out, g, 2, 1, 3, 3, [4, 4], [3, 3], pad=3)
    conv_case(out, g, 2, 1, 3, 100, [6, 6], [2, 2], stride=2)
    conv_case(out, g, 2, 1, 3, 4, [1, 20], [1, 3], pad=[0, 1])
    conv_case(out, g, 2, 1, 3, 4, [40, 3], [3, 1], stride=[1, 2])
    # groups and depthwise
    conv_case(out, g, 2, 2, 4, 6, [7, 7], [3, 3], pad=1, groups=2)
    conv_case(out, g, 2, 1, 12, 12, [8, 9], [3, 3], stride=2, pad=1, groups=3)
    conv_case(out, g, 2, 2, 8, 8, [10, 10], [3, 3], pad=1, groups=8)
    conv_case(out, g, 2, 1, 6, 6, [11, 9], [3, 3], stride=2, pad=1, groups=6)
    conv_case(out, g, 2, 1, 4, 4, [9, 9], [5, 5], dil=2, pad=4, groups=4)
    conv_case(out, g, 2, 1, 4, 8, [7, 7], [3, 3], pad=1, groups=4)  # x2
    conv_case(out, g, 2, 1, 3, 3, [20, 37], [3, 3], pad=[(1, 0), (2, 1)],
              groups=3, bias=False)
    conv_case(out, g, 2, 1, 16, 32, [5, 5], [3, 3], pad=1, groups=16)
    # 1-D
    conv_case(out, g, 1, 2, 3, 4, [20], [3], pad=1)
    conv_case(out, g, 1, 1, 4, 6, [33], [5], stride=2, pad=2, dil=1)
    conv_case(out, g, 1, 1, 2, 3, [17], [3], dil=3, pad=[(4, 1)])
    conv_case(out, g, 1, 1, 8, 8, [50], [7], stride=3, pad=3, groups=8)
    conv_case(out, g, 1, 1, 6, 4, [9], [1])
    # 3-D
    conv_case(out, g, 3, 1, 2, 3, [5, 6, 7], [3, 3, 3], pad=1)
    conv_case(out, g, 3, 2, 3, 4, [6, 7, 5], [3, 2, 3], stride=[2, 1, 2],
              pad=[1, 0, 1])
    conv_case(out, g, 3, 1, 2, 2, [7, 7, 7], [3, 3, 3], dil=2, pad=2)
    conv_case(out, g, 3, 1, 4, 4, [4, 5, 6], [3, 3, 3], pad=1, groups=4)
    conv_case(out, g, 3, 1, 4, 8, [3, 4, 5], [1, 1, 1])
    conv_case(out, g, 3, 1, 2, 3, [4, 6, 5], [2, 3, 2],
              pad=[(1, 0), (0, 2), (1, 1)])
    # strides longer than the kernel skip phases
    conv_case(out, g, 2, 1, 3, 4, [13, 11], [3, 2], stride=[4, 3], pad=1)
    conv_case(out, g, 1, 2, 2, 2, [30], [2], stride=7, dil=2)
    # long rows: read in place, compacted
    conv_case(out, g, 2, 2, 8, 4, [3, 40], [3, 3], pad=1)
    conv_case(out, g, 2, 1, 6, 5, [4, 45], [2, 3], stride=[1, 2], pad=[1, 1])


def pool_cases(out):
    g = torch.Generator().manual_seed(2)
    for op in ("max", "avg"):
        pool_case(out, g, op, 2, 2, 3, [8, 8], [2, 2])
        pool_case(out, g, op, 2, 1, 4, [9, 9], [2, 2])
        pool_case(out, g, op, 2, 1, 4, [9, 9], [2, 2], ceil=True)
        pool_case(out, g, op, 2, 1, 3, [13, 11], [3, 3], stride=2)
        pool_case(out, g, op, 2, 1, 3, [13, 12], [3, 3], stride=2, pad=1)
        pool_case(out, g, op, 2, 1, 3, [14, 14], [3, 3], stride=2, pad=1,
                  ceil=True)
        pool_case(out, g, op, 2, 1, 2, [10, 7], [3, 2], stride=[1, 2])
        pool_case(out, g, op, 2, 1, 2, [10, 10], [4, 4], stride=3, pad=2,
                  ceil=True)
        pool_case(out, g, op, 2, 2, 5, [7, 7], [7, 7])  # global
        pool_case(out, g, op, 2, 1, 3, [40, 37], [3, 3], stride=1, pad=1)
        pool_case(out, g, op, 1, 2, 3, [20], [3], stride=2, pad=1)
        pool_case(out, g, op, 1, 1, 2, [21], [4], stride=3, ceil=True)
        pool_case(out, g, op, 1, 1, 2, [16], [16])  # global
        pool_case(out, g, op, 3, 1, 2, [6, 7, 8], [2, 2, 2])
        pool_case(out, g, op, 3, 1, 2, [7, 7, 7], [3, 3, 3], stride=2, pad=1)
        pool_case(out, g, op, 3, 1, 2, [5, 6, 7], [3, 2, 3], stride=2, pad=1,
                  ceil=True)
        pool_case(out, g, op, 3, 1, 3, [4, 5, 3], [4, 5, 3])  # global
        pool_case(out, g, op, 2, 1, 2, [9, 8], [3, 3], stride=2,
                  pad=[(1, 0), (0, 1)])
        pool_case(out, g, op, 2, 1, 2, [9, 8], [3, 3], stride=2,
                  pad=[(1, 0), (0, 1)], ceil=True)
    for count_pad in (True, False):
        pool_case(out, g, "avg", 2, 1, 3, [8, 9], [3, 3], stride=2, pad=1,
                  count_pad=count_pad)
        pool_case(out, g, "avg", 2, 1, 3, [9, 9], [3, 3], stride=2, pad=1,
                  ceil=True, count_pad=count_pad)
        pool_case(out, g, "avg", 2, 1, 2, [6, 10], [2, 4], stride=[2, 3],
                  pad=[1, 2], ceil=True, count_pad=count_pad)
        pool_case(out, g, "avg", 1, 1, 2, [11], [5], stride=2, pad=2,
                  count_pad=count_pad)
        pool_case(out, g, "avg", 3, 1, 2, [5, 5, 6], [3, 3, 3], stride=2,
                  pad=1, ceil=True, count_pad=count_pad)
        pool_case(out, g, "avg", 2, 1, 2, [7, 8], [3, 3], stride=2,
                  pad=[(2, 0), (1, 2)], ceil=True, count_pad=count_pad)
        # the same through the padded reference, to check it
        pool_case(out, g, "avg", 2, 1, 3, [9, 9], [3, 3], stride=2, pad=1,
                  ceil=True, count_pad=count_pad, native=False)
    for args in (([8, 8], [2, 2], 0, 0), ([9, 9], [3, 3], 2, 1),
                 ([10, 9], [3, 3], 2, (1, 0))):
        pool_case(out, g, "min", 2, 1, 3, args[0], args[1], stride=args[2],
                  pad=[args[3]] * 2)
    pool_case(out, g, "min", 1, 1, 2, [12], [12])
    pool_case(out, g, "min", 3, 1, 2, [5, 5, 5], [2, 2, 2], ceil=True)
    pool_case(out, g, "max", 2, 1, 2, [11, 10], [2, 2], stride=3)
    pool_case(out, g, "avg", 2, 1, 2, [11, 10], [3, 2], stride=[4, 3], pad=1,
              ceil=True, count_pad=False)


def main():
    torch.set_num_threads(1)
    with open(os.path.join(HERE, "conv.vec"), "wb") as out:
        conv_cases(out)
    with open(os.path.join(HERE, "pool.vec"), "wb") as out:
        pool_cases(out)


if __name__ == "__main__":
    main()
