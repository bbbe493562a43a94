"""How big and how costly a network is: parameters and multiply-adds, counted from the model.

    count_parameters(model)                      # every learnable number, torchinfo's "Total params"
    trainable_parameters(model)                  # those with requires_grad (torchinfo's "Trainable params")
    count_macs(model, (3, 224, 224))             # multiply-adds of one forward pass, from forward hooks
    complexity_table(["alexnet", "vgg16"])       # torchvision architectures, no weights needed
    layer_table(model, (1, 28, 28))              # per layer: type, kernel, output shape, parameters

Counting runs on PyTorch's ``meta`` device where it can: shapes flow through the network but
no arithmetic is done and no memory is allocated, so even VGG-16 (15 G multiply-adds) is
counted in milliseconds. Multiply-adds are counted for convolutions and linear layers, the
layers that hold almost all the arithmetic (the same convention as torchinfo and the papers).
"""
from __future__ import annotations

import warnings

import torch
from torch import nn

from course import conv_math
from course.hooks import Hooks, eval_mode

__all__ = ["count_parameters", "trainable_parameters", "count_macs", "layer_table", "complexity_table",
           "torchvision_model", "conv_weights", "stacked_receptive_field",
           "inception_cost", "format_table"]


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of learnable values (weights and biases); buffers such as BN running stats are not counted.

    ``trainable_only=True`` counts only those with ``requires_grad`` (a frozen backbone's are not).
    """
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def trainable_parameters(model: nn.Module) -> int:
    """The values an optimizer would update: ``count_parameters(model, trainable_only=True)``."""
    return count_parameters(model, trainable_only=True)


def _layer_macs(module: nn.Module, out: torch.Tensor) -> int:
    """Multiply-adds of one conv / linear call, from its output shape (batch included)."""
    if isinstance(module, nn.Conv2d):
        kh, kw = module.kernel_size
        per_output = (module.in_channels // module.groups) * kh * kw
        return out.numel() * per_output
    if isinstance(module, nn.Linear):
        return out.numel() * module.in_features
    return 0


def _example_input(model: nn.Module, input_size) -> torch.Tensor:
    param = next(model.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    return torch.zeros((1, *input_size), device=device)


def _run_once(model: nn.Module, input_size) -> None:
    """One forward pass on a zero input, in eval mode (auxiliary classifiers such as GoogLeNet's
    run only in training: not counted), without building a graph."""
    with eval_mode(model), torch.no_grad():
        model(_example_input(model, input_size))


def count_macs(model: nn.Module, input_size=(3, 224, 224)) -> int:
    """Multiply-adds of one forward pass on a single input of shape ``input_size`` (C, H, W).

    A forward hook on every Conv2d and Linear multiplies the output size by the work per
    output value (input channels per group x kernel area, or input features).
    """
    layers = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    total = 0

    def add(module, inputs, out):
        nonlocal total
        total += _layer_macs(module, out)

    with Hooks(layers, add):
        _run_once(model, input_size)
    return total


def _describe(module: nn.Module) -> str:
    if isinstance(module, nn.Conv2d):
        k, s, p = module.kernel_size, module.stride, module.padding
        return f"conv {k[0]}x{k[1]}, stride {s[0]}, pad {p[0] if isinstance(p, tuple) else p}"
    if isinstance(module, (nn.MaxPool2d, nn.AvgPool2d)):
        kind = "max" if isinstance(module, nn.MaxPool2d) else "avg"
        return f"{kind} pool {module.kernel_size}, stride {module.stride}"
    if isinstance(module, nn.Linear):
        return f"dense {module.in_features} -> {module.out_features}"
    return type(module).__name__


def layer_table(model: nn.Module, input_size, leaf_types=(nn.Conv2d, nn.Linear, nn.MaxPool2d,
                                                         nn.AvgPool2d, nn.Flatten)) -> list[dict]:
    """One row per layer of the listed types, in execution order: name, what, output shape, parameters, MACs."""
    names = {id(m): n for n, m in model.named_modules() if isinstance(m, leaf_types)}
    rows = []

    def row(module, inputs, out):
        rows.append({"layer": names[id(module)], "what": _describe(module),
                     "output": "x".join(str(d) for d in out.shape[1:]),
                     "params": count_parameters(module),
                     "macs": _layer_macs(module, out)})

    with Hooks((m for m in model.modules() if id(m) in names), row):
        _run_once(model, input_size)
    return rows


def torchvision_model(name: str, device="meta") -> nn.Module:
    """A torchvision architecture with random (or, on ``meta``, no) weights: nothing is downloaded."""
    import torchvision
    kwargs = {"init_weights": False} if name in {"googlenet", "inception_v3"} else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with torch.device(device):
            return getattr(torchvision.models, name)(weights=None, **kwargs)


def complexity_table(names, input_size=(3, 224, 224)) -> list[dict]:
    """Parameters and multiply-adds of torchvision architectures, counted on the meta device."""
    rows = []
    for name in names:
        model = torchvision_model(name)
        rows.append({"model": name, "params": count_parameters(model),
                     "macs": count_macs(model, input_size)})
    return rows


def conv_weights(kernel: int, c_in: int, c_out: int, bias: bool = False) -> int:
    """Weights of one kernel x kernel convolution from c_in to c_out channels."""
    return kernel * kernel * c_in * c_out + (c_out if bias else 0)


def stacked_receptive_field(kernels, strides=None) -> int:
    """Receptive field (in input pixels) of a chain of convolutions (``conv_math.receptive_field``)."""
    strides = strides or [1] * len(kernels)
    return conv_math.receptive_field(list(zip(kernels, strides)))[-1]["size"]


def inception_cost(h: int, w: int, c_in: int, branches: dict, reduce: dict | None = None) -> dict:
    """Multiply-adds of an Inception module on an h x w x c_in input.

    ``branches`` maps kernel size -> output channels (1, 3, 5, and "pool" for the pooled 1x1
    projection); ``reduce`` maps kernel size -> channels of the 1x1 reduction in front of it.
    With ``reduce=None`` the 3x3 and 5x5 convolutions see all c_in channels (the naive module).
    Returns per-branch MACs, their total and the output depth.
    """
    reduce = reduce or {}
    cost, depth = {}, 0
    for key, c_out in branches.items():
        if key == "pool":  # max pooling keeps c_in channels; the naive module concatenates them as they are
            macs = h * w * c_in * c_out if "pool" in reduce else 0
            depth += c_out if "pool" in reduce else c_in
        else:
            k = int(key)
            c_mid = reduce.get(k, c_in)
            macs = h * w * c_out * c_mid * k * k
            if k in reduce:
                macs += h * w * c_in * c_mid  # the 1x1 reduction itself
            depth += c_out
        cost[str(key)] = macs
    return {"branches": cost, "total": sum(cost.values()), "depth": depth}


def format_table(rows: list[dict], columns=None) -> str:
    """Rows as a plain-text table with thousands separators (reads well in a notebook and in tests)."""
    columns = columns or list(rows[0])
    cells = [[f"{r[c]:,}" if isinstance(r[c], int) else str(r[c]) for c in columns] for r in rows]
    widths = [max(len(str(c)), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    line = lambda vals: "  ".join(v.rjust(wd) if i else v.ljust(wd)
                                  for i, (v, wd) in enumerate(zip(vals, widths)))
    return "\n".join([line([str(c) for c in columns]), line(["-" * wd for wd in widths])]
                     + [line(row) for row in cells])
