"""ImageNet conventions: the 1,000 class names, the preprocessing, and reading predictions.

    imagenet_classes()[281]                 # "tabby"
    imagenet_preprocess(224)(photo)         # H x W x 3 uint8 -> normalized 3 x 224 x 224
    top_k(backbone, photo, k=5)             # [("Egyptian cat", 0.36), ("tabby", 0.28), ...]
    as_backbone_input(digits, size=64)      # N x 1 x 28 x 28 in [0, 1] -> N x 3 x 64 x 64, normalized
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["IMAGENET_MEAN", "IMAGENET_STD", "imagenet_classes", "imagenet_preprocess", "top_k",
           "as_backbone_input"]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def imagenet_classes() -> list[str]:
    """The 1,000 ImageNet-1k class names, in output order (shipped inside torchvision)."""
    from torchvision.models import ResNet18_Weights
    return list(ResNet18_Weights.IMAGENET1K_V1.meta["categories"])


def imagenet_preprocess(size: int = 224):
    """Resize the short side to size * 8/7, crop the centre size x size, scale to [0, 1], normalize."""
    from torchvision.transforms import v2 as T
    return T.Compose([T.ToImage(), T.Resize(size * 8 // 7, antialias=True), T.CenterCrop(size),
                      T.ToDtype(torch.float32, scale=True), T.Normalize(IMAGENET_MEAN, IMAGENET_STD)])


def _as_batch(backbone, images) -> torch.Tensor:
    """Photos (arrays / PIL images, one or a list) or an already preprocessed tensor -> N x 3 x S x S."""
    if isinstance(images, torch.Tensor) and images.dtype.is_floating_point:
        return images if images.ndim == 4 else images[None]
    if not isinstance(images, (list, tuple)):
        images = [images]
    return torch.stack([backbone.preprocess(img) for img in images])


@torch.no_grad()
def top_k(backbone, images, k: int = 5):
    """The k most probable labels of a ``Backbone`` with their probabilities: one list per image (or one list)."""
    single = not isinstance(images, (list, tuple)) and not (
        isinstance(images, torch.Tensor) and images.ndim == 4)
    model = backbone.model.eval()
    x = _as_batch(backbone, images).to(next(model.parameters()).device)
    probs = model(x).softmax(dim=1).cpu()
    values, indices = probs.topk(k, dim=1)
    out = [[(backbone.classes[i], float(p)) for p, i in zip(vs, ix)] for vs, ix in zip(values, indices)]
    return out[0] if single else out


def as_backbone_input(x: torch.Tensor, size: int = 64) -> torch.Tensor:
    """N x 1 (or 3) x H x W images in [0, 1] -> N x 3 x size x size, normalized as in ImageNet training."""
    x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
    if x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)  # grey digits: the same picture in R, G and B
    mean = torch.tensor(IMAGENET_MEAN, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=x.device).view(1, 3, 1, 1)
    return (x - mean) / std
