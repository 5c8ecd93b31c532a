#!/usr/bin/python3
"""torchvision's side of bench/run-augment: the augmentation chain of one
case over the images of IMAGES.npy (records x C x H x W, uint8, as cnn-save
writes them), cycled to N images, already decoded in memory.  Each path
makes the final normalised float tensor of every image; only the transform
loop is timed, after a short warm-up, best of three passes:

  tensor   v1 transforms on uint8 tensors, ConvertImageDtype + Normalize last
  pil      v1 transforms on PIL images (what most users run), ToTensor +
           Normalize last
  loader-* a DataLoader, num_workers=2, batch_size=64, over a Dataset of the
           in-memory images with that path's transform (workers started
           beforehand, persistent; collation counted)

The single-process paths run with torch.set_num_threads(2).  Prints
"rate PATH IMAGES_PER_SECOND" lines; with OURS.npy (cnn-augment's output for
the first records, cycled) first "check WHO shape min max mean" lines for
as many images through each path, to show both make the same kind of
tensor.

Usage: augment_torch.py gray|rgb IMAGES.npy N [OURS.npy]"""
import sys
import time

import numpy as np
import torch
import torch.utils.data
from PIL import Image
from torchvision import transforms as T

BILINEAR = T.InterpolationMode.BILINEAR
BATCH = 64
PASSES = 3


def chains(case):
    """(tensor transform, PIL transform) of the case, both ending in a
    normalised float C x H x W tensor."""
    if case == "gray":
        geometry = [T.RandomCrop(28, padding=2), T.RandomHorizontalFlip(),
                    T.RandomRotation(10, interpolation=BILINEAR)]
        norm = T.Normalize(mean=[0.2860], std=[0.3530])
        colour = []
    else:
        # RandomResizedCrop's antialias: torchvision's default for each
        # input type (0.14: off for tensors; PIL always filters).
        geometry = [T.RandomResizedCrop(224, interpolation=BILINEAR), T.RandomHorizontalFlip()]
        colour = [T.ColorJitter(brightness=0.4, contrast=0.4)]
        norm = T.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])
    tensor = T.Compose(geometry + colour + [T.ConvertImageDtype(torch.float32), norm])
    pil = T.Compose(geometry + colour + [T.ToTensor(), norm])
    return tensor, pil


def inputs(images, path):
    """The decoded images as the path takes them."""
    if path == "tensor":
        return [torch.from_numpy(a) for a in images]
    if images.shape[1] == 1:
        return [Image.fromarray(a[0], mode="L") for a in images]
    return [Image.fromarray(np.ascontiguousarray(a.transpose(1, 2, 0)), mode="RGB")
            for a in images]


class Cycled(torch.utils.data.Dataset):
    """n images cycling over a list of distinct ones, through transform."""

    def __init__(self, items, n, transform):
        self.items, self.n, self.transform = items, n, transform

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return self.transform(self.items[i % len(self.items)])


def single(items, n, transform):
    for i in range(min(n, 64)):
        transform(items[i % len(items)])
    best = None
    for _ in range(PASSES):
        start = time.perf_counter()
        for i in range(n):
            transform(items[i % len(items)])
        t = time.perf_counter() - start
        best = t if best is None else min(best, t)
    return n / best


def loader(items, n, transform):
    ds = Cycled(items, 4 * BATCH, transform)
    dl = torch.utils.data.DataLoader(ds, batch_size=BATCH, num_workers=2,
                                     persistent_workers=True)
    for _ in dl:  # start the workers and warm up
        pass
    ds.n = n  # the sampler reads the length when an epoch starts
    best = None
    for _ in range(PASSES):
        start = time.perf_counter()
        count = 0
        for batch in dl:
            count += len(batch)
        t = time.perf_counter() - start
        best = t if best is None else min(best, t)
    del dl
    return count / best


def describe(who, t):
    print("check %-8s %-12s %9.4f %9.4f %9.4f" % (who, "x".join(map(str, t.shape[1:])),
                                                  t.min(), t.max(), t.mean()), flush=True)


def main():
    case, images, n = sys.argv[1], np.load(sys.argv[2]), int(sys.argv[3])
    torch.set_num_threads(2)
    torch.manual_seed(1)
    tensor, pil = chains(case)
    paths = {"tensor": (inputs(images, "tensor"), tensor), "pil": (inputs(images, "pil"), pil)}
    if len(sys.argv) > 4:
        ours = torch.from_numpy(np.load(sys.argv[4]))
        describe("ours", ours)
        for name, (items, transform) in paths.items():
            made = [transform(items[i % len(items)]) for i in range(len(ours))]
            describe(name, torch.stack(made))
    for name, (items, transform) in paths.items():
        print("rate %s %.1f" % (name, single(items, n, transform)), flush=True)
    for name, (items, transform) in paths.items():
        print("rate loader-%s %.1f" % (name, loader(items, n, transform)), flush=True)


if __name__ == "__main__":
    main()
