#!/usr/bin/python3
"""Write the reference vectors of the box tests: nms.vec (what torchvision
keeps) and map.vec (average precision from an independent implementation).

Run with Debian's /usr/bin/python3 (python3-torchvision); it rewrites both
files beside this script.  The inputs are not stored: tests/unit/test_nms_vectors.c
and tests/unit/test_detmetrics.c generate the same boxes from the same
integers, described here.

Random numbers: splitmix64.  A stream has a 64-bit state; each draw adds
0x9E3779B97F4A7C15 to the state (mod 2^64) and returns mix(state), where
mix(z) = z ^= z >> 30, z *= 0xBF58476D1CE4E5B9, z ^= z >> 27,
z *= 0x94D049BB133111EB, z ^= z >> 31.  A stream seeded with s starts at
state mix(s).  Only integers are drawn; they become float32 exactly
(coordinates are multiples of 1/16 below 2^20, fractions k / 2^24 or
k / 16), so both sides see the same floats.  The 1/16-pixel grid also
keeps batched_nms's coordinate trick exact (its path for up to 1,000
boxes adds a per-class offset to the coordinates, which off the grid
rounds them and, in rare borderline cases, changes what is kept); the
script checks that both of its paths agree on every record.

nms.vec: record r = 0..999, stream seeded 0x5EED0000 + r.
  draws d0..d6: n = d0 % 5001 (d0 % 20 when r % 10 == 0) boxes;
    W = 64 + d1 % 961, H = 64 + d2 % 961 pixels; nobj = 1 + d3 % 50 objects;
    ncls = 1 + d4 % 80 classes; IoU threshold THRESHOLDS[d5 % 10];
    scores in sixteenths (many ties) when d6 % 2 == 0, else k / 2^24.
  then per object 4 draws o0..o3, in sixteenths of a pixel: centre
    cx = o0 % (16 W), cy = o1 % (16 H), size w = 128 + o2 % (8 W),
    h = 128 + o3 % (8 H).
  then per box 5 draws e0..e4: object k = e0 % nobj, kind = (e0 >> 32) % 64;
    jitter bounds jw = w_k // 8 + 1, jh = h_k // 8 + 1;
    j(v, b) = v % (2b + 1) - b;
    X1 = cx - w // 2 + j(e1, jw), X2 = cx + w // 2 + j(e1 >> 32, jw),
    Y1 = cy - h // 2 + j(e2, jh), Y2 = cy + h // 2 + j(e2 >> 32, jh),
    without jitter when kind == 0 (exact duplicates); each clamped to
    0..16 W (or 16 H); X2 = X1 when kind == 1 (no width); swapped when
    X2 < X1 (or Y2 < Y1); coordinates are X / 16 pixels.
    score = (e3 % 16) / 16 or (e3 >> 40) / 2^24; class = e4 % ncls.
  Line per record: "r n thr nms_count nms_hash batched_count batched_hash",
  hash = FNV-1a 64 over the kept indices in order (h ^= i; h *= 0x100000001b3,
  from 0xcbf29ce484222325).  nms is torchvision.ops.nms (class-agnostic);
  batched is torchvision.ops.batched_nms by class, its result put in order of
  score, then index (its per-class path sorts unstably; its own ties are by
  index).  Records 1..4 also get "list r nms|batched i..." lines.

map.vec: set s = 0..5, stream seeded 0x3A90000 + s.
  draws: nimg = 1 + d % 60, ncls = 1 + d % 6, tied = d % 3 == 0.
  per image, draws: nt = d % 7 truths, then per truth 3 draws t0..t2:
    x1 = (t0 % 2^24) / 2^24 * 400, y1 = ((t0 >> 32) % 2^24) / 2^24 * 400
    (float32), w = 4 + (t1 % 2^24) / 2^24 * 80, h = 4 + ((t1 >> 32) % 2^24)
    / 2^24 * 80, x2 = x1 + w, y2 = y1 + h (float32 arithmetic), class t2 % ncls.
  then nd = d % 9 detections, 4 draws each u0..u3: if nt > 0 and u0 % 4 != 0,
    a copy of truth u0 // 4 % nt moved by dx = ((u1 % 2^24) / 2^24 - 0.5) * 8,
    dy = (((u1 >> 32) % 2^24) / 2^24 - 0.5) * 8 (float32: x1 + dx, x2 + dx ..),
    its class kept unless u3 % 5 == 0 (then u3 // 5 % ncls); otherwise a random
    box drawn as a truth is from (u1, u2), class u3 % ncls.  score =
    (u2 >> 40) / 2^24, or ((u2 >> 40) % 8) / 8 when tied.
  Lines: "set s nimg ncls", per class "class c ntruth ndet voc11 voc coco
  ap50 ap75", then "mean ...", NaN as nan.
"""
import os

