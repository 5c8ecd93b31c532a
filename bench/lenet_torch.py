#!/usr/bin/python3
"""PyTorch's side of bench/run-train.

  lenet_torch.py lenet DATASET_DIR EPOCHS
      LeNet-5 as examples/zoo/lenet5.cfg builds it (5x5 conv 6 padding 2,
      ReLU, 2x2 max pool, 5x5 conv 16, ReLU, 2x2 max pool, 120, 84, 10),
      initialised as libcnn does (He normal for the ReLU layers, Xavier
      uniform for the last, biases 0), trained on Fashion-MNIST with SGD
      (momentum 0.9, lr 0.01, batch 64, reshuffled every epoch), then
      tested.  Prints "images_per_s X test_acc Y" (training images over
      training time, batching included, evaluation not).

  lenet_torch.py resnet18 SIZE BATCH
      torchvision's ResNet-18 (1000 classes) on SIZE x SIZE random input:
      the median time of a forward + backward + SGD step.  Prints
      "step_ms X".

Run with OPENBLAS_NUM_THREADS=1: PyTorch gets torch.set_num_threads(2).
"""
import gzip
import os
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load(folder, prefix):
    x = idx(os.path.join(folder, prefix + "-images-idx3-ubyte.gz"))
    y = idx(os.path.join(folder, prefix + "-labels-idx1-ubyte.gz"))
    x = torch.from_numpy(x.astype(np.float32) / 255.0).unsqueeze(1)
    return x, torch.from_numpy(y.astype(np.int64))


class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(400, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)
        for m in (self.conv1, self.conv2, self.fc1, self.fc2):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            nn.init.zeros_(m.bias)
        nn.init.xavier_uniform_(self.fc3.weight)
        nn.init.zeros_(self.fc3.bias)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def lenet(folder, epochs):
    torch.manual_seed(1)
    xtrain, ytrain = load(folder, "train")
    xtest, ytest = load(folder, "t10k")
    model = LeNet5()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    n, batch, seconds = len(ytrain), 64, 0.0
    for _ in range(epochs):
        model.train()
        start = time.perf_counter()
        order = torch.randperm(n)
        for first in range(0, n, batch):
            i = order[first:first + batch]
            x, y = xtrain[i], ytrain[i]
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
        seconds += time.perf_counter() - start
    model.eval()
    correct = 0
    with torch.no_grad():
        for first in range(0, len(ytest), 1000):
            out = model(xtest[first:first + 1000])
            correct += (out.argmax(1) == ytest[first:first + 1000]).sum().item()
    print("images_per_s %.1f test_acc %.4f" % (n * epochs / seconds, correct / len(ytest)))


def resnet18(size, batch):
    import torchvision
    torch.manual_seed(1)
    model = torchvision.models.resnet18()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.rand(batch, 3, size, size)
    y = torch.randint(0, 1000, (batch,))

    def step():
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()

    step()
    step()
    times = []
    start = time.perf_counter()
    while len(times) < 5 or (time.perf_counter() - start < 3.0 and len(times) < 200):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    print("step_ms %.3f fastest_ms %.3f" % (statistics.median(times) * 1e3, min(times) * 1e3))


def main():
    torch.set_num_threads(2)
    if sys.argv[1] == "lenet":
        lenet(sys.argv[2], int(sys.argv[3]))
    else:
        resnet18(int(sys.argv[2]), int(sys.argv[3]))


if __name__ == "__main__":
    main()
