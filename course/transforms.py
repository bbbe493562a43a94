"""Data augmentation with torchvision transforms v2 (lecture 07; imported there as ``course.augment``).

    photo_transforms(size=224)              the gallery: flip, rotation, shift, crop, colour jitter, blur
    show_gallery(photo, photo_transforms())  each transform drawn a few times on one real photo
    digit_transform()                        what makes sense for digits (no flips: a flipped 2 is no 2)
    augment_batch(x, transform)              a fresh random draw per image of a batch
    BatchRandomAffine()                      the same for rotation / shift / zoom, vectorized (training)
    AugmentTrainingBatches(transform)        a fit() callback that augments every training batch
"""
import matplotlib.pyplot as plt
import numpy as np
import torch
from torchvision.transforms import v2

from course.callbacks import Callback

__all__ = ["photo_transforms", "digit_transform", "to_tensor_image", "to_numpy_image",
           "show_gallery", "augment_batch", "BatchRandomAffine", "AugmentTrainingBatches", "build_transform",
           "KINDS"]


def to_tensor_image(photo: np.ndarray) -> torch.Tensor:
    """H x W x 3 uint8 (skimage) -> 3 x H x W uint8 tensor (what v2 transforms expect)."""
    return torch.from_numpy(np.ascontiguousarray(photo)).permute(2, 0, 1)


def to_numpy_image(img: torch.Tensor) -> np.ndarray:
    """C x H x W tensor (uint8 or float in [0, 1]) -> H x W x C array for imshow."""
    img = img.detach().cpu()
    if img.is_floating_point():
        img = (img.clamp(0, 1) * 255).round().to(torch.uint8)
    arr = img.permute(1, 2, 0).numpy()
    return arr[..., 0] if arr.shape[2] == 1 else arr


def build_transform(kind: str, strength: float = 0.5, size: int = 224) -> v2.Transform:
    """One augmentation by name, its strength in [0, 1] scaled to a sensible range."""
    s = float(np.clip(strength, 0.0, 1.0))
    if kind == "horizontal flip":
        return v2.RandomHorizontalFlip(p=s)  # strength = probability of flipping
    if kind == "rotation":
        return v2.RandomRotation(degrees=max(1e-3, 45 * s))
    if kind == "shift":
        return v2.RandomAffine(degrees=0, translate=(0.3 * s, 0.3 * s))
    if kind == "crop":
        return v2.RandomResizedCrop(size, scale=(max(0.05, 1 - 0.9 * s), 1.0), antialias=True)
    if kind == "colour jitter":
        return v2.ColorJitter(brightness=0.8 * s, contrast=0.8 * s, saturation=0.8 * s, hue=0.5 * s)
    if kind == "blur":
        return v2.GaussianBlur(kernel_size=2 * int(1 + 10 * s) + 1, sigma=(0.1, 0.1 + 5 * s))
    raise ValueError(f"unknown augmentation {kind!r}; choose from {KINDS}")


KINDS = ("horizontal flip", "rotation", "shift", "crop", "colour jitter", "blur")


def photo_transforms(size: int = 224, strength: float = 0.6) -> dict:
    """The six augmentations of the lecture, each on its own, as {name: transform}.

    Every one is followed by a resize to ``size`` x ``size`` so the gallery lines up.
    """
    resize = v2.Resize((size, size), antialias=True)
    return {kind: v2.Compose([resize, build_transform(kind, strength, size)]) for kind in KINDS}


def digit_transform(degrees: float = 12, translate: float = 0.1, scale=(0.9, 1.1)) -> v2.Transform:
    """Small rotations, shifts and zooms: a digit stays the same digit. No flips, no colour."""
    return v2.RandomAffine(degrees=degrees, translate=(translate, translate), scale=scale)


def show_gallery(photo, transforms: dict, n: int = 4, seed: int = 0, size: int = 224):
    """Rows: the original, then each transform drawn ``n`` times on the same photo."""
    img = to_tensor_image(photo) if isinstance(photo, np.ndarray) else photo
    original = v2.Resize((size, size), antialias=True)(img)
    torch.manual_seed(seed)
    fig, axes = plt.subplots(len(transforms), n + 1, figsize=(1.6 * (n + 1), 1.6 * len(transforms)),
                             constrained_layout=True, squeeze=False)
    for row, (name, transform) in zip(axes, transforms.items()):
        row[0].imshow(to_numpy_image(original))
        row[0].set_ylabel(name, fontsize=9)
        for ax in row[1:]:
            ax.imshow(to_numpy_image(transform(img)))
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    axes[0][0].set_title("original", fontsize=9)
    return fig


def augment_batch(x: torch.Tensor, transform) -> torch.Tensor:
    """Apply ``transform`` to each image separately.

    A v2 transform given a whole N x C x H x W batch draws ONE set of random parameters for all
    of it (every digit rotated by the same angle); a fresh draw per image is what augmentation means.
    """
    return torch.stack([transform(img) for img in x])


class BatchRandomAffine(torch.nn.Module):
    """Random rotation, shift and zoom with a fresh draw per image, for a whole N x C x H x W batch.

    The same family as ``v2.RandomAffine(degrees, translate, scale)``, vectorized: one
    ``affine_grid`` + ``grid_sample`` call instead of a Python loop over images, so it costs
    little more than a convolution layer (and runs on the GPU with the batch).
    """

    def __init__(self, degrees: float = 12, translate: float = 0.1, scale=(0.9, 1.1)):
        super().__init__()
        self.degrees, self.translate, self.scale = degrees, translate, tuple(scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = len(x)
        u = torch.rand(n, 4, device=x.device)
        angle = torch.deg2rad((2 * u[:, 0] - 1) * self.degrees)
        zoom = self.scale[0] + (self.scale[1] - self.scale[0]) * u[:, 1]
        shift = (2 * u[:, 2:] - 1) * self.translate * 2  # grid coordinates span [-1, 1]: 2 units
        cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
        # the matrix maps output coordinates to input ones, hence the inverse rotation and zoom
        theta = torch.stack([torch.stack([cos, sin, -shift[:, 0]], 1),
                             torch.stack([-sin, cos, -shift[:, 1]], 1)], 1)
        grid = torch.nn.functional.affine_grid(theta, list(x.shape), align_corners=False)
        return torch.nn.functional.grid_sample(x, grid, padding_mode="zeros", align_corners=False)


class AugmentTrainingBatches(Callback):
    """A ``fit`` callback that replaces each training batch by an augmented copy (evaluation is untouched).

    ``transform`` is a per-image v2 transform (applied image by image) or, with
    ``batched=True``, a module such as ``BatchRandomAffine`` that draws per image itself.
    """

    def __init__(self, transform, batched: bool = False):
        self.transform, self.batched = transform, batched

    def before_batch(self, trainer):
        if trainer.training:
            with torch.no_grad():
                xb = trainer.xb
                trainer.xb = self.transform(xb) if self.batched else augment_batch(xb, self.transform)
