"""Pooling explorer (lecture 04): max or average, kernel, stride, padding, ceil_mode, argmax.

    from course.widgets.pooling import PoolingExplorer
    PoolingExplorer()

Controls:

- ``size``      IntSlider "input n"  n x n input of distinct numbers 1..n² (no ties for max)
- ``kind``      ToggleButtons        "max" (F.max_pool2d) or "average" (F.avg_pool2d)
- ``kernel``    IntSlider "kernel"   window side
- ``stride``    Dropdown "stride"    "default (= kernel)" is PyTorch's stride=None, or 1-4
- ``padding``   IntSlider "padding"  PyTorch allows at most kernel // 2
- ``ceil_mode`` Checkbox             round the output size up instead of down

Outputs: ``shape_label`` (HTML, "Output shape: 2 x 2"), ``formula``, ``message`` (HTML:
empty output, settings PyTorch refuses, what ceil_mode added) and ``image``
(ipywidgets.Image: the input with the argmax cells outlined and the cells no window reaches
shaded grey, the output, and for max the indices ``return_indices=True`` gives). Headless:
``result``, ``indices`` (flat indices into the input, max only) and ``argmax_cells``
[(row, col), ...].
"""
import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np

from course import conv_math
from course.viz import matrices
from course.viz.png import png_bytes
from course.widgets.base import Explorer, note_html, warning_html

DEFAULT_STRIDE = "default (= kernel)"


def distinct_input(n: int, seed: int = 4) -> np.ndarray:
    return (np.random.default_rng(seed).permutation(n * n) + 1).reshape(n, n).astype(float)


def pool(x, kind: str, kernel: int, stride=None, padding: int = 0, ceil_mode: bool = False):
    """(output, flat argmax indices or None) from PyTorch's pooling on a 2-D array."""
    import torch
    import torch.nn.functional as F

    t = torch.as_tensor(np.asarray(x), dtype=torch.float32)[None, None]
    if kind == "max":
        out, idx = F.max_pool2d(t, kernel, stride, padding, ceil_mode=ceil_mode,
                                return_indices=True)
        return out[0, 0].numpy(), idx[0, 0].numpy()
    out = F.avg_pool2d(t, kernel, stride, padding, ceil_mode=ceil_mode)
    return out[0, 0].numpy(), None


