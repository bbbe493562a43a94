"""Your own photos as a dataset: ``path/<class name>/<image>.jpg``, read with torchvision's ImageFolder.

    folder = image_folder("my_photos", preprocess)         # a torchvision ImageFolder
    x, y, classes = folder_tensors("my_photos", preprocess) # every image as one tensor
    write_demo_folder("demo", sample_photos())              # a small folder to try the code on
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch

__all__ = ["image_folder", "folder_tensors", "write_demo_folder"]


def image_folder(path, preprocess):
    """Your own photos: ``path/class_name/*.jpg`` (or .png) as a torchvision ImageFolder dataset."""
    from torchvision.datasets import ImageFolder
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ImageFolder(str(path), transform=preprocess)


def folder_tensors(path, preprocess) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    """Every image of an ImageFolder as one tensor, its labels and the class names (folder names)."""
    try:
        folder = image_folder(path, preprocess)
    except FileNotFoundError as error:  # torchvision: no class folder, or no image in any of them
        raise ValueError(f"no images found under {path}; expected {path}/<class>/<image>.jpg "
                         f"({error})") from None
    if len(folder) == 0:
        raise ValueError(f"no images found under {path}; expected {path}/<class>/<image>.jpg")
    xs, ys = zip(*(folder[i] for i in range(len(folder))))
    return torch.stack(xs), torch.tensor(ys), list(folder.classes)


def write_demo_folder(path, photos: dict, per_class: int = 3, size: int = 160) -> Path:
    """A small ImageFolder (``path/<photo name>/<i>.jpg``): random crops of each photo, for trying the code."""
    from PIL import Image
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
