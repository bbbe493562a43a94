"""Small matrices drawn with their values in the cells (lectures 02-04 and their widgets).

    draw_matrix(x, highlight=[(0, 0), (0, 1)])        # values in cells, some cells outlined
    draw_padded(x, 2, "symmetric")                     # padding shaded grey
    padding_tables(x, 2)                               # one panel per padding mode
    draw_conv_step(x, kernel, i=0, j=1, stride=2)      # input | kernel | output, arithmetic
    draw_sliding_window(x, kernel, steps=3)            # the first steps, one row each
    png_bytes(fig)                                     # PNG for an ipywidgets.Image

Every function returns the matplotlib Figure (or Axes when given one) and never calls
``plt.show()``: in a notebook the figure shows as the cell's value.
"""
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

from course import conv_math
from course.viz.png import png_bytes  # noqa: F401 (part of this module's API, see above)

HIGHLIGHT = "#d62728"
PAD_SHADE = "#d9d9d9"
DONE_SHADE = "#c6e2ff"


def format_value(v, fmt: str | None) -> str:
    if fmt:
        return format(v, fmt)
    if float(v).is_integer():
        return str(int(v))
    return f"{v:.2f}"


def draw_matrix(m, ax=None, highlight=None, shade=None, title: str | None = None,
                fmt: str | None = None, cmap: str = "Blues", values: bool = True,
                vmin=None, vmax=None, fill=None, origin=(0, 0)):
    """Draw ``m`` as a grid with its values written in the cells.

    ``highlight``: cells (row, col) outlined in red; ``shade``: boolean mask drawn grey
    (padding); ``fill``: boolean mask drawn light blue (e.g. outputs computed so far,
    then ``m`` may hold NaN for cells not yet computed); ``origin`` labels the axes so that
    padded rows show as -1, -2, ... when ``origin=(p, p)``.
    """
    m = np.asarray(m, dtype=float)
    if ax is None:
        _, ax = plt.subplots(figsize=(0.45 * m.shape[1] + 0.6, 0.45 * m.shape[0] + 0.6))
    colours = _cell_colours(m, cmap, vmin, vmax)
    rows, cols = m.shape
    for r in range(rows):
        for c in range(cols):
            face = colours[r, c]
            if fill is not None and fill[r, c]:
                face = DONE_SHADE
            if shade is not None and shade[r, c]:
                face = PAD_SHADE
            if np.isnan(m[r, c]):
                face = "white"
            ax.add_patch(Rectangle((c, r), 1, 1, facecolor=face, edgecolor="#888888", lw=0.6))
            if values and not np.isnan(m[r, c]):
                ax.text(c + 0.5, r + 0.5, format_value(m[r, c], fmt), ha="center",
                        va="center", fontsize=9 if max(rows, cols) < 12 else 6)
    for r, c in highlight or ():
        if 0 <= r < rows and 0 <= c < cols:
            ax.add_patch(Rectangle((c, r), 1, 1, fill=False, edgecolor=HIGHLIGHT, lw=2.2))
    ax.set_xlim(0, cols)
    ax.set_ylim(rows, 0)
    ax.set_aspect("equal")
    ax.set_xticks(np.arange(cols) + 0.5, [str(c - origin[1]) for c in range(cols)], fontsize=7)
    ax.set_yticks(np.arange(rows) + 0.5, [str(r - origin[0]) for r in range(rows)], fontsize=7)
    ax.tick_params(length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def _cell_colours(m, cmap, vmin, vmax):
    """Pale colours (the lower half of ``cmap``) so that the written values stay readable."""
    known = m[~np.isnan(m)]
    lo = vmin if vmin is not None else (known.min() if known.size else 0.0)
    hi = vmax if vmax is not None else (known.max() if known.size else 1.0)
    scaled = (np.nan_to_num(m, nan=lo) - lo) / max(hi - lo, 1e-12)
    return plt.get_cmap(cmap)(np.clip(scaled, 0, 1) * 0.55)


def padding_mask(shape, padding) -> np.ndarray:
    """True on the padded border of a matrix of ``shape`` (the original plus padding)."""
    before, after = conv_math.as_pair(padding)
    mask = np.ones((shape[0] + before + after, shape[1] + before + after), dtype=bool)
    mask[before:before + shape[0], before:before + shape[1]] = False
    return mask


def draw_padded(x, padding, mode: str = "zeros", ax=None, title: str | None = None, **kwargs):
    """The matrix ``x`` padded in ``mode``, with the padding shaded grey."""
    x = np.asarray(x)
    padded = conv_math.pad(x, padding, mode)
    before = conv_math.as_pair(padding)[0]
    return draw_matrix(padded, ax=ax, shade=padding_mask(x.shape, padding),
                       title=title if title is not None else mode, origin=(before, before),
                       **kwargs)


def padding_tables(x, padding: int = 2, modes=conv_math.PAD_MODES, ncols: int | None = None):
    """One panel per padding mode, side by side (seed 002 shows four of these tables)."""
    ncols = ncols or len(modes)
    nrows = -(-len(modes) // ncols)
    size = 0.38 * (np.asarray(x).shape[1] + 2 * padding) + 0.5
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + 0.4),
                             squeeze=False)
    for ax, mode in zip(axes.flat, modes):
        draw_padded(x, padding, mode, ax=ax)
    for ax in list(axes.flat)[len(modes):]:
        ax.axis("off")
    fig.tight_layout()
    return fig


