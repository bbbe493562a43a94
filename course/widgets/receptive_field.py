"""Receptive-field explorer (lecture 04): pick an output cell, see the input pixels it sees.

    from course.widgets.receptive_field import ReceptiveFieldExplorer
    ReceptiveFieldExplorer()

Controls:

- ``preset``  Dropdown "stack"   a named stack of layers (two 3x3 stride-2 convolutions, ...)
- ``layers``  Text "layers"      the stack as "k/s/p[/d], ..." (kernel/stride/padding/
                                 dilation per layer); editing it switches ``preset`` to custom
- ``size``    IntSlider "input n"  side of the square input
- ``row``, ``col`` IntSliders    the output cell of the last layer; their maximum follows
                                 the output size

Outputs: ``shape_label`` (HTML: "Receptive field: 7 x 7 ..." and the output shape),
``table`` (HTML: per layer output size, receptive field, jump), ``message`` (bad layer
text, empty output) and ``image`` (ipywidgets.Image: input with the field shaded, output
with the chosen cell). Headless: ``mask`` (boolean input mask) and ``steps``
(:func:`course.conv_math.receptive_field` rows).
"""
import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np

from course import conv_math
from course.viz import matrices
from course.viz.png import png_bytes
from course.widgets.base import Explorer, note_html, warning_html

PRESETS = {
    "two 3x3 convs, stride 2": "3/2/1, 3/2/1",
    "two 3x3 convs, stride 1": "3/1/1, 3/1/1",
    "conv 3x3 + max pool 2 + conv 3x3": "3/1/1, 2/2/0, 3/1/1",
    "three 3x3 convs, stride 2": "3/2/1, 3/2/1, 3/2/1",
    "two dilated 3x3 convs (d=2)": "3/1/2/2, 3/1/2/2",
    "one 5x5 conv": "5/1/2",
}
CUSTOM = "custom"


def parse_layers(text: str) -> list[tuple[int, int, int, int]]:
    """'3/2/1, 3/2/1/2' -> [(3, 2, 1, 1), (3, 2, 1, 2)]: kernel/stride/padding/dilation."""
    layers = []
    for part in text.replace(";", ",").split(","):
        if not part.strip():
            continue
        numbers = [int(v) for v in part.strip().split("/")]
        if not 1 <= len(numbers) <= 4 or min(numbers) < 0 or numbers[0] < 1:
            raise ValueError(f"{part.strip()!r} is not kernel/stride/padding/dilation")
        k, s, p, d = (numbers + [1, 0, 1][len(numbers) - 1:])[:4]
        if s < 1 or d < 1:
            raise ValueError(f"stride and dilation must be at least 1 in {part.strip()!r}")
        layers.append((k, s, p, d))
    if not layers:
        raise ValueError("no layers given")
    return layers


class ReceptiveFieldExplorer(Explorer):
    """A stack of layers; the chosen output cell's receptive field lights up in the input."""

    def __init__(self, preset: str = "two 3x3 convs, stride 2", size: int = 16):
        style = {"description_width": "70px"}
        self.preset = widgets.Dropdown(options=[*PRESETS, CUSTOM], value=preset,
                                       description="stack", style=style)
        self.layers = widgets.Text(PRESETS[preset], description="layers", style=style,
                                   continuous_update=False)
        self.size = widgets.IntSlider(size, 4, 32, description="input n", style=style)
        self.row = widgets.IntSlider(0, 0, 0, description="out row", style=style)
        self.col = widgets.IntSlider(0, 0, 0, description="out col", style=style)
        self.shape_label = widgets.HTML()
        self.table = widgets.HTML()
        self.message = widgets.HTML()
        self.image = widgets.Image(format="png")
        self.mask, self.steps = np.zeros((0, 0), dtype=bool), []
        controls = widgets.VBox([self.preset, self.layers, self.size, self.row, self.col])
        readout = widgets.VBox([self.shape_label, self.message, self.table])
        super().__init__([widgets.HBox([controls, readout]), self.image])
        self.redraw_on(self.preset, self.layers, self.size, self.row, self.col, handler=self._on_change)
        self.update()

    def _on_change(self, change):
        if self._busy:
            return
        with self.holding():  # the preset and the text follow each other without re-entering
            if change["owner"] is self.preset and self.preset.value != CUSTOM:
                self.layers.value = PRESETS[self.preset.value]
            elif change["owner"] is self.layers and self.layers.value not in PRESETS.values():
                self.preset.value = CUSTOM
        self.update()

    def _update(self):
        n = self.size.value
        try:
            layers = parse_layers(self.layers.value)
        except ValueError as err:
            return self._problem(f"Cannot read the layers: {err}. Write k/s/p[/d], ...")
        self.steps = conv_math.receptive_field(layers, input_size=n)
        out = self.steps[-1]["out"]
        self.table.value = self._table_html()
        if min(step["out"] for step in self.steps) <= 0:
            return self._problem(f"Empty output: the input {n}x{n} is too small for this "
                                 "stack. Make the input larger.")
        self.row.max = self.col.max = out - 1
        i, j = self.row.value, self.col.value
        self.mask = conv_math.receptive_mask(layers, i, j, (n, n))
        field = self.steps[-1]["size"]
        rows, cols = np.nonzero(self.mask)
        seen = (rows.max() - rows.min() + 1, cols.max() - cols.min() + 1)
        self.shape_label.value = (f"<b>Receptive field: {field} x {field}</b>; output shape: "
                                  f"{out} x {out}")
        inside = (f"in the image: {seen[0]} x {seen[1]} pixels, the rest falls on the "
                  "padding" if seen != (field, field) else "all of it inside the image")
        holes = " (with holes: dilation skips pixels)" if self.mask.sum() < seen[0] * seen[1] \
            else ""
        self.message.value = note_html(f"Cell ({i}, {j}): {inside}{holes}.")
        self._draw(out, i, j)

    def _table_html(self) -> str:
        rows = "".join(
            f"<tr><td>{n + 1}</td><td>{s['kernel']}/{s['stride']}/{s['padding']}/"
            f"{s['dilation']}</td><td>{s['out']}</td><td>{s['size']}</td><td>{s['jump']}</td>"
            f"</tr>" for n, s in enumerate(self.steps))
        return ("<table><tr><th>layer</th><th>k/s/p/d</th><th>output</th>"
                "<th>receptive field</th><th>jump</th></tr>" + rows + "</table>")

    def _problem(self, text: str):
        self.mask = np.zeros((0, 0), dtype=bool)
        self.shape_label.value = "<b>Receptive field: &mdash;</b>"
        self.message.value = warning_html(text)
        self.image.value = b""

    def _draw(self, out: int, i: int, j: int):
        n = self.mask.shape[0]
        fig, axes = plt.subplots(1, 2, figsize=(7.5, 3.9),
                                 gridspec_kw={"width_ratios": [n, max(out, 3)]})
        big = n > 12  # values would be unreadable; colour tells the story
        matrices.draw_matrix(self.mask.astype(float), ax=axes[0], values=not big,
                             cmap="Reds", vmin=0, vmax=0.6, title=f"input {n}x{n}")
        cell_mask = np.zeros((out, out))
        cell_mask[i, j] = 1
        matrices.draw_matrix(cell_mask, ax=axes[1], values=False, highlight=[(i, j)],
                             cmap="Greens", vmin=0, vmax=0.6, title=f"output {out}x{out}")
        self.image.value = png_bytes(fig)
