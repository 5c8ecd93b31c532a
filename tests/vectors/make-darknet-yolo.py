#!/usr/bin/python3
"""Write darknet-yolo/: darknet's own detections, to check cnn-detect's.

Run from anywhere with Debian's /usr/bin/python3 (numpy) and Debian's
darknet (pjreddie's 2018 code) on PATH; it rewrites, beside this script:

  darknet-yolo/tiny.weights   random weights (a fixed seed) for tiny.cfg, a
                              two-scale [yolo] net of 96 x 96
  darknet-yolo/detections.txt what `darknet detector valid` finds with them
                              in four of skimage's photos (PNG, so that
                              both sides decode the same pixels): lines
                              "image class score xmin ymin xmax ymax", VOC's
                              1-based pixels clipped to the image, as its
                              print_detector_detections writes them, at its
                              thresholds (score .005, NMS .45 per class),
                              those scoring over 0.3 kept (NMS keeps them
                              at any threshold under that: a box is only
                              suppressed by better ones)

validate_detector letterboxes each image (letterbox_image: its bilinear
resize_image at the image's aspect, centred on 0.5) and undoes it on the
boxes (correct_yolo_boxes); tests/bats/cnn-detect.bats runs cnn-detect on
the same photos with the same weights (cnn-darknet import) and compares.
"""
import os
import subprocess
import tempfile

import numpy as np

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "darknet-yolo")
SKIMAGE = "/usr/lib/python3/dist-packages/skimage/data"
# At least four: validate_detector starts four loader threads, unguarded.
PHOTOS = ["chelsea.png", "coffee.png", "motorcycle_left.png", "astronaut.png"]
KEEP = 0.3
# tiny.cfg's convolutions in file order: filters, input channels, size,
# batch_normalize.
CONVS = [(8, 3, 3, 1), (16, 8, 3, 1), (16, 16, 3, 1), (21, 16, 1, 0), (21, 32, 1, 0)]


def weights(path):
    rng = np.random.default_rng(20261204)
    with open(path, "wb") as f:
        # major 0, minor 2, revision 0, then seen as 64 bits.
        np.array([0, 2, 0], dtype="<i4").tofile(f)
        np.array([0], dtype="<u8").tofile(f)
        for n, c, size, bn in CONVS:
            np.float32(rng.normal(0, 0.5, n)).astype("<f4").tofile(f)
            if bn:
                np.float32(rng.uniform(0.5, 1.5, n)).astype("<f4").tofile(f)
                np.float32(rng.normal(0, 0.1, n)).astype("<f4").tofile(f)
                np.float32(rng.uniform(0.5, 1.5, n)).astype("<f4").tofile(f)
            fan_in = c * size * size
            w = rng.normal(0, 1.5 / np.sqrt(fan_in), n * fan_in)
            np.float32(w).astype("<f4").tofile(f)


def main():
    cfg = os.path.join(HERE, "tiny.cfg")
    wpath = os.path.join(HERE, "tiny.weights")
    weights(wpath)
    with tempfile.TemporaryDirectory() as tmp:
        names = os.path.join(tmp, "names")
        valid = os.path.join(tmp, "valid.txt")
        results = os.path.join(tmp, "results")
        os.mkdir(results)
        with open(names, "w") as f:
            f.write("a\nb\n")
        with open(valid, "w") as f:
            for p in PHOTOS:
                f.write(os.path.join(SKIMAGE, p) + "\n")
        data = os.path.join(tmp, "tiny.data")
        with open(data, "w") as f:
            f.write(f"classes=2\nvalid={valid}\nnames={names}\nresults={results}\n")
        subprocess.run(["darknet", "detector", "valid", data, cfg, wpath],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        lines = []
        for k, name in enumerate(["a", "b"]):
            with open(os.path.join(results, f"comp4_det_test_{name}.txt")) as f:
                for line in f:
                    image, score, *box = line.split()
                    if float(score) > KEEP:
                        lines.append(f"{image} {k} {score} {' '.join(box)}\n")
    with open(os.path.join(HERE, "detections.txt"), "w") as f:
        f.writelines(lines)
    print(f"{len(lines)} detections in {len(PHOTOS)} photos")


if __name__ == "__main__":
    main()