def arithmetic(window, kernel, bias: float = 0.0) -> str:
    """'1×(-1) + 4×0 + ... = 7': one output value written out term by term."""
    terms = [f"{format_value(a, None)}×{_paren(b)}"
             for a, b in zip(np.ravel(window), np.ravel(kernel))]
    total = float(np.sum(np.asarray(window, dtype=float) * np.asarray(kernel, dtype=float))) + bias
    if bias:
        terms.append(_paren(bias))
    return " + ".join(terms) + f" = {format_value(total, None)}"


def _paren(v) -> str:
    text = format_value(v, None)
    return f"({text})" if float(v) < 0 else text


def _wrap(text: str, width: int = 70) -> str:
    """Break a long sum after '+' signs so that it fits under the figure."""
    lines, line = [], ""
    for part in text.split(" + "):
        piece = part if not line else " + " + part
        if len(line) + len(piece) > width and line:
            lines.append(line + " +")
            line = part
        else:
            line += piece
    lines.append(line)
    return "\n".join(lines)


def draw_conv_step(x, kernel, i: int, j: int, stride: int = 1, padding: int = 0,
                   dilation: int = 1, mode: str = "zeros", axes=None, show_text: bool = True):
    """Input (window outlined), kernel, and output filled up to cell (i, j), with the sum.

    The output cells before (i, j) in reading order are shown computed; later ones empty.
    """
    x = np.asarray(x, dtype=float)
    kernel = np.asarray(kernel, dtype=float)
    padded = conv_math.pad(x, padding, mode)
    out = conv_math.conv2d_naive(x, kernel, stride, padding, dilation, mode)
    if out.size == 0:
        raise ValueError("the kernel does not fit in the padded input: the output is empty")
    if not (0 <= i < out.shape[0] and 0 <= j < out.shape[1]):
        raise IndexError(f"output cell ({i}, {j}) is outside the {out.shape} output")
    shown = out.copy()
    order = np.arange(out.size).reshape(out.shape)
    shown[order > order[i, j]] = np.nan
    if axes is None:
        widths = [padded.shape[1], kernel.shape[1] + 1, out.shape[1] + 1]
        fig, axes = plt.subplots(1, 3, figsize=(0.42 * sum(widths) + 1.5,
                                                0.42 * padded.shape[0] + 1.6),
                                 gridspec_kw={"width_ratios": widths})
    else:
        fig = axes[0].figure
    cells = conv_math.window_positions(i, j, kernel.shape, stride, dilation)
    draw_matrix(padded, ax=axes[0], highlight=cells, origin=(padding, padding),
                shade=padding_mask(x.shape, padding) if padding else None,
                title=f"input {x.shape[0]}x{x.shape[1]}" + (f", padding {padding} ({mode})"
                                                            if padding else ""))
    draw_matrix(kernel, ax=axes[1], cmap="Oranges",
                title=f"kernel {kernel.shape[0]}x{kernel.shape[1]}")
    draw_matrix(shown, ax=axes[2], highlight=[(i, j)], cmap="Greens",
                title=f"output {out.shape[0]}x{out.shape[1]}")
    if show_text:
        win = conv_math.window(padded, i, j, kernel.shape, stride, dilation)
        fig.suptitle(f"out[{i}, {j}] = " + _wrap(arithmetic(win, kernel)), fontsize=9,
                     y=0.02, va="bottom", family="monospace")
        fig.subplots_adjust(bottom=0.28)
    return fig


