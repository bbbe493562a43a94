"""Fast checks of the problem sets, the release, the bundle and course.grading (no nbgrader run).

The real nbgrader round trip (generate, autograde, feedback) is in test_nbgrader_autograde.py.
"""
import ast
import shutil

import nbformat
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from test_nbgrader_autograde import PROBLEM_SETS, patched_solution, wrong_specs

from autograder import bundle, markers, release
from course import grading

ALLOWED_IMPORTS = {"torch", "numpy", "math", "time", "copy", "functools", "os", "course.grading"}


def solution(ps):
    return nbformat.read(release.SOLUTIONS / ps / f"{ps}.ipynb", as_version=4)


def meta(cell):
    return cell.metadata.get("nbgrader", {})


def graded_cells(nb):
    return [c for c in nb.cells if meta(c).get("grade") and not meta(c).get("solution")]


# ----------------------------------------------------------------- the instructor notebooks
@pytest.mark.parametrize("ps", PROBLEM_SETS)
def test_solution_notebook_is_well_formed(ps):
    nb = solution(ps)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "outputs stored"
    ids = [meta(c).get("grade_id") for c in nb.cells if meta(c)]
    assert len(ids) == len(set(ids))
    tests = graded_cells(nb)
    assert sum(meta(c)["points"] for c in tests) == 100
    hidden = [c for c in tests if "### BEGIN HIDDEN TESTS" in c.source]
    assert sum(meta(c)["points"] for c in hidden) >= 30, "too little is hidden"
    answers = [meta(c)["grade_id"] for c in nb.cells if meta(c).get("solution")]
    assert len(answers) >= 5


@pytest.mark.parametrize("ps", PROBLEM_SETS)
def test_test_cells_follow_the_protocol(ps):
    """One job per cell, points in metadata, trusted imports only, never a bare number last."""
    for cell in graded_cells(solution(ps)):
        gid, src = meta(cell)["grade_id"], cell.source
        assert meta(cell)["points"] > 0 and meta(cell)["locked"]
        # visible and hidden checks live in separate cells, so each earns its own points
        assert gid.startswith("hidden_") == ("### BEGIN HIDDEN TESTS" in src), gid
        tree = ast.parse(src)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                names = {node.module}
            else:
                continue
            assert names <= ALLOWED_IMPORTS | {"torch.nn", "torch.nn.functional"}, (gid, names)
        last = tree.body[-1]
        assert not (isinstance(last, ast.Expr) and isinstance(last.value, ast.Constant)
                    and isinstance(last.value.value, (int, float))), gid


def test_every_graded_function_has_visible_and_hidden_tests():
    for ps in PROBLEM_SETS:
        nb = solution(ps)
        gids = {meta(c)["grade_id"] for c in graded_cells(nb)}
        for cell in nb.cells:
            if (not meta(cell).get("solution") or cell.cell_type != "code"
                    or meta(cell)["grade_id"] in {"train_lenet", "use_gradient_check"}):
                continue
            stem = meta(cell)["grade_id"].lower()
            stem = {"resnetblock": "block", "residualblock": "block", "smallresnet": "small_resnet"}.get(stem, stem)
            assert any(g.startswith("test_") and stem in g for g in gids), (ps, stem)
            assert any(g.startswith("hidden_") and stem in g for g in gids), (ps, stem)


# ----------------------------------------------------------------- the release
def test_release_has_no_secret_and_no_marker():
    leaks = release.find_leaks(release.ASSIGNMENTS, release.secret_lines())
    assert leaks == []
    assert sorted(p.name for p in release.ASSIGNMENTS.glob("ps*")) == PROBLEM_SETS


@pytest.mark.parametrize("ps", PROBLEM_SETS)
def test_release_keeps_visible_tests_and_stubs_answers(ps):
    student = nbformat.read(release.ASSIGNMENTS / ps / f"{ps}.ipynb", as_version=4)
    by_id = {meta(c).get("grade_id"): c for c in student.cells}
    for cell in solution(ps).cells:
        m = meta(cell)
        if m.get("solution") and cell.cell_type == "markdown":  # a written answer: graded by hand
            assert m.get("grade") and m["points"] > 0 and "YOUR ANSWER HERE" in by_id[m["grade_id"]].source
        elif m.get("solution"):
            assert "raise NotImplementedError()" in by_id[m["grade_id"]].source
        elif m.get("grade"):
            assert by_id[m["grade_id"]].source.strip() == markers.visible_test(cell.source).strip()


def test_leak_check_catches_a_solution_line(tmp_path, monkeypatch):
    tampered = tmp_path / "release"
    shutil.copytree(release.ASSIGNMENTS, tampered)
    path = tampered / "ps1" / "ps1.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[-1].source += "\nreturn (n + 2 * p - span) // s + 1"
    nbformat.write(nb, path)
    assert any("secret line" in leak for leak in release.find_leaks(tampered, release.secret_lines()))
    monkeypatch.setattr(release, "generate", lambda work, names=None: tampered)
    with pytest.raises(release.LeakError):
        release.build_checked(tmp_path / "work")
    (tampered / "ps2" / "notes.md").write_text("### BEGIN HIDDEN TESTS\n")
    assert any("marker" in leak for leak in release.find_leaks(tampered, set()))


def test_secret_lines_cover_solutions_and_hidden_tests():
    secrets, hidden = release.secret_lines(), release.hidden_test_lines()
    assert "return (n + 2 * p - span) // s + 1" in secrets
    assert "dx.scatter_add_(2, indices.reshape(n, c, -1), dout.reshape(n, c, -1))" in secrets
    assert hidden <= secrets and len(hidden) > 40
    assert "import torch" not in secrets  # public in visible tests too


