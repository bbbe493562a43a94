"""Build the extended notes: the lectures as a static HTML site that reads offline.

    python -m course.notes                 # -> build/notes/_build/html/index.html  (make notes)
    python -m course.notes --jobs 2 --out /tmp/site

Steps (see notes/README.md for why):
1. every ``lectures/NN_*.ipynb`` gets executed outputs in fast mode (COURSE_FAST=1,
   COURSE_OFFLINE=1): the copy the lecture tests left in build/executed/ is reused when it is
   fresh (same cells, no error, newer than the lecture and than every file of course/),
   otherwise the notebook is executed here (``--jobs`` kernels at a time) and the copy refreshed;
2. ipywidgets outputs, which need a live kernel, become a note plus a static snapshot of the
   explorer's first view (its labels and the pictures its Output widgets drew);
3. notes/ (Jupyter Book 1 config, table of contents, intro) and the prepared lectures are staged
   in build/notes-src/ and built with ``jupyter-book build`` into build/notes/_build/html/;
   MathJax is copied into the site so that the math renders without a CDN.
"""
import argparse
import html
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
LECTURES = ROOT / "lectures"
NOTES = ROOT / "notes"
EXECUTED = ROOT / "build" / "executed"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
KERNEL_ENV = {"COURSE_FAST": "1", "COURSE_OFFLINE": "1", "PYDEVD_DISABLE_FILE_VALIDATION": "1",
              "MPLBACKEND": "module://matplotlib_inline.backend_inline"}


def lectures(folder: Path = LECTURES) -> list[Path]:
    return sorted(Path(folder).glob("[0-9][0-9]_*.ipynb"))


# --- 1. executed outputs --------------------------------------------------------------------------
def _sources(nb) -> list[tuple[str, str]]:
    return [(cell.cell_type, cell.source) for cell in nb.cells]


def _has_errors(nb) -> bool:
    return any(out.get("output_type") == "error"
               for cell in nb.cells for out in cell.get("outputs", []))


def _newest_code_mtime() -> float:
    return max((p.stat().st_mtime for p in (ROOT / "course").rglob("*.py")), default=0.0)


def fresh_copy(lecture: Path, executed_dir: Path = EXECUTED):
    """The executed copy of ``lecture`` in ``executed_dir`` if it can stand for a new run."""
    copy = executed_dir / lecture.name
    try:
        if copy.stat().st_mtime < max(lecture.stat().st_mtime, _newest_code_mtime()):
            return None
        nb = nbformat.read(copy, as_version=4)
    except (OSError, ValueError):  # missing, or half written by a test running right now
        return None
    source = nbformat.read(lecture, as_version=4)
    if _sources(nb) != _sources(source) or _has_errors(nb):
        return None
    return nb


