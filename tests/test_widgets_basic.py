"""Widgets of lectures 01-04, driven headless: set a control, check what the widget shows."""
import re

import ipywidgets as widgets
import matplotlib
import numpy as np
import pytest
import torch
import torch.nn.functional as F

matplotlib.use("Agg")
torch.set_num_threads(1)

from course import conv_math  # noqa: E402
from course.glossary import TERMS, glossary  # noqa: E402
from course.widgets.convolution import ConvolutionExplorer, demo_input  # noqa: E402
from course.widgets.padding import SEED_MATRIX, PaddingExplorer  # noqa: E402
from course.widgets.pooling import PoolingExplorer, distinct_input  # noqa: E402
from course.widgets.receptive_field import ReceptiveFieldExplorer  # noqa: E402


def text(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html)


def descendants(widget):
    """Every widget reachable through .children (what a browser test walks)."""
    found = [widget]
    for child in getattr(widget, "children", ()):
        found += descendants(child)
    return found


def test_glossary_rows():
    table = glossary(["convolution", ("stride", "krok", "шаг"),
                      {"en": "kernel", "pl": "jądro", "ru": "ядро"}])
    assert table.rows[0] == ("convolution", "splot (konwolucja)", "свёртка")
    html = table._repr_html_()
    assert html.count("<tr>") == 4 and "Русский" in html and "jądro" in html
    assert "шаг" in repr(table)
    assert TERMS["padding"][0].startswith("uzupełnianie")
    with pytest.raises(KeyError):
        glossary(["no such term"])


# -- convolution explorer ------------------------------------------------------------------
def test_convolution_explorer_shape_follows_sliders():
    w = ConvolutionExplorer()
    assert text(w.shape_label.value) == "Output shape: 3 x 3"
    first_image = w.image.value
    assert first_image[:4] == b"\x89PNG"
    w.kernel.value = "ones 4x4"
    w.padding.value = 2
    assert text(w.shape_label.value) == "Output shape: 6 x 6"  # seed 003: 5x5, 4x4, p=2
    assert w.image.value != first_image
    w.kernel.value = "top edge"
    w.padding.value = 1
    w.stride.value = 2
    assert text(w.shape_label.value) == "Output shape: 3 x 3"  # seed 003: 5x5, 3x3, s=2, p=1
    assert w.stride_fits and "does not fit" not in w.message.value
    w.dilation.value = 2
    assert text(w.shape_label.value) == "Output shape: 2 x 2"


def test_convolution_explorer_values_match_conv2d():
    w = ConvolutionExplorer(size=6, kernel="left edge", stride=2, padding=1, mode="reflect")
    x = torch.tensor(demo_input(6, w.seed), dtype=torch.float32)[None, None]
    k = torch.tensor(w.current_kernel(), dtype=torch.float32)[None, None]
    ref = F.conv2d(F.pad(x, (1, 1, 1, 1), mode="reflect"), k, stride=2)[0, 0].numpy()
    assert np.allclose(w.result, ref)


def test_convolution_explorer_flags_stride_that_does_not_fit():
    w = ConvolutionExplorer(size=6, padding=1, stride=2)
    assert not w.stride_fits
    assert "does not fit" in w.message.value and "rounds down" in w.message.value
    assert "(1, 1, 3, 3)" in w.message.value  # what F.conv2d returns
    assert text(w.shape_label.value) == "Output shape: 3 x 3"
    w.size.value = 5
    assert w.stride_fits and "does not fit" not in w.message.value


def test_convolution_explorer_custom_kernel_and_bad_input():
    w = ConvolutionExplorer()
    w.kernel_text.value = "1 2\n3 4"
    assert w.kernel.value == "custom"
    assert text(w.shape_label.value) == "Output shape: 4 x 4"
    w.kernel_text.value = "1 2\n3"
    assert "Cannot read the kernel" in w.message.value and w.empty
    w.kernel.value = "ones 5x5"
    w.size.value = 3
    assert w.empty and text(w.shape_label.value) == "Output shape: empty"
    assert "Empty output" in w.message.value and w.image.value[:4] == b"\x89PNG"
    w.padding.value = 1
    assert not w.empty and text(w.shape_label.value) == "Output shape: 1 x 1"


def test_convolution_explorer_position_walks_the_output():
    w = ConvolutionExplorer(size=5)
    assert w.position.max == 8 and w.play.max == 8
    before = w.image.value
    w.position.value = 4
    assert w.image.value != before
    w.padding.value = 1  # a new setting restarts the walk
    assert w.position.value == 0 and w.position.max == 24


def test_explorer_structure_is_reachable_through_children():
    w = ConvolutionExplorer()
    inside = descendants(w)
    for control in (w.size, w.kernel, w.stride, w.padding, w.mode, w.dilation, w.position,
                    w.shape_label, w.image):
        assert control in inside
    assert isinstance(w.image, widgets.Image)


def test_reflect_too_wide_is_reported_not_raised():
    w = ConvolutionExplorer(size=4, mode="reflect", padding=4)
    assert "PyTorch refuses" in w.message.value
    assert text(w.shape_label.value) == "Output shape: 10 x 10"


