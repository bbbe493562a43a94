"""The problem sets through the real nbgrader: generate, autograde, feedback.

One test per problem set (independent, pytest-xdist friendly), each in its own scratch course:
the release is generated with ``nbgrader generate_assignment`` and must equal the committed
assignments/psN; then ONE ``nbgrader autograde`` run grades, side by side,
* the instructor's solution (must score 100),
* the untouched release (must score 0 without crashing the run),
* every wrong submission of tests/wrong_submissions/ for that set (the partial score and the
  failing test cells its spec expects);
and the generated feedback must show no hidden test (and, for the untouched release, no solution).
"""
import json
from pathlib import Path

import nbformat
import pytest

from autograder.release import (ASSIGNMENTS, MARKERS, SOLUTIONS, differences, find_leaks, generate,
                                hidden_test_lines, nbgrader, secret_lines)

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


def cell_scores(root: Path, assignment: str) -> dict:
    """{student: {grade_id: (score, max_score)}} from the scratch gradebook."""
    from nbgrader.api import Gradebook
    out = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for student in gb.students:
            sub = gb.find_submission_notebook(assignment, assignment, student.id)
            out[student.id] = {g.name: (g.score, g.max_score) for g in sub.grades}
    return out


@pytest.mark.parametrize("assignment", PROBLEM_SETS)
def test_problem_set_through_nbgrader(assignment, tmp_path):
    root = tmp_path / "course"
    release = generate(root, [assignment])

    # 1. the committed release is exactly what nbgrader generates from solutions/
    assert differences(release / assignment, ASSIGNMENTS / assignment) == []

    # 2. one autograde run over the solution, the untouched release and the wrong submissions
    submit(root, assignment, "solution", nbformat.read(SOLUTIONS / assignment / f"{assignment}.ipynb", 4))
    submit(root, assignment, "untouched", nbformat.read(release / assignment / f"{assignment}.ipynb", 4))
    specs = wrong_specs(assignment)
    for name, spec in specs.items():
        submit(root, assignment, name.replace("_", "-"), patched_solution(spec))
    run = nbgrader(["autograde", assignment, "--force"], root, check=False, timeout=3000)
    assert run.returncode == 0, run.stderr[-3000:]
    scores = cell_scores(root, assignment)

    def total(student):
        return sum(score for score, _ in scores[student].values())

    def failing(student):
        return sorted(cell for cell, (score, top) in scores[student].items() if score < top)

    assert sum(top for _, top in scores["solution"].values()) == 100
    assert failing("solution") == [], scores["solution"]
    assert total("solution") == 100
    assert total("untouched") == 0, scores["untouched"]
    for name, spec in specs.items():
        student = name.replace("_", "-")
        assert (total(student), failing(student)) == (spec["expected_score"], spec["expected_failing"]), name

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
