"""Build the extended notes: the lectures as a static HTML site that reads offline.

    python -m course.notes                 # full-mode runs, cached -> build/notes/_build/html/ (make notes)
    python -m course.notes --fast          # fast mode, reusing the lecture tests' runs (build/executed/)
    python -m course.notes --full 03 --jobs 2 --out /tmp/site

Steps (see notes/README.md for why):
1. every ``lectures/NN_*.ipynb`` gets executed outputs (course/notesite/execution.py): in full
   mode (COURSE_FAST=0) from a cache keyed on the notebook and the course package, executed
   only when that key changed; in fast mode from the lecture tests' copies in build/executed/;
2. each executed notebook becomes what its page shows (course/notesite/pages.py): self-checks as
   forms that course-quiz.js checks, explorers as controls over pictures drawn in advance,
   alt text on every picture, links to the problem set that grades the lecture;
3. notes/ (Jupyter Book 1 config, table of contents, intro, _static/ scripts and styles), the
   prepared lectures and the problem sets are staged in build/notes-src/ and built with
   ``jupyter-book build`` into build/notes/_build/html/; MathJax is copied into the site.
"""
import argparse
import copy
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat

from course.notesite import pages

# re-exported: the names the tests and `course` users know from before the split
from course.notesite.execution import (  # noqa: F401
    CACHE,
    EXECUTED,
    LECTURES,
    cache_key,
    execute,
    executed_lectures,
    fresh_copy,
    lectures,
    save_atomically,
)
from course.notesite.pages import WIDGET_STATE, WIDGET_VIEW, static_widgets  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]
NOTES = ROOT / "notes"
ASSIGNMENTS = ROOT / "assignments"
MATHJAX_FILE = "tex-svg-full.js"


def _save_executed(nb, name: str, executed_dir: Path):
    save_atomically(nb, Path(executed_dir) / name)


def mathjax_dir() -> Path:
    """MathJax 3 from the PyPI package sphinx-mathjax-offline (used as files only)."""
    import importlib.util
    spec = importlib.util.find_spec("sphinx-mathjax-offline")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("MathJax for offline reading is missing: pip install sphinx-mathjax-offline")
    return Path(list(spec.submodule_search_locations)[0]) / "static" / "mathjax"


def stage(notebooks: dict, src: Path, folder: Path = LECTURES, cache_dir: Path = CACHE):
    """notes/ + the prepared lectures (and their other files) + the problem sets into ``src``."""
    shutil.rmtree(src, ignore_errors=True)
    shutil.copytree(NOTES, src, ignore=shutil.ignore_patterns("README.md", "_build", "*.yml.example"))
    shutil.copytree(folder, src / "lectures",
                    ignore=shutil.ignore_patterns("*.ipynb", ".ipynb_checkpoints", "__pycache__"))
    sets = pages.problem_sets(NOTES / "problem_sets.yml", ASSIGNMENTS)
    for name, *_ in {entry[0]: entry for entries in sets.values() for entry in entries}.values():
        notebook = ASSIGNMENTS / name / f"{name}.ipynb"
        if notebook.exists():
            (src / "assignments" / name).mkdir(parents=True, exist_ok=True)
            shutil.copy2(notebook, src / "assignments" / name / notebook.name)
    alts = {}
    for lecture, (nb, _) in notebooks.items():
        page = copy.deepcopy(nb)
        mode = (page.metadata.get("course_notes") or {}).get("mode")
        _, alts[lecture.stem] = pages.prepare(page, lecture.stem, static_dir=src / "_static",
                                              picture_cache=Path(cache_dir) / "pictures")
        present = [s for s in sets.get(lecture.stem[:2], []) if s[2].exists()]
        pages.insert_links(page, lecture.stem, present, mode)
        nbformat.write(page, src / "lectures" / lecture.name)
    return alts


def finish_pages(html_dir: Path, notebooks: dict, alts: dict):
    """Alt texts into the built pages; the download of each lecture is its executed notebook
    (outputs and saved widget state, as JupyterLab shows them), not the page's staged copy."""
    for page in html_dir.rglob("*.html"):
        if "_static" not in page.relative_to(html_dir).parts:
            pages.theme_fixes(page)
    for lecture, (nb, _) in notebooks.items():
        page = html_dir / "lectures" / f"{lecture.stem}.html"
        if page.exists():
            pages.set_alt_texts(page, alts.get(lecture.stem, {}))
        download = html_dir / "_sources" / "lectures" / lecture.name
        if download.parent.exists():
            clean = copy.deepcopy(nb)
            clean.metadata.pop("course_notes", None)
            nbformat.write(clean, download)