# ----------------------------------------------------------------- the student bundle
def test_student_bundle_is_clean(tmp_path):
    bundle.copy_tree(tmp_path)
    assert bundle.problems(tmp_path) == []
    assert {"course", "lectures", "assignments", "pyproject.toml", "Makefile"} <= {p.name for p in tmp_path.iterdir()}
    for never in ("solutions", "tests", "build", "autograder/tests", "autograder/release.py"):
        assert not (tmp_path / never).exists()
    # a copied solution in lecture code, or a hidden test in a release, is refused
    (tmp_path / "course" / "copied.py").write_text(
        "xp = pad2d(x, padding, padding_mode)\noh = output_size(h, kh, padding, stride, dilation)\n"
        "ow = output_size(wd, kw, padding, stride, dilation)\n")
    assert any("copied.py" in p for p in bundle.problems(tmp_path))
    (tmp_path / "solutions").mkdir()
    assert any("solutions/" in p for p in bundle.problems(tmp_path))


# ----------------------------------------------------------------- the wrong-submission corpus
def test_wrong_submission_specs_are_consistent():
    specs = wrong_specs()
    assert len(specs) >= 10 and {s["assignment"] for s in specs.values()} == set(PROBLEM_SETS)
    for name, spec in specs.items():
        points = {meta(c)["grade_id"]: meta(c)["points"] for c in graded_cells(solution(spec["assignment"]))}
        assert spec["expected_failing"] and set(spec["expected_failing"]) <= set(points), name
        assert spec["expected_failing"] == sorted(set(spec["expected_failing"])), name
        assert spec["mistake"] and spec["patches"], name
        patched_solution(spec)  # every patch applies exactly once
    per_set = {ps: sum(s["assignment"] == ps for s in specs.values()) for ps in PROBLEM_SETS}
    assert len(specs) >= 60 and min(per_set.values()) >= 12, per_set


# ----------------------------------------------------------------- course.grading
def test_messages_say_what_is_wrong():
    x = torch.zeros(2, 3, 4, 4)
    with pytest.raises(grading.GradingError, match=r"shape \(2, 3, 4, 4\) but expected \(2, 3, 5, 5\)"):
        grading.check_tensor(x, torch.zeros(2, 3, 5, 5), "out")
    with pytest.raises(grading.GradingError, match="dtype torch.float32 but expected torch.float64"):
        grading.check_tensor(x, torch.zeros(2, 3, 4, 4, dtype=torch.float64), "out")
    with pytest.raises(grading.GradingError, match=r"1 of 96 values are wrong; first at index \(0, 1, 2, 3\)"):
        grading.check_tensor(x.index_put((torch.tensor(0), torch.tensor(1), torch.tensor(2), torch.tensor(3)),
                                         torch.tensor(1.0)), x, "out")
    with pytest.raises(grading.GradingError, match="forget a return"):
        grading.check_tensor(None, x, "out")
    with pytest.raises(grading.GradingError, match="expected an int"):
        grading.check_value(2.0, 2, "size")
    with pytest.raises(grading.GradingError, match="got 4, expected 3"):
        grading.check_value(4, 3, "size")
    grading.check_value((2, 3), (2, 3))


def test_padding_diagnosis_names_the_mode():
    a = torch.tensor([[1, 4, 2, 3], [6, 1, 1, 7], [1, 2, 1, 4], [1, 5, 1, 2]])
    refs = grading._reference_pads(a, 2)
    # seed 002's tables: its "symmetric" keeps the edge pixel, its first rows are these
    assert refs["symmetric"][0].tolist() == [1, 6, 6, 1, 1, 7, 7, 1]
    assert refs["circular"][0].tolist() == [1, 4, 1, 2, 1, 4, 1, 2]
    assert refs["replicate"][3].tolist() == [6, 6, 6, 1, 1, 7, 7, 7]
    symmetric = torch.from_numpy(refs["symmetric"]).long()
    with pytest.raises(grading.GradingError, match="this is symmetric padding, not reflect"):
        grading.check_padding(symmetric, a, 2, "reflect")
    grading.check_padding(F.pad(a[None, None].float(), (2,) * 4, mode="reflect")[0, 0].long(), a, 2, "reflect")


@pytest.mark.parametrize("call", [
    lambda x, w: F.conv2d(x, w),
    lambda x, w: nn.functional.conv2d(x, w),
    lambda x, w: torch.conv2d(x, w),
    lambda x, w: nn.Conv2d(2, 3, 3)(x),
    lambda x, w: F.unfold(x, 3),
    lambda x, w: nn.Unfold(3)(x),
    lambda x, w: x.unfold(2, 3, 1),
])
def test_forbidden_calls_are_detected(call):
    x, w = torch.randn(1, 2, 5, 5), torch.randn(3, 2, 3, 3)
    _, seen = grading.forbidden_ops(call, x, w)
    assert seen
    with pytest.raises(grading.GradingError, match="No points"):
        grading.assert_no_forbidden(call, x, w)


def test_allowed_operations_are_not_flagged():
    x = torch.randn(1, 2, 5, 5)

    def by_hand(x):
        xp = F.pad(x, (1, 1, 1, 1), mode="reflect")
        rows = torch.arange(3)[:, None] + torch.arange(5)[None, :]
        return (xp[:, :, rows[:, None, :, None], rows[None, :, None, :]] * 2).sum()

    out, seen = grading.forbidden_ops(by_hand, x)
    assert seen == [] and out.shape == ()


def test_gradient_helpers():
    x = torch.randn(3, 4, dtype=torch.float64)
    num = grading.numerical_grad(lambda t: (t ** 2).sum(), x)
    grading.check_grad(num, 2 * x)
    with pytest.raises(grading.GradingError, match="times it"):
        grading.check_grad(4 * x, 2 * x)
