"""The class roster: course student ids and their LMS ids, one CSV the instructor keeps.

    student,name,email,canvas_id,sis_user_id,sis_login_id,section,moodle_id
    alice,"Liddell, Alice",alice@uni.example,12345,A001,aliddell,Section 1,501

``student`` (the course id: nbgrader's student id) is required and unique; ``canvas_id`` is the
Canvas user id (the number in a bulk-download file name and the ``ID`` column of its gradebook),
``moodle_id`` the Moodle participant id (``Participant 501`` in its grading worksheet). Other
columns are optional. A duplicate or missing id is an error that names the lines.
"""
import csv
from dataclasses import dataclass, fields
from pathlib import Path


class RosterError(ValueError):
    pass


@dataclass(frozen=True)
class Member:
    student: str
    name: str = ""
    email: str = ""
    canvas_id: str = ""
    sis_user_id: str = ""
    sis_login_id: str = ""
    section: str = ""
    moodle_id: str = ""


COLUMNS = [f.name for f in fields(Member)]


class Roster:
    def __init__(self, members):
        self.members = list(members)
        self.by_student = {m.student: m for m in self.members}
        self.by_lms = {"canvas": {m.canvas_id: m for m in self.members if m.canvas_id},
                       "moodle": {m.moodle_id: m for m in self.members if m.moodle_id}}

    def lookup(self, lms, lms_id):
        return self.by_lms.get(lms, {}).get(str(lms_id))


def load_roster(path) -> Roster:
    path = Path(path)
    try:
        handle = open(path, newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise RosterError(f"roster {path}: {exc.strerror}") from None
    with handle:
        reader = csv.DictReader(handle)
        if "student" not in (reader.fieldnames or []):
            raise RosterError(f"roster {path}: needs a 'student' column (the course id); "
                              f"columns it may have: {', '.join(COLUMNS)}")
        rows = [(line, {k: (row.get(k) or "").strip() for k in COLUMNS}) for line, row in enumerate(reader, 2)]
    problems = [f"line {line}: no student id" for line, row in rows if not row["student"]]
    for column in ("student", "canvas_id", "moodle_id"):
        seen = {}
        for line, row in rows:
            value = row[column]
            if value and value in seen:
                problems.append(f"line {line}: {column} {value!r} already on line {seen[value]}")
            seen.setdefault(value, line)
    if problems:
        raise RosterError(f"roster {path}: fix these lines, nothing was exported or graded:\n  "
                          + "\n  ".join(problems))
    return Roster(Member(**row) for _, row in rows)
