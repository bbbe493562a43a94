"""Padding-mode explorer (lecture 03): the five padding modes side by side.

    from course.widgets.padding import PaddingExplorer
    PaddingExplorer()

Controls:

- ``matrix_text`` Textarea "matrix"  the matrix to pad, one row per line (seed 002's 4x4
                                     matrix at first)
- ``padding``     IntSlider "padding" border width on every side; the picture follows
- ``modes``       SelectMultiple     which of zeros, replicate, reflect, symmetric, circular
                                     to draw

Outputs: ``shape_label`` (HTML, "Padded shape: 8 x 8"), ``table`` (HTML: each mode's name in
nn.Conv2d, F.pad and numpy), ``message`` (HTML: bad matrix text, or settings PyTorch refuses,
e.g. reflect padding as wide as the input), ``image`` (ipywidgets.Image, padding shaded).
Headless: ``padded`` maps each drawn mode to its padded numpy matrix.
"""
import ipywidgets as widgets

from course import conv_math
from course.viz import matrices
from course.viz.png import png_bytes
from course.widgets.base import Explorer, format_matrix, note_html, parse_matrix, warning_html

SEED_MATRIX = [[1, 4, 2, 3], [6, 1, 1, 7], [1, 2, 1, 4], [1, 5, 1, 2]]


def support_table() -> str:
    """HTML table: how each padding mode is spelled in PyTorch and numpy (or that it is not)."""
    rows = []
    for mode in conv_math.PAD_MODES:
        conv = conv_math.TORCH_CONV_NAMES.get(mode, "&mdash; (pad by hand)")
        fpad = conv_math.TORCH_PAD_NAMES.get(mode, "&mdash;")
        rows.append(f"<tr><td>{mode}</td><td><code>{conv}</code></td><td><code>{fpad}</code>"
                    f"</td><td><code>{conv_math.NUMPY_NAMES[mode]}</code></td></tr>")
    return ("<table><tr><th>mode</th><th>nn.Conv2d padding_mode</th><th>F.pad mode</th>"
            "<th>np.pad mode</th></tr>" + "".join(rows) + "</table>")


class PaddingExplorer(Explorer):
    """Edit a matrix, pick a padding width, compare the modes."""

    def __init__(self, matrix=SEED_MATRIX, padding: int = 2, modes=conv_math.PAD_MODES):
        style = {"description_width": "80px"}
        self.matrix_text = widgets.Textarea(format_matrix(matrix), description="matrix",
                                            rows=5, style=style, continuous_update=False)
        self.padding = widgets.IntSlider(padding, 0, 5, description="padding", style=style)
        self.modes = widgets.SelectMultiple(options=conv_math.PAD_MODES, value=tuple(modes),
                                            description="modes", rows=5, style=style)
        self.shape_label = widgets.HTML()
        self.message = widgets.HTML()
        self.table = widgets.HTML(support_table())
        self.image = widgets.Image(format="png")
        self.padded = {}
        controls = widgets.VBox([self.matrix_text, self.padding, self.modes])
        super().__init__([widgets.HBox([controls, widgets.VBox([self.shape_label,
                                                                self.message, self.table])]),
                          self.image])
        self.redraw_on(self.matrix_text, self.padding, self.modes)
        self.update()

    def _update(self):
        try:
            x = parse_matrix(self.matrix_text.value)
        except ValueError as err:
            self.padded = {}
            self.shape_label.value = "<b>Padded shape: &mdash;</b>"
            self.message.value = warning_html(f"Cannot read the matrix: {err}.")
            return
        p = self.padding.value
        modes = list(self.modes.value)
        if not modes:
            self.padded = {}
            self.message.value = warning_html("Choose at least one mode.")
            return
        self.padded = {m: conv_math.pad(x, p, m) for m in modes}
        h, w = x.shape
        self.shape_label.value = f"<b>Padded shape: {h + 2 * p} x {w + 2 * p}</b>"
        notes = []
        if "reflect" in modes and p >= min(h, w):
            notes.append(f"PyTorch's reflect needs padding < input size ({min(h, w)}); "
                         "numpy keeps bouncing, as drawn.")
        if "circular" in modes and p > min(h, w):
            notes.append("PyTorch's circular needs padding <= input size.")
        self.message.value = (warning_html(" ".join(notes)) if notes else
                              note_html("Grey cells are padding. Symmetric repeats the edge "
                                        "value; reflect does not."))
        fig = matrices.padding_tables(x, p, modes)
        self.image.value = png_bytes(fig)
