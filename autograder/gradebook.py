"""The sandboxed grader's results in nbgrader's own gradebook (``nbgrader.api.Gradebook``).

The course folder is the grading home (``build/grading`` by default): ``gradebook.db``,
``autograded/STUDENT/PS/PS.ipynb`` and ``feedback/`` are where nbgrader's config
(nbgrader_config.py) looks, so formgrader, ``nbgrader export`` (and its plugins),
``nbgrader generate_feedback`` / ``release_feedback`` and late penalties work on sandbox-graded
submissions. What is written, per submission, is what ``nbgrader autograde`` writes:

* the assignment (with its due date), its notebook, grade / solution / source cells, mirrored
  from the instructor notebook the way ``generate_assignment`` does it;
* the student, the submission (timestamp, extension), a grade per test cell with ``auto_score``,
  the late penalty on the notebook; manual cells keep ``auto_score`` None and
  ``needs_manual_grade`` True, and a manual score a grader already gave is never touched;
* the autograded notebook: the instructor's cells with the student's answers, each test cell
  with its verdict as output (a hidden test's failure says only the exception type).

The ledger (ledger.py) is written first and is the record of what was graded; this module
mirrors it, and ``disagreements`` lists any difference (a test asserts there is none).
"""
import json
import os
import sqlite3
import sys
import warnings
from datetime import timedelta
from pathlib import Path

import nbformat
from nbgrader import utils as nbutils
from nbgrader.api import Gradebook, MissingEntry
from sqlalchemy.exc import DatabaseError, OperationalError, SAWarning

from .records import GradeRow

COURSE_ID = "cnn-course"  # c.CourseDirectory.course_id in nbgrader_config.py (a test checks)
DB_NAME = "gradebook.db"


class GradebookError(RuntimeError):
    """The gradebook cannot be written (locked, corrupt); the ledger still holds every result."""


def db_path(course):
    return Path(course) / DB_NAME


def _alembic_on_path():
    """nbgrader runs `alembic` by name when it creates a gradebook: use this environment's."""
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = os.pathsep.join([bin_dir, os.environ.get("PATH", "")])


def open_gradebook(course):
    _alembic_on_path()
    path = db_path(course)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and path.stat().st_size:
        _check_readable(path)
    try:
        return Gradebook(f"sqlite:///{path}", course_id=COURSE_ID)
    except (OperationalError, DatabaseError) as exc:
        raise _explain(exc, path) from None


