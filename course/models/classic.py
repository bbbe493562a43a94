"""Classic ImageNet architectures, in full (for counting) and small (for training on a CPU).

    alexnet_2012()            # AlexNet as in the LeNet-vs-AlexNet table: 224x224x3, 96-256-384-384-256, 4096-4096
    lenet_padded()            # LeNet on 28x28 with a padded first layer, sigmoid and average pooling
    alexnet_small()           # AlexNet's ideas on 28x28 digits: big first kernel, ReLU, overlapping max pool, dropout
    vgg_small()               # VGG's idea: blocks of 3x3 convolutions, then 2x2 max pooling
    InceptionModule(...)      # parallel 1x1 / 3x3 / 5x5 / pool branches, naive or with 1x1 reductions
    inception_small()         # a stem and two Inception modules, global average pooling

The small networks take (N, in_channels, 28, 28) by default and have 0.1-0.4 M parameters,
so a few epochs on the embedded MNIST run on a laptop CPU in a minute or two.
"""
from __future__ import annotations

import torch
from torch import nn

__all__ = ["alexnet_2012", "lenet_padded", "alexnet_small", "vgg_block", "vgg_small",
           "InceptionModule", "inception_small"]


def alexnet_2012(n_classes: int = 1000, in_channels: int = 3) -> nn.Sequential:
    """AlexNet (Krizhevsky et al., 2012) on one device: 5 convolutions, 3 dense layers.

    11x11 stride-4 kernels on a 224x224 image give 54x54x96; overlapping 3x3 stride-2 max
    pooling; ReLU everywhere; dropout 0.5 in front of the two 4,096-unit dense layers.
    """
    return nn.Sequential(
        nn.Conv2d(in_channels, 96, 11, stride=4), nn.ReLU(),          # 54x54x96
        nn.MaxPool2d(3, stride=2),                                     # 26x26x96
        nn.Conv2d(96, 256, 5, padding=2), nn.ReLU(),                   # 26x26x256
        nn.MaxPool2d(3, stride=2),                                     # 12x12x256
        nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(),                  # 12x12x384
        nn.Conv2d(384, 384, 3, padding=1), nn.ReLU(),                  # 12x12x384
        nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(),                  # 12x12x256
        nn.MaxPool2d(3, stride=2),                                     # 5x5x256
        nn.Flatten(),                                                  # 6,400
        nn.Dropout(0.5), nn.Linear(256 * 5 * 5, 4096), nn.ReLU(),
        nn.Dropout(0.5), nn.Linear(4096, 4096), nn.ReLU(),
        nn.Linear(4096, n_classes),
    )


def lenet_padded(n_classes: int = 10) -> nn.Sequential:
    """LeNet as drawn next to AlexNet: 28x28x1, 5x5 convolutions, sigmoid, 2x2 average pooling."""
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.Sigmoid(),                   # 28x28x6
        nn.AvgPool2d(2, stride=2),                                     # 14x14x6
        nn.Conv2d(6, 16, 5), nn.Sigmoid(),                             # 10x10x16
        nn.AvgPool2d(2, stride=2),                                     # 5x5x16
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.Sigmoid(),
        nn.Linear(120, 84), nn.Sigmoid(),
        nn.Linear(84, n_classes),
    )