def draw_sliding_window(x, kernel, steps=3, stride: int = 1, padding: int = 0,
                        dilation: int = 1, mode: str = "zeros"):
    """The first ``steps`` output cells (or the listed (i, j) cells), one row per step."""
    x = np.asarray(x, dtype=float)
    kernel = np.asarray(kernel, dtype=float)
    oh = conv_math.output_size(x.shape[0], kernel.shape[0], stride, padding, dilation)
    ow = conv_math.output_size(x.shape[1], kernel.shape[1], stride, padding, dilation)
    if isinstance(steps, int):
        steps = [divmod(n, ow) for n in range(min(steps, oh * ow))]
    n_in = x.shape[1] + 2 * padding
    widths = [n_in, kernel.shape[1] + 1, ow + 1]
    fig, axes = plt.subplots(len(steps), 3, squeeze=False,
                             figsize=(0.4 * sum(widths) + 1.5,
                                      (0.4 * (x.shape[0] + 2 * padding) + 0.9) * len(steps)),
                             gridspec_kw={"width_ratios": widths})
    padded = conv_math.pad(x, padding, mode)
    for row_axes, (i, j) in zip(axes, steps):
        draw_conv_step(x, kernel, i, j, stride, padding, dilation, mode, axes=row_axes,
                       show_text=False)
        win = conv_math.window(padded, i, j, kernel.shape, stride, dilation)
        total = float((win * kernel).sum())
        row_axes[2].set_title(f"out[{i}, {j}] = {format_value(total, None)}", fontsize=10)
        row_axes[1].set_xlabel(_wrap(arithmetic(win, kernel), 34), fontsize=7,
                               family="monospace")
    fig.tight_layout()
    return fig


def draw_feature_maps(maps, titles=None, cmap: str = "gray", ncols: int | None = None,
                      size: float = 1.8, symmetric: bool = False):
    """A row (or grid) of images without values: feature maps, kernels, digits."""
    maps = [np.asarray(m, dtype=float) for m in maps]
    ncols = ncols or len(maps)
    nrows = -(-len(maps) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + 0.3),
                             squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k >= len(maps):
            continue
        limit = np.abs(maps[k]).max() or 1.0
        ax.imshow(maps[k], cmap=cmap, vmin=-limit if symmetric else None,
                  vmax=limit if symmetric else None)
        if titles:
            ax.set_title(titles[k], fontsize=9)
    fig.tight_layout()
    return fig


def draw_flattening(image, row: int, col: int):
    """A pixel and its 8 neighbours in the image, and where they land in the flat vector.

    Neighbours above and below end up ``width`` places away: flattening keeps the values
    but not the neighbourhood.
    """
    image = np.asarray(image, dtype=float)
    h, w = image.shape
    neighbours = [(row + a, col + b) for a in (-1, 0, 1) for b in (-1, 0, 1)]
    fig = plt.figure(figsize=(9, 3.6))
    grid = fig.add_gridspec(2, 2, width_ratios=[1, 2.6], height_ratios=[3, 1])
    ax = fig.add_subplot(grid[:, 0])
    ax.imshow(image, cmap="gray_r")
    for r, c in neighbours:
        ax.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, fill=False, lw=1.2,
                               edgecolor=HIGHLIGHT if (r, c) == (row, col) else "#1f77b4"))
    ax.set_title(f"pixel ({row}, {col}) and its neighbours", fontsize=10)
    ax.axis("off")
    strip = fig.add_subplot(grid[0, 1])
    strip.imshow(image.reshape(1, -1), cmap="gray_r", aspect="auto",
                 extent=(0, h * w, 0, 1))
    for r, c in neighbours:
        strip.axvline(r * w + c + 0.5, color=HIGHLIGHT if (r, c) == (row, col) else "#1f77b4",
                      lw=1.2)
    strip.set_yticks([])
    strip.set_title(f"the same {h * w} values as one vector", fontsize=10)
    zoom = fig.add_subplot(grid[1, 1])
    first, last = (row - 1) * w + col - 3, (row + 1) * w + col + 4
    zoom.imshow(image.reshape(1, -1)[:, first:last], cmap="gray_r", aspect="auto",
                extent=(first, last, 0, 1))
    for r, c in neighbours:
        zoom.axvline(r * w + c + 0.5, color=HIGHLIGHT if (r, c) == (row, col) else "#1f77b4",
                     lw=1.5)
    zoom.set_yticks([])
    zoom.set_xlabel("position in the vector (zoom): the neighbours sit in three far-apart "
                    "groups", fontsize=9)
    fig.tight_layout()
    return fig