class PoolingExplorer(Explorer):
    """Pooling settings -> output shape, values and argmax positions."""

    def __init__(self, size: int = 5, kind: str = "max", kernel: int = 2, stride=None,
                 padding: int = 0, ceil_mode: bool = False, seed: int = 4):
        self.seed = seed
        style = {"description_width": "80px"}
        self.size = widgets.IntSlider(size, 2, 10, description="input n", style=style)
        self.kind = widgets.ToggleButtons(options=["max", "average"], value=kind,
                                          description="pooling",
                                          style={**style, "button_width": "80px"})
        self.kernel = widgets.IntSlider(kernel, 1, 5, description="kernel", style=style)
        self.stride = widgets.Dropdown(options=[DEFAULT_STRIDE, 1, 2, 3, 4],
                                       value=stride or DEFAULT_STRIDE, description="stride",
                                       style=style, layout=widgets.Layout(width="280px"))
        self.padding = widgets.IntSlider(padding, 0, 2, description="padding", style=style)
        self.ceil_mode = widgets.Checkbox(ceil_mode, description="ceil_mode")
        self.shape_label = widgets.HTML()
        self.formula = widgets.HTML()
        self.message = widgets.HTML()
        self.image = widgets.Image(format="png")
        self.result, self.indices, self.argmax_cells = np.zeros((0, 0)), None, []
        controls = widgets.VBox([self.size, self.kind, self.kernel, self.stride, self.padding,
                                 self.ceil_mode], layout=widgets.Layout(min_width="340px"))
        readout = widgets.VBox([self.shape_label, self.formula, self.message])
        super().__init__([widgets.HBox([controls, readout]), self.image])
        self.redraw_on(self.size, self.kind, self.kernel, self.stride, self.padding, self.ceil_mode)
        self.update()

    @property
    def stride_value(self) -> int:
        return self.kernel.value if self.stride.value == DEFAULT_STRIDE else self.stride.value

    def _update(self):
        n, k, p = self.size.value, self.kernel.value, self.padding.value
        s, ceil = self.stride_value, self.ceil_mode.value
        x = distinct_input(n, self.seed)
        out_n = conv_math.output_size(n, k, s, p, ceil_mode=ceil)
        floor_n = conv_math.output_size(n, k, s, p)
        rounding = "ceil" if ceil else "floor"
        self.formula.value = (f"<code>{rounding}(({n} + 2&middot;{p} &minus; {k}) / {s}) + 1 "
                              f"= {out_n}</code>")
        self.result, self.indices, self.argmax_cells = np.zeros((0, 0)), None, []
        if out_n <= 0:
            return self._problem(f"Empty output: a {k}x{k} window does not fit in the "
                                 f"{n + 2 * p}x{n + 2 * p} padded input.", x)
        if 2 * p > k:
            return self._problem(f"PyTorch refuses padding {p} with kernel {k}: padding must "
                                 f"be at most kernel // 2 = {k // 2}.", x)
        self.result, self.indices = pool(x, self.kind.value, k, s, p, ceil)
        if self.indices is not None:
            self.argmax_cells = [divmod(int(i), n) for i in self.indices.ravel()]
        self.shape_label.value = f"<b>Output shape: {out_n} x {out_n}</b>"
        notes = [f"stride = {s}" + (" (the default: stride = kernel)"
                                    if self.stride.value == DEFAULT_STRIDE else "")]
        if out_n > floor_n:
            notes.append(f"ceil_mode added {out_n - floor_n} row/column: a last, partial "
                         "window at the edge")
        elif not conv_math.stride_fits(n, k, s, p):
            notes.append(f"{conv_math.leftover(n, k, s, p)} row/column at the edge is "
                         "dropped (floor); ceil_mode would keep it")
        self.message.value = note_html("; ".join(notes) + ".")
        self._draw(x)

    def _problem(self, text: str, x):
        self.shape_label.value = "<b>Output shape: empty</b>"
        self.message.value = warning_html(text)
        self.image.value = png_bytes(matrices.draw_matrix(x, title="input"))

    def uncovered(self, n: int) -> np.ndarray:
        """Input cells that no pooling window reaches (what rounding down drops)."""
        k, s, p = self.kernel.value, self.stride_value, self.padding.value
        reached = np.zeros(n, dtype=bool)
        for i in range(self.result.shape[0]):
            reached[max(i * s - p, 0):max(i * s - p + k, 0)] = True
        return ~(reached[:, None] & reached[None, :])

    def _draw(self, x):
        unused = self.uncovered(x.shape[0])
        title = "input" + (" (red: argmax)" if self.argmax_cells else "")
        panels = [(x, title + ("; grey: unused" if unused.any() else ""), self.argmax_cells,
                   "Blues"),
                  (self.result, f"{self.kind.value} pooling output", None, "Greens")]
        if self.indices is not None:
            panels.append((self.indices, "indices (flat)", None, "Purples"))
        widths = [m.shape[1] + 1 for m, *_ in panels]
        fig, axes = plt.subplots(1, len(panels), gridspec_kw={"width_ratios": widths},
                                 figsize=(0.45 * sum(widths) + 1, 0.45 * x.shape[0] + 1))
        for n, (ax, (m, title, cells, cmap)) in enumerate(zip(axes, panels)):
            matrices.draw_matrix(m, ax=ax, highlight=cells, title=title, cmap=cmap,
                                 shade=unused if n == 0 else None)
        self.image.value = png_bytes(fig)
