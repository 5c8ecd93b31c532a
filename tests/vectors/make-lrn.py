#!/usr/bin/python3
"""Write lrn.vec, the reference vectors of local response normalisation.

Run from anywhere with Debian's /usr/bin/python3 (it has torch); it
rewrites lrn.vec beside this script.  The seed is fixed, so the output
only changes when the cases below do.  test_layers.c reads it.

Format: the records of make-vectors.py (a header line of key=value fields,
then float32 little-endian arrays):

  lrn darknet=0|1 n= c= h= w= size= alpha= beta= kappa=
      then x (n*c*h*w), g (n*c*h*w), y (n*c*h*w), dx (n*c*h*w)

y is torch.nn.LocalResponseNorm(size, alpha, beta, kappa) of x, and dx the
gradient of sum(g * y) with respect to x, by autograd, both in float64.
darknet=1 is darknet's [normalization] instead: alpha not divided by size,
and for an even size the extra channel of the window after the centre, not
before it; that is PyTorch's with alpha * size on the channels reversed.
"""
import os
import struct

import torch

HERE = os.path.dirname(os.path.abspath(__file__))


def floats(t):
    t = t.detach().contiguous().to(torch.float32).flatten()
    return struct.pack("<%df" % t.numel(), *t.tolist())


def lrn_case(out, gen, n, c, h, w, size, alpha, beta, kappa, darknet=0,
             spread=1.0):
    x = (torch.rand([n, c, h, w], generator=gen, dtype=torch.float64) * 2 - 1) * spread
    g = torch.rand([n, c, h, w], generator=gen, dtype=torch.float64) * 2 - 1
    # the float32 values the test reads, so that both sides start equal
    x = x.float().double().requires_grad_()
    g = g.float().double()
    if darknet:
        lrn = torch.nn.LocalResponseNorm(size, alpha * size, beta, kappa)
        y = lrn(x.flip(1)).flip(1)
    else:
        y = torch.nn.LocalResponseNorm(size, alpha, beta, kappa)(x)
    (dx,) = torch.autograd.grad((y * g).sum(), x)
    fields = [("darknet", darknet), ("n", n), ("c", c), ("h", h), ("w", w),
              ("size", size), ("alpha", repr(alpha)), ("beta", repr(beta)),
              ("kappa", repr(kappa))]
    out.write(("lrn " + " ".join("%s=%s" % kv for kv in fields) + "\n").encode())
    out.write(floats(x) + floats(g) + floats(y) + floats(dx))


def main():
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(5)
    with open(os.path.join(HERE, "lrn.vec"), "wb") as out:
        # AlexNet's constants, on inputs large enough that they matter
        lrn_case(out, gen, 2, 8, 3, 3, 5, 1e-4, 0.75, 2.0, spread=30)
        lrn_case(out, gen, 2, 6, 4, 3, 3, 1.0, 0.75, 2.0)
        lrn_case(out, gen, 1, 7, 2, 5, 4, 2.0, 0.5, 1.0)       # even size
        lrn_case(out, gen, 2, 4, 3, 3, 9, 0.5, 1.0, 1.5)       # wider than C
        lrn_case(out, gen, 1, 5, 3, 2, 1, 1.0, 2.0, 1.0)       # one channel
        lrn_case(out, gen, 2, 3, 1, 1, 5, 3.0, 0.75, 0.5)      # C x 1 x 1
        lrn_case(out, gen, 2, 7, 3, 3, 5, 0.5, 0.75, 1.0, darknet=1)
        lrn_case(out, gen, 1, 6, 3, 4, 4, 0.3, 0.75, 1.0, darknet=1)


if __name__ == "__main__":
    main()
