"""Convolution explorer (lectures 02-03): move a slider, watch the output shape and values.

    from course.widgets.convolution import ConvolutionExplorer
    ConvolutionExplorer()            # display as a cell's last expression

Controls (all ``ipywidgets``, reachable as attributes and through ``.children``):

- ``size``      IntSlider "input n"   the input is an n x n matrix of small integers
- ``kernel``    Dropdown  "kernel"    a named kernel (top edge, left edge, diagonals, blur,
                                      ...) or "custom", which reads ``kernel_text``
- ``kernel_text`` Textarea            the kernel's values, one row per line; editing it
                                      switches ``kernel`` to "custom"
- ``stride``    IntSlider "stride"    step between windows
- ``padding``   IntSlider "padding"   border added on every side
- ``mode``      Dropdown  "padding mode"  zeros, replicate, reflect, symmetric, circular
- ``dilation``  IntSlider "dilation"  gap between kernel taps
- ``position``  IntSlider "output cell" which output cell the picture computes (reading
                                      order); ``play`` animates it

Outputs, updated in place after every change:

- ``shape_label`` HTML whose text starts with "Output shape:" (e.g. "Output shape: 3 x 3")
- ``formula``     HTML: the output-size formula with the numbers filled in, and the shape
                  F.conv2d really returns
- ``message``     HTML: a stride that does not fit (PyTorch rounds down and drops the
                  leftover rows) or an empty output (kernel larger than the padded input)
- ``image``       ipywidgets.Image (PNG): padded input with the window, kernel, output
                  filled up to the chosen cell, and the sum written out

Headless: set a control's ``.value``; ``result`` holds the output matrix (numpy),
``stride_fits`` and ``empty`` say what ``message`` shows.
"""
import ipywidgets as widgets
import numpy as np

from course import conv_math
from course.viz import matrices
from course.viz.png import png_bytes
from course.widgets.base import Explorer, format_matrix, note_html, parse_matrix, warning_html

