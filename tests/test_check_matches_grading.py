"""`course check` tells a student the truth about the visible tests: run on every wrong submission
of the corpus (ps1, ps2), as a student would run it on their own copy of the release.

Grading runs the instructor's cells: the same visible tests plus the hidden ones. So a test cell
that fails in `course check` must fail in grading too (test_nbgrader_autograde.py checks that
each spec's ``expected_failing`` is exactly what grading fails), the solution passes every
visible test, and the untouched release fails every visible test that runs something. ps3 and
ps4 train models in their visible tests and are left to test_problem_sets.py, to keep the suite
inside its time budget.
"""
import contextlib
import io
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import nbformat
import pytest
from test_nbgrader_autograde import patched_solution, wrong_specs

from autograder.check import check, runs_nothing
from autograder.release import ASSIGNMENTS, SOLUTIONS

pytestmark = pytest.mark.xdist_group("check_matches_grading")
CHECKED = ["ps1", "ps2"]


def student_copy(release: Path, answers_from, dest: Path) -> Path:
    """The release as a student fills it in: the answer cells of ``answers_from`` typed in."""
    answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in answers_from.cells
               if c.metadata.get("nbgrader", {}).get("solution")}
    nb = nbformat.read(release, as_version=4)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and meta.get("grade_id") in answers:
            cell.source = answers[meta["grade_id"]]
    nbformat.write(nb, dest)
    return dest


def visible_verdicts(job):
    ps, path = job
    with contextlib.redirect_stdout(io.StringIO()):
        result = check(ps, Path(path), echo=lambda *a: None)
    return {c["grade_id"]: bool(c["passed"]) for c in result["cells"]}, result["changed_test_cells"]


@pytest.mark.parametrize("ps", CHECKED)
def test_course_check_agrees_with_grading(ps, tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_GRADING_QUICK", "1")
    release = ASSIGNMENTS / ps / f"{ps}.ipynb"
    specs = wrong_specs(ps)
    jobs = {"solution": student_copy(release, nbformat.read(SOLUTIONS / ps / f"{ps}.ipynb", 4),
                                     tmp_path / "solution.ipynb"),
            "untouched": release}
    for name, spec in specs.items():
        jobs[name] = student_copy(release, patched_solution(spec), tmp_path / f"{name}.ipynb")
    with ProcessPoolExecutor(2, mp_context=get_context("spawn")) as pool:
        verdicts = dict(zip(jobs, pool.map(visible_verdicts, [(ps, str(p)) for p in jobs.values()])))

    released = nbformat.read(release, as_version=4)
    visible = sorted(c.metadata["nbgrader"]["grade_id"] for c in released.cells
                     if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"
                     and not c.metadata["nbgrader"].get("solution") and not runs_nothing(c.source))
    for name, (cells, changed) in verdicts.items():
        assert changed == [], (name, "a student copy keeps the release's test cells")
        assert sorted(cells) == visible, name
    assert all(verdicts["solution"][0].values()), verdicts["solution"]
    assert not any(verdicts["untouched"][0].values()), verdicts["untouched"]
    for name, spec in specs.items():
        failing_here = {gid for gid, passed in verdicts[name][0].items() if not passed}
        assert failing_here <= set(spec["expected_failing"]), (
            name, "fails in course check but passes in grading", failing_here - set(spec["expected_failing"]))


def test_an_edited_test_cell_is_reported(tmp_path):
    nb = nbformat.read(ASSIGNMENTS / "ps1" / "ps1.ipynb", as_version=4)
    test_cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")
                     and c.cell_type == "code" and not runs_nothing(c.source))
    test_cell.source = "pass  # my own test now"
    path = tmp_path / "ps1.ipynb"
    nbformat.write(nb, path)
    _, changed = visible_verdicts(("ps1", str(path)))
    assert changed == [test_cell.metadata["nbgrader"]["grade_id"]]


def test_an_unreadable_notebook_gets_the_graders_reason(tmp_path):
    from autograder.submissions import InvalidNotebook
    path = tmp_path / "ps1.ipynb"
    path.write_text("{not json")
    with pytest.raises(InvalidNotebook, match="malformed JSON.*restore it"):
        check("ps1", path, echo=lambda *a: None)
