"""Student-safe solution notebooks, after the due date.

    python -m autograder solutions psN [--force] [-o DIR]

From the instructor notebook: the solutions are shown (markers removed), each test cell keeps
its visible part only (hidden tests removed), and instructor-only cells are dropped (cells tagged
``instructor`` or with metadata ``course.instructor_only``). nbgrader metadata stays, so the
notebook still validates. The result is leak-checked against the hidden-test lines before it
is written. Before the problem set's due date it refuses unless forced.
"""
from datetime import UTC, datetime
from pathlib import Path

import nbformat

from . import markers
from .deadlines import due_date
from .release import LeakError, find_leaks


class TooEarly(RuntimeError):
    pass


def instructor_only(cell):
    return "instructor" in cell.metadata.get("tags", []) or \
        bool(cell.metadata.get("course", {}).get("instructor_only"))


def solution_notebook(path):
    nb = nbformat.read(path, as_version=4)
    nb.cells = [c for c in nb.cells if not instructor_only(c)]
    for cell in nb.cells:
        if cell.cell_type == "code":
            meta = cell.metadata.get("nbgrader", {})
            cell.source = markers.visible_test(cell.source) if meta.get("grade") and not meta.get("solution") \
                else markers.strip_markers(cell.source)
            cell.outputs, cell.execution_count = [], None
        elif markers.ALL_MARKER_LINES & {l.strip() for l in cell.source.splitlines()}:
            cell.source = markers.strip_markers(cell.source)
    return nb


def build(source, out_dir, force=False, now=None):
    """Write out_dir/PS.ipynb; raises TooEarly before the due date (unless force) or LeakError."""
    due = due_date(source)
    now = now or datetime.now(UTC)
    if not force and (due is None or now < due):
        when = f"its due date {due.isoformat()}" if due else "a due date (metadata course.due)"
        raise TooEarly(f"{source.name}: solutions are released after {when}; it is now "
                       f"{now.isoformat(timespec='minutes')}. Pass --force to build them anyway.")
    nb = solution_notebook(source.path)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"{Path(source.path).stem}.ipynb"
    nbformat.write(nb, target)
    hidden = markers.secret_lines((c.source for c in nbformat.read(source.path, as_version=4).cells),
                                  markers.HIDDEN_ONLY)
    leaks = [leak for leak in find_leaks(out, hidden) if "SOLUTION" not in leak]
    if leaks:
        target.unlink()
        raise LeakError("refusing to write solutions; hidden tests found:\n  " + "\n  ".join(leaks))
    return target