KERNELS = {
    "top edge": [[-1, -1, -1], [0, 0, 0], [1, 1, 1]],
    "left edge": [[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]],
    "diagonal 1": [[0, -1, 1], [-1, 1, 0], [1, 0, 0]],
    "diagonal 2": [[1, -1, 0], [0, 1, -1], [0, 0, 1]],
    "box blur 3x3": [[1, 1, 1], [1, 1, 1], [1, 1, 1]],
    "identity 3x3": [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
    "ones 2x2": [[1, 1], [1, 1]],
    "ones 4x4": [[1] * 4] * 4,
    "ones 5x5": [[1] * 5] * 5,
}
CUSTOM = "custom"


def demo_input(n: int, seed: int = 3) -> np.ndarray:
    """A reproducible n x n matrix of digits 0-9 (small numbers keep the sums readable)."""
    return np.random.default_rng(seed).integers(0, 10, size=(n, n)).astype(float)


def torch_output_shape(x, kernel, stride, padding, dilation, mode):
    """The shape F.conv2d returns (symmetric padding done by hand first: PyTorch lacks it)."""
    import torch
    import torch.nn.functional as F

    t = torch.as_tensor(x, dtype=torch.float32)[None, None]
    w = torch.as_tensor(kernel, dtype=torch.float32)[None, None]
    t = conv_math.pad_torch(t, padding, mode)
    return tuple(F.conv2d(t, w, stride=stride, dilation=dilation).shape)


class ConvolutionExplorer(Explorer):
    """Input size, kernel, stride, padding, mode, dilation -> output shape and values."""

    def __init__(self, size: int = 5, kernel: str = "top edge", stride: int = 1,
                 padding: int = 0, mode: str = "zeros", dilation: int = 1, seed: int = 3):
        self.seed = seed
        style = {"description_width": "110px"}
        self.size = widgets.IntSlider(size, 2, 12, description="input n", style=style)
        self.kernel = widgets.Dropdown(options=[*KERNELS, CUSTOM], value=kernel,
                                       description="kernel", style=style)
        self.kernel_text = widgets.Textarea(format_matrix(KERNELS.get(kernel, [[1]])),
                                            description="kernel values", rows=4, style=style,
                                            continuous_update=False)
        self.stride = widgets.IntSlider(stride, 1, 4, description="stride", style=style)
        self.padding = widgets.IntSlider(padding, 0, 4, description="padding", style=style)
        self.mode = widgets.Dropdown(options=conv_math.PAD_MODES, value=mode,
                                     description="padding mode", style=style)
        self.dilation = widgets.IntSlider(dilation, 1, 3, description="dilation", style=style)
        self.position = widgets.IntSlider(0, 0, 0, description="output cell", style=style)
        self.play = widgets.Play(interval=900, min=0, max=0)
        widgets.jslink((self.play, "value"), (self.position, "value"))
        self.shape_label = widgets.HTML()
        self.formula = widgets.HTML()
        self.message = widgets.HTML()
        self.image = widgets.Image(format="png")
        self.result = np.zeros((0, 0))
        self.stride_fits = True
        self.empty = False
        controls = widgets.VBox([self.size, self.kernel, self.kernel_text, self.stride,
                                 self.padding, self.mode, self.dilation,
                                 widgets.HBox([self.position, self.play])])
        readout = widgets.VBox([self.shape_label, self.formula, self.message])
        super().__init__([widgets.HBox([controls, readout]), self.image])
        self.redraw_on(self.size, self.kernel, self.kernel_text, self.stride, self.padding,
                       self.mode, self.dilation, self.position, handler=self._on_change)
        self.update()

    # -- reacting to the controls -------------------------------------------------------
    def _on_change(self, change):
        if self._busy:
            return
        with self.holding():  # keep the dropdown and the text in step without re-entering this handler
            owner = change["owner"]
            if owner is self.kernel and self.kernel.value != CUSTOM:
                self.kernel_text.value = format_matrix(KERNELS[self.kernel.value])
            elif owner is self.kernel_text:
                self.kernel.value = CUSTOM
            if owner is not self.position:
                self.position.value = 0  # a new setting starts the walk at the first cell
        self.update()

    def current_kernel(self) -> np.ndarray:
        if self.kernel.value != CUSTOM:
            return np.array(KERNELS[self.kernel.value], dtype=float)
        return parse_matrix(self.kernel_text.value)

    def _update(self):
        """Recompute shape, messages and picture from the controls' values."""
        n, s, p, d = self.size.value, self.stride.value, self.padding.value, self.dilation.value
        x = demo_input(n, self.seed)
        try:
            kernel = self.current_kernel()
        except ValueError as err:
            self._show_problem(f"Cannot read the kernel: {err}.", x, p)
            return
        kh, kw = kernel.shape
        oh = conv_math.output_size(n, kh, s, p, d)
        ow = conv_math.output_size(n, kw, s, p, d)
        self.formula.value = self._formula_html(n, kh, kw, s, p, d, oh, ow)
        if oh <= 0 or ow <= 0:
            span = (conv_math.effective_kernel(kh, d), conv_math.effective_kernel(kw, d))
            self._show_problem(
                f"Empty output: the kernel spans {span[0]}x{span[1]} but the padded input is "
                f"only {n + 2 * p}x{n + 2 * p}. Add padding or choose a smaller kernel.", x, p)
            return
        self.empty = False
        self.result = conv_math.conv2d_naive(x, kernel, s, p, d, self.mode.value)
        self.shape_label.value = f"<b>Output shape: {oh} x {ow}</b>"
        self._flag_stride(n, kh, kw, s, p, d)
        last = oh * ow - 1
        self.position.max = last
        self.play.max = last
        i, j = divmod(min(self.position.value, last), ow)
        fig = matrices.draw_conv_step(x, kernel, i, j, s, p, d, self.mode.value)
        self.image.value = png_bytes(fig)

    def _formula_html(self, n, kh, kw, s, p, d, oh, ow) -> str:
        def line(k, out):
            return (f"floor(({n} + 2&middot;{p} &minus; {d}&middot;({k}&minus;1) &minus; 1) / {s})"
                    f" + 1 = {out}")
        rows = line(kh, oh) if kh == kw else f"rows: {line(kh, oh)}<br>cols: {line(kw, ow)}"
        return f"<code>{rows}</code>"

    def _flag_stride(self, n, kh, kw, s, p, d):
        fits = (conv_math.stride_fits(n, kh, s, p, d) and conv_math.stride_fits(n, kw, s, p, d))
        self.stride_fits = fits
        try:
            shape = torch_output_shape(demo_input(n, self.seed), self.current_kernel(), s, p, d,
                                       self.mode.value)
            torch_text = f"F.conv2d returns shape {shape}."
        except (RuntimeError, ValueError, NotImplementedError) as err:
            # e.g. reflect padding as wide as the input: PyTorch refuses, numpy does not.
            torch_text = f"PyTorch refuses these settings: {str(err).splitlines()[0]}"
        if fits:
            self.message.value = note_html(f"Stride {s} fits: the windows end exactly at the "
                                           f"edge. {torch_text}")
            return
        drop = max(conv_math.leftover(n, kh, s, p, d), conv_math.leftover(n, kw, s, p, d))
        self.message.value = warning_html(
            f"Stride {s} does not fit: the last {drop} row(s)/column(s) of the padded input "
            f"are never covered. PyTorch rounds down (floor) and ignores them. {torch_text}")

    def _show_problem(self, text: str, x, p: int):
        """Say what is wrong in the widget and draw what still makes sense: the input."""
        self.empty = True
        self.stride_fits = False
        self.result = np.zeros((0, 0))
        self.shape_label.value = "<b>Output shape: empty</b>"
        self.message.value = warning_html(text)
        self.position.max = 0
        self.play.max = 0
        ax = matrices.draw_padded(x, p, self.mode.value, title="padded input (no output)")
        self.image.value = png_bytes(ax)
