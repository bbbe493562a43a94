"""A resumable, idempotent record of grading results: one JSON file per student.

A record (records.GradeRow) is keyed by the student and remembers the sha256 of the notebook it
graded and of the instructor source it graded against; a submission whose record matches both is
not graded again, so an interrupted run resumes where it stopped. Records are written atomically
(temp + rename) by the one process that drives the grading, so a crash never leaves half a record.
The nbgrader gradebook (gradebook.py) is written from these same rows; a test checks they agree.
"""
import json
import os
import tempfile
from pathlib import Path

from .exports import csv_rows, export_csv  # noqa: F401 (older callers import them from here)
from .records import FORMAT, GradeRow
from .source import ROOT


def grading_dir(ps, base=None):
    return Path(base or os.environ.get("AUTOGRADER_HOME") or ROOT / "build" / "grading") / ps


class Ledger:
    def __init__(self, folder):
        self.folder = Path(folder) / "results"
        self.folder.mkdir(parents=True, exist_ok=True)

    def path(self, student):
        return self.folder / f"{student}.json"

    def get(self, student) -> GradeRow | None:
        try:
            return GradeRow.from_dict(json.loads(self.path(student).read_text()))
        except (OSError, ValueError, TypeError):
            return None

    def is_done(self, student, sub_sha, source_sha):
        row = self.get(student)
        return bool(row and row.submission_sha256 == sub_sha and row.source_sha256 == source_sha
                    and row.format == FORMAT)

    def write(self, row):
        row = GradeRow.from_dict(row)
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-", suffix=".json")
        with os.fdopen(fd, "w") as handle:
            json.dump(row.to_dict(), handle, indent=1, sort_keys=True)
        os.replace(tmp, self.path(row.student))

    def records(self) -> list[GradeRow]:
        out = []
        for path in sorted(self.folder.glob("*.json")):
            try:
                out.append(GradeRow.from_dict(json.loads(path.read_text())))
            except (ValueError, TypeError):
                continue
        return out
