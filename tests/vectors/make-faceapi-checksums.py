#!/usr/bin/python3
"""Write faceapi-checksums.txt: what TensorFlow.js 4.22.0 decodes from each
tensor of face-api 1.7.15's seven weight manifests, for test_tfjs.c to
compare our decoder with.

The source is faceapi-weights-checksums.json (written beside the project's
face-api notes by running tfjs's io.decodeWeights under Node); run

    tests/vectors/make-faceapi-checksums.py PATH/faceapi-weights-checksums.json

and it rewrites faceapi-checksums.txt beside this script.  One line per
tensor, in manifest order, blank-separated:

    MODEL TENSOR OFFSET BYTES COUNT SUM SUMABS MIN MAX FIRST...

OFFSET and BYTES place the tensor in the model's .bin; COUNT is the product
of its shape; SUM and SUMABS are the sums in double, in order, of the
decoded float32 values and of their absolute values; MIN, MAX and up to
four FIRST values are float32 values.  Numbers are written as Python's
repr, which reads back as the same double.
"""
import json
import os
import sys


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make-faceapi-checksums.py faceapi-weights-checksums.json")
    with open(sys.argv[1]) as f:
        doc = json.load(f)
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "faceapi-checksums.txt")
    with open(out, "w") as f:
        f.write("# face-api %s weights as tfjs %s decodes them (make-faceapi-checksums.py)\n"
                % (doc["faceapi"], doc["tfjs"]))
        f.write("# MODEL TENSOR OFFSET BYTES COUNT SUM SUMABS MIN MAX FIRST...\n")
        for model, m in doc["models"].items():
            for t in m["tensors"]:
                count = 1
                for d in t["shape"]:
                    count *= d
                numbers = [t["sum"], t["sumabs"], t["vmin"], t["vmax"]] + t["first4"]
                f.write(" ".join([model, t["name"], str(t["offset"]), str(t["bytes"]),
                                  str(count)] + [repr(float(v)) for v in numbers]) + "\n")


main()
