"""What runs inside a lecture's kernel while the notes build executes it (never in a lecture).

course/notesite/execution.py puts two cells around the lecture's own cells and removes them
afterwards:

- ``start()`` first: every matplotlib figure rendered from then on is described (its titles,
  axis labels, legend entries) under the SHA-256 of its PNG bytes, so that the page can give
  each figure an alt text taken from what the cell drew;
- ``finish()`` last: each explorer still alive in the kernel (a root widget with a picture and
  controls) is drawn over a small grid of control values, and one output holds it all
  (``MIME``): the mode the kernel ran in, the figure descriptions and the explorer grids.

The grid is chosen per explorer (``PLANS``, by the control's description); an explorer not in
the table gets a generic grid (every option of a dropdown, a few values of a slider), so a
new or renamed explorer still becomes scrubbable.
"""
import base64
import hashlib
import itertools
import math

MIME = "application/vnd.course.notes-run+json"
MAX_FRAMES = 96
FIGURES: dict = {}  # sha256 of PNG bytes -> description
FIRST, MIDDLE, LAST = "first", "middle", "last"  # positions on a slider whose range moves

# Per explorer (class name): control description -> values to draw, in the order set
# ("all": every option; a number n: the first n options).
PLANS = {
    "ConvolutionExplorer": {"kernel": ["top edge", "left edge", "ones 2x2"],
                            "stride": [1, 2, 3], "padding": [0, 1, 2], "dilation": [1, 2]},
    "PaddingExplorer": {"padding": [0, 1, 2, 3, 4, 5]},
    "PoolingExplorer": {"input n": [4, 5, 6], "pooling": ["max", "average"], "kernel": [2, 3],
                        "stride": ["default (= kernel)", 1, 2], "ceil_mode": [False, True]},
    "ReceptiveFieldExplorer": {"stack": "all", "out row": [FIRST, MIDDLE, LAST],
                               "out col": [FIRST, MIDDLE, LAST]},
    "FeatureMapExplorer": {"image": "all", "layer": "all", "channel": [0, 1, 2, 3]},
    "AugmentationExplorer": {"photo": 3, "augmentation": "all", "strength": [0.25, 0.5, 1.0]},
}
PLANS["augmentation"] = PLANS["AugmentationExplorer"]  # the older function-made VBox
# Controls a generic grid leaves alone: animation steps and random draws.
HOLD = {"output cell", "random draw", "kernel values", "layers", "matrix", "modes"}


# ---------------------------------------------------------------- figure descriptions
def describe_figure(fig) -> str:
    """'Title. Panel "a": x: epoch, y: loss, lines: train, test.' from a matplotlib figure."""
    parts = []
    suptitle = getattr(fig, "_suptitle", None)
    if suptitle is not None and suptitle.get_text().strip():
        parts.append(suptitle.get_text().strip() + ".")
    for ax in fig.get_axes():
        bits = []
        title = " ".join(t.get_text().strip() for t in (ax.title, ax._left_title, ax._right_title)
                         if t.get_text().strip())
        if ax.get_xlabel().strip():
            bits.append(f"x: {ax.get_xlabel().strip()}")
        if ax.get_ylabel().strip():
            bits.append(f"y: {ax.get_ylabel().strip()}")
        legend = ax.get_legend()
        if legend is not None:
            labels = [t.get_text() for t in legend.get_texts() if t.get_text().strip()]
            if labels:
                bits.append("legend: " + ", ".join(labels[:6]))
        if ax.images and not bits:
            bits.append("image")
        if title or bits:
            parts.append((f'"{title}"' if title else "panel") + (": " + "; ".join(bits) if bits else "") + ".")
    text = " ".join(parts)
    return text if len(text) <= 600 else text[:597] + "..."


def _remember(fig, data: bytes):
    try:
        FIGURES[hashlib.sha256(data).hexdigest()] = describe_figure(fig)
    except Exception:  # noqa: BLE001 - a description is a nicety; never break the lecture
        pass


def start():
    """Describe every PNG matplotlib writes from now on (inline figures and widget pictures)."""
    import io

    from matplotlib.backend_bases import FigureCanvasBase

    original = FigureCanvasBase.print_figure
    if getattr(original, "_course_notes", False):
        return

    def print_figure(self, filename, *args, **kwargs):
        result = original(self, filename, *args, **kwargs)
        fmt = kwargs.get("format") or (args[1] if len(args) > 1 else None)
        if isinstance(filename, io.BytesIO) and (fmt or "png") == "png":
            _remember(self.figure, filename.getvalue())
        return result

    print_figure._course_notes = True
    FigureCanvasBase.print_figure = print_figure


# ---------------------------------------------------------------- explorer grids
def _walk(widget):
    yield widget
    for child in getattr(widget, "children", ()) or ():
        yield from _walk(child)


def _kind(widget) -> str:
    return type(widget).__name__


def _roots():
    """Widgets no other widget holds: the explorers a cell displayed (and other roots)."""
    from ipywidgets.widgets.widget import _instances

    alive = list(_instances.values())
    held = {id(c) for w in alive for c in (getattr(w, "children", ()) or ())}
    return [w for w in alive if id(w) not in held]


def _plan_name(root) -> str:
    name = _kind(root)
    if name in ("VBox", "HBox", "Box") and isinstance(getattr(root, "controls", None), dict):
        return "augmentation"  # course.augment.augmentation_explorer: a VBox with .controls
    return name


CONTROL_KINDS = {"IntSlider", "FloatSlider", "Dropdown", "ToggleButtons", "Checkbox",
                 "RadioButtons", "SelectionSlider"}


def _controls(root) -> list:
    return [w for w in _walk(root) if _kind(w) in CONTROL_KINDS and getattr(w, "description", "")]


