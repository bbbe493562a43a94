"""Who handed in what, and when: LMS bulk-download file names and hand-in timestamps.

Canvas ("Download Submissions") names every file ``lastfirst_USERID_SUBMISSIONID_name.ipynb``,
with ``LATE_`` before the user id when Canvas saw it late (``lastfirst_LATE_12345_67890_ps1.ipynb``)
and ``-1``, ``-2`` added to repeated file names. Moodle ("Download all submissions") puts each
student's files in a folder ``Full Name_PARTICIPANT_assignsubmission_file_`` (or, flattened,
``Full Name_PARTICIPANT_assignsubmission_file_ps1.ipynb``). The ids map to course ids through the
roster (roster.py). Timestamps: nbgrader's exchange writes ``timestamp.txt`` next to each
collected notebook; an LMS archive stores the hand-in time as the entry's time (read as UTC).
"""
import re
from dataclasses import dataclass
from datetime import UTC, datetime

CANVAS = re.compile(r"^(?P<name>[A-Za-z0-9-]+?)_(?:(?P<late>LATE)_)?(?P<id>\d+)_(?P<sub>\d+)_(?P<file>.+)$")
MOODLE = re.compile(r"^(?P<name>.+?)_(?P<id>\d+)_assignsubmission_[a-z]+_(?P<file>.*)$")
PATTERNS = {"canvas": CANVAS, "moodle": MOODLE}
EXPECTED = {"canvas": "lastfirst_USERID_SUBMISSIONID_file.ipynb (Canvas bulk download)",
            "moodle": "Full Name_PARTICIPANT_assignsubmission_file_/file.ipynb (Moodle download all)"}
TIMESTAMP_FILE = "timestamp.txt"
SECRET_FILE = "submission_secret.txt"  # the exchange's proof of who submitted (release_feedback)


@dataclass(frozen=True)
class LmsName:
    lms: str
    name: str       # "lastfirst" or "Full Name"
    lms_id: str     # Canvas user id or Moodle participant id
    late: bool = False


def parse_lms_name(text, lms) -> LmsName | None:
    match = PATTERNS[lms].match(text)
    if not match:
        return None
    return LmsName(lms, match["name"], match["id"], bool(match.groupdict().get("late")))


def detect_lms(top_names):
    """The LMS whose pattern every top-level name follows, or None (then: plain names)."""
    names = [n for n in top_names if n not in (TIMESTAMP_FILE, SECRET_FILE)]
    for lms, pattern in PATTERNS.items():
        if names and all(pattern.match(n) for n in names):
            return lms
    return None


def unparseable(text, lms):
    return (f"file name {text[:80]!r} does not follow the {EXPECTED[lms]} pattern: "
            "rename it or grade it from a folder named by student id")


def zip_time(date_time) -> str:
    """An archive entry's (y, m, d, H, M, S) as ISO 8601 UTC."""
    return datetime(*date_time, tzinfo=UTC).isoformat()


def exchange_time(data: bytes) -> str | None:
    """nbgrader's timestamp.txt ("2026-10-12 21:59:00.123456 UTC") as ISO 8601, or None."""
    from .deadlines import DeadlineError, parse_time
    try:
        return parse_time(data.decode("utf-8", "replace").strip()).isoformat()
    except DeadlineError:
        return None
