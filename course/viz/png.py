"""Figures as PNG bytes, for ``ipywidgets.Image`` and for in-place display (one helper, one dpi).

    image.value = png_bytes(fig)                    # widgets: the figure is closed afterwards
    png_bytes(fig, close=False, tight=False)        # a figure redrawn again and again (live plot)
"""
import io

__all__ = ["png_bytes", "DPI"]

DPI = 80  # every picture of the course: sharp enough, small enough to redraw in a blink


def png_bytes(fig, dpi: int = DPI, close: bool = True, tight: bool = True) -> bytes:
    """The figure (or an Axes' figure) as PNG bytes.

    ``tight`` crops to what is drawn (``bbox_inches="tight"``, one extra layout pass);
    ``close`` releases a pyplot figure so that it is not shown a second time by the notebook.
    """
    fig = getattr(fig, "figure", fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight" if tight else None)
    if close:
        import matplotlib.pyplot as plt
        plt.close(fig)
    return buffer.getvalue()
