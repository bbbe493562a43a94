"""Due dates, per-student extensions and the late penalty.

* The due date of a problem set is read from ONE place: the instructor notebook's metadata
  ``{"course": {"due": "2026-10-12T23:59:00+02:00"}}`` (ISO 8601; no zone means UTC).
  The student notebook header shows the same value (the release copies the metadata).
* Extensions: ``extensions.csv`` in the grading folder, edited by the instructor::

      student,problem_set,hours
      alice,ps1,48

  They are also written into nbgrader's gradebook (``SubmittedAssignment.extension``), so
  formgrader and ``nbgrader export`` see the same due date.
* The penalty is nbgrader's ``LateSubmissionPlugin`` interface: ``PercentPerDay`` takes a share of
  the auto score per started day late (nbgrader_config.py selects it for plain ``nbgrader
  autograde`` too, so both paths give the same penalty).
"""
import csv
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

from nbgrader.plugins import LateSubmissionPlugin
from traitlets import Float

EXTENSIONS_FILE = "extensions.csv"


class DeadlineError(ValueError):
    """A due date or an extensions file that cannot be read; the message says what to fix."""


def parse_time(text, where="timestamp") -> datetime:
    """An aware UTC datetime from ISO 8601 (or nbgrader's timestamp.txt format)."""
    value = str(text).strip()
    try:
        moment = datetime.fromisoformat(value.replace(" UTC", "+00:00").replace("Z", "+00:00"))
    except ValueError:
        raise DeadlineError(f"{where}: {value[:60]!r} is not an ISO 8601 date and time, "
                            "e.g. 2026-10-12T23:59:00+02:00") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def due_date(source) -> datetime | None:
    """The problem set's due date from its instructor notebook, or None when it states none."""
    if not getattr(source, "due", None):
        return None
    return parse_time(source.due, f"{source.name}: notebook metadata course.due")


def load_extensions(folder, ps=None) -> dict:
    """{(student, problem_set): timedelta} from ``folder``/extensions.csv (missing file: none)."""
    path = Path(folder) / EXTENSIONS_FILE
    if not path.exists():
        return {}
    out = {}
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"student", "problem_set", "hours"} - set(reader.fieldnames or [])
        if missing:
            raise DeadlineError(f"{path}: needs the columns student,problem_set,hours "
                                f"(missing: {', '.join(sorted(missing))})")
        for line, row in enumerate(reader, 2):
            key = ((row["student"] or "").strip(), (row["problem_set"] or "").strip())
            try:
                hours = float(row["hours"])
            except (TypeError, ValueError):
                hours = -1
            if not all(key) or hours < 0:
                raise DeadlineError(f"{path}, line {line}: needs a student, a problem set and "
                                    f"hours >= 0, got {dict(row)}")
            if key in out:
                raise DeadlineError(f"{path}, line {line}: a second extension for {key[0]} on {key[1]}")
            out[key] = timedelta(hours=hours)
    return {k: v for k, v in out.items() if ps in (None, k[1])}


class PercentPerDay(LateSubmissionPlugin):
    """Late penalty: ``percent_per_day`` of the score for each started day late, at most all of it."""

    percent_per_day = Float(10.0, help="share of the score taken per started day late").tag(config=True)

    def late_submission_penalty(self, student_id, score, total_seconds_late):
        if not total_seconds_late or total_seconds_late <= 0:
            return None
        days = math.ceil(total_seconds_late / 86400)
        return round(min(score, score * self.percent_per_day / 100 * days), 4)


def lateness(timestamp, due, extension=None):
    """(the student's due date, seconds late) for a hand-in time; 0 when on time or unknown."""
    if due is None:
        return None, 0.0
    own_due = due + (extension or timedelta(0))
    if timestamp is None:
        return own_due, 0.0
    return own_due, max(0.0, (timestamp - own_due).total_seconds())


def describe_late(seconds):
    minutes = int(seconds // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    return " ".join(f"{n} {u}" for n, u in ((days, "d"), (hours, "h"), (minutes, "min")) if n) or "under a minute"
