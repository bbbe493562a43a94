"""Execute notebooks headless for the tests and read what they computed.

    nb = execute_notebook("lectures/03_padding_stride_dilation.ipynb")   # fast mode
    figs = figures(nb)        # {"name": value} recorded with course.record(...)
    text = outputs_text(nb)   # every text output, for "no traceback"-style checks
"""
import os
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
EXECUTED = ROOT / "build" / "executed"
# The one setting for every wall-time limit of the tests: limits are written for a quiet
# machine and multiplied by COURSE_TIMING_SLACK (default 2; more on a shared or slow one).
TIMING_SLACK = float(os.environ.get("COURSE_TIMING_SLACK", "2"))


def time_limit(seconds: float) -> float:
    """A wall-time limit measured on a quiet machine, scaled by COURSE_TIMING_SLACK."""
    return seconds * TIMING_SLACK


def execute_notebook(path, fast: bool = True, timeout: int = 600, env: dict | None = None,
                     save: bool = True):
    """Run every cell of ``path`` in a fresh kernel; returns the executed notebook.

    The kernel starts in the notebook's folder, offline, with COURSE_FAST set as asked.
    ``nb.metadata["course_wall_s"]`` holds the wall time of the whole run.
    """
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    old = dict(os.environ)
    os.environ.update({"COURSE_FAST": "1" if fast else "0", "COURSE_OFFLINE": "1",
                       "MPLBACKEND": "module://matplotlib_inline.backend_inline",
                       "PYDEVD_DISABLE_FILE_VALIDATION": "1"})
    os.environ.update(env or {})
    try:
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                resources={"metadata": {"path": str(path.parent)}})
        start = time.perf_counter()
        client.execute()
        nb.metadata["course_wall_s"] = time.perf_counter() - start
    finally:
        os.environ.clear()
        os.environ.update(old)
    if save:
        EXECUTED.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, EXECUTED / path.name)
    return nb


def figures(nb) -> dict:
    """Every value a notebook recorded with ``course.record`` (name -> value)."""
    found = {}
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            meta = out.get("metadata", {}).get("course_figure")
            if meta:
                found[meta["name"]] = meta["value"]
    return found


def outputs_text(nb) -> str:
    """All text a notebook printed or displayed, errors included."""
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                parts.append(out.get("text", ""))
            elif out.get("output_type") == "error":
                parts.append("\n".join(out.get("traceback", [])))
            else:
                parts.append(str(out.get("data", {}).get("text/plain", "")))
    return "\n".join(parts)


def count_images(nb) -> int:
    """How many PNG / SVG figures the executed notebook shows."""
    return sum(1 for cell in nb.cells for out in cell.get("outputs", [])
               if {"image/png", "image/svg+xml"} & set(out.get("data", {})))


def stored_outputs(path) -> int:
    nb = nbformat.read(path, as_version=4)
    return sum(len(c.get("outputs", [])) for c in nb.cells if c.cell_type == "code")


_runs: dict = {}


def run_once(path, env: dict | None = None):
    """Execute a lecture once per test process (fast mode) and share the run between tests."""
    key = (str(path), tuple(sorted((env or {}).items())))
    if key not in _runs:
        _runs[key] = execute_notebook(path, fast=True, env=env)
    return _runs[key]


def assert_committed_clean(path) -> None:
    """A committed lecture: no outputs or counts, the python3 kernel, a self-check and a glossary."""
    assert stored_outputs(path) == 0
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert all(c.get("execution_count") is None for c in nb.cells if c.cell_type == "code")
    source = "\n".join(c.source for c in nb.cells)
    assert "self_check(" in source and "glossary(" in source


def assert_ran_cleanly(nb, limit_s: float, min_images: int) -> None:
    """An executed lecture: no error, no warning on stderr, within its time, with its pictures."""
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors, outputs_text(nb)[-2000:]
    warnings = [o.text for c in nb.cells for o in c.get("outputs", [])
                if o.output_type == "stream" and o.name == "stderr" and "Warning" in o.text]
    assert not warnings, warnings
    assert nb.metadata["course_wall_s"] < limit_s, f"took {nb.metadata['course_wall_s']:.0f} s (limit {limit_s:.0f} s)"
    assert count_images(nb) >= min_images
