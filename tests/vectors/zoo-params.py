#!/usr/bin/python3
"""Count the parameters of each network of examples/zoo in PyTorch.

An independent check of the counts that tests/bats/zoo.bats expects from
cnn-summary: torchvision's own models where the zoo follows one, otherwise
the same layers written out here.  Run with Debian's /usr/bin/python3 (it has
torch and torchvision); prints "NAME COUNT" lines.

Batch normalisation counts its scale and shift (PyTorch's parameters(); the
running statistics are buffers), and a convolution followed by batch
normalisation has no bias: so do our [convolutional] batch_normalize=1
layers, whose bias is the shift.
"""
import torch
import torch.nn as nn
import torchvision.models as tvm
from torchvision.models.googlenet import BasicConv2d


def count(m):
    return sum(p.numel() for p in m.parameters())


def conv_bn(cin, cout, k, stride=1, groups=1):
    return [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False),
            nn.BatchNorm2d(cout), nn.ReLU()]


def lenet5():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10))


def alexnet():
    """The course notes' single-tower AlexNet (227x227x3, no groups), local
    response normalisation after the first two poolings."""
    return nn.Sequential(
        nn.Conv2d(3, 96, 11, 4), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.LocalResponseNorm(5, 1e-4, 0.75, 2),
        nn.Conv2d(96, 256, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.LocalResponseNorm(5, 1e-4, 0.75, 2),
        nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 384, 3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Flatten(), nn.Dropout(), nn.Linear(9216, 4096), nn.ReLU(), nn.Dropout(),
        nn.Linear(4096, 4096), nn.ReLU(), nn.Linear(4096, 1000))


def inception():
    """torchvision's GoogLeNet without the auxiliary classifiers, its "5x5"
    branch given the 5x5 kernel of the paper (torchvision's is 3x3)."""
    m = tvm.googlenet(weights=None, aux_logits=False, init_weights=False)
    for mod in m.modules():
        if type(mod).__name__ == 'Inception':
            red = mod.branch3[0].conv.out_channels
            out = mod.branch3[1].conv.out_channels
            mod.branch3[1] = BasicConv2d(red, out, kernel_size=5, padding=2)
    return m


def mobilenet_v1():
    layers = conv_bn(3, 32, 3, 2)
    cin = 32
    for cout, stride in [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + \
            [(512, 1)] * 5 + [(1024, 2), (1024, 1)]:
        layers += conv_bn(cin, cin, 3, stride, groups=cin) + conv_bn(cin, cout, 1)
        cin = cout
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(1024, 1000))


def fashion_bn():
    return nn.Sequential(
        *conv_bn(1, 32, 3), *conv_bn(32, 32, 3), nn.MaxPool2d(2),
        *conv_bn(32, 64, 3), *conv_bn(64, 64, 3), nn.MaxPool2d(2), nn.Dropout(0.25),
        nn.Flatten(), nn.Linear(3136, 128, bias=False), nn.BatchNorm1d(128), nn.ReLU(),
        nn.Dropout(0.5), nn.Linear(128, 10))


class UNet(nn.Module):
    """milesial/Pytorch-UNet's UNet(n_channels, n_classes, bilinear=False),
    written out from its unet_parts.py: DoubleConv (3x3, padding 1, no bias,
    BatchNorm2d, ReLU, twice), Down (MaxPool2d(2), DoubleConv), Up
    (ConvTranspose2d(in, in / 2, 2, stride 2), cat([skip, up]), DoubleConv),
    OutConv (1x1 with bias)."""

    def __init__(self, n_channels=3, n_classes=2):
        super().__init__()

        def double(cin, cout):
            return nn.Sequential(*conv_bn(cin, cout, 3), *conv_bn(cout, cout, 3))

        chans = [64, 128, 256, 512, 1024]
        self.inc = double(n_channels, 64)
        self.downs = nn.ModuleList(nn.Sequential(nn.MaxPool2d(2), double(a, b))
                                   for a, b in zip(chans, chans[1:]))
        self.ups = nn.ModuleList(nn.ConvTranspose2d(c, c // 2, 2, stride=2)
                                 for c in reversed(chans[1:]))
        self.convs = nn.ModuleList(double(c, c // 2) for c in reversed(chans[1:]))
        self.outc = nn.Conv2d(64, n_classes, 1)

    def forward(self, x):
        skips = [self.inc(x)]
        for down in self.downs:
            skips.append(down(skips[-1]))
        x = skips.pop()
        for up, conv in zip(self.ups, self.convs):
            x = conv(torch.cat([skips.pop(), up(x)], dim=1))
        return self.outc(x)


MODELS = [
    ('lenet5', lenet5),
    ('alexnet', alexnet),
    ('vgg16', lambda: tvm.vgg16(weights=None)),
    ('resnet18', lambda: tvm.resnet18(weights=None)),
    ('resnet50', lambda: tvm.resnet50(weights=None)),
    ('inception', inception),
    ('mobilenet_v1', mobilenet_v1),
    ('mobilenet_v2', lambda: tvm.mobilenet_v2(weights=None)),
    ('efficientnet', lambda: tvm.efficientnet_b0(weights=None)),
    ('fashion_bn', fashion_bn),
    ('unet', UNet),
]

if __name__ == '__main__':
    for name, make in MODELS:
        print(name, count(make()))
