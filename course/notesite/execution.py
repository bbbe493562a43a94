"""Executed lectures for the site: full-mode runs cached by content, fast-mode runs reused.

- **full** (``make notes``): the lecture runs with COURSE_FAST=0, the results a student gets in
  ``make lab``. The run is cached in build/notes-cache/ under a key made of the lecture's cells
  and metadata and of every file the kernel imports from (course/, except the build-side
  modules of the site) and the lectures' own files: a rebuild re-executes only what changed.
- **fast** (the tests): the copy the lecture tests left in build/executed/ is reused when it is
  fresh (same cells, no error, newer than the lecture and every file of course/), else the
  lecture runs here in fast mode and that copy is refreshed.

A run made here gets two cells of course/notesite/kernel.py around the lecture's own (removed
again afterwards): figure descriptions for alt text, and the explorers drawn over a grid of
control values; what they found is kept in ``nb.metadata["course_notes"]``.
"""
import hashlib
import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import nbformat

from course.notesite.kernel import MIME as RUN_MIME

ROOT = Path(__file__).resolve().parents[2]
LECTURES = ROOT / "lectures"
EXECUTED = ROOT / "build" / "executed"
CACHE = ROOT / "build" / "notes-cache"
BASE_ENV = {"COURSE_OFFLINE": "1", "PYDEVD_DISABLE_FILE_VALIDATION": "1",
            "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
MODE_ENV = {"full": {"COURSE_FAST": "0"}, "fast": {"COURSE_FAST": "1"}}
# Modules of the site that only the build runs: changing them never changes a lecture's run.
BUILD_SIDE = {"course/notes.py", "course/notesite/__init__.py", "course/notesite/execution.py",
              "course/notesite/explorers.py", "course/notesite/selfcheck.py",
              "course/notesite/pages.py"}
META = "course_notes"


def lectures(folder: Path = LECTURES) -> list[Path]:
    return sorted(Path(folder).glob("[0-9][0-9]_*.ipynb"))


def _sources(nb) -> list[tuple[str, str]]:
    return [(cell.cell_type, cell.source) for cell in nb.cells]


def has_errors(nb) -> bool:
    return any(out.get("output_type") == "error"
               for cell in nb.cells for out in cell.get("outputs", []))


# --- fast mode: the lecture tests' runs -----------------------------------------------------------
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
    if _sources(nb) != _sources(source) or has_errors(nb):
        return None
    return nb


def save_atomically(nb, path: Path):
    """Write atomically: a lecture test may read the same file at the same time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    nbformat.write(nb, tmp)
    tmp.replace(path)


# --- full mode: the content-keyed cache -----------------------------------------------------------
def _code_files(folder: Path) -> list[Path]:
    files = [p for p in sorted((ROOT / "course").rglob("*")) if p.is_file()
             and "__pycache__" not in p.parts and p.relative_to(ROOT).as_posix() not in BUILD_SIDE]
    return files + [p for p in sorted(Path(folder).rglob("*")) if p.is_file()
                    and p.suffix != ".ipynb" and "__pycache__" not in p.parts
                    and ".ipynb_checkpoints" not in p.parts]


def code_digest(folder: Path = LECTURES) -> str:
    """SHA-256 of everything a lecture's kernel imports or reads besides the notebook itself."""
    h = hashlib.sha256()
    for path in _code_files(folder):
        h.update(path.relative_to(path.anchor).as_posix().encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def cache_key(lecture: Path, mode: str, code: str) -> str:
    nb = nbformat.read(lecture, as_version=4)
    h = hashlib.sha256(f"{mode}\0{code}\0".encode())
    for cell_type, source in _sources(nb):
        h.update(f"{cell_type}\0{source}\0".encode())
    meta = {k: v for k, v in nb.metadata.items() if k not in ("widgets", META)}
    h.update(repr(sorted(meta.items())).encode())
    return h.hexdigest()[:20]


def cached_path(lecture: Path, mode: str, key: str, cache_dir: Path = CACHE) -> Path:
    return Path(cache_dir) / f"{lecture.stem}.{mode}.{key}.ipynb"


def _prune(lecture: Path, mode: str, keep: Path, cache_dir: Path):
    for old in Path(cache_dir).glob(f"{lecture.stem}.{mode}.*.ipynb"):
        if old != keep:
            old.unlink(missing_ok=True)


# --- running a lecture ----------------------------------------------------------------------------
def _site_cell(code: str):
    cell = nbformat.v4.new_code_cell(code)
    cell.metadata[META] = True
    return cell


def execute(lecture: Path, mode: str = "fast", timeout: int = 900):
    """Run ``lecture`` in a fresh kernel; returns (notebook, error text or None).

    The kernel gets the site's two cells (figure descriptions, explorer grids) around the
    lecture; they are removed from the result and what they found goes to the metadata.
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(lecture, as_version=4)
    nb.cells.insert(0, _site_cell("from course.notesite import kernel as _notes\n_notes.start()"))
    # explorer grids take a minute or two per lecture: for the site's full runs, not the tests'
    nb.cells.append(_site_cell(f"_notes.finish(grids={mode == 'full'})"))
    env = {**BASE_ENV, **MODE_ENV[mode]}
    old = dict(os.environ)
    os.environ.update(env)
    start, error = time.perf_counter(), None
    try:
        NotebookClient(nb, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(lecture.parent)}}).execute()
    except CellExecutionError as err:
        error = str(err).strip().splitlines()[-1] if str(err).strip() else repr(err)
    except Exception as err:  # noqa: BLE001 - a dead kernel or a timeout: report, build the rest
        error = f"{type(err).__name__}: {err}"
    finally:
        os.environ.clear()
        os.environ.update(old)
    found = {}
    for cell in [c for c in nb.cells if c.metadata.get(META)]:
        for out in cell.get("outputs", []):
            found.update(out.get("data", {}).get(RUN_MIME, {}))
        nb.cells.remove(cell)
    nb.metadata[META] = {"mode": mode, "wall_s": round(time.perf_counter() - start, 1), **found}
    return nb, error


def _run(args):
    lecture, mode, threads = args
    # kernels side by side share the cores: one thread each unless told otherwise
    os.environ.setdefault("COURSE_THREADS", str(threads))
    return execute(lecture, mode)


def executed_lectures(modes: dict, jobs: int = 1, executed_dir: Path = EXECUTED,
                      cache_dir: Path = CACHE, log=print, folder: Path = LECTURES) -> dict:
    """{lecture: (notebook, how)} for ``modes`` = {lecture stem: "full" | "fast"}.

    ``how`` is "cached", "reused", "executed" or "failed: ...". A failed run is never cached.
    """
    result, stale, code = {}, [], code_digest(folder)
    for lecture in lectures(folder):
        mode = modes.get(lecture.stem, "fast")
        if mode == "full":
            path = cached_path(lecture, mode, cache_key(lecture, mode, code), cache_dir)
            nb = nbformat.read(path, as_version=4) if path.exists() else None
            how = "cached"
        else:
            path, nb, how = executed_dir / lecture.name, fresh_copy(lecture, executed_dir), "reused"
        if nb is not None:
            result[lecture] = (nb, f"{how} ({mode})")
        else:
            stale.append((lecture, mode, path))
    if stale:
        log(f"executing {len(stale)} lecture(s) with {jobs} kernel(s): "
            + ", ".join(f"{p.stem} ({m})" for p, m, _ in stale))
    with ProcessPoolExecutor(max_workers=max(1, jobs)) as pool:
        threads = max(1, (os.cpu_count() or 1) // max(1, jobs))
        runs = pool.map(_run, [(lecture, mode, threads) for lecture, mode, _ in stale])
        for (lecture, mode, path), (nb, error) in zip(stale, runs):
            if error is None:
                save_atomically(nb, path)
                if mode == "full":
                    _prune(lecture, mode, path, cache_dir)
            seconds = nb.metadata[META]["wall_s"]
            how = f"executed ({mode}, {seconds:.0f} s)" if error is None else f"failed: {error}"
            result[lecture] = (nb, how)
            log(f"  {lecture.stem}: {how}")
    return dict(sorted(result.items()))