def alexnet_small(n_classes: int = 10, in_channels: int = 1, dropout: float = 0.5,
                  batch_norm: bool = True) -> nn.Sequential:
    """AlexNet's recipe scaled to 28x28 digits (about 0.4 M parameters).

    ``batch_norm`` puts BN where AlexNet had local response normalization: without it this
    small copy sits at chance level for the first epochs (as deep ReLU nets without BN often do).
    """
    def conv(c_in, c_out, k):
        layers = [nn.Conv2d(c_in, c_out, k, padding=k // 2, bias=not batch_norm)]
        return layers + ([nn.BatchNorm2d(c_out)] if batch_norm else []) + [nn.ReLU()]

    return nn.Sequential(
        *conv(in_channels, 32, 5),                       # 28x28x32 (AlexNet: 11x11, stride 4)
        nn.MaxPool2d(3, stride=2),                       # 13x13x32, overlapping windows
        *conv(32, 64, 5),                                # 13x13x64
        nn.MaxPool2d(3, stride=2),                       # 6x6x64
        *conv(64, 96, 3), *conv(96, 96, 3), *conv(96, 64, 3),   # 6x6x96, 6x6x96, 6x6x64
        nn.MaxPool2d(3, stride=2),                       # 2x2x64
        nn.Flatten(),
        nn.Dropout(dropout), nn.Linear(64 * 2 * 2, 256), nn.ReLU(),
        nn.Dropout(dropout), nn.Linear(256, 256), nn.ReLU(),
        nn.Linear(256, n_classes),
    )


def vgg_block(n_convs: int, c_in: int, c_out: int, batch_norm: bool = True) -> nn.Sequential:
    """n 3x3 convolutions (padding 1 keeps the size), then 2x2 max pooling halves it."""
    layers = []
    for i in range(n_convs):
        layers.append(nn.Conv2d(c_in if i == 0 else c_out, c_out, 3, padding=1, bias=not batch_norm))
        if batch_norm:  # VGG itself had none; BN lets the small copy train in a few epochs
            layers.append(nn.BatchNorm2d(c_out))
        layers.append(nn.ReLU())
    layers.append(nn.MaxPool2d(2))
    return nn.Sequential(*layers)


def vgg_small(n_classes: int = 10, in_channels: int = 1,
              config=((1, 16), (2, 32), (2, 64)), hidden: int = 128) -> nn.Sequential:
    """VGG's pattern on 28x28: blocks (n_convs, channels) then dense layers; 28 -> 14 -> 7 -> 3."""
    blocks, c = [], in_channels
    for n_convs, c_out in config:
        blocks.append(vgg_block(n_convs, c, c_out))
        c = c_out
    size = 28 // 2 ** len(config)
    return nn.Sequential(*blocks, nn.Flatten(),
                         nn.Linear(c * size * size, hidden), nn.ReLU(), nn.Dropout(0.5),
                         nn.Linear(hidden, n_classes))


def _conv_relu(c_in: int, c_out: int, k: int, batch_norm: bool = False) -> nn.Sequential:
    if batch_norm:  # as in torchvision's GoogLeNet (BN arrived with Inception v2)
        return nn.Sequential(nn.Conv2d(c_in, c_out, k, padding=k // 2, bias=False),
                             nn.BatchNorm2d(c_out), nn.ReLU())
    return nn.Sequential(nn.Conv2d(c_in, c_out, k, padding=k // 2), nn.ReLU())


class InceptionModule(nn.Module):
    """Four parallel branches concatenated along channels (Szegedy et al., 2015).

    Naive (``reduce3=reduce5=pool_proj=None``): 1x1, 3x3 and 5x5 convolutions on all input
    channels plus 3x3 max pooling passed through, so the depth can only grow.
    Reduced: 1x1 convolutions shrink the depth in front of the 3x3 and 5x5 ones and after the pooling.
    """

    def __init__(self, c_in: int, c1: int, c3: int, c5: int,
                 reduce3: int | None = None, reduce5: int | None = None, pool_proj: int | None = None,
                 batch_norm: bool = False):
        super().__init__()
        cr = lambda a, b, k: _conv_relu(a, b, k, batch_norm)  # noqa: E731
        self.b1 = cr(c_in, c1, 1)
        self.b3 = nn.Sequential(cr(c_in, reduce3, 1), cr(reduce3, c3, 3)) if reduce3 else cr(c_in, c3, 3)
        self.b5 = nn.Sequential(cr(c_in, reduce5, 1), cr(reduce5, c5, 5)) if reduce5 else cr(c_in, c5, 5)
        pool = nn.MaxPool2d(3, stride=1, padding=1)
        self.bp = nn.Sequential(pool, cr(c_in, pool_proj, 1)) if pool_proj else pool
        self.out_channels = c1 + c3 + c5 + (pool_proj or c_in)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.b1(x), self.b3(x), self.b5(x), self.bp(x)], dim=1)


def inception_small(n_classes: int = 10, in_channels: int = 1) -> nn.Sequential:
    """A stem, two reduced Inception modules and global average pooling instead of big dense layers."""
    first = InceptionModule(32, 16, 32, 8, reduce3=24, reduce5=4, pool_proj=8, batch_norm=True)  # 64 ch.
    second = InceptionModule(first.out_channels, 32, 48, 16, reduce3=32, reduce5=8, pool_proj=16,
                             batch_norm=True)
    return nn.Sequential(
        nn.Conv2d(in_channels, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
        nn.MaxPool2d(2),                                                # 14x14x32
        first, nn.MaxPool2d(2),                                         # 7x7x64
        second,                                                         # 7x7x112
        nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Linear(second.out_channels, n_classes),
    )
