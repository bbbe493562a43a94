"""A semester on the sandboxed grader: nbgrader's gradebook, deadlines, LMS files, solutions.

One grading run (module fixture) of an nbgrader course folder: a fixture problem set with a due
date and a written answer graded by hand; students handed in through the exchange layout
(``submitted/STUDENT/ps1/`` with ``timestamp.txt``), one on time, one late without an extension,
one late with one, one broken file. Then the real ``nbgrader export`` and ``generate_feedback``
run on that folder, and the LMS exports, intake of LMS downloads, bad input and limits are checked.
"""
import csv
import inspect
import json
import shutil
import sqlite3
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder import cli, exports, gradebook, limits, markers, pipeline, release, source
from autograder.deadlines import DeadlineError, PercentPerDay, load_extensions
from autograder.ledger import Ledger, grading_dir
from autograder.records import GradeRow
from autograder.roster import RosterError, load_roster
from autograder.sandbox import bubblewrap_works
from autograder.solutions import TooEarly
from autograder.solutions import build as build_solutions
from autograder.submissions import collect

HERE = Path(__file__).resolve().parent
FIXTURE = HERE / "fixtures" / "ps1" / "ps1.ipynb"
CORRECT = HERE / "corpus" / "ps1" / "correct.ipynb"
DUE = "2026-01-10T12:00:00+00:00"
HANDED_IN = {"ontime": "2026-01-10 11:00:00.000000 UTC", "late": "2026-01-11 14:00:00.000000 UTC",
             "extended": "2026-01-11 14:00:00.000000 UTC", "broken": "2026-01-10 10:00:00.000000 UTC"}
WRITTEN = "The loss falls fast, then flattens: the learning rate is too small at the end."
pytestmark = pytest.mark.skipif(not bubblewrap_works(), reason="needs bubblewrap (apt-get install -y bubblewrap)")


def instructor_notebook(folder, due=DUE):
    """The fixture with a due date and a written answer cell graded by hand (2 points)."""
    nb = nbformat.read(FIXTURE, as_version=4)
    nb.metadata["course"] = {"due": due}
    cell = nbformat.v4.new_markdown_cell("The loss curve flattens because the step size is too small.")
    cell.metadata["nbgrader"] = {"grade": True, "solution": True, "grade_id": "explain_curve", "points": 2,
                                 "locked": False, "schema_version": 3}
    nb.cells.append(cell)
    path = Path(folder) / "ps1.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def hand_in(folder, student, data, stamp):
    target = Path(folder) / student / "ps1"
    target.mkdir(parents=True)
    (target / "ps1.ipynb").write_bytes(data)
    (target / "timestamp.txt").write_text(stamp)
    (target / "submission_secret.txt").write_text(f"secret-of-{student}")


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    home = tmp_path_factory.mktemp("course")
    src = source.load_source(instructor_notebook(home / "source" / "ps1"))
    answer = json.loads(CORRECT.read_text())
    written = nbformat.v4.new_markdown_cell(WRITTEN)
    written.metadata["nbgrader"] = {"grade": True, "solution": True, "grade_id": "explain_curve", "points": 2}
    answer["cells"].append(json.loads(json.dumps(written)))
    good = json.dumps(answer).encode()
    for student in ("ontime", "late", "extended"):
        hand_in(home / "submitted", student, good, HANDED_IN[student])
    hand_in(home / "submitted", "broken", b"{ not json", HANDED_IN["broken"])
    (home / "extensions.csv").write_text("student,problem_set,hours\nextended,ps1,48\n")
    lines = []
    summary = pipeline.grade("ps1", home / "submitted", src, home=home, workers=0,
                             limits=limits.TEST_LIMITS, echo=lines.append)
    return {"home": home, "source": src, "summary": summary, "lines": lines}


def rows_by_student(course):
    return {r.student: r for r in Ledger(grading_dir("ps1", course["home"])).records()}


