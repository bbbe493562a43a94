"""LeNet-5 (1998 and modern), ``simple_cnn`` of stride-2 convolutions, the CIFAR-10 model of lecture 07.

Shapes in the comments assume a 1 x 28 x 28 MNIST digit (3 x 32 x 32 for the CIFAR-10 model).
"""
from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn

from course.complexity import count_parameters  # one count for the course; lectures 05-07 import it from here

__all__ = ["C3_TABLE", "ConnectionTableConv2d", "Subsampling", "ScaledTanh", "LeNet5",
           "lenet5", "lenet5_1998", "lenet5_modern", "conv_block", "simple_cnn", "cifar10_cnn",
           "count_parameters", "count_buffers", "connectivity_from_gradients"]

# LeCun et al. 1998, table I: which S2 maps (rows) feed which C3 maps (columns).
# Columns 0-5 read 3 neighbouring maps, 6-11 read 4 neighbours, 12-14 read 4 non-neighbours,
# column 15 reads all six. The asymmetry breaks the symmetry between C3 maps and saves weights.
_C3_ROWS = [
    "X...XXX..XXXX.XX",
    "XX...XXX..XXXX.X",
    "XXX...XXX..X.XXX",
    ".XXX..XXXX..X.XX",
    "..XXX..XXXX.XX.X",
    "...XXX..XXXX.XXX",
]
C3_TABLE = torch.tensor([[c == "X" for c in row] for row in _C3_ROWS])  # 6 x 16, bool


def count_buffers(model: nn.Module, floating_only: bool = True) -> int:
    """Numbers a model carries but does not learn by gradient (BN running mean / variance).

    ``floating_only`` skips BN's integer ``num_batches_tracked`` counters, which Keras does not have.
    """
    return sum(b.numel() for b in model.buffers() if b.is_floating_point() or not floating_only)


class ConnectionTableConv2d(nn.Module):
    """A convolution whose output channel j reads only the input channels marked in column j.

    Only the connected kernels exist as parameters (so the count is the 1998 one); they are
    scattered into a dense, otherwise zero weight for one ``F.conv2d`` call. Unconnected
    kernels are not parameters at all, so they stay zero and get no gradient.
    """

    def __init__(self, table: torch.Tensor, kernel_size: int = 5, padding: int = 0):
        super().__init__()
        table = torch.as_tensor(table, dtype=torch.bool)
        self.in_channels, self.out_channels = table.shape
        self.kernel_size, self.padding = kernel_size, padding
        out_idx, in_idx = table.t().nonzero(as_tuple=True)  # one pair per connection
        self.register_buffer("table", table, persistent=False)
        self.register_buffer("out_idx", out_idx, persistent=False)
        self.register_buffer("in_idx", in_idx, persistent=False)
        fan_in = table.sum(0)[out_idx].float() * kernel_size ** 2  # per-connection fan-in
        bound = (1.0 / fan_in).sqrt()[:, None, None]
        self.weight = nn.Parameter((torch.rand(len(out_idx), kernel_size, kernel_size) * 2 - 1) * bound)
        self.bias = nn.Parameter((torch.rand(self.out_channels) * 2 - 1) / (table.sum(0).float() * kernel_size ** 2).sqrt())

    def dense_weight(self) -> torch.Tensor:
        k = self.kernel_size
        full = self.weight.new_zeros(self.out_channels, self.in_channels, k, k)
        return full.index_put((self.out_idx, self.in_idx), self.weight)

    def forward(self, x):
        return F.conv2d(x, self.dense_weight(), self.bias, padding=self.padding)

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"connections={len(self.out_idx)} of {self.in_channels * self.out_channels}")


