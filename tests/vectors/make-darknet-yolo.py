#!/usr/bin/python3
"""Write darknet-yolo/: darknet's own detections, to check cnn-detect's.

Run from anywhere with Debian's /usr/bin/python3 (numpy) and Debian's
darknet (pjreddie's 2018 code) on PATH; it rewrites, beside this script,
for each net NAME (tiny.cfg: a two-scale [yolo] net of 96 x 96; tinyv1.cfg:
a YOLOv1 of [local], [connected] and [detection]):

  darknet-yolo/NAME.weights     random weights (a fixed seed) for NAME.cfg
  darknet-yolo/NAME.detections  what `darknet detector valid` finds with
                              them in four of skimage's photos (PNG, so
                              that both sides decode the same pixels;
                              square ones for tinyv1): lines "image class
                              score xmin ymin xmax ymax", VOC's 1-based
                              pixels clipped to the image, as its
                              print_detector_detections writes them, at its
                              thresholds (score .005, NMS .45 per class),
                              those scoring over KEEP kept (NMS keeps them
                              at any threshold under that: a box is only
                              suppressed by better ones)

validate_detector letterboxes each image (letterbox_image: its bilinear
resize_image at the image's aspect, centred on 0.5) and undoes it on
[yolo]'s boxes (correct_yolo_boxes), not on [detection]'s;
tests/bats/cnn-detect.bats runs cnn-detect on the same photos with the same
weights (cnn-darknet import) and compares.
"""
import os
import subprocess
import tempfile

import numpy as np

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "darknet-yolo")
SKIMAGE = "/usr/lib/python3/dist-packages/skimage/data"
# At least four photos each: validate_detector starts four loader threads,
# unguarded.  The layers with weights of each cfg, in file order: conv
# (filters, input channels, size, batch_normalize), local (filters, input
# channels, size, locations), fc (outputs, inputs).
NETS = {
    "tiny": (["chelsea.png", "coffee.png", "motorcycle_left.png", "astronaut.png"], 0.3,
             [("conv", 8, 3, 3, 1), ("conv", 16, 8, 3, 1), ("conv", 16, 16, 3, 1),
              ("conv", 21, 16, 1, 0), ("conv", 21, 32, 1, 0)]),
    "tinyv1": (["astronaut.png", "camera.png", "ihc.png", "moon.png"], 0.005,
               [("conv", 8, 3, 3, 1), ("conv", 8, 8, 3, 1), ("local", 8, 8, 3, 16),
                ("fc", 48, 128)]),
}


def floats(f, values):
    np.asarray(values, dtype="<f4").tofile(f)


def weights(path, layers):
    rng = np.random.default_rng(20261204)
    with open(path, "wb") as f:
        # major 0, minor 2, revision 0, then seen as 64 bits.
        np.array([0, 2, 0], dtype="<i4").tofile(f)
        np.array([0], dtype="<u8").tofile(f)
        for kind, n, c, *rest in layers:
            if kind == "conv":
                size, bn = rest
                floats(f, rng.normal(0, 0.5, n))
                if bn:
                    floats(f, rng.uniform(0.5, 1.5, n))
                    floats(f, rng.normal(0, 0.1, n))
                    floats(f, rng.uniform(0.5, 1.5, n))
                fan_in = c * size * size
                floats(f, rng.normal(0, 1.5 / np.sqrt(fan_in), n * fan_in))
            elif kind == "local":
                size, locations = rest
                fan_in = c * size * size
                floats(f, rng.normal(0, 0.5, n * locations))
                floats(f, rng.normal(0, 1.5 / np.sqrt(fan_in), locations * n * fan_in))
            else:
                floats(f, rng.normal(0, 0.3, n))
                floats(f, rng.normal(0, 1.5 / np.sqrt(c), n * c))


def detections(name, photos, keep, layers):
    cfg = os.path.join(HERE, name + ".cfg")
    wpath = os.path.join(HERE, name + ".weights")
    weights(wpath, layers)
    with tempfile.TemporaryDirectory() as tmp:
        names = os.path.join(tmp, "names")
        valid = os.path.join(tmp, "valid.txt")
        results = os.path.join(tmp, "results")
        os.mkdir(results)
        with open(names, "w") as f:
            f.write("a\nb\n")
        with open(valid, "w") as f:
            for p in photos:
                f.write(os.path.join(SKIMAGE, p) + "\n")
        data = os.path.join(tmp, "tiny.data")
        with open(data, "w") as f:
            f.write(f"classes=2\nvalid={valid}\nnames={names}\nresults={results}\n")
        subprocess.run(["darknet", "detector", "valid", data, cfg, wpath],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        lines = []
        for k, cls in enumerate(["a", "b"]):
            with open(os.path.join(results, f"comp4_det_test_{cls}.txt")) as f:
                for line in f:
                    image, score, *box = line.split()
                    if float(score) > keep:
                        lines.append(f"{image} {k} {score} {' '.join(box)}\n")
    with open(os.path.join(HERE, name + ".detections"), "w") as f:
        f.writelines(lines)
    print(f"{name}: {len(lines)} detections in {len(photos)} photos")


def main():
    for name, (photos, keep, layers) in NETS.items():
        detections(name, photos, keep, layers)


if __name__ == "__main__":
    main()
