"""What a CNN sees: first-layer filters, feature maps per layer, top activating image patches.

    show_filters(model_first_conv.weight)                 # one small picture per filter (RGB when 3 channels)
    layers = feature_layers(model)                        # {"stem": ..., "block 1": ...}: the stages worth looking at
    maps = capture(model, x, layers)                      # {name: N x C x H x W activations}
    show_feature_maps(maps, image=photo)                  # a row of channels per layer
    best = top_patches(model, layers["block 1"], crops, channel=5)   # the 9 crops' regions that excite channel 5 most
    show_top_patches(crops, {5: best, 7: other})          # one 3x3 block per filter

Patches are found without knowing the architecture: the input region that influences an
activation is where the gradient of that activation with respect to the input is non-zero.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from course.hooks import Hooks, eval_mode

__all__ = ["first_conv", "show_filters", "feature_layers", "capture", "show_feature_maps", "top_patches",
           "show_top_patches", "photo_crops", "to_display"]


def to_display(img) -> np.ndarray:
    """C x H x W (any range) -> H x W x 3 or H x W in [0, 1], stretched min..max for viewing."""
    a = torch.as_tensor(img).detach().float().cpu()
    if a.ndim == 3 and a.shape[0] in (1, 3):
        a = a.permute(1, 2, 0)
    a = (a - a.min()) / (a.max() - a.min()).clamp_min(1e-8)
    a = a.numpy()
    return a[..., 0] if a.ndim == 3 and a.shape[-1] == 1 else a


def _grid(n: int, ncols: int):
    import matplotlib.pyplot as plt
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * 0.9, nrows * 0.9), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    return fig, axes


def first_conv(model: nn.Module) -> nn.Conv2d:
    """The first convolution of a model (the one that looks at pixels)."""
    return next(m for m in model.modules() if isinstance(m, nn.Conv2d))


def show_filters(weight: torch.Tensor, ncols: int = 8, title: str | None = None):
    """First-layer kernels (out x in x k x k): colour pictures for RGB input, grey for one channel."""
    w = weight.detach().cpu()
    fig, axes = _grid(len(w), ncols)
    for ax, kernel in zip(axes.flat, w):
        shown = to_display(kernel if kernel.shape[0] in (1, 3) else kernel.mean(0, keepdim=True))
        ax.imshow(shown, cmap=None if shown.ndim == 3 else "gray", interpolation="nearest")
    fig.suptitle(title or f"{len(w)} filters {w.shape[2]}x{w.shape[3]}x{w.shape[1]}", fontsize=9)
    return fig


def feature_layers(model: nn.Module) -> dict[str, nn.Module]:
    """The layers worth looking at, from input to output, for the model families of the course."""
    if hasattr(model, "conv_stem") and hasattr(model, "blocks"):          # timm EfficientNet / MobileNet
        out = {"stem": model.conv_stem}
        out.update({f"block {i + 1}": b for i, b in enumerate(model.blocks)})
        return out
    if all(hasattr(model, a) for a in ("conv1", "layer1", "layer4")):      # torchvision ResNet
        return {"conv1": model.conv1, **{f"layer{i}": getattr(model, f"layer{i}") for i in range(1, 5)}}
    if hasattr(model, "stem") and hasattr(model, "stages"):                # course.models.ResNet
        return {"stem": model.stem, **{f"stage {i + 1}": s for i, s in enumerate(model.stages)}}
    return {name: m for name, m in model.named_modules() if isinstance(m, nn.Conv2d)}


class _Stop(Exception):
    """Raised by a hook once every wanted activation is captured: the rest of the net is not run."""


def capture(model: nn.Module, x: torch.Tensor, layers: dict[str, nn.Module], grad: bool = False):
    """Activations of ``layers`` for input ``x`` (N x C x H x W), computed in eval mode."""
    found: dict[str, torch.Tensor] = {}
    names = {id(m): n for n, m in layers.items()}

    def keep(module, inputs, out):
        found[names[id(module)]] = out if grad else out.detach()
        if len(found) == len(layers):
            raise _Stop

    with Hooks(layers.values(), keep), eval_mode(model), torch.set_grad_enabled(grad):
        try:
            model(x)
        except _Stop:
            pass
    return {n: found[n] for n in layers if n in found}


def show_feature_maps(maps: dict[str, torch.Tensor], n: int = 8, image=None, index: int = 0,
                      strongest: bool = True):
    """One row per layer: its ``n`` channels (the most active ones when ``strongest``) for image ``index``."""
    import matplotlib.pyplot as plt
    cols = n + (image is not None)
    fig, axes = plt.subplots(len(maps), cols, figsize=(cols * 1.1, len(maps) * 1.2), squeeze=False)
    for row, (name, act) in zip(axes, maps.items()):
        a = act[index].float().cpu()
        order = a.mean(dim=(1, 2)).argsort(descending=True)[:n] if strongest else torch.arange(min(n, len(a)))
        if image is not None:
            row[0].imshow(to_display(image), cmap="gray")
        for ax in row:
            ax.set_xticks([]), ax.set_yticks([])
        for ax, c in zip(row[cols - n:], order.tolist()):
            ax.imshow(a[c].numpy(), cmap="viridis")
            ax.set_title(f"ch {c}", fontsize=7)
        row[0].set_ylabel(f"{name}\n{a.shape[1]}x{a.shape[2]}x{a.shape[0]}", fontsize=7)
    fig.tight_layout()
    return fig


def _influence_box(model, layer, x: torch.Tensor, channel: int, y: int, xx: int):
    """Rows and columns of the input pixels whose gradient on activation (channel, y, x) is non-zero."""
    inp = x[None].clone().requires_grad_(True)
    act = capture(model, inp, {"l": layer}, grad=True)["l"]
    act[0, channel, y, xx].backward()
    g = inp.grad[0].abs().sum(0)
    rows, cols = torch.nonzero(g.sum(1)).flatten(), torch.nonzero(g.sum(0)).flatten()
    if len(rows) == 0:  # a dead unit: fall back to the pixel under the activation
        sy, sx = x.shape[1] / act.shape[2], x.shape[2] / act.shape[3]
        r, c = int(y * sy), int(xx * sx)
        return r, r + max(1, int(sy)), c, c + max(1, int(sx))
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def top_patches(model: nn.Module, layer: nn.Module, images: torch.Tensor, channel: int, k: int = 9,
                batch_size: int = 64) -> list[dict]:
    """The k images (one position each) where ``channel`` of ``layer`` fires most, with the input box behind it.

    Returns dicts: image (index), y, x (activation position), value, box (r0, r1, c0, c1 in pixels).
    """
    best_val, best_pos = [], []
    for start in range(0, len(images), batch_size):
        act = capture(model, images[start:start + batch_size], {"l": layer})["l"][:, channel]
        flat = act.flatten(1)
        value, pos = flat.max(dim=1)
        best_val.append(value)
        best_pos.append(torch.stack([pos // act.shape[2], pos % act.shape[2]], 1))
    values, positions = torch.cat(best_val), torch.cat(best_pos)
    order = values.argsort(descending=True)[:k]
    found = []
    for i in order.tolist():
        y, x = positions[i].tolist()
        found.append({"image": i, "y": y, "x": x, "value": float(values[i]),
                      "box": _influence_box(model, layer, images[i], channel, y, x)})
    return found


def show_top_patches(images: torch.Tensor, results: dict[int, list[dict]], ncols: int = 4):
    """One 3x3 block per filter: the image regions from :func:`top_patches` (``images`` for display)."""
    import matplotlib.pyplot as plt
    nrows = math.ceil(len(results) / ncols)
    fig = plt.figure(figsize=(ncols * 2.1, nrows * 2.3))
    outer = fig.add_gridspec(nrows, ncols, wspace=0.15, hspace=0.3)
    for cell, (channel, found) in zip(outer, results.items()):
        inner = cell.subgridspec(3, 3, wspace=0.04, hspace=0.04)
        for j, hit in enumerate(found[:9]):
            r0, r1, c0, c1 = hit["box"]
            ax = fig.add_subplot(inner[j // 3, j % 3])
            patch = to_display(images[hit["image"]][:, r0:r1, c0:c1])
            ax.imshow(patch, cmap=None if patch.ndim == 3 else "gray")
            ax.set_xticks([]), ax.set_yticks([])
            if j == 1:
                ax.set_title(f"filter {channel}", fontsize=8)
    return fig


def photo_crops(photos: dict, size: int = 64, step: int | None = None, long_side: int = 256) -> torch.Tensor:
    """Square crops (N x 3 x size x size in [0, 1]) tiled over photos first resized to ``long_side``."""
    import torch.nn.functional as F
    step = step or size
    crops = []
    for img in photos.values():
        t = torch.as_tensor(np.asarray(img)).float() / 255
        t = t[..., None].expand(-1, -1, 3) if t.ndim == 2 else t[..., :3]
        t = t.permute(2, 0, 1)[None]
        scale = long_side / max(t.shape[2:])
        t = F.interpolate(t, scale_factor=scale, mode="bilinear", antialias=True, align_corners=False)[0]
        for r in range(0, t.shape[1] - size + 1, step):
            for c in range(0, t.shape[2] - size + 1, step):
                crops.append(t[:, r:r + size, c:c + size])
    return torch.stack(crops).clamp(0, 1)
