"""Exports: grades.csv (from the ledger rows) and the Canvas / Moodle gradebook import files.

The LMS files take each student's total from nbgrader's gradebook (auto score, minus the late
penalty, plus what graders gave in formgrader), so a manual grade reaches the LMS. Students are
matched to LMS ids through the roster; a graded student not in the roster is listed in
``PS-unmatched.csv`` and on screen, never dropped, and a roster student without a submission
gets an empty grade (the LMS leaves it unchanged).

Layouts, as each LMS imports them:
* Canvas gradebook CSV: ``Student,ID,SIS User ID,SIS Login ID,Section,<assignment>``, then a
  ``Points Possible`` row, then one row per student (``ID`` is the Canvas user id).
* Moodle assignment grading worksheet: ``Identifier,Full name,Email address,Status,Grade,
  Maximum Grade,Grade can be changed,Last modified (submission),Last modified (grade),
  Feedback comments``, with ``Identifier`` = ``Participant <id>`` (Upload grading worksheet).
"""
import csv
from pathlib import Path

from .records import GradeRow

CANVAS_HEADER = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
MOODLE_HEADER = ["Identifier", "Full name", "Email address", "Status", "Grade", "Maximum Grade",
                 "Grade can be changed", "Last modified (submission)", "Last modified (grade)",
                 "Feedback comments"]


def csv_rows(records):
    """Deterministic rows: same submissions -> same rows (no timings, sorted by student)."""
    rows_in = sorted(map(GradeRow.from_dict, records), key=lambda r: r.student)
    ids = []
    for row in rows_in:
        ids += [c.grade_id for c in row.cells if c.grade_id not in ids]
    header = ["student", "problem_set", "status", "score", "max_score", "reason", "integrity",
              "late_penalty", "manual_pending", *ids]
    rows = []
    for row in rows_in:
        points = {c.grade_id: c.points for c in row.cells}
        rows.append([row.student, row.problem_set, row.status, _num(row.score), _num(row.max_score),
                     row.reason or row.runner_stopped or "", ";".join(row.integrity),
                     _num(row.late_penalty), " ".join(c.grade_id for c in row.manual),
                     *[_num(points.get(i, 0)) for i in ids]])
    return header, rows


def _num(value):
    value = float(value or 0)
    return str(int(value)) if value.is_integer() else f"{value:g}"


def _write(path, header, rows):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def export_csv(records, path):
    return _write(path, *csv_rows(records))


def lms_rows(lms, ps, totals, roster, max_score):
    """(header, rows, unmatched students) for ``lms`` from gradebook totals {student: entry}."""
    matched = [m for m in roster.members if (m.canvas_id if lms == "canvas" else m.moodle_id)]
    known = {m.student for m in matched}
    unmatched = sorted(set(totals) - known)
    if lms == "canvas":
        header = CANVAS_HEADER + [ps]
        rows = [["    Points Possible", "", "", "", "", _num(max_score)]]
        rows += [[m.name or m.student, m.canvas_id, m.sis_user_id, m.sis_login_id, m.section,
                  _num(totals[m.student]["score"]) if m.student in totals else ""] for m in matched]
    else:
        header = MOODLE_HEADER
        rows = [[f"Participant {m.moodle_id}", m.name or m.student, m.email,
                 "Submitted for grading" if m.student in totals else "No submission",
                 _num(totals[m.student]["score"]) if m.student in totals else "", _num(max_score),
                 "Yes", "", "", ""] for m in matched]
    return header, rows, unmatched


def export_lms(lms, ps, totals, roster, max_score, path):
    """Write the LMS file and, if any, PS-unmatched.csv; returns (path, unmatched students)."""
    header, rows, unmatched = lms_rows(lms, ps, totals, roster, max_score)
    path = _write(path, header, rows)
    missing = path.with_name(f"{ps}-unmatched.csv")
    if unmatched:
        _write(missing, ["student", "score", "why"],
               [[s, _num(totals[s]["score"]), f"no {lms} id in the roster"] for s in unmatched])
    elif missing.exists():
        missing.unlink()
    return path, unmatched