class Subsampling(nn.Module):
    """1998 subsampling: 2x2 average, times a learned coefficient, plus a learned bias, per map."""

    def __init__(self, channels: int):
        super().__init__()
        self.coef = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x):
        n, c, h, w = x.shape
        # the mean over 2 x 2 blocks as a reshape: same as F.avg_pool2d(x, 2) on even sizes,
        # with a much cheaper backward pass on the CPU
        pooled = x[..., : h - h % 2, : w - w % 2].reshape(n, c, h // 2, 2, w // 2, 2).mean((3, 5))
        return pooled * self.coef[:, None, None] + self.bias[:, None, None]


class ScaledTanh(nn.Module):
    """LeCun's squashing function 1.7159 tanh(2x/3): f(1) = 1, f(-1) = -1."""

    def forward(self, x):
        return 1.7159 * torch.tanh(x * (2.0 / 3.0))


class LeNet5(nn.Sequential):
    """A Sequential with named layers (c1, s2, c3, s4, c5, f6, output) for summaries and hooks."""


def lenet5_1998(n_classes: int = 10, in_channels: int = 1) -> LeNet5:
    """LeNet-5 as published in 1998: scaled tanh, trainable subsampling, the partial C3 table.

    The paper's 32 x 32 input is the 28 x 28 digit with 2 pixels of padding, hence padding=2.
    The output is a linear layer (the paper used fixed RBF units on 7 x 12 bitmaps).
    """
    return LeNet5(OrderedDict([
        ("c1", nn.Conv2d(in_channels, 6, 5, padding=2)),  # 6 x 28 x 28
        ("act1", ScaledTanh()),
        ("s2", Subsampling(6)),                            # 6 x 14 x 14
        ("act2", ScaledTanh()),
        ("c3", ConnectionTableConv2d(C3_TABLE, 5)),        # 16 x 10 x 10, 60 of 96 maps connected
        ("act3", ScaledTanh()),
        ("s4", Subsampling(16)),                           # 16 x 5 x 5
        ("act4", ScaledTanh()),
        ("c5", nn.Conv2d(16, 120, 5)),                     # 120 x 1 x 1
        ("act5", ScaledTanh()),
        ("flatten", nn.Flatten()),                         # 120
        ("f6", nn.Linear(120, 84)),                        # 84
        ("act6", ScaledTanh()),
        ("output", nn.Linear(84, n_classes)),              # 10
    ]))


def lenet5_modern(n_classes: int = 10, in_channels: int = 1, batch_norm: bool = False) -> LeNet5:
    """The same skeleton as it is written today: full C3, ReLU, max pooling, optional batch norm."""
    def bn(c, two_d=True):
        if not batch_norm:
            return nn.Identity()
        return nn.BatchNorm2d(c) if two_d else nn.BatchNorm1d(c)
    return LeNet5(OrderedDict([
        ("c1", nn.Conv2d(in_channels, 6, 5, padding=2, bias=not batch_norm)),  # 6 x 28 x 28
        ("bn1", bn(6)), ("act1", nn.ReLU()),
        ("s2", nn.MaxPool2d(2)),                                                # 6 x 14 x 14
        ("c3", nn.Conv2d(6, 16, 5, bias=not batch_norm)),                       # 16 x 10 x 10
        ("bn3", bn(16)), ("act3", nn.ReLU()),
        ("s4", nn.MaxPool2d(2)),                                                # 16 x 5 x 5
        ("flatten", nn.Flatten()),                                              # 400
        ("c5", nn.Linear(16 * 5 * 5, 120)), ("act5", nn.ReLU()),                # 120
        ("f6", nn.Linear(120, 84)), ("act6", nn.ReLU()),                        # 84
        ("output", nn.Linear(84, n_classes)),                                   # 10
    ]))


def lenet5(kind: str = "1998", **kwargs) -> LeNet5:
    """``lenet5("1998")`` or ``lenet5("modern", batch_norm=True)``."""
    builders = {"1998": lenet5_1998, "modern": lenet5_modern}
    if kind not in builders:
        raise ValueError(f"kind must be one of {sorted(builders)}, not {kind!r}")
    return builders[kind](**kwargs)


def conv_block(ni: int, nf: int, ks: int = 3, act: bool = True, batch_norm: bool = False) -> nn.Sequential:
    """Stride-2 convolution (halves height and width, (h + 1) // 2), then BN and ReLU if asked.

    With batch norm the convolution's bias is redundant (BN's beta shifts the same way), so it is dropped.
    """
    layers = [nn.Conv2d(ni, nf, ks, stride=2, padding=ks // 2, bias=not batch_norm)]
    if batch_norm:
        layers.append(nn.BatchNorm2d(nf))
    if act:
        layers.append(nn.ReLU())  # one ReLU instance per block, so hooks can tell them apart
    return nn.Sequential(*layers)


def simple_cnn(channels=(1, 4, 8, 16, 32, 2), first_kernel: int = 3, batch_norm: bool = False) -> nn.Sequential:
    """Stride-2 convolutions only, until a 28 x 28 input is 1 x 1; the last one has no ReLU.

    Default (1-4-8-16-32-2, 6,722 parameters), on a 28 x 28 input:
        conv 1->4    4 x 14 x 14
        conv 4->8    8 x 7 x 7
        conv 8->16   16 x 4 x 4
        conv 16->32  32 x 2 x 2
        conv 32->2   2 x 1 x 1, flattened to 2 class scores
    The 10-class MNIST variant of lecture 06 is ``simple_cnn((1, 8, 16, 32, 64, 10), first_kernel=5)``.
    """
    if len(channels) != 6:
        raise ValueError("simple_cnn needs 6 channel counts: five stride-2 convolutions take 28 x 28 to 1 x 1")
    ks = [first_kernel, 3, 3, 3, 3]
    blocks = [conv_block(channels[i], channels[i + 1], ks[i], act=i < 4, batch_norm=batch_norm and i < 4)
              for i in range(5)]
    return nn.Sequential(*blocks, nn.Flatten())


def cifar10_cnn(n_classes: int = 10, dropout: float = 0.25, dense_dropout: float = 0.5) -> nn.Sequential:
    """The Keras CIFAR-10 model of seed 004 in PyTorch: (conv-BN) x2, pool, dropout, three times; dense 512.

    Keras puts BN after the ReLU of each convolution; the parameter count does not depend on the order.
    """
    def stage(ni, nf):
        return [nn.Conv2d(ni, nf, 3, padding=1), nn.ReLU(), nn.BatchNorm2d(nf),
                nn.Conv2d(nf, nf, 3, padding=1), nn.ReLU(), nn.BatchNorm2d(nf),
                nn.MaxPool2d(2), nn.Dropout(dropout)]
    return nn.Sequential(
        *stage(3, 32),     # 32 x 16 x 16
        *stage(32, 64),    # 64 x 8 x 8
        *stage(64, 128),   # 128 x 4 x 4
        nn.Flatten(),      # 2048
        nn.Linear(128 * 4 * 4, 512), nn.ReLU(), nn.BatchNorm1d(512), nn.Dropout(dense_dropout),
        nn.Linear(512, n_classes),
    )


def connectivity_from_gradients(layer: nn.Module, input_shape) -> torch.Tensor:
    """in x out bool matrix measured by backprop: does output channel j depend on input channel i?

    For each output channel, the gradient of its sum with respect to a random input is nonzero
    exactly on the input channels it reads. For LeNet-5's C3 this reproduces the 1998 table.
    """
    x = torch.randn(1, *input_shape, requires_grad=True)
    out_channels = layer(x).shape[1]
    reach = torch.zeros(input_shape[0], out_channels, dtype=torch.bool)
    for j in range(out_channels):
        x.grad = None
        layer(x)[:, j].sum().backward()
        reach[:, j] = x.grad.abs().sum(dim=(0, 2, 3)) > 0
    return reach
