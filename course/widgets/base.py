"""What every explorer shares: redraw on change without re-entering, and the message styles.

    class MyExplorer(Explorer):
        def __init__(self):
            self.size = widgets.IntSlider(5, 1, 9)
            super().__init__([self.size, self.picture])
            self.redraw_on(self.size)      # any change of .value calls update()
            self.update()

        def _update(self):                 # recompute what is shown from the controls
            ...

Setting one control from another's handler (a preset fills a text box, a new layer caps the
channel slider) would call ``update`` again, mid-way; ``holding()`` makes such changes silent,
and ``update`` draws once afterwards.
"""
from contextlib import contextmanager
from html import escape

import ipywidgets as widgets
import numpy as np

from course.viz.matrices import format_value

__all__ = ["Explorer", "warning_html", "note_html", "parse_matrix", "format_matrix"]


class Explorer(widgets.VBox):
    """An ipywidgets VBox whose ``update()`` redraws from the controls, never re-entered."""

    _busy = False

    @contextmanager
    def holding(self):
        """Changes made inside do not trigger ``update`` (it is called once, afterwards)."""
        was_busy, self._busy = self._busy, True
        try:
            yield
        finally:
            self._busy = was_busy

    def update(self):
        """Recompute and redraw from the controls' values (ignored while ``holding``)."""
        if self._busy:
            return
        with self.holding():
            self._update()

    def _update(self):
        raise NotImplementedError

    def redraw_on(self, *controls, handler=None):
        """Call ``handler(change)`` (default: ``update()``) whenever a control's value changes."""
        for control in controls:
            control.observe(handler or (lambda _change: self.update()), names="value")


def warning_html(text: str) -> str:
    return f'<span style="color:#b42318">&#9888; {escape(text)}</span>'


def note_html(text: str) -> str:
    return f'<span style="color:#1a7f37">{escape(text)}</span>'


def parse_matrix(text: str) -> np.ndarray:
    """'1 0 -1\\n1 0 -1' (spaces, commas or ';' between rows) -> 2-D float array."""
    rows = [r for r in text.replace(";", "\n").splitlines() if r.strip()]
    values = [[float(v) for v in r.replace(",", " ").split()] for r in rows]
    if not values or len({len(r) for r in values}) != 1 or not values[0]:
        raise ValueError("write a rectangle of numbers, one row per line")
    return np.array(values)


def format_matrix(m) -> str:
    return "\n".join(" ".join(format_value(v, None) for v in row) for row in m)