def test_pipeline_lists_its_steps_in_order():
    steps = ["intake", "sanitize", "run", "score", "record", "export"]
    doc = [line.split()[0] for line in pipeline.__doc__.splitlines()[2:8]]
    assert doc == steps
    body = inspect.getsource(pipeline.grade)
    calls = [body.index(f"{s}(job") for s in steps]
    assert calls == sorted(calls) and len(body.splitlines()) <= 16
    assert "pipeline" in Path(cli.__file__).read_text() and "def intake" not in Path(cli.__file__).read_text()


def test_late_penalty_extension_and_manual_cell_in_the_rows(course):
    rows = rows_by_student(course)
    assert course["summary"]["submitted"] == 4 == course["summary"]["graded"] + course["summary"]["failed"]
    assert rows["ontime"].score == 10 and rows["ontime"].late_penalty == 0
    # 26 hours late, no extension: two started days at 10 % each
    assert rows["late"].seconds_late == 26 * 3600
    assert rows["late"].late_penalty == pytest.approx(2.0) and rows["late"].score == pytest.approx(8.0)
    assert rows["extended"].late_penalty == 0 and rows["extended"].due.startswith("2026-01-12T12:00")
    assert rows["broken"].status == "failed" and "malformed JSON" in rows["broken"].reason
    assert [m.grade_id for m in rows["ontime"].manual] == ["explain_curve"]
    late_lines = [line for line in course["lines"] if line.startswith("LATE")]
    assert late_lines == ["LATE late: handed in 1 d 2 h after 2026-01-10T12:00:00+00:00 (no extension): "
                          "late penalty 2 of 10"]


def test_gradebook_mirrors_the_ledger(course):
    home = course["home"]
    assert gradebook.disagreements(home, "ps1", Ledger(grading_dir("ps1", home)).records()) == []
    with gradebook.open_gradebook(home) as gb:
        assert sorted(s.id for s in gb.students) == ["broken", "extended", "late", "ontime"]
        assert gb.find_assignment("ps1").duedate.isoformat() == "2026-01-10T12:00:00"
        sub = gb.find_submission("ps1", "extended")
        assert sub.extension.total_seconds() == 48 * 3600 and sub.total_seconds_late == 0
        manual = gb.find_grade("explain_curve", "ps1", "ps1", "ontime")
        assert manual.auto_score is None and manual.needs_manual_grade and manual.max_score == 2
        assert gb.find_grade("test_block", "ps1", "ps1", "ontime").auto_score == 3
        assert gb.find_submission_notebook("ps1", "ps1", "late").late_submission_penalty == pytest.approx(2)
    autograded = nbformat.read(home / "autograded" / "ontime" / "ps1" / "ps1.ipynb", as_version=4)
    assert any(c.source == WRITTEN for c in autograded.cells)
    # nbgrader's release_feedback finds the feedback by the exchange's secret, as after autograde
    assert (home / "autograded" / "ontime" / "ps1" / "submission_secret.txt").read_text() == "secret-of-ontime"


