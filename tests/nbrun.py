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
