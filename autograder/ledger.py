"""A resumable, idempotent record of grading results: one JSON file per student.

A record is keyed by the student and remembers the sha256 of the notebook it graded and of the
instructor source it graded against; a submission whose record matches both is not graded again,
so an interrupted run resumes where it stopped. Records are written atomically (temp + rename)
by the one process that drives the grading, so a crash never leaves half a record.
"""
import csv
import json
import os
import tempfile
from pathlib import Path

from .source import ROOT

FORMAT = 1


def grading_dir(ps, base=None):
    return Path(base or os.environ.get("AUTOGRADER_HOME") or ROOT / "build" / "grading") / ps


class Ledger:
    def __init__(self, folder):
        self.folder = Path(folder) / "results"
        self.folder.mkdir(parents=True, exist_ok=True)

    def path(self, student):
        return self.folder / f"{student}.json"

    def get(self, student):
        try:
            return json.loads(self.path(student).read_text())
        except (OSError, ValueError):
            return None

    def is_done(self, student, sub_sha, source_sha):
        record = self.get(student)
        return bool(record and record.get("submission_sha256") == sub_sha
                    and record.get("source_sha256") == source_sha and record.get("format") == FORMAT)

    def write(self, record):
        record = dict(record, format=FORMAT)
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-", suffix=".json")
        with os.fdopen(fd, "w") as handle:
            json.dump(record, handle, indent=1, sort_keys=True)
        os.replace(tmp, self.path(record["student"]))

    def records(self):
        out = []
        for path in sorted(self.folder.glob("*.json")):
            try:
                out.append(json.loads(path.read_text()))
            except ValueError:
                continue
        return out


def csv_rows(records):
    """Deterministic rows: same submissions -> same rows (no timings, sorted by student)."""
    ids = []
    for record in records:
        for cell in record.get("cells", []):
            if cell["grade_id"] not in ids:
                ids.append(cell["grade_id"])
    header = ["student", "problem_set", "status", "score", "max_score", "reason", *ids]
    rows = []
    for record in sorted(records, key=lambda r: r["student"]):
        points = {c["grade_id"]: c["points"] for c in record.get("cells", [])}
        reason = record.get("reason") or record.get("runner_stopped") or ""
        rows.append([record["student"], record.get("problem_set", ""), record["status"],
                     _num(record.get("score", 0)), _num(record.get("max_score", 0)), reason,
                     *[_num(points.get(i, 0)) for i in ids]])
    return header, rows


def _num(value):
    value = float(value or 0)
    return str(int(value)) if value.is_integer() else f"{value:g}"


def export_csv(records, path):
    header, rows = csv_rows(records)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path
