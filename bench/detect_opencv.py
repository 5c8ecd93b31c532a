#!/usr/bin/python3
"""OpenCV's DNN module running a darknet detector (cv2.dnn.readNetFromDarknet,
what many users run darknet models with): the median and fastest
milliseconds of one forward pass of a batch of one, over a few seconds, on
2 threads.  Usage: detect_opencv.py CFG WEIGHTS IMAGE SIZE [SECONDS]"""
import sys
import time

import cv2
import numpy as np


def main():
    cfg, weights, image, size = sys.argv[1:5]
    seconds = float(sys.argv[5]) if len(sys.argv) > 5 else 3
    size = int(size)
    cv2.setNumThreads(2)
    net = cv2.dnn.readNetFromDarknet(cfg, weights)
    net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
    net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
    img = cv2.imread(image)
    blob = cv2.dnn.blobFromImage(img, 1 / 255.0, (size, size), swapRB=True, crop=False)
    outs = net.getUnconnectedOutLayersNames()
    net.setInput(blob)
    net.forward(outs)
    times = []
    start = time.perf_counter()
    while len(times) < 5 or time.perf_counter() - start < seconds:
        t0 = time.perf_counter()
        net.setInput(blob)
        net.forward(outs)
        times.append(time.perf_counter() - t0)
    times.sort()
    print(f"ms {times[len(times) // 2] * 1e3:.3f} fastest {times[0] * 1e3:.3f} runs {len(times)}")


if __name__ == "__main__":
    main()