# -- padding explorer ----------------------------------------------------------------------
def test_padding_explorer_five_modes():
    w = PaddingExplorer()
    assert text(w.shape_label.value) == "Padded shape: 8 x 8"
    assert set(w.padded) == set(conv_math.PAD_MODES)
    assert w.padded["symmetric"][0].tolist() == [1, 6, 6, 1, 1, 7, 7, 1]  # seed 002
    assert w.padded["reflect"][0].tolist() == [1, 2, 1, 2, 1, 4, 1, 2]
    assert "symmetric" in w.table.value and "pad by hand" in w.table.value
    before = w.image.value
    w.padding.value = 1
    assert text(w.shape_label.value) == "Padded shape: 6 x 6" and w.image.value != before
    w.padding.value = 4
    assert "reflect needs padding" in w.message.value
    w.modes.value = ("zeros",)
    assert list(w.padded) == ["zeros"]
    w.matrix_text.value = "1 2\n3"
    assert "Cannot read the matrix" in w.message.value and w.padded == {}
    w.matrix_text.value = "1 2\n3 4"
    assert w.padded["zeros"].shape == (10, 10)
    assert PaddingExplorer(padding=1).padded["zeros"][1:5, 1:5].tolist() == SEED_MATRIX  # opens on seed 002's matrix


# -- pooling explorer ----------------------------------------------------------------------
def test_pooling_explorer_default_stride_ceil_and_argmax():
    w = PoolingExplorer(size=5, kernel=2)
    assert text(w.shape_label.value) == "Output shape: 2 x 2"
    assert "default" in w.message.value and "dropped" in w.message.value
    x = distinct_input(5, w.seed)
    for (r, c), value in zip(w.argmax_cells, w.result.ravel()):
        assert x[r, c] == value  # the argmax cell holds the maximum
    assert w.uncovered(5).sum() == 9  # floor drops the last row and column
    w.ceil_mode.value = True
    assert text(w.shape_label.value) == "Output shape: 3 x 3" and "ceil_mode added" in w.message.value
    assert w.uncovered(5).sum() == 0
    assert len(w.argmax_cells) == 9
    w.kind.value = "average"
    assert w.indices is None and np.isclose(w.result[0, 0], x[:2, :2].mean())
    w.stride.value = 1
    w.ceil_mode.value = False
    assert text(w.shape_label.value) == "Output shape: 4 x 4"


def test_pooling_explorer_bad_settings_show_a_message():
    w = PoolingExplorer(size=3, kernel=5)
    assert text(w.shape_label.value) == "Output shape: empty" and "Empty output" in w.message.value
    w.kernel.value = 2
    w.padding.value = 2
    assert "PyTorch refuses" in w.message.value
    w.padding.value = 1
    assert text(w.shape_label.value) == "Output shape: 2 x 2"


# -- receptive-field explorer --------------------------------------------------------------
def test_receptive_field_explorer_two_stride2_convs():
    w = ReceptiveFieldExplorer(size=16)
    assert text(w.shape_label.value).startswith("Receptive field: 7 x 7")
    assert w.row.max == 3 and w.col.max == 3
    w.row.value = w.col.value = 2
    assert w.mask.sum() == 49
    rows, cols = np.nonzero(w.mask)
    assert (rows.min(), rows.max()) == (5, 11)
    before = w.image.value
    w.col.value = 0  # the field slides left and is cut by the border
    assert w.mask.sum() == 7 * 4 and w.image.value != before
    assert "padding" in w.message.value


def test_receptive_field_explorer_presets_custom_and_errors():
    w = ReceptiveFieldExplorer()
    w.preset.value = "three 3x3 convs, stride 2"
    assert text(w.shape_label.value).startswith("Receptive field: 15 x 15")
    w.layers.value = "3/1/1, 3/1/1, 3/1/1"
    assert w.preset.value == "custom"
    assert text(w.shape_label.value).startswith("Receptive field: 7 x 7")
    w.layers.value = "3/x"
    assert "Cannot read the layers" in w.message.value
    w.layers.value = "5/2/0, 5/2/0"
    w.size.value = 4
    assert "Empty output" in w.message.value


# -- the explorers' shared base ------------------------------------------------------------
def test_explorer_base_redraws_once_per_change_and_never_reenters():
    from course.widgets.base import Explorer, format_matrix, parse_matrix

    class Linked(Explorer):
        """Two sliders kept equal: setting one from the other's change must not redraw twice."""
        def __init__(self):
            self.a, self.b = widgets.IntSlider(0, 0, 9), widgets.IntSlider(0, 0, 9)
            self.draws = 0
            super().__init__([self.a, self.b])
            self.redraw_on(self.a, self.b)

        def _update(self):
            self.draws += 1
            self.b.value = self.a.value  # inside update: silent

    w = Linked()
    w.a.value = 4
    assert (w.b.value, w.draws) == (4, 1)
    with w.holding():
        w.a.value = 5
    assert w.draws == 1  # held: no redraw until asked
    assert parse_matrix(format_matrix([[1, -2.5], [0, 3]])).tolist() == [[1, -2.5], [0, 3]]
    with pytest.raises(ValueError, match="rectangle"):
        parse_matrix("1 2\n3")