def _check_readable(path):
    """Refuse a file that is not a SQLite database before SQLAlchemy touches it."""
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as conn:
            conn.execute("select count(*) from sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        raise _explain(exc, path) from None


def _explain(exc, path):
    text = str(exc)
    if "locked" in text or "busy" in text:
        return GradebookError(
            f"gradebook {path} is locked by another program (formgrader, nbgrader, another grade "
            "run). Nothing is lost: every result is in the ledger. Close that program and run the "
            "same grade command again; it writes the gradebook without grading anything twice.")
    return GradebookError(
        f"gradebook {path} is not a readable SQLite database ({text[:120]}). It was not modified. "
        "Move it aside (e.g. to gradebook.db.broken) and run the same grade command again: the "
        "gradebook is rebuilt from the ledger; manual grades in the broken file must be re-entered.")


def mirror_assignment(gb, ps, source, due=None):
    """Assignment, notebook and cells from the instructor notebook (as generate_assignment does)."""
    gb.update_or_create_assignment(ps, **({"duedate": due.isoformat()} if due else {}))
    notebook = Path(source.path).stem or source.name
    gb.update_or_create_notebook(notebook, ps)
    nb = nbformat.read(source.path, as_version=4)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        name = meta.get("grade_id")
        if not name:
            continue
        if nbutils.is_grade(cell):
            gb.update_or_create_grade_cell(name, notebook, ps, max_score=float(meta.get("points") or 0),
                                           cell_type=cell.cell_type)
        if nbutils.is_solution(cell):
            gb.update_or_create_solution_cell(name, notebook, ps)
        if nbutils.is_grade(cell) or nbutils.is_solution(cell) or nbutils.is_locked(cell):
            gb.update_or_create_source_cell(name, notebook, ps, cell_type=cell.cell_type,
                                            locked=nbutils.is_locked(cell), source=cell.source,
                                            checksum=nbutils.compute_checksum(cell))
    return notebook


def write_rows(course, ps, source, rows, extensions=None, due=None, members=None):
    """Write every row into the gradebook, in one transaction per row; raises GradebookError."""
    try:
        with warnings.catch_warnings(), open_gradebook(course) as gb:
            # nbgrader's add_submission builds rows before adding them: SQLAlchemy warns, harmlessly
            warnings.simplefilter("ignore", SAWarning)
            notebook = mirror_assignment(gb, ps, source, due)
            for row in map(GradeRow.from_dict, rows):
                _write_row(gb, ps, notebook, row, (extensions or {}).get((row.student, ps)),
                           (members or {}).get(row.student))
    except (OperationalError, DatabaseError) as exc:
        raise _explain(exc, db_path(course)) from None


def _write_row(gb, ps, notebook, row, extension, member):
    details = {"lms_user_id": member.canvas_id or member.moodle_id, "email": member.email or None} \
        if member else {}
    gb.update_or_create_student(row.student, **{k: v for k, v in details.items() if v})
    submission = gb.update_or_create_submission(ps, row.student, **(
        {"timestamp": row.timestamp} if row.timestamp else {}))
    submission.extension = extension if extension else None
    scores = {c.grade_id: c.points for c in row.cells}
    manual = {c.grade_id for c in row.manual}
    for grade in gb.find_submission_notebook(notebook, ps, row.student).grades:
        if grade.name in manual or grade.cell.cell_type == "markdown":
            grade.auto_score = None
            grade.needs_manual_grade = grade.manual_score is None
        else:
            grade.auto_score = float(scores.get(grade.name, 0.0))  # a failed row scores 0 everywhere
            grade.needs_manual_grade = grade.manual_score is not None
    sub_nb = gb.find_submission_notebook(notebook, ps, row.student)
    sub_nb.late_submission_penalty = row.late_penalty or None
    gb.db.commit()


def write_autograded(course, ps, source, row, data: bytes, secret: bytes = b""):
    """autograded/STUDENT/PS/NB.ipynb: what formgrader shows and generate_feedback converts."""
    nb = nbformat.read(source.path, as_version=4)
    answers = _submitted_sources(data)
    verdicts = {c.grade_id: c for c in GradeRow.from_dict(row).cells}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        name = meta.get("grade_id")
        if meta.get("solution"):
            cell.source = answers.get(name, "")
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = _outputs(verdicts.get(name), row), None
    folder = Path(course) / "autograded" / row.student / ps
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{Path(source.path).stem or source.name}.ipynb"
    nbformat.write(nb, path)
    if row.timestamp:  # nbgrader keeps the hand-in time next to the notebook
        (folder / "timestamp.txt").write_text(row.timestamp.replace("T", " ").split("+")[0] + " UTC")
    if secret:  # release_feedback puts feedback where only the submitter's secret finds it
        (folder / "submission_secret.txt").write_bytes(secret)
    return path


def _submitted_sources(data: bytes):
    """grade_id -> source text of the submission's cells (untrusted text, never run here)."""
    try:
        nb = json.loads(data)
        cells = nb.get("cells", []) if isinstance(nb, dict) else []
    except (ValueError, RecursionError):
        return {}
    out = {}
    for cell in cells:
        if not isinstance(cell, dict) or not isinstance(cell.get("metadata"), dict):
            continue
        meta = cell["metadata"].get("nbgrader")
        name = meta.get("grade_id") if isinstance(meta, dict) else None
        text = cell.get("source")
        text = "".join(text) if isinstance(text, list) and all(isinstance(t, str) for t in text) else text
        if isinstance(name, str) and isinstance(text, str) and name not in out:
            out[name] = text
    return out


def _outputs(verdict, row):
    if verdict is None:
        return []
    if verdict.passed:
        return [nbformat.v4.new_output("stream", name="stdout", text=f"passed: {verdict.points:g} points\n")]
    reason = verdict.reason.split(":", 1)[0] if verdict.hidden else verdict.reason
    if verdict.hidden:
        reason = f"a hidden test failed ({reason or 'an error'})"
    return [nbformat.v4.new_output("error", ename="TestFailed", evalue=reason[:500], traceback=[reason[:500]])]


def read_grades(course, ps):
    """{student: {"auto": {cell: auto_score}, "penalty": p, "score": total, "max_score": m,
    "needs_manual": bool}} as nbgrader sees them (manual scores included, late penalty taken)."""
    out = {}
    with open_gradebook(course) as gb:
        try:
            assignment = gb.find_assignment(ps)
        except MissingEntry:
            return {}
        for sub in assignment.submissions:
            grades = [g for nb in sub.notebooks for g in nb.grades]
            penalty = sum(nb.late_submission_penalty or 0 for nb in sub.notebooks)
            out[sub.student.id] = {  # score as `nbgrader export` computes it: raw minus penalty
                "auto": {g.name: g.auto_score for g in grades if g.auto_score is not None},
                "penalty": penalty, "score": round(sub.score - penalty, 4), "max_score": sub.max_score,
                "needs_manual": bool(sub.needs_manual_grade),
                "extension": sub.extension or timedelta(0)}
    return out


def disagreements(course, ps, rows):
    """Differences between the ledger rows and the gradebook (empty when they agree)."""
    book = read_grades(course, ps)
    out = []
    for row in map(GradeRow.from_dict, rows):
        entry = book.get(row.student)
        if entry is None:
            out.append(f"{row.student}: in the ledger, not in the gradebook")
            continue
        auto = {c.grade_id: c.points for c in row.cells}
        for name, score in entry["auto"].items():
            if abs(score - auto.get(name, 0.0)) > 1e-9:
                out.append(f"{row.student} {name}: ledger {auto.get(name, 0.0)}, gradebook {score}")
        if abs(entry["penalty"] - row.late_penalty) > 1e-9:
            out.append(f"{row.student}: late penalty ledger {row.late_penalty}, gradebook {entry['penalty']}")
    students = {GradeRow.from_dict(r).student for r in rows}
    return out + [f"{s}: in the gradebook, not in the ledger" for s in sorted(set(book) - students)]
