"""A lecture's executed notebook made into what its page shows (course/notes.py stages it).

- a self-check output becomes the static form of selfcheck.py;
- an explorer the kernel drew over a grid becomes the page explorer of explorers.py; any other
  widget becomes a note and its first view (labels and pictures from the saved widget state);
- every picture gets alt text: for a matplotlib figure its titles and axis labels as the kernel
  described them, else the cell's context (its section and the results it recorded);
- under the title, the problem set that grades the lecture and the notebook download.
"""
import base64
import hashlib
import html
import re
from pathlib import Path

import nbformat
import yaml

from course.notesite import explorers, selfcheck

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp", "image/gif")
TEXT_MODELS = {"LabelModel", "HTMLModel", "HTMLMathModel"}
SKIPPED_MODELS = {"ButtonModel", "PlayModel"}


# --- widgets without a grid: a note and the first view ---------------------------------------------
def _model_ids(value) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [v[len("IPY_MODEL_"):] for v in items if isinstance(v, str) and v.startswith("IPY_MODEL_")]


def _image_output(model: dict):
    for buffer in model.get("buffers", []):
        if buffer.get("path") == ["value"]:
            fmt = model["state"].get("format", "png")
            return nbformat.v4.new_output("display_data", data={f"image/{fmt}": buffer["data"]})
    return None


def _control_value(values: dict):
    """What a control shows: a slider's number, a dropdown's label, a text's lines."""
    labels = values.get("_options_labels")
    if labels is not None:
        index = values.get("index")
        return labels[index] if isinstance(index, int) and 0 <= index < len(labels) else None
    value = values.get("value")
    return " / ".join(str(value).splitlines()) if isinstance(value, str) else value


def _options_html(values: dict) -> str:
    """Radio buttons with nothing chosen: list the choices."""
    items = "".join(f"<li>{html.escape(str(o))}</li>" for o in values["_options_labels"])
    return f'<ul class="course-widget-options">{items}</ul>'


def widget_snapshot(model_id: str, state: dict, controls: list, outputs: list, seen=None):
    """Walk a widget tree: control settings go to ``controls``, what it shows to ``outputs``."""
    seen = set() if seen is None else seen
    model = state.get(model_id)
    if model is None or model_id in seen:
        return
    seen.add(model_id)
    name, values = model.get("model_name", ""), model.get("state", {})
    shown = None
    if name == "OutputModel":
        outputs.extend(nbformat.from_dict(out) for out in values.get("outputs", []))
    elif name == "ImageModel":
        outputs.extend(filter(None, [_image_output(model)]))
    elif name in TEXT_MODELS:
        text = str(values.get("value") or "")
        shown = html.escape(text) if name == "LabelModel" else text
    elif name == "RadioButtonsModel" and values.get("index") is None:
        shown = _options_html(values)
    elif name not in SKIPPED_MODELS and "description" in values:
        value = _control_value(values)
        if value is not None and value != "":
            controls.append(f"{values['description'] or name[:-5]} = {value}")
    if shown:
        outputs.append(nbformat.v4.new_output("display_data",
                                              data={"text/html": f"<div>{shown}</div>"}))
    for child in _model_ids(values.get("children", [])):
        widget_snapshot(child, state, controls, outputs, seen)


def snapshot_outputs(view: dict, state: dict) -> list:
    """A note (the settings drawn) and the widget's first view; its pictures described by them."""
    controls, drawn = [], []
    widget_snapshot(view.get("model_id", ""), state, controls, drawn)
    settings = f" Drawn here with {'; '.join(controls)}." if controls else ""
    note = ("<p class=\"course-widget-note\"><b>Interactive.</b> Run this lecture in "
            "JupyterLab (<code>make lab</code>) to use the controls."
            f"{html.escape(settings)}</p>")
    readout = [explorers.plain_text(o.data["text/html"]) for o in drawn
               if "text/html" in o.get("data", {})]
    alt = " ".join(["Explorer picture" + (f" drawn with {'; '.join(controls)}." if controls else ".")]
                   + [r for r in readout if r and len(r) <= explorers.MAX_READOUT])
    for out in drawn:
        for mime in IMAGE_TYPES:
            if mime in out.get("data", {}):
                out.setdefault("metadata", {}).setdefault(mime, {}).setdefault("alt", alt)
    return [nbformat.v4.new_output("display_data", data={"text/html": note}), *drawn]


