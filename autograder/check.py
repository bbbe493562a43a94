"""A student's check of a problem set: the visible tests, run by the grader's own checker.

    course check ps1                           # assignments/ps1/ps1.ipynb
    course check ps1 path/to/my_ps1.ipynb

The student's notebook is read exactly as the grader reads a submission: only the answer
cells' sources are taken, they run in the grader's runner (in bubblewrap where it works,
else as a plain process with rlimits: this is the student's own machine), and the test
cells run in the trusted checker. The release holds the visible tests only, so a visible
test passes here if and only if it passes in grading. Test cells are compared with their
release checksums first (the ones nbgrader's validate uses): an edited test cell is
reported, since grading runs the instructor's copy.
"""
from __future__ import annotations

import sys
from pathlib import Path

from nbformat import reads
from nbgrader.utils import compute_checksum

from .checker import grade_submission
from .limits import resolve
from .sandbox import bubblewrap_works
from .source import load_source
from .submissions import InvalidNotebook, parse_notebook, read_answers

ROOT = Path(__file__).resolve().parents[1]
PASS, FAIL, HIDDEN = "PASS", "FAIL", "HIDDEN"


def release_path(ps: str, root: Path = ROOT) -> Path:
    return root / "assignments" / ps / f"{ps}.ipynb"


def changed_test_cells(data: bytes) -> list[str]:
    """grade_ids of locked cells whose source no longer matches their release checksum."""
    nb = reads(data.decode("utf-8"), as_version=4)
    changed = []
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("locked") and meta.get("checksum") and compute_checksum(cell) != meta["checksum"]:
            changed.append(meta.get("grade_id", "?"))
    return changed


def runs_nothing(code: str) -> bool:
    """A released test cell whose tests were all hidden (only comments are left)."""
    return all(not line.strip() or line.strip().startswith("#") for line in code.splitlines())


def check(ps: str, notebook: Path | None = None, echo=print) -> dict:
    """Run the visible tests of ``notebook`` (default: the release of ``ps``); returns the result."""
    path = Path(notebook) if notebook else release_path(ps)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such notebook (course check {ps} [NOTEBOOK])")
    data = path.read_bytes()
    try:
        parse_notebook(data)  # the grader's own intake check, with its messages
    except InvalidNotebook as exc:
        raise InvalidNotebook(f"{path} is not a readable notebook ({exc}); restore it from "
                              "your last saved copy or fetch the assignment again") from exc
    changed = changed_test_cells(data)
    source = load_source(path)  # the release: visible tests only
    answers, notes = read_answers(data, source)
    sandbox = bubblewrap_works()
    result = grade_submission(source, answers, resolve(source), sandbox, notes)
    result["changed_test_cells"] = changed
    for note in changed:
        echo(f"  NOTE test cell {note} was edited: grading runs the original, restore it")
    hidden = {c.grade_id for c in source.cells if c.kind == "test" and runs_nothing(c.source)}
    result["cells"] = [c for c in result["cells"] if c["grade_id"] not in hidden]
    result["hidden_cells"] = sorted(hidden)
    for cell in result["cells"]:
        verdict = PASS if cell["passed"] else FAIL
        line = f"  {verdict} {cell['grade_id']} ({cell['points']:g}/{cell['max_points']:g})"
        echo(line if cell["passed"] else f"{line}: {cell['reason']}")
    for grade_id in result["hidden_cells"]:
        echo(f"  {HIDDEN} {grade_id}: graded after you hand in")
    for note in result["notes"]:
        echo(f"  note: {note}")
    passed = sum(c["passed"] for c in result["cells"])
    echo(f"{ps}: {passed} of {len(result['cells'])} visible test cells pass"
         f" ({'sandboxed' if sandbox else 'no sandbox on this machine'}); hidden tests run at grading")
    return result


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        print("usage: course check psN [NOTEBOOK]", file=sys.stderr)
        return 2
    try:
        result = check(argv[0], Path(argv[1]) if len(argv) > 1 else None)
    except (FileNotFoundError, InvalidNotebook) as exc:
        print(f"course check: {exc}", file=sys.stderr)
        return 2
    return 0 if all(c["passed"] for c in result["cells"]) else 1


if __name__ == "__main__":
    sys.exit(main())