import numpy as np
import torch
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))
M64 = (1 << 64) - 1
GAMMA = 0x9E3779B97F4A7C15
THRESHOLDS = [0.0, 0.1, 0.3, 0.45, 0.5, 0.5, 0.6, 0.7, 0.9, 1.0]


def mix(z):
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9 & M64
    z = (z ^ (z >> 27)) * 0x94D049BB133111EB & M64
    return z ^ (z >> 31)


class Stream:
    """splitmix64, vectorised: k draws at once as a uint64 array."""

    def __init__(self, seed):
        self.state = mix(seed)

    def draws(self, k):
        with np.errstate(over="ignore"):
            z = np.uint64(self.state) + np.uint64(GAMMA) * np.arange(1, k + 1, dtype=np.uint64)
            self.state = (self.state + GAMMA * k) & M64
            z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
            return z ^ (z >> np.uint64(31))

    def one(self):
        return int(self.draws(1)[0])


def f32(x):
    return np.asarray(x, dtype=np.float32)


def jitter(v, b):
    return (v % (2 * b + 1)).astype(np.int64) - b.astype(np.int64)


def nms_record(r):
    st = Stream(0x5EED0000 + r)
    d = [st.one() for _ in range(7)]
    n = d[0] % 20 if r % 10 == 0 else d[0] % 5001
    W, H = 64 + d[1] % 961, 64 + d[2] % 961
    nobj, ncls = 1 + d[3] % 50, 1 + d[4] % 80
    thr = THRESHOLDS[d[5] % 10]
    tied = d[6] % 2 == 0
    o = st.draws(4 * nobj).reshape(nobj, 4)
    cx = (o[:, 0] % np.uint64(16 * W)).astype(np.int64)
    cy = (o[:, 1] % np.uint64(16 * H)).astype(np.int64)
    w = (128 + o[:, 2] % np.uint64(8 * W)).astype(np.int64)
    h = (128 + o[:, 3] % np.uint64(8 * H)).astype(np.int64)
    e = st.draws(5 * n).reshape(n, 5)
    k = (e[:, 0] % np.uint64(nobj)).astype(np.int64)
    kind = ((e[:, 0] >> np.uint64(32)) % np.uint64(64)).astype(np.int64)
    jw, jh = (w[k] // 8 + 1).astype(np.uint64), (h[k] // 8 + 1).astype(np.uint64)
    plain = kind == 0
    jx1 = np.where(plain, 0, jitter(e[:, 1], jw))
    jx2 = np.where(plain, 0, jitter(e[:, 1] >> np.uint64(32), jw))
    jy1 = np.where(plain, 0, jitter(e[:, 2], jh))
    jy2 = np.where(plain, 0, jitter(e[:, 2] >> np.uint64(32), jh))
    X1 = np.clip(cx[k] - w[k] // 2 + jx1, 0, 16 * W)
    X2 = np.clip(cx[k] + w[k] // 2 + jx2, 0, 16 * W)
    Y1 = np.clip(cy[k] - h[k] // 2 + jy1, 0, 16 * H)
    Y2 = np.clip(cy[k] + h[k] // 2 + jy2, 0, 16 * H)
    X2 = np.where(kind == 1, X1, X2)
    X1, X2 = np.minimum(X1, X2), np.maximum(X1, X2)
    Y1, Y2 = np.minimum(Y1, Y2), np.maximum(Y1, Y2)
    boxes = f32(np.stack([X1, Y1, X2, Y2], 1)) / np.float32(16)
    if tied:
        scores = f32(e[:, 3] % np.uint64(16)) / np.float32(16)
    else:
        scores = f32(e[:, 3] >> np.uint64(40)) / np.float32(1 << 24)
    classes = (e[:, 4] % np.uint64(ncls)).astype(np.int64)
    return n, thr, boxes.reshape(n, 4), scores, classes


def fnv(indices):
    h = 0xCBF29CE484222325
    for i in indices:
        h = ((h ^ int(i)) * 0x100000001B3) & M64
    return h


def by_score(keep, scores):
    keep = keep.numpy()
    return keep[np.lexsort((keep, -scores[keep]))]


def nms_vectors():
    from torchvision.ops import boxes as ops
    lines, lists, checked = [], [], 0
    for r in range(1000):
        n, thr, boxes, scores, classes = nms_record(r)
        b, s, c = torch.from_numpy(boxes), torch.from_numpy(scores), torch.from_numpy(classes)
        keep = torchvision.ops.nms(b, s, thr).numpy()
        assert (keep == by_score(torch.from_numpy(keep), scores)).all()
        batched = by_score(torchvision.ops.batched_nms(b, s, c, thr), scores)
        # batched_nms takes one of two paths by size: check both agree.
        other = by_score(ops._batched_nms_vanilla(b, s, c, thr), scores)
        trick = by_score(ops._batched_nms_coordinate_trick(b, s, c, thr), scores)
        assert (other == batched).all() and (trick == batched).all(), r
        checked += 1
        lines.append("%d %d %r %d %d %d %d\n" % (r, n, thr, len(keep), fnv(keep),
                                                 len(batched), fnv(batched)))
        if 1 <= r <= 4:
            lists.append("list %d nms %s\n" % (r, " ".join(map(str, keep))))
            lists.append("list %d batched %s\n" % (r, " ".join(map(str, batched))))
    with open(os.path.join(HERE, "nms.vec"), "w") as f:
        f.write("# record boxes iou nms_count nms_fnv batched_count batched_fnv "
                "(see make-nms-vectors.py)\n")
        f.writelines(lines + lists)
    print("nms.vec: %d records, both batched_nms paths agree" % checked)


# ---- average precision, written from the VOC devkit's and pycocotools'
# descriptions, vectorised, independently of lib/detmetrics.c.

def iou_matrix(d, g):
    """float32 IoU of every detection with every truth, torchvision's way."""
    d, g = f32(d)[:, None, :], f32(g)[None, :, :]
    w = np.maximum(f32(0), np.minimum(d[..., 2], g[..., 2]) - np.maximum(d[..., 0], g[..., 0]))
    h = np.maximum(f32(0), np.minimum(d[..., 3], g[..., 3]) - np.maximum(d[..., 1], g[..., 1]))
    inter = w * h
    ad = (d[..., 2] - d[..., 0]) * (d[..., 3] - d[..., 1])
    ag = (g[..., 2] - g[..., 0]) * (g[..., 3] - g[..., 1])
    union = ad + ag - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, inter / union, f32(0))


def match(ious, rule, t):
    """Matched flags of detections (rows, best first) against truths."""
    nd, nt = ious.shape
    ious = ious.astype(np.float64)  # compare with t in double, as C does
    taken = np.zeros(nt, bool)
    hit = np.zeros(nd, bool)
    for i in range(nd):
        if nt == 0:
            continue
        if rule == "voc":
            g = int(np.argmax(ious[i]))  # the first of equal maxima
            if ious[i, g] >= t and not taken[g]:
                taken[g] = hit[i] = True
        else:
            ok = np.flatnonzero(~taken & (ious[i] >= t))
            if len(ok):
                best = ious[i, ok].max()
                g = ok[ious[i, ok] == best][-1]  # the last of equal maxima
                taken[g] = hit[i] = True
    return hit


def average_precisions(hits, npos):
    """VOC11 and VOC all-point AP as the VOC devkit's voc_ap() computes them,
    and COCO's 101-point AP as pycocotools' accumulate() does, of one class's
    ranked matches."""
    tp = np.cumsum(hits).astype(float)
    fp = np.cumsum(~hits).astype(float)
    rec, prec = tp / npos, tp / np.maximum(tp + fp, 1)
    voc11 = 0.0
    for t in np.arange(11) / 10.0:
        voc11 += (np.max(prec[rec >= t]) if np.sum(rec >= t) else 0.0) / 11
    mrec = np.concatenate(([0.0], rec, [1.0]))
    mpre = np.concatenate(([0.0], prec, [0.0]))
    for i in range(len(mpre) - 1, 0, -1):
        mpre[i - 1] = max(mpre[i - 1], mpre[i])
    i = np.where(mrec[1:] != mrec[:-1])[0]
    voc = float(np.sum((mrec[i + 1] - mrec[i]) * mpre[i + 1]))
    pr = list(prec)
    for i in range(len(pr) - 1, 0, -1):
        pr[i - 1] = max(pr[i - 1], pr[i])
    inds = np.searchsorted(rec, np.arange(101) / 100.0, side="left")
    coco = sum(pr[i] for i in inds if i < len(pr)) / 101
    return voc11, voc, coco


def map_set(s):
    st = Stream(0x3A90000 + s)
    nimg, ncls = 1 + st.one() % 60, 1 + st.one() % 6
    tied = st.one() % 3 == 0
    unit = np.float32(1 << 24)

    def box(a, b):
        x1 = f32(f32(a % (1 << 24)) / unit * f32(400))
        y1 = f32(f32((a >> 32) % (1 << 24)) / unit * f32(400))
        w = f32(4) + f32(f32(b % (1 << 24)) / unit * f32(80))
        h = f32(4) + f32(f32((b >> 32) % (1 << 24)) / unit * f32(80))
        return [x1, y1, f32(x1 + w), f32(y1 + h)]

    images = []
    for _ in range(nimg):
        nt = st.one() % 7
        truths = []
        for _ in range(nt):
            t0, t1, t2 = (st.one() for _ in range(3))
            truths.append(box(t0, t1) + [f32(1), t2 % ncls])
        nd = st.one() % 9
        dets = []
        for _ in range(nd):
            u0, u1, u2, u3 = (st.one() for _ in range(4))
            if nt > 0 and u0 % 4 != 0:
                g = truths[u0 // 4 % nt]
                dx = f32((f32(u1 % (1 << 24)) / unit - f32(0.5)) * f32(8))
                dy = f32((f32((u1 >> 32) % (1 << 24)) / unit - f32(0.5)) * f32(8))
                b = [f32(g[0] + dx), f32(g[1] + dy), f32(g[2] + dx), f32(g[3] + dy)]
                c = u3 // 5 % ncls if u3 % 5 == 0 else g[5]
            else:
                b, c = box(u1, u2), u3 % ncls
            score = (f32((u2 >> 40) % 8) / f32(8) if tied
                     else f32(u2 >> 40) / unit)
            dets.append(b + [score, c])
        images.append((dets, truths))

    out = ["set %d %d %d\n" % (s, nimg, ncls)]
    means = []
    for c in range(ncls):
        npos = sum(1 for _, t in images for g in t if g[5] == c)
        flags = {rule: [] for rule in ["voc"] + list(range(10))}
        ranked = []
        for img, (dets, truths) in enumerate(images):
            d = [(-x[4], i, x) for i, x in enumerate(dets) if x[5] == c]
            d.sort(key=lambda v: (v[0], v[1]))
            g = [x for x in truths if x[5] == c]
            ious = iou_matrix(np.array([x[2][:4] for x in d], np.float32).reshape(-1, 4),
                              np.array([x[:4] for x in g], np.float32).reshape(-1, 4))
            for rule in flags:
                t = 0.5 if rule == "voc" else (50 + 5 * rule) / 100.0
                flags[rule].append(match(ious, "voc" if rule == "voc" else "coco", t))
            ranked += [(x[0], img, x[1]) for x in d]
        order = sorted(range(len(ranked)), key=lambda i: ranked[i])
        nd = len(order)
        if npos == 0:
            if nd:
                out.append("class %d 0 %d nan nan nan nan nan\n" % (c, nd))
            continue
        voc11, voc, _ = average_precisions(np.concatenate(flags["voc"])[order], npos)
        coco = [average_precisions(np.concatenate(flags[t])[order], npos)[2]
                for t in range(10)]
        row = [voc11, voc, float(np.mean(coco)), coco[0], coco[5]]
        means.append(row)
        out.append("class %d %d %d %s\n" % (c, npos, nd, " ".join("%.17g" % v for v in row)))
    mean = np.mean(means, 0) if means else [float("nan")] * 5
    out.append("mean %s\n" % " ".join("%.17g" % v for v in mean))
    return out


def map_vectors():
    lines = []
    for s in range(6):
        lines += map_set(s)
    with open(os.path.join(HERE, "map.vec"), "w") as f:
        f.write("# set / class c ntruth ndet voc11 voc coco ap50 ap75 / mean "
                "(see make-nms-vectors.py)\n")
        f.writelines(lines)
    print("map.vec: 6 sets")


if __name__ == "__main__":
    torch.set_num_threads(2)
    nms_vectors()
    map_vectors()