def test_nbgrader_export_and_generate_feedback_work_on_sandbox_grades(course):
    home = course["home"]
    run = release.nbgrader(["export", "--to", str(home / "nbgrader.csv")], home, check=False, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    exported = {r["student_id"]: r for r in csv.DictReader((home / "nbgrader.csv").open())}
    assert float(exported["late"]["late_submission_penalty"]) == 2.0
    assert float(exported["late"]["score"]) == 8.0 and float(exported["ontime"]["max_score"]) == 12.0
    run = release.nbgrader(["generate_feedback", "ps1", "--force"], home, check=False, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    hidden = markers.secret_lines((c.source for c in course["source"].cells), markers.HIDDEN_ONLY)
    feedback = home / "feedback"
    assert sorted(p.name for p in feedback.iterdir()) == ["broken", "extended", "late", "ontime"]
    for student in feedback.iterdir():
        leaks = [leak for leak in release.find_leaks(student, hidden) if "SOLUTION" not in leak]
        assert leaks == [], student.name


def _grade_table(home):
    with gradebook.open_gradebook(home) as gb:
        return sorted((s.student.id, g.name, g.auto_score, g.manual_score, g.needs_manual_grade)
                      for s in gb.find_assignment("ps1").submissions for nb in s.notebooks for g in nb.grades)


def test_regrading_gives_the_same_rows_and_keeps_manual_grades(course, tmp_path):
    home = tmp_path / "again"
    shutil.copytree(course["home"], home)
    with gradebook.open_gradebook(home) as gb:  # a grader scores the written answer in formgrader
        grade = gb.find_grade("explain_curve", "ps1", "ps1", "ontime")
        grade.manual_score, grade.needs_manual_grade = 1.5, False
        gb.db.commit()
    before = _grade_table(home)
    again = pipeline.grade("ps1", home / "submitted", course["source"], home=home, workers=0, force=True,
                           limits=limits.TEST_LIMITS, echo=lambda *a: None)
    assert again["graded_now"] == 4
    assert _grade_table(home) == before
    assert gradebook.read_grades(home, "ps1")["ontime"]["score"] == 11.5


def test_locked_or_corrupt_gradebook_says_so_and_loses_nothing(course, tmp_path):
    home = tmp_path / "locked"
    shutil.copytree(course["home"], home)
    ledger_before = sorted(p.read_text() for p in (grading_dir("ps1", home) / "results").glob("*.json"))
    lock = sqlite3.connect(home / "gradebook.db", timeout=0)
    lock.execute("BEGIN EXCLUSIVE")
    try:
        summary = pipeline.grade("ps1", home / "submitted", course["source"], home=home, workers=0,
                                 limits=limits.TEST_LIMITS, echo=lambda *a: None)
    finally:
        lock.rollback()
        lock.close()
    assert summary["graded_now"] == 0 and "locked" in summary["gradebook_error"]
    assert "Nothing is lost" in summary["gradebook_error"]
    assert sorted(p.read_text() for p in (grading_dir("ps1", home) / "results").glob("*.json")) == ledger_before
    (home / "gradebook.db").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(gradebook.GradebookError, match="not a readable SQLite database"):
        gradebook.write_rows(home, "ps1", course["source"], [])
    assert (home / "gradebook.db").read_bytes() == b"this is not sqlite" * 100


ROSTER = """student,name,email,canvas_id,sis_user_id,sis_login_id,section,moodle_id
ontime,"Time, On",on@uni.example,12345,S1,ontime,A,501
late,"Late, Lou",lou@uni.example,23456,S2,late,A,502
extended,"Ext, Ed",ed@uni.example,,S3,extended,B,
nobody,"Body, No",no@uni.example,45678,S4,nobody,B,504
"""


def test_canvas_and_moodle_exports_list_who_did_not_match(course, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER)
    args = ["--home", str(course["home"]), "--source", course["source"].path, "--roster", str(roster)]
    assert cli.main(["export", "ps1", "--format", "canvas", "-o", str(tmp_path / "canvas.csv"), *args]) == 1
    rows = list(csv.reader((tmp_path / "canvas.csv").open()))
    assert rows[0] == exports.CANVAS_HEADER + ["ps1"]
    assert rows[1] == ["    Points Possible", "", "", "", "", "12"]
    assert rows[2:] == [["Time, On", "12345", "S1", "ontime", "A", "10"], ["Late, Lou", "23456", "S2", "late", "A", "8"],
                        ["Body, No", "45678", "S4", "nobody", "B", ""]]
    unmatched = list(csv.DictReader((tmp_path / "ps1-unmatched.csv").open()))
    assert [r["student"] for r in unmatched] == ["broken", "extended"]  # listed, never dropped
    assert cli.main(["export", "ps1", "--format", "moodle", "-o", str(tmp_path / "moodle.csv"), *args]) == 1
    rows = list(csv.DictReader((tmp_path / "moodle.csv").open()))
    assert list(rows[0]) == exports.MOODLE_HEADER
    assert [(r["Identifier"], r["Grade"], r["Status"]) for r in rows] == [
        ("Participant 501", "10", "Submitted for grading"), ("Participant 502", "8", "Submitted for grading"),
        ("Participant 504", "", "No submission")]


@pytest.mark.parametrize("text, message", [
    ("student,canvas_id\nann,1\nann,2\n", "line 3: student 'ann' already on line 2"),
    ("student,canvas_id\nann,1\n,2\n", "line 3: no student id"),
    ("student,canvas_id\nann,1\nbob,1\n", "line 3: canvas_id '1' already on line 2"),
    ("name\nann\n", "needs a 'student' column")])
def test_roster_with_duplicate_or_missing_ids_is_refused(tmp_path, text, message):
    (tmp_path / "r.csv").write_text(text)
    with pytest.raises(RosterError, match=message):
        load_roster(tmp_path / "r.csv")


def test_lms_downloads_name_the_students(tmp_path):
    (tmp_path / "roster.csv").write_text(ROSTER)
    roster = load_roster(tmp_path / "roster.csv")
    canvas = tmp_path / "canvas.zip"
    with zipfile.ZipFile(canvas, "w") as archive:
        for name, when in (("timeon_12345_67890_ps1.ipynb", (2026, 1, 10, 9, 0, 0)),
                           ("latelou_LATE_23456_78901_ps1-1.ipynb", (2026, 1, 11, 9, 0, 0)),
                           ("strangerx_99999_11111_ps1.ipynb", (2026, 1, 10, 9, 0, 0)),
                           ("homework final.ipynb", (2026, 1, 10, 9, 0, 0))):
            archive.writestr(zipfile.ZipInfo(name, when), CORRECT.read_bytes())
    subs = {s.student: s for s in collect(canvas, "ps1", lms="canvas", roster=roster)}
    assert sorted(subs) == ["homework_final.ipynb", "late", "ontime", "strangerx"]
    assert subs["ontime"].lms_id == "12345" and subs["ontime"].timestamp == "2026-01-10T09:00:00+00:00"
    assert "Canvas marked this submission LATE" in subs["late"].notes
    assert "not in the roster" in subs["strangerx"].notes[0]
    assert "does not follow the lastfirst_USERID_SUBMISSIONID" in subs["homework_final.ipynb"].error
    moodle = tmp_path / "moodle.zip"
    with zipfile.ZipFile(moodle, "w") as archive:
        archive.writestr("On Time_501_assignsubmission_file_/ps1.ipynb", CORRECT.read_bytes())
        archive.writestr("Lou Late_502_assignsubmission_file_ps1.ipynb", CORRECT.read_bytes())
    subs = {s.student: s for s in collect(moodle, "ps1", roster=roster)}  # detected from the names
    assert {k: s.lms_id for k, s in subs.items()} == {"ontime": "501", "late": "502"}
    assert all(not s.error for s in subs.values())


def test_limits_are_validated_in_one_place(tmp_path):
    src = source.load_source(FIXTURE)
    src.limits = {"cell_sec": 240}
    with pytest.raises(limits.LimitsError, match="unknown limit 'cell_sec'; the known keys are wall_s, cell_s"):
        limits.resolve(src)
    src.limits = {"cell_s": -1}
    with pytest.raises(limits.LimitsError, match="must be a positive number"):
        limits.resolve(src)
    src.limits = {"cell_s": 90}
    assert limits.resolve(src, {"wall_s": 500}).cell_s == 90 and limits.resolve(src, {"wall_s": 500}).wall_s == 500
    assert cli.main(["grade", "ps1", str(tmp_path), "--source", str(_bad_limits(tmp_path)),
                     "--home", str(tmp_path)]) == 2


def _bad_limits(folder):
    nb = nbformat.read(FIXTURE, as_version=4)
    nb.metadata["course_limits"] = {"cell_sec": 240}
    nbformat.write(nb, folder / "bad.ipynb")
    return folder / "bad.ipynb"


@pytest.mark.parametrize("ps", release.problem_sets())
def test_release_and_source_agree_on_the_secret_lines(ps):
    from_release = release.secret_lines(names=[ps])
    from_source = source.secret_lines(source.load_source(source.source_path(ps)))
    assert from_release == from_source and from_source


def test_solutions_refuse_before_the_due_date(tmp_path):
    future = source.load_source(instructor_notebook(tmp_path / "future", due="2999-01-01T00:00:00Z"))
    with pytest.raises(TooEarly, match="Pass --force"):
        build_solutions(future, tmp_path / "out")
    past = source.load_source(instructor_notebook(tmp_path / "past"))
    path = build_solutions(past, tmp_path / "out")
    text = path.read_text()
    hidden = markers.secret_lines((c.source for c in past.cells), markers.HIDDEN_ONLY)
    assert hidden and not [line for line in hidden if line in text]
    assert not [m for m in markers.MARKERS if m in text]
    assert "return (n + 2 * p - f) // s + 1" in text or "return (n + 2 * p" in text  # the solution is shown


def test_grade_refuses_without_bubblewrap_unless_told(tmp_path, monkeypatch, capsys):
    from autograder import sandbox
    monkeypatch.setattr(sandbox, "bubblewrap_works", lambda: False)
    with pytest.raises(pipeline.SandboxUnavailable, match="--no-sandbox"):
        pipeline.grade("ps1", tmp_path, source.load_source(FIXTURE), home=tmp_path, echo=lambda *a: None)
    assert cli.main(["grade", "ps1", str(tmp_path), "--source", str(FIXTURE), "--home", str(tmp_path)]) == 2
    assert "Refusing to run student code" in capsys.readouterr().err


def test_integrity_flags_reach_the_row_and_the_export():
    src = source.load_source(FIXTURE)
    result = {"student": "eve", "problem_set": "ps1", "status": "graded", "score": 10, "max_score": 10,
              "cells": [{"grade_id": "test_block", "points": 3, "max_points": 3, "passed": True}],
              "integrity": ["tests-tampered", "solution-copied"]}
    row = GradeRow.from_result(result, src)
    header, rows = exports.csv_rows([row])
    assert rows[0][header.index("integrity")] == "tests-tampered;solution-copied"
    assert GradeRow.from_dict(row.to_dict()) == row


def test_extensions_file_and_penalty_plugin(tmp_path):
    (tmp_path / "extensions.csv").write_text("student,problem_set,hours\nann,ps1,x\n")
    with pytest.raises(DeadlineError, match="line 2"):
        load_extensions(tmp_path)
    plugin = PercentPerDay()
    assert plugin.late_submission_penalty("a", 10, 0) is None
    assert plugin.late_submission_penalty("a", 10, 1) == 1 and plugin.late_submission_penalty("a", 10, 86400 * 30) == 10
    config = (Path(release.AUTOGRADER) / "nbgrader_config.py").read_text()
    assert f'course_id = "{gradebook.COURSE_ID}"' in config and "autograder.deadlines.PercentPerDay" in config


@pytest.mark.parametrize("ps", release.problem_sets())
def test_each_problem_set_has_a_due_date_and_a_cell_graded_by_hand(ps):
    from autograder.deadlines import due_date
    src = source.load_source(source.source_path(ps))
    assert due_date(src) is not None
    row = GradeRow.from_result({"student": "s", "problem_set": ps, "status": "failed"}, src)
    assert row.manual and all(m.max_points > 0 for m in row.manual)  # recorded as needing manual grading