def static_widgets(nb):
    """Every widget output as a note and its first view (no grid); drops the widget state."""
    return prepare(nb, stem="")[0]


# --- alt text of figures --------------------------------------------------------------------------
def _image_digest(data) -> str:
    raw = base64.b64decode(data if isinstance(data, str) else "".join(data))
    return hashlib.sha256(raw).hexdigest()


def _heading(cells, index: int) -> str:
    for cell in reversed(cells[:index]):
        if cell.cell_type == "markdown":
            found = re.findall(r"^#{1,4}\s+(.+)$", cell.source, flags=re.M)
            if found:
                return re.sub(r"[*_`$]", "", found[-1]).strip()
    return ""


def _recorded(cell) -> list[str]:
    return [str(o.get("data", {}).get("text/plain", "")) for o in cell.get("outputs", [])
            if o.get("metadata", {}).get("course_figure")]


def cell_alt(cells, index: int) -> str:
    """A figure's alt text from its cell's context: the section, the results it recorded."""
    section = _heading(cells, index)
    recorded = _recorded(cells[index])
    text = f"Figure of the section \u201c{section}\u201d" if section else "Figure"
    comment = re.match(r"\s*#\s*(.+)", cells[index].source)
    if comment:
        text += f", drawn by the cell \u201c{comment.group(1).strip()}\u201d"
    if recorded:
        text += "; the cell computed " + "; ".join(recorded[:4])
    return text + "."


def alt_texts(nb, figures: dict) -> dict:
    """{SHA-256 of a picture's bytes: its alt text} for every picture output of ``nb``.

    MyST-NB names each picture file by that digest (``_images/<sha256>.png``) but reads no
    per-output alt text, so :func:`set_alt_texts` writes these into the built pages.
    """
    found = {}
    for index, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            for mime in IMAGE_TYPES:
                if mime not in out.get("data", {}):
                    continue
                digest = _image_digest(out["data"][mime])
                given = out.get("metadata", {}).get(mime, {}).get("alt")
                described = figures.get(digest, "")
                found[digest] = given or (f"Figure: {described}" if described
                                          else cell_alt(nb.cells, index))
    return found


def set_alt_texts(page: Path, alts: dict) -> int:
    """Replace MyST-NB's alt (the file's path) by the texts of :func:`alt_texts`; returns how many."""
    text = page.read_text(encoding="utf-8")
    count = 0

    def replace(match):
        nonlocal count
        alt = alts.get(match.group(2))
        if alt is None:
            return match.group(0)
        count += 1
        return f'alt="{html.escape(alt, quote=True)}"'
    text = re.sub(r'alt="([^"]*_images/([0-9a-f]{64})\.\w+)"', replace, text)
    page.write_text(text, encoding="utf-8")
    return count


# --- the whole notebook ---------------------------------------------------------------------------
def _explorer_outputs(grid: dict, stem: str, number: int, static_dir: Path | None,
                      cache: Path | None) -> list:
    if static_dir is None:
        names = [i["sha256"] for i in grid["images"]]
    else:
        names = explorers.write_images(grid, static_dir / "explorers" / stem, cache)
    urls = [f"../_static/explorers/{stem}/{n}" for n in names]
    page = explorers.explorer_html(grid, f"course-explorer-{stem or 'x'}-{number}", urls)
    return [nbformat.v4.new_output("display_data", data={"text/html": page})]