def execute(lecture: Path, timeout: int = 900):
    """Run ``lecture`` in a fresh kernel in fast mode; returns (notebook, error text or None)."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(lecture, as_version=4)
    os.environ.update(KERNEL_ENV)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(lecture.parent)}})
    try:
        client.execute()
    except CellExecutionError as err:
        return nb, str(err).strip().splitlines()[-1] if str(err).strip() else repr(err)
    except Exception as err:  # noqa: BLE001 - a dead kernel or a timeout: report, build the rest
        return nb, f"{type(err).__name__}: {err}"
    return nb, None


def _save_executed(nb, name: str, executed_dir: Path):
    """Write atomically: a lecture test may read the same file at the same time."""
    executed_dir.mkdir(parents=True, exist_ok=True)
    tmp = executed_dir / f".{name}.{os.getpid()}.tmp"
    nbformat.write(nb, tmp)
    tmp.replace(executed_dir / name)


def executed_lectures(jobs: int = 1, executed_dir: Path = EXECUTED, log=print,
                      folder: Path = LECTURES) -> dict:
    """{lecture path: (notebook, how)} where how is "reused", "executed" or "failed: ..."."""
    result, stale = {}, []
    for lecture in lectures(folder):
        nb = fresh_copy(lecture, executed_dir)
        if nb is not None:
            result[lecture] = (nb, "reused")
        else:
            stale.append(lecture)
    if stale:
        log(f"executing {len(stale)} lecture(s) in fast mode with {jobs} kernel(s): "
            + ", ".join(p.stem for p in stale))
    with ProcessPoolExecutor(max_workers=max(1, jobs)) as pool:
        for lecture, (nb, error) in zip(stale, pool.map(execute, stale)):
            if error is None:
                _save_executed(nb, lecture.name, executed_dir)
            result[lecture] = (nb, "executed" if error is None else f"failed: {error}")
            log(f"  {lecture.stem}: {result[lecture][1]}")
    return dict(sorted(result.items()))


# --- 2. widgets become a note and a snapshot ------------------------------------------------------
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
    """Radio buttons with nothing chosen (a self-check question): list the choices."""
    items = "".join(f"<li>{html.escape(str(o))}</li>" for o in values["_options_labels"])
    return f'<ul class="course-widget-options">{items}</ul>'


TEXT_MODELS = {"LabelModel", "HTMLModel", "HTMLMathModel"}
SKIPPED_MODELS = {"ButtonModel", "PlayModel"}


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


def static_widgets(nb):
    """Replace each widget view by a note and the explorer's first view; drop the widget state.

    Without a kernel a widget cannot move, and MyST-NB would load the widget manager from a
    CDN, which a reader offline does not have.
    """
    state = nb.metadata.pop("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        new = []
        for out in cell.get("outputs", []):
            view = out.get("data", {}).get(WIDGET_VIEW)
            if view is None:
                new.append(out)
                continue
            controls, drawn = [], []
            widget_snapshot(view.get("model_id", ""), state, controls, drawn)
            settings = f" Drawn here with {'; '.join(controls)}." if controls else ""
            note = ("<p class=\"course-widget-note\"><b>Interactive.</b> Run this lecture in "
                    "JupyterLab (<code>make lab</code>) to use the controls."
                    f"{html.escape(settings)}</p>")
            new.append(nbformat.v4.new_output("display_data", data={"text/html": note}))
            new.extend(drawn)
        cell.outputs = new
    return nb


# --- 3. staging and the Jupyter Book build --------------------------------------------------------
def mathjax_dir() -> Path:
    """MathJax 3 from the PyPI package sphinx-mathjax-offline (used as files only)."""
    import importlib.util
    spec = importlib.util.find_spec("sphinx-mathjax-offline")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("MathJax for offline reading is missing: pip install sphinx-mathjax-offline")
    return Path(list(spec.submodule_search_locations)[0]) / "static" / "mathjax"


def stage(notebooks: dict, src: Path, folder: Path = LECTURES):
    """notes/ + the prepared lectures (and the lectures' other files) into ``src``."""
    shutil.rmtree(src, ignore_errors=True)
    shutil.copytree(NOTES, src, ignore=shutil.ignore_patterns("README.md", "_build"))
    shutil.copytree(folder, src / "lectures",
                    ignore=shutil.ignore_patterns("*.ipynb", ".ipynb_checkpoints", "__pycache__"))
    for lecture, (nb, _) in notebooks.items():
        nbformat.write(static_widgets(nb), src / "lectures" / lecture.name)


def copy_mathjax(html_dir: Path):
    """After the build, as sphinx-mathjax-offline itself does: Jupyter Book would add a script
    tag for every .js file it finds among the static files before the build."""
    shutil.copytree(mathjax_dir(), html_dir / "_static" / "mathjax", dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("*.woff", "sre", "*-speech.js"))


def jupyter_book(src: Path, out: Path, log=print) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(exe) if exe.exists() else "jupyter-book", "build", str(src),
           "--path-output", str(out), "--keep-going"]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    (out / "jupyter-book.log").write_text(done.stdout + done.stderr)
    if done.returncode:
        log((done.stdout + done.stderr)[-4000:])
    return done


def _redirect(out: Path, html_dir: Path):
    target = html_dir.relative_to(out).as_posix() + "/index.html"
    (out / "index.html").write_text(
        f'<!DOCTYPE html><meta charset="utf-8"><meta http-equiv="refresh" content="0; url={target}">'
        f'<title>CNN course notes</title><a href="{target}">CNN course notes</a>\n')


def build(out: Path = ROOT / "build" / "notes", src: Path | None = None, jobs: int = 1,
          executed_dir: Path = EXECUTED, log=print, folder: Path = LECTURES) -> dict:
    """Build the site; returns a report with ``html`` (the site folder), ``lectures`` (how each
    got its outputs), ``failed`` (lectures whose execution failed) and ``seconds``."""
    start = time.perf_counter()
    out, src = Path(out), Path(src or out.parent / "notes-src")
    notebooks = executed_lectures(jobs, executed_dir, log, folder)
    stage(notebooks, src, folder)
    out.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(out / "_build", ignore_errors=True)
    done = jupyter_book(src, out, log)
    html_dir = out / "_build" / "html"
    if html_dir.exists():
        copy_mathjax(html_dir)
        _redirect(out, html_dir)
    how = {p.stem: h for p, (_, h) in notebooks.items()}
    return {"html": html_dir, "lectures": how, "returncode": done.returncode,
            "failed": [name for name, h in how.items() if h.startswith("failed")],
            "log": done.stdout + done.stderr, "seconds": time.perf_counter() - start}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Build the extended notes (static HTML site).")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "notes")
    parser.add_argument("--jobs", type=int, default=2 if (os.cpu_count() or 1) >= 4 else 1,
                        help="lectures executed at the same time (default: 2 on 4+ cores)")
    args = parser.parse_args(argv)
    report = build(args.out, jobs=args.jobs)
    for name, how in report["lectures"].items():
        print(f"{name}: {how}")
    print(f"notes built in {report['seconds']:.0f}s: {report['html'] / 'index.html'}")
    if report["returncode"] or report["failed"]:
        print(f"FAILED: jupyter-book exit {report['returncode']}, lectures {report['failed']}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
