"""The course's real problem sets through the sandboxed grader.

For every solutions/psN/psN.ipynb: the solutions earn full marks through the proxies (so the
test cells follow PROTOCOL.md), the untouched stubs earn 0, stubs that patch every test helper
and comparison still earn 0, and the feedback never quotes a hidden test or a solution line.
"""
import json
from pathlib import Path

import pytest
from test_corpus import _secret_lines

from autograder import cli
from autograder.feedback import write_feedback
from autograder.limits import Limits
from autograder.sandbox import bubblewrap_works
from autograder.source import ROOT, load_source, released_answer, strip_markers

PROBLEM_SETS = sorted(p for p in (ROOT / "solutions").glob("ps*/ps*.ipynb") if p.stem == p.parent.name)

PATCH_EVERYTHING = """
import builtins, numpy, torch
import course.grading as g
for name in dir(g):
    if name.startswith(("check", "assert")):
        setattr(g, name, lambda *a, **k: None)
g.forbidden_ops = lambda fn, *a, **k: (None, [])
torch.allclose = numpy.allclose = lambda *a, **k: True
torch.testing.assert_close = lambda *a, **k: None
builtins.AssertionError = type("NotAnAssertion", (Exception,), {})
"""


def submission(path, make_answer):
    nb = json.loads(Path(path).read_text())
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution") and cell["cell_type"] == "code":
            cell["source"] = make_answer("".join(cell["source"]))
    return json.dumps(nb)


@pytest.mark.parametrize("path", PROBLEM_SETS, ids=[p.stem for p in PROBLEM_SETS])
def test_problem_set_limits_come_from_its_metadata(path):
    source = load_source(path)
    limits = cli.source_limits(source)
    assert source.limits, "each problem set states the limits its training cells need"
    for key, value in source.limits.items():
        assert getattr(limits, key) == value
    assert limits.memory_mb == Limits().memory_mb  # what it does not state keeps the default


@pytest.mark.skipif(not PROBLEM_SETS, reason="no problem sets in solutions/ yet")
@pytest.mark.skipif(not bubblewrap_works(), reason="needs bubblewrap")
@pytest.mark.parametrize("path", PROBLEM_SETS, ids=[p.stem for p in PROBLEM_SETS])
def test_problem_set_through_the_sandbox(path, tmp_path):
    source = load_source(path)
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "solved.ipynb").write_text(submission(path, strip_markers))
    (folder / "stubs.ipynb").write_text(submission(path, released_answer))
    (folder / "patcher.ipynb").write_text(submission(path, lambda s: PATCH_EVERYTHING + released_answer(s)))
    # the problem set's own limits (metadata "course_limits"), as `autograder grade` uses them
    summary = cli.grade(path.stem, folder, source, home=tmp_path, workers=2, echo=lambda *a: None)
    scores = {r["student"]: r for r in summary["records"]}
    solved = scores["solved"]
    assert solved["score"] == source.max_score > 0, [c for c in solved["cells"] if not c["passed"]]
    assert scores["stubs"]["score"] == 0
    assert scores["patcher"]["score"] == 0, [c for c in scores["patcher"]["cells"] if c["passed"]]
    secrets = _secret_lines(path)
    for md in write_feedback(summary["records"], source, tmp_path / "feedback"):
        text = md.read_text()
        assert not [s for s in secrets if s in text], md.name
