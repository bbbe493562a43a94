"""Feature-map explorer: pick an image, a layer and a channel; see what that channel responds to.

    from course.widgets.feature_maps import FeatureMapExplorer
    explorer = FeatureMapExplorer(model, {"chelsea": x1, "coffee": x2}, display={"chelsea": photo1, ...})
    explorer                       # last expression of a cell: the widget shows

Structure (stable, for tests and for clicking in a browser), top to bottom, an ``ipywidgets.VBox``:

- ``explorer.image``   Dropdown, description "image": the names of the input images
- ``explorer.layer``   Dropdown, description "layer": layer names from input to output
  (default: ``course.viz.features.feature_layers(model)``)
- ``explorer.channel`` IntSlider, description "channel": 0 .. channels of the layer - 1
  (its ``max`` follows the layer; ``continuous_update=False`` so a drag computes once)
- ``explorer.picture`` Image (PNG): the input next to the chosen feature map; its ``value``
  is replaced in place on every change
- ``explorer.info``    HTML: "layer L: C channels, H x W; channel c: mean m, max M"

Headless use: set ``explorer.image.value`` / ``layer.value`` / ``channel.value`` and read
``explorer.feature_map`` (H x W tensor of the current choice) and ``explorer.picture.value``
(PNG bytes). Activations are computed once per (image, layer); moving the channel slider
only redraws.
"""
from __future__ import annotations

import ipywidgets as widgets
import torch
from torch import nn

from course.viz.features import capture, feature_layers, to_display
from course.viz.png import png_bytes
from course.widgets.base import Explorer

__all__ = ["FeatureMapExplorer"]


def _png(image, fmap: torch.Tensor, title: str) -> bytes:
    """Input and feature map side by side, rendered off-screen (no pyplot state, no extra output)."""
    from matplotlib.figure import Figure
    fig = Figure(figsize=(6.4, 3.2))
    left, right = fig.subplots(1, 2)
    shown = to_display(image)
    left.imshow(shown, cmap=None if shown.ndim == 3 else "gray")
    left.set_title("input", fontsize=9)
    im = right.imshow(fmap.numpy(), cmap="viridis")
    right.set_title(title, fontsize=9)
    fig.colorbar(im, ax=right, fraction=0.046)
    for ax in (left, right):
        ax.set_xticks([]), ax.set_yticks([])
    return png_bytes(fig, close=False)  # not a pyplot figure: nothing to close


class FeatureMapExplorer(Explorer):
    """Dropdowns for image and layer, a channel slider and a picture that updates in place."""

    def __init__(self, model: nn.Module, images: dict[str, torch.Tensor],
                 layers: dict[str, nn.Module] | None = None, display: dict | None = None):
        if not images:
            raise ValueError("give at least one image: {name: C x H x W model input}")
        self.model = model.eval()
        self.images = {k: torch.as_tensor(v) for k, v in images.items()}
        self.display_images = display or self.images
        self.layers = layers or feature_layers(model)
        self._cache: dict[tuple[str, str], torch.Tensor] = {}
        self.renders = 0  # how many pictures were drawn (tests check one per change)
        self.image = widgets.Dropdown(options=list(self.images), description="image")
        self.layer = widgets.Dropdown(options=list(self.layers), description="layer")
        self.channel = widgets.IntSlider(min=0, max=0, value=0, description="channel",
                                         continuous_update=False)
        self.picture = widgets.Image(format="png")
        self.info = widgets.HTML()
        super().__init__([widgets.HBox([self.image, self.layer]), self.channel, self.picture, self.info])
        self.redraw_on(self.image, self.channel)
        self.redraw_on(self.layer, handler=self._on_layer)
        self._on_layer()

    def activations(self) -> torch.Tensor:
        """C x H x W activations of the chosen layer for the chosen image (cached)."""
        key = (self.image.value, self.layer.value)
        if key not in self._cache:
            x = self.images[key[0]][None]
            out = capture(self.model, x, {key[1]: self.layers[key[1]]})[key[1]]
            self._cache[key] = out[0].float().cpu()
        return self._cache[key]

    @property
    def feature_map(self) -> torch.Tensor:
        return self.activations()[self.channel.value]

    def _on_layer(self, change=None):
        channels = self.activations().shape[0]
        with self.holding():  # the slider change below must not draw a second time
            # set max before value so the slider never holds an out-of-range channel
            self.channel.max = channels - 1
            self.channel.value = min(self.channel.value, channels - 1)
        self.update()

    def _update(self):
        acts = self.activations()
        fmap = acts[self.channel.value]
        name = f"{self.layer.value}, channel {self.channel.value}"
        self.renders += 1
        self.picture.value = _png(self.display_images[self.image.value], fmap, name)
        self.info.value = (f"layer <b>{self.layer.value}</b>: {acts.shape[0]} channels, "
                           f"{acts.shape[1]} x {acts.shape[2]}; channel {self.channel.value}: "
                           f"mean {float(fmap.mean()):.3f}, max {float(fmap.max()):.3f}")
