"""Augmentation explorer (lecture 07): pick a photo, an augmentation and its strength.

    from course.widgets.augmentation import AugmentationExplorer
    AugmentationExplorer(sample_photos())

Controls (also in ``controls``: "photo", "kind", "strength", "seed"):

- ``photo``     Dropdown "photo"         which photo
- ``kind``      Dropdown "augmentation"  one of ``course.transforms.KINDS``
- ``strength``  FloatSlider "strength"   0..1, scaled by ``course.transforms.build_transform``
- ``seed``      IntSlider "random draw"  the random draws shown (the same seed, the same draws)

Output: ``picture`` (ipywidgets.Image: the original and three random draws). Headless:
``state["draws"]`` counts the redraws and ``state["images"]`` holds the four images drawn.
An Image updated in place (no Output-widget capture) renders the same in JupyterLab,
headless runs and the notes site, and never leaves a kernel waiting on stray messages.
"""
import ipywidgets as widgets
import matplotlib.pyplot as plt
import torch
from torchvision.transforms import v2

from course.transforms import KINDS, build_transform, to_numpy_image, to_tensor_image
from course.viz.png import png_bytes
from course.widgets.base import Explorer

__all__ = ["AugmentationExplorer"]


class AugmentationExplorer(Explorer):
    """A photo, an augmentation and its strength -> the original next to three random draws."""

    def __init__(self, photos: dict, size: int = 192):
        self.photos, self.size = photos, size
        self.photo = widgets.Dropdown(options=list(photos), description="photo")
        self.kind = widgets.Dropdown(options=list(KINDS), value="rotation", description="augmentation")
        self.strength = widgets.FloatSlider(value=0.5, min=0.0, max=1.0, step=0.05, description="strength")
        self.seed = widgets.IntSlider(value=0, min=0, max=50, description="random draw")
        self.picture = widgets.Image(format="png")
        self.controls = {"photo": self.photo, "kind": self.kind, "strength": self.strength, "seed": self.seed}
        self.state = {"draws": 0, "images": []}
        super().__init__([widgets.HBox([self.photo, self.kind]), widgets.HBox([self.strength, self.seed]),
                          self.picture])
        self.redraw_on(*self.controls.values())
        self.update()

    def _update(self):
        img = v2.Resize((self.size, self.size), antialias=True)(to_tensor_image(self.photos[self.photo.value]))
        torch.manual_seed(self.seed.value)
        t = build_transform(self.kind.value, self.strength.value, self.size)
        samples = [img] + [t(img) for _ in range(3)]
        self.state["draws"] += 1
        self.state["images"] = samples
        fig, axes = plt.subplots(1, 4, figsize=(8, 2.2), constrained_layout=True)
        for ax, im, title in zip(axes, samples, ["original", "draw 1", "draw 2", "draw 3"]):
            ax.imshow(to_numpy_image(im))
            ax.set_title(title, fontsize=9)
            ax.axis("off")
        self.picture.value = png_bytes(fig, tight=False)  # constrained layout already fits the figure