def copy_mathjax(html_dir: Path):
    """After the build, as sphinx-mathjax-offline itself does (Jupyter Book would add a script
    tag for every .js file among the static files before it); only the one combined file the
    pages load (TeX input, SVG output, fonts inside)."""
    target = html_dir / "_static" / "mathjax"
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(mathjax_dir() / MATHJAX_FILE, target / MATHJAX_FILE)


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
        f'<!DOCTYPE html><html lang="en"><meta charset="utf-8">'
        f'<meta http-equiv="refresh" content="0; url={target}">'
        f'<title>CNN course notes</title><a href="{target}">CNN course notes</a></html>\n')


def site_size(html_dir: Path) -> dict:
    """Bytes of the site, and of its heaviest parts."""
    def total(path):
        return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())
    parts = {"all": total(html_dir)}
    for name in ("_static/explorers", "_static/mathjax", "_images", "_sources", "lectures"):
        parts[name] = total(html_dir / name) if (html_dir / name).exists() else 0
    return parts


def modes_for(folder: Path, full) -> dict:
    """{lecture stem: "full" | "fast"}: ``full`` is "all", or the lecture numbers to run in full."""
    stems = [p.stem for p in lectures(folder)]
    if full == "all":
        return {s: "full" for s in stems}
    chosen = {str(n).zfill(2) for n in (full or ())}
    return {s: "full" if s[:2] in chosen else "fast" for s in stems}


def build(out: Path = ROOT / "build" / "notes", src: Path | None = None, jobs: int = 1,
          executed_dir: Path = EXECUTED, log=print, folder: Path = LECTURES, full="all",
          cache_dir: Path = CACHE) -> dict:
    """Build the site; returns a report: ``html`` (the site folder), ``lectures`` (how each got
    its outputs), ``notebooks`` (the executed notebooks the pages come from), ``failed``,
    ``returncode``, ``log``, ``size`` and ``seconds``."""
    start = time.perf_counter()
    out, src = Path(out), Path(src or out.parent / "notes-src")
    modes = modes_for(folder, full)
    notebooks = executed_lectures(modes, jobs, executed_dir, cache_dir, log, folder)
    executed_at = time.perf_counter()
    alts = stage(notebooks, src, folder, cache_dir)
    out.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(out / "_build", ignore_errors=True)
    done = jupyter_book(src, out, log)
    html_dir = out / "_build" / "html"
    if html_dir.exists():
        finish_pages(html_dir, notebooks, alts)
        copy_mathjax(html_dir)
        _redirect(out, html_dir)
    how = {p.stem: h for p, (_, h) in notebooks.items()}
    return {"html": html_dir, "lectures": how, "modes": modes, "returncode": done.returncode,
            "notebooks": {p.stem: nb for p, (nb, _) in notebooks.items()},
            "failed": [name for name, h in how.items() if h.startswith("failed")],
            "log": done.stdout + done.stderr, "size": site_size(html_dir) if html_dir.exists() else {},
            "seconds": time.perf_counter() - start, "render_seconds": time.perf_counter() - executed_at}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Build the extended notes (static HTML site).")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "notes")
    parser.add_argument("--cache", type=Path, default=CACHE,
                        help="where full-mode runs and encoded pictures are kept (build/notes-cache)")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                        help="lectures executed at the same time (default: 2 on 2+ cores)")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--fast", action="store_true",
                       help="fast mode for every lecture (reuses build/executed/ from the tests)")
    group.add_argument("--full", nargs="+", metavar="NN",
                       help="run only these lectures in full mode, the others in fast mode")
    args = parser.parse_args(argv)
    full = () if args.fast else (args.full or "all")
    report = build(args.out, jobs=args.jobs, full=full, cache_dir=args.cache)
    for name, how in report["lectures"].items():
        print(f"{name}: {how}")
    size = report["size"]
    if size:
        print("site size: " + ", ".join(f"{k} {v / 1e6:.1f} MB" for k, v in size.items()))
    print(f"notes built in {report['seconds']:.0f} s (rendering {report['render_seconds']:.0f} s): "
          f"{report['html'] / 'index.html'}")
    if report["returncode"] or report["failed"]:
        print(f"FAILED: jupyter-book exit {report['returncode']}, lectures {report['failed']}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