def prepare(nb, stem: str, static_dir: Path | None = None, picture_cache: Path | None = None):
    """The notebook as its page shows it (see the module's docstring), changed in place.

    Returns ``(nb, alts)``: alts maps the SHA-256 of each picture to its alt text.
    """
    state = nb.metadata.pop("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    run = nb.metadata.pop("course_notes", {}) or {}
    grids = {k: g for k, g in (run.get("explorers") or {}).items() if "frames" in g}
    explorers_done = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        new = []
        said = {repr(o["data"].get("text/plain", "")) for o in cell.get("outputs", [])
                if "course_prose" in o.get("metadata", {})}
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            view = data.get(WIDGET_VIEW)
            if out.get("output_type") == "execute_result" and data.get("text/plain") in said:
                continue  # course.say(...) as the last line echoes its sentence as a string
            if selfcheck.MIME in data:
                # the sealed code says nothing to a reader; the form below is the question
                tags = cell.metadata.setdefault("tags", [])
                if "remove-input" not in tags:
                    tags.append("remove-input")
                page = selfcheck.selfcheck_html(data[selfcheck.MIME], stem[:2])
                new.append(nbformat.v4.new_output("display_data", data={"text/html": page,
                                                                         "text/plain": "Self-check"}))
            elif view is not None and view.get("model_id") in grids:
                explorers_done += 1
                new += _explorer_outputs(grids[view["model_id"]], stem, explorers_done, static_dir,
                                         picture_cache)
            elif view is not None:
                new += snapshot_outputs(view, state)
            else:
                new.append(out)
        cell.outputs = new
    return nb, alt_texts(nb, run.get("figures") or {})


# --- links under the title ------------------------------------------------------------------------
def problem_sets(config: Path, assignments: Path) -> dict:
    """{lecture number: [(ps name, title, notebook path)]} from notes/problem_sets.yml."""
    mapping = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    out: dict = {}
    for name, entry in mapping.items():
        notebook = assignments / name / f"{name}.ipynb"
        title = name
        if notebook.exists():
            first = next((c.source for c in nbformat.read(notebook, as_version=4).cells
                          if c.cell_type == "markdown" and c.source.lstrip().startswith("#")), "")
            title = first.lstrip("# ").splitlines()[0].strip() if first else name
        for lecture in entry["lectures"]:
            out.setdefault(f"{int(lecture):02d}", []).append((name, title, notebook, entry))
    return out


def links_cell(stem: str, sets: list, mode: str | None):
    """A markdown cell for under the title: graded by, download, and what run the page shows."""
    lines = []
    for name, title, _notebook, entry in sets:
        grades = entry.get("grades", "")
        lines.append(f"- **Graded by** {{download}}`{title} <../assignments/{name}/{name}.ipynb>` "
                     f"({grades}): solve it in JupyterLab, its visible tests say at once whether "
                     "your functions work.")
    lines.append(f'- **This lecture as a notebook:** <a href="../_sources/lectures/{stem}.ipynb" '
                 f'download="{stem}.ipynb">{stem}.ipynb</a> (with the outputs shown here; also '
                 "in the download menu at the top of the page).")
    if mode:
        what = ("a full run (`COURSE_FAST=0`), the results you get in `make lab`"
                if mode == "full" else
                "a fast run (`COURSE_FAST=1`: smaller data and fewer epochs, for the tests)")
        lines.append(f"- **Outputs** below come from {what}.")
    cell = nbformat.v4.new_markdown_cell("\n".join(lines))
    cell.metadata["course_notes"] = "links"
    return cell


def insert_links(nb, stem: str, sets: list, mode: str | None):
    """Put the links cell right after the first markdown cell (the title)."""
    at = next((i + 1 for i, c in enumerate(nb.cells) if c.cell_type == "markdown"), 0)
    nb.cells.insert(at, links_cell(stem, sets, mode))
    return nb


# --- the theme's pages, fixed for WCAG 2.1 AA -----------------------------------------------------
def theme_fixes(page: Path):
    """What the theme's pages get wrong, fixed in the built HTML.

    - two header controls axe reports as serious (label in name, WCAG 2.5.3): the search
      field's aria-label says "Search" but it shows "Search Ctrl+K", and the colour-mode
      button's icons carry titles that are not part of its name;
    - Jupyter Book always loads sphinx-thebe (live code from a CDN, which the site has off) and
      declares its settings twice, a script error on every page: both go.
    """
    text = page.read_text(encoding="utf-8")
    text = re.sub(r'[ \t]*<script>const THEBE_JS_URL[^<]*</script>\n?', "", text)
    text = re.sub(r'[ \t]*<script[^>]*src="[^"]*sphinx-thebe\.js[^"]*"></script>\n?', "", text)
    fixed = re.sub(r'(<button class="btn search-button-field[^"]*"[^>]*?) aria-label="Search"',
                   r"\1", text)  # named by what it shows
    fixed = re.sub(r'(<i class="theme-switch [^"]*" data-mode="\w+"\s*) title="[^"]*"', r"\1", fixed)
    page.write_text(fixed, encoding="utf-8")

