"""Typed records of grading: one cell's result and one student's grade row.

Written and read only here (``GradeRow.to_dict`` / ``GradeRow.from_dict``); the ledger stores
them as JSON, the gradebook writer and the exports read their fields, and pool workers send the
checker's plain dict, which ``GradeRow.from_result`` turns into a row.
"""
from dataclasses import asdict, dataclass, field, fields

FORMAT = 2  # bump when a field changes meaning: a ledger row of another format is graded again


@dataclass
class CellResult:
    grade_id: str
    points: float = 0.0
    max_points: float = 0.0
    passed: bool = False
    reason: str = ""
    hidden: bool = False        # the failing line is in the hidden block (feedback says only the type)
    runner: bool = False        # failed because the runner stopped, not because of this test

    @classmethod
    def from_dict(cls, data):
        return cls(**{k: v for k, v in data.items() if k in _names(cls)})


@dataclass
class ManualCell:
    """A cell graded by hand in formgrader: recorded here as waiting for a grader."""
    grade_id: str
    max_points: float = 0.0

    @classmethod
    def from_dict(cls, data):
        return cls(**{k: v for k, v in data.items() if k in _names(cls)})


@dataclass
class GradeRow:
    student: str
    problem_set: str = ""
    status: str = "graded"      # "graded" or "failed" (with a reason)
    score: float = 0.0          # auto score after the late penalty
    max_score: float = 0.0      # auto-graded maximum (manual cells are not in it)
    reason: str = ""
    cells: list = field(default_factory=list)          # CellResult, instructor order
    manual: list = field(default_factory=list)         # ManualCell: needs manual grading
    notes: list = field(default_factory=list)
    integrity: list = field(default_factory=list)      # flags from the checker: a flag, not a zero
    runner_stopped: str | None = None
    sandbox: str = "none"
    origin: str = ""
    submission_sha256: str = ""
    source_sha256: str = ""
    timestamp: str | None = None    # when it was handed in (ISO 8601, UTC), if known
    due: str | None = None          # the student's due date, extension included
    seconds_late: float = 0.0
    late_penalty: float = 0.0
    lms_id: str = ""                # the LMS's id of the student (Canvas user id, Moodle participant)
    seconds: float = 0.0
    output_head: str = ""
    format: int = FORMAT

    @property
    def auto_score(self):
        """The score before the late penalty."""
        return round(sum(c.points for c in self.cells), 4)

    def to_dict(self):
        return asdict(self)

    @classmethod
    def from_dict(cls, data):
        if isinstance(data, GradeRow):
            return data
        row = cls(**{k: v for k, v in data.items() if k in _names(cls)})
        row.cells = [CellResult.from_dict(c) if isinstance(c, dict) else c for c in row.cells]
        row.manual = [ManualCell.from_dict(c) if isinstance(c, dict) else c for c in row.manual]
        row.integrity = [str(f) for f in (row.integrity or [])]
        row.notes = [str(n) for n in (row.notes or [])]
        return row

    @classmethod
    def from_result(cls, result: dict, source):
        """A row from the dict a pool worker returns (checker result plus the task's identity)."""
        row = cls.from_dict(result)
        row.manual = [ManualCell(c.grade_id, c.points) for c in source.manual_cells]
        row.format = FORMAT
        return row


def _names(cls):
    return {f.name for f in fields(cls)}
