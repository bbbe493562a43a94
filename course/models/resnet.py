"""A configurable ResNet with basic blocks, and its plain twin (the same layers, no shortcuts).

    BasicBlock(16, 32, stride=2)                   # y = relu(F(x) + W_s x): projection shortcut
    BasicBlock(32, 32)                             # y = relu(F(x) + x): identity shortcut
    ResNet(blocks=(2, 2, 2, 2))                    # ImageNet stem: the layout of torchvision's resnet18
    ResNet(blocks=(3, 4, 6, 3))                    # ... and of resnet34
    resnet_small(20)                               # 28x28 digits, 3 stages of 3 blocks: 6n + 2 = 20 layers
    resnet_small(20, residual=False)               # its plain twin, for the degradation experiment
    count_layers(model)                            # weighted layers (convolutions and dense), as in "ResNet-20"

With ``residual=False`` every block computes y = relu(F(x)) with exactly the same convolutions,
so a plain net and its residual twin differ only by the shortcut additions (and the 1x1
projections where the shape changes).
"""
from __future__ import annotations

import torch
from torch import nn

__all__ = ["BasicBlock", "ResNet", "resnet_small", "count_layers"]


def _conv_bn(c_in: int, c_out: int, k: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, k, stride=stride, padding=k // 2, bias=False),
                         nn.BatchNorm2d(c_out))


class BasicBlock(nn.Module):
    """Two 3x3 convolutions F(x) with BN, plus a shortcut.

    shortcut="auto": identity when the shape is unchanged, 1x1 projection W_s otherwise;
    "projection": always the 1x1 projection; None: no shortcut at all (a plain block).
    """

    def __init__(self, c_in: int, c_out: int, stride: int = 1, shortcut: str | None = "auto"):
        super().__init__()
        self.residual = nn.Sequential(_conv_bn(c_in, c_out, 3, stride), nn.ReLU(inplace=True),
                                      _conv_bn(c_out, c_out, 3))
        same_shape = stride == 1 and c_in == c_out
        if shortcut is None:
            self.shortcut = None
        elif shortcut == "projection" or not same_shape:
            self.shortcut = _conv_bn(c_in, c_out, 1, stride)
        elif shortcut in ("auto", "identity"):
            self.shortcut = nn.Identity()
        else:
            raise ValueError(f"shortcut must be 'auto', 'identity', 'projection' or None, not {shortcut!r}")
        if shortcut == "identity" and not same_shape:
            raise ValueError("an identity shortcut needs the same shape in and out; use 'projection'")
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.residual(x)
        if self.shortcut is not None:
            out = out + self.shortcut(x)
        return self.relu(out)


class ResNet(nn.Module):
    """Stem, stages of basic blocks (the first block of each later stage halves the size), GAP, dense.

    stem="imagenet": 7x7 stride-2 convolution and 3x3 max pooling (224 -> 56), as in the paper;
    stem="small": one 3x3 convolution that keeps the size (28x28 digits, 32x32 CIFAR).
    """

    def __init__(self, blocks=(2, 2, 2, 2), widths=(64, 128, 256, 512), in_channels: int = 3,
                 n_classes: int = 1000, residual: bool = True, stem: str = "imagenet"):
        super().__init__()
        if len(blocks) != len(widths):
            raise ValueError("blocks and widths need one entry per stage")
        if stem == "imagenet":
            self.stem = nn.Sequential(_conv_bn(in_channels, widths[0], 7, stride=2), nn.ReLU(inplace=True),
                                      nn.MaxPool2d(3, stride=2, padding=1))
        elif stem == "small":
            self.stem = nn.Sequential(_conv_bn(in_channels, widths[0], 3), nn.ReLU(inplace=True))
        else:
            raise ValueError(f"stem must be 'imagenet' or 'small', not {stem!r}")
        shortcut = "auto" if residual else None
        stages, c = [], widths[0]
        for i, (n, width) in enumerate(zip(blocks, widths)):
            stride = 1 if i == 0 else 2
            stage = [BasicBlock(c, width, stride, shortcut)]
            stage += [BasicBlock(width, width, 1, shortcut) for _ in range(n - 1)]
            stages.append(nn.Sequential(*stage))
            c = width
        self.stages = nn.Sequential(*stages)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.stages(self.stem(x)))


def resnet_small(depth: int = 20, residual: bool = True, widths=(16, 32, 64),
                 in_channels: int = 1, n_classes: int = 10) -> ResNet:
    """The CIFAR-style ResNet of He et al.: depth = 6n + 2 (3 stages of n blocks of 2 convolutions)."""
    if (depth - 2) % (2 * len(widths)):
        raise ValueError(f"depth must be {2 * len(widths)}n + 2 (e.g. 8, 14, 20, 32, 44, 56), not {depth}")
    n = (depth - 2) // (2 * len(widths))
    return ResNet(blocks=(n,) * len(widths), widths=widths, in_channels=in_channels,
                  n_classes=n_classes, residual=residual, stem="small")


def count_layers(model: nn.Module) -> int:
    """Weighted layers on the main path: convolutions and dense layers, shortcut projections excluded."""
    skip = set()
    for m in model.modules():
        if isinstance(m, BasicBlock) and m.shortcut is not None:
            skip |= set(id(x) for x in m.shortcut.modules())
    return sum(1 for m in model.modules()
               if isinstance(m, (nn.Conv2d, nn.Linear)) and id(m) not in skip)
