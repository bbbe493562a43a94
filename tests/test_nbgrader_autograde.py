"""The problem sets and the wrong-submission corpus through plain nbgrader AND the sandboxed grader.

One test per problem set (independent, pytest-xdist friendly), each in its own scratch course:
the release is generated with ``nbgrader generate_assignment`` and must equal the committed
assignments/psN; then ONE ``nbgrader autograde`` run (in-kernel) and, at the same time, ONE
sandboxed ``autograder grade`` run (a pool of 2 warm workers) grade, side by side,
* the instructor's solution (must score 100),
* the untouched release (must score 0 without crashing the run),
* every wrong submission of tests/wrong_submissions/ for that set: each fails exactly the test
  cells its spec names (every other cell passes: no cascades), so none scores full marks;
and the two paths must agree cell by cell. The written answer is left to a person on both paths.
The generated feedback must show no hidden test (and, for the untouched release, no solution).

Training cells read COURSE_GRADING_QUICK=1 (set here) and train for a couple of epochs with a
lower bar: the same code path as real grading, which autograder/tests/test_problem_sets.py runs.
"""
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

from autograder import cli
from autograder.release import (
    ASSIGNMENTS,
    MARKERS,
    SOLUTIONS,
    differences,
    find_leaks,
    generate,
    hidden_test_lines,
    nbgrader,
    secret_lines,
)
from autograder.sandbox import bubblewrap_works
from autograder.source import load_source

CORPUS = Path(__file__).parent / "wrong_submissions"
PROBLEM_SETS = ["ps1", "ps2", "ps3", "ps4"]
HIDDEN_MARKERS = tuple(m for m in MARKERS if "HIDDEN" in m)


def wrong_specs(assignment=None):
    specs = {p.stem: json.loads(p.read_text()) for p in sorted(CORPUS.glob("*.json"))}
    return {k: v for k, v in specs.items() if assignment in (None, v["assignment"])}


def patched_solution(spec):
    """The instructor notebook with the spec's mistakes typed into its answer cells."""
    nb = nbformat.read(SOLUTIONS / spec["assignment"] / f"{spec['assignment']}.ipynb", as_version=4)
    cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in nb.cells}
    for patch in spec["patches"]:
        cell = cells[patch["cell"]]
        assert cell.metadata["nbgrader"].get("solution"), f"{patch['cell']} is not an answer cell"
        assert cell.source.count(patch["old"]) == 1, f"patch text not found once in {patch['cell']}"
        cell.source = cell.source.replace(patch["old"], patch["new"])
    return nb


def submit(root: Path, assignment: str, student: str, nb):
    folder = root / "submitted" / student / assignment
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / f"{assignment}.ipynb")


def nbgrader_cells(root: Path, assignment: str) -> dict:
    """{student: ({grade_id: passed} of the auto-graded cells, [manual cells waiting for a grader])}."""
    from nbgrader.api import Gradebook
    out = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for student in gb.students:
            sub = gb.find_submission_notebook(assignment, assignment, student.id)
            auto = {g.name: g.score == g.max_score for g in sub.grades if g.cell_type == "code"}
            manual = sorted(g.name for g in sub.grades if g.cell_type == "markdown" and g.needs_manual_grade)
            out[student.id] = (auto, manual)
    return out


def sandbox_cells(records) -> dict:
    """The same shape from the sandboxed grader's grade rows."""
    return {r["student"]: ({c["grade_id"]: bool(c["passed"]) for c in r["cells"]},
                           sorted(m["grade_id"] for m in r["manual"])) for r in records}


def failing(cells):
    return sorted(gid for gid, passed in cells.items() if not passed)


@pytest.mark.parametrize("assignment", PROBLEM_SETS)
def test_problem_set_through_nbgrader_and_the_sandbox(assignment, tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_GRADING_QUICK", "1")
    root = tmp_path / "course"
    release = generate(root, [assignment])

    # 1. the committed release is exactly what nbgrader generates from solutions/
    assert differences(release / assignment, ASSIGNMENTS / assignment) == []

    # 2. the same notebooks to both graders, graded at the same time
    specs = wrong_specs(assignment)
    notebooks = {"solution": nbformat.read(SOLUTIONS / assignment / f"{assignment}.ipynb", 4),
                 "untouched": nbformat.read(release / assignment / f"{assignment}.ipynb", 4)}
    notebooks.update({name.replace("_", "-"): patched_solution(spec) for name, spec in specs.items()})
    sandboxed = tmp_path / "sandboxed"
    sandboxed.mkdir()
    for student, nb in notebooks.items():
        submit(root, assignment, student, nb)
        nbformat.write(nb, sandboxed / f"{student}.ipynb")
    source = load_source(SOLUTIONS / assignment / f"{assignment}.ipynb")
    with ThreadPoolExecutor(1) as background:  # nbgrader runs one kernel at a time: overlap it
        in_kernel = background.submit(nbgrader, ["autograde", assignment, "--force"], root, check=False,
                                      timeout=3000)
        summary = cli.grade(assignment, sandboxed, source, home=tmp_path / "home", workers=2,
                            sandbox=bubblewrap_works(), echo=lambda *a: None)
        run = in_kernel.result()
    assert run.returncode == 0, run.stderr[-3000:]
    kernel, sandbox = nbgrader_cells(root, assignment), sandbox_cells(summary["records"])
    tests = [c.grade_id for c in source.cells if c.kind == "test"]
    manual = sorted(c.grade_id for c in source.manual_cells)
    assert manual, "each problem set has a written answer graded by hand"

    for student in notebooks:
        for path, cells in (("nbgrader", kernel), ("sandbox", sandbox)):
            assert sorted(cells[student][0]) == sorted(tests), (path, student)
            if student != "untouched":  # nbgrader gives an unanswered written answer 0 by itself
                assert cells[student][1] == manual, (path, student, "the written answer waits for a grader")
        assert failing(kernel[student][0]) == failing(sandbox[student][0]), (
            student, "nbgrader and the sandbox disagree", failing(kernel[student][0]), failing(sandbox[student][0]))
    assert failing(sandbox["solution"][0]) == []
    assert failing(sandbox["untouched"][0]) == sorted(tests)
    for name, spec in specs.items():
        assert spec["expected_failing"], f"{name} must fail something: no wrong submission scores full marks"
        assert failing(sandbox[name.replace("_", "-")][0]) == spec["expected_failing"], name
    rows = {r["student"]: r for r in summary["records"]}
    assert rows["solution"]["score"] == source.max_score == 100

    # 3. feedback: never a hidden test; for the untouched release, no solution either
    run = nbgrader(["generate_feedback", assignment, "--force"], root, check=False, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    feedback = root / "feedback"
    assert find_leaks(feedback / "untouched", secret_lines()) == []
    for student_dir in feedback.iterdir():
        leaks = find_leaks(student_dir, hidden_test_lines())
        # a submitted solution shows its own answers and solution markers; nothing hidden
        leaks = [leak for leak in leaks if "secret line" in leak or any(m in leak for m in HIDDEN_MARKERS)]
        assert leaks == [], student_dir.name
    assert (feedback / "untouched" / assignment / f"{assignment}.html").exists()