def _generic_values(control) -> list:
    kind = _kind(control)
    if kind == "Checkbox":
        return [False, True]
    if kind in ("Dropdown", "ToggleButtons", "SelectionSlider"):
        return [value for _label, value in control._options_full][:6]
    if kind == "IntSlider":
        if control.max - control.min > 64:
            return []
        step = max(1, math.ceil((control.max - control.min + 1) / 4))
        return sorted({*range(control.min, control.max + 1, step), control.value})
    if kind == "FloatSlider":
        return sorted({control.min, (control.min + control.max) / 2, control.max, control.value})
    return []


def _valid(control, values) -> list:
    """Values the control accepts (options / range); positions on a moving range are kept."""
    kind, out = _kind(control), []
    for value in values:
        if value in (FIRST, MIDDLE, LAST) and kind == "IntSlider":
            out.append(value)
        elif kind in ("Dropdown", "ToggleButtons", "SelectionSlider", "RadioButtons"):
            if value in [v for _label, v in control._options_full]:
                out.append(value)
        elif kind == "IntSlider" and isinstance(value, int) and control.min <= value <= control.max:
            out.append(value)
        elif kind == "FloatSlider" and isinstance(value, (int, float)) and control.min <= value <= control.max:
            out.append(float(value))
        elif kind == "Checkbox" and isinstance(value, bool):
            out.append(value)
    return out


def grid_plan(root) -> list:
    """[(control, [values])] to draw ``root`` over, at most MAX_FRAMES combinations."""
    plan = PLANS.get(_plan_name(root))
    axes = []
    for control in _controls(root):
        description = control.description
        if plan is not None:
            wanted = plan.get(description)
            if wanted is None:
                continue
            if wanted == "all" or isinstance(wanted, int):
                values = _generic_values(control)[:None if wanted == "all" else wanted]
            else:
                values = _valid(control, wanted)
        elif description in HOLD:
            continue
        else:
            values = _generic_values(control)
        if len(values) > 1:
            axes.append((control, values))
    while axes and math.prod(len(v) for _, v in axes) > MAX_FRAMES:
        longest = max(range(len(axes)), key=lambda i: len(axes[i][1]))
        axes[longest] = (axes[longest][0], axes[longest][1][:-1])
    return [(c, v) for c, v in axes if len(v) > 1]


def _set(control, value):
    if value in (FIRST, MIDDLE, LAST):
        span = control.max - control.min
        value = control.min + {FIRST: 0, MIDDLE: span // 2, LAST: span}[value]
    control.value = value


def _label(control, value) -> str:
    if value in (FIRST, MIDDLE, LAST) or _kind(control) not in ("Dropdown", "ToggleButtons"):
        return str(value)
    return next(label for label, v in control._options_full if v == value)


def _snapshot(root, images: list, texts: list) -> dict:
    """The pictures and the text readouts of ``root`` now, as indices into shared tables."""
    frame = {"images": [], "texts": []}
    for widget in _walk(root):
        kind = _kind(widget)
        if kind == "Image" and widget.value:
            data = bytes(widget.value)
            digest = hashlib.sha256(data).hexdigest()
            if digest not in [i["sha256"] for i in images]:
                images.append({"sha256": digest, "format": widget.format,
                               "data": base64.b64encode(data).decode("ascii"),
                               "describes": FIGURES.get(digest, "")})
            frame["images"].append([i["sha256"] for i in images].index(digest))
        elif kind in ("HTML", "HTMLMath", "Label") and widget.value:
            value = str(widget.value)
            if value not in texts:
                texts.append(value)
            frame["texts"].append(texts.index(value))
    return frame


def explorer_grid(root) -> dict | None:
    """Every combination of the plan's values drawn: controls, frames, images, texts."""
    axes = grid_plan(root)
    if not axes or not any(_kind(w) == "Image" for w in _walk(root)):
        return None
    initial = [(control, control.value) for control in _controls(root)]
    images, texts, frames = [], [], {}
    try:
        previous = None
        for combo in itertools.product(*(range(len(values)) for _, values in axes)):
            for n, ((control, values), index) in enumerate(zip(axes, combo)):
                # Setting a control redraws: set only what changed (mostly the last axis), but
                # everything after a changed one, since a control may move a later one's range.
                if previous is None or index != previous[n] or combo[:n] != previous[:n]:
                    _set(control, values[index])
            previous = combo
            frames[",".join(map(str, combo))] = _snapshot(root, images, texts)
    finally:
        for control, value in initial:
            try:
                control.value = value
            except Exception:  # noqa: BLE001 - a range that moved; the page has its own first frame
                pass
    first = {id(control): value for control, value in initial}
    start = [values.index(first[id(c)]) if first[id(c)] in values else 0 for c, values in axes]
    return {"explorer": _plan_name(root),
            "controls": [{"description": c.description, "kind": _kind(c),
                          "values": [_label(c, v) for v in values]} for c, values in axes],
            "start": start, "frames": frames, "images": images, "texts": texts}


def finish(grids: bool = True, display: bool = True) -> dict:
    """Display (and return) what the site needs from this run: mode, figures, explorer grids."""
    from course.config import fast

    found = {}
    for root in _roots() if grids else []:
        if _kind(root) == "SelfCheck":
            continue
        try:
            grid = explorer_grid(root)
        except Exception as err:  # noqa: BLE001 - one explorer that cannot be driven keeps its snapshot
            grid = {"error": f"{type(err).__name__}: {err}"}
        if grid is not None:
            found[root.model_id] = grid
    bundle = {"fast": fast(False, True), "figures": dict(FIGURES), "explorers": found}
    if display:
        from IPython.display import display as show
        show({MIME: bundle, "text/plain": f"notes: {len(found)} explorer grid(s)"}, raw=True)
    return bundle
