"""Explorers on a static page: the grid the kernel drew (kernel.py), as controls that swap pictures.

Each picture of the grid is written once (WebP: lossless for the drawn matrices, lossy for
photos) into the site's ``_static/explorers/<lecture>/``; the page gets the same controls as
the widget (a slider becomes a range input over the drawn values, a dropdown a select), the
readout text and the picture, and notes/_static/course-explorer.js swaps picture, readout and
alt text when a control moves. Every picture's alt text is made of the settings it was drawn
with, the readout the explorer computed (shape, formula, messages) and the panel titles.
"""
import base64
import io
import json
import re
import shutil
from html import escape, unescape
from pathlib import Path

TITLES = {"ConvolutionExplorer": "Convolution explorer", "PaddingExplorer": "Padding explorer",
          "PoolingExplorer": "Pooling explorer", "ReceptiveFieldExplorer": "Receptive-field explorer",
          "FeatureMapExplorer": "Feature-map explorer", "augmentation": "Augmentation explorer",
          "AugmentationExplorer": "Augmentation explorer"}
MAX_SIDE = 900  # px: pictures wider than this are scaled down
MAX_READOUT = 300  # characters of one readout that go into an alt text (tables stay out)


def plain_text(html: str) -> str:
    text = re.sub(r"<br\s*/?>", "; ", html)
    text = unescape(re.sub(r"<[^>]+>", " ", text))
    return re.sub(r"\s+", " ", text).strip()


def webp_bytes(data: bytes) -> bytes:
    """A PNG from the kernel as WebP: lossless or lossy (quality 80), whichever is smaller.

    Drawn matrices come out smaller lossless (and sharp), photos lossy; both encodings are
    the fast ones (lossless effort 2: ten times quicker than the best, 2% larger).
    """
    from PIL import Image

    image = Image.open(io.BytesIO(data))
    image.load()
    if max(image.size) > MAX_SIDE:
        image.thumbnail((MAX_SIDE, MAX_SIDE))
    image = image.convert("RGBA" if image.mode in ("RGBA", "LA", "P") else "RGB")
    encoded = []
    for options in ({"lossless": True, "method": 2, "quality": 60}, {"quality": 80, "method": 4}):
        out = io.BytesIO()
        image.save(out, format="WEBP", **options)
        encoded.append(out.getvalue())
    return min(encoded, key=len)


def write_images(grid: dict, folder: Path, cache: Path | None = None) -> list[str]:
    """The grid's pictures as files in ``folder``; returns their names, in the grid's order.

    Encoded pictures are kept in ``cache`` by the digest of their PNG, so that a rebuild
    only copies them (encoding a few hundred takes a minute on a small machine).
    """
    folder.mkdir(parents=True, exist_ok=True)
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
    names = []
    for image in grid["images"]:
        name = f"{image['sha256'][:16]}.webp"
        path, kept = folder / name, (cache / name if cache is not None else None)
        if not path.exists():
            if kept is not None and kept.exists():
                shutil.copyfile(kept, path)
            else:
                path.write_bytes(webp_bytes(base64.b64decode(image["data"])))
                if kept is not None:
                    shutil.copyfile(path, kept)
        names.append(name)
    return names


def frame_alt(grid: dict, key: str) -> str:
    """What one picture shows, from what the explorer computed for it."""
    title = TITLES.get(grid["explorer"], "Explorer")
    indices = [int(i) for i in key.split(",")] if key else []
    settings = ", ".join(f"{c['description']} {c['values'][i]}"
                         for c, i in zip(grid["controls"], indices))
    frame = grid["frames"][key]
    readout = [plain_text(grid["texts"][t]) for t in frame["texts"]]
    readout = [r for r, t in zip(readout, frame["texts"]) if r and len(r) <= MAX_READOUT
               and "<table" not in grid["texts"][t]]
    panels = " ".join(grid["images"][i].get("describes", "") for i in frame["images"]).strip()
    parts = [f"{title} with {settings}." if settings else f"{title}."]
    parts += [r if r.endswith(".") else r + "." for r in readout]
    if panels:
        parts.append(f"Panels: {panels}")
    return " ".join(parts)


def _control_html(ident: str, n: int, control: dict, start: int) -> str:
    cid = f"{ident}-c{n}"
    label = f'<label for="{cid}">{escape(control["description"])}</label>'
    values = control["values"]
    if control["kind"] in ("IntSlider", "FloatSlider"):
        return (f'<div class="course-explorer-control">{label} '
                f'<input type="range" id="{cid}" data-axis="{n}" min="0" max="{len(values) - 1}" '
                f'step="1" value="{start}" aria-valuetext="{escape(values[start], quote=True)}" '
                f'data-values="{escape(json.dumps(values), quote=True)}"> '
                f'<output for="{cid}">{escape(values[start])}</output></div>')
    options = "".join(f'<option value="{i}"{" selected" if i == start else ""}>{escape(v)}</option>'
                      for i, v in enumerate(values))
    return (f'<div class="course-explorer-control">{label} '
            f'<select id="{cid}" data-axis="{n}">{options}</select></div>')


def _script_json(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")


def explorer_html(grid: dict, ident: str, urls: list[str]) -> str:
    """The page's explorer: controls, readout, picture and the frames for course-explorer.js."""
    start = grid.get("start") or [0] * len(grid["controls"])
    first = ",".join(map(str, start))
    if first not in grid["frames"]:
        first = next(iter(grid["frames"]))
        start = [int(i) for i in first.split(",")]
    frames = {key: {"images": f["images"], "texts": f["texts"], "alt": frame_alt(grid, key)}
              for key, f in grid["frames"].items()}
    data = {"frames": frames, "images": urls, "texts": grid["texts"]}
    title = TITLES.get(grid["explorer"], "Explorer")
    controls = "".join(_control_html(ident, n, c, s)
                       for n, (c, s) in enumerate(zip(grid["controls"], start)))
    combos = len(grid["frames"])
    note = (f'<p class="course-widget-note"><b>{escape(title)}.</b> Move the controls: the '
            f'{combos} settings below were drawn in advance when these notes were built. In '
            'JupyterLab (<code>make lab</code>) the explorer takes any value.</p>')
    readout = "".join(f"<div>{grid['texts'][t]}</div>" for t in frames[first]["texts"])
    pictures = "".join(f'<img class="course-explorer-picture" src="{escape(urls[i], quote=True)}" '
                       f'alt="{escape(frames[first]["alt"], quote=True)}">'
                       for i in frames[first]["images"])
    return (f'<div class="course-explorer" id="{ident}" role="group" aria-label="{escape(title)}">'
            f'{note}<div class="course-explorer-controls">{controls}</div>'
            f'<div class="course-explorer-readout" aria-live="polite">{readout}</div>'
            f'<div class="course-explorer-pictures">{pictures}</div>'
            f'<script type="application/json" class="course-explorer-data">{_script_json(data)}'
            '</script></div>')
