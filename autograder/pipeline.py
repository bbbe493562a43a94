"""The grading pipeline, step by step (in the spirit of nbgrader's preprocessor lists).

    intake    who handed in what, and when: folder, zip, nbgrader exchange, Canvas / Moodle download
    sanitize  a file that is not a valid notebook becomes a failed row with its reason, here
    run       each new submission in the sandbox, its tests in the trusted checker (pool.py)
    score     a typed row per submission: auto score, late penalty, manual cells, integrity flags
    record    the ledger first (resume, idempotency), then nbgrader's gradebook and autograded/
    export    grades.csv (LMS files: ``python -m autograder export --format canvas|moodle``)

``grade`` below runs them in that order; cli.py only parses arguments and calls it.
"""
import time
from dataclasses import dataclass, field

from . import deadlines, exports, gradebook
from .ledger import Ledger, grading_dir
from .limits import Limits, resolve
from .records import GradeRow
from .submissions import InvalidNotebook, collect, parse_notebook


def grade(ps, path, source, home=None, workers=None, scheduler=None, sandbox=True, force=False,
          limits=None, echo=print, lms=None, roster=None):
    """Grade every submission under ``path``; returns the summary dict (also used by tests)."""
    job = Job(ps, source, limits or resolve(source), sandbox, grading_dir(ps, home), echo,
              workers, scheduler, force, lms, roster)
    job.check_sandbox()
    started = time.monotonic()
    subs = intake(job, path)
    sanitize(job, subs)
    results = run(job, subs)                                  # streamed: each row is recorded
    rows = (score(job, result, subs) for result in results)  # as soon as it is graded, so an
    rows = record(job, rows, subs)                           # interrupted run resumes
    export(job)
    return job.summary(subs, rows, time.monotonic() - started)


class SandboxUnavailable(RuntimeError):
    """Student code would run without bubblewrap and the caller did not say --no-sandbox."""


@dataclass
class Job:
    """What one grading run needs, resolved once (limits, due date, extensions, folders)."""
    ps: str
    source: object
    limits: Limits
    sandbox: bool
    folder: object               # grading_dir(ps, home): the ledger and grades.csv
    echo: object = print
    workers: int | None = None
    scheduler: object = None
    force: bool = False
    lms: str | None = None
    roster: object = None
    graded_now: int = 0
    gradebook_error: str = ""
    late: dict = field(default_factory=dict)

    def __post_init__(self):
        self.course = self.folder.parent       # the nbgrader course folder: gradebook.db, autograded/
        self.ledger = Ledger(self.folder)
        self.due = deadlines.due_date(self.source)
        self.extensions = deadlines.load_extensions(self.course, self.ps)

    def check_sandbox(self):
        from .sandbox import NO_SANDBOX_WARNING, bubblewrap_works
        if self.sandbox and not bubblewrap_works():
            raise SandboxUnavailable(NO_SANDBOX_WARNING + " Refusing to run student code without it; "
                                     "pass --no-sandbox (sandbox=False) to grade anyway.")
        if not self.sandbox:
            self.echo("WARNING: --no-sandbox: no bubblewrap; student code runs with rlimits only, "
                      "no filesystem or network isolation")
        from .cgroups import available
        capped, how = available()
        if not capped:
            self.echo("NOTE: " + how)

    def summary(self, subs, rows, seconds):
        by_student = {r.student: r for r in rows}
        mine = [by_student.get(s.student) for s in subs]
        graded = sum(1 for r in mine if r and r.status == "graded")
        failed = sum(1 for r in mine if r and r.status == "failed")
        self.echo(f"submitted {len(subs)} = graded {graded} + failed {failed}"
                  + ("" if graded + failed == len(subs) else "  <-- MISSING RESULTS"))
        return {"submitted": len(subs), "graded": graded, "failed": failed,
                "graded_now": self.graded_now, "seconds": round(seconds, 2),
                "records": [r.to_dict() if r else None for r in mine], "rows": mine,
                "gradebook_error": self.gradebook_error}


def intake(job, path):
    """1. Every submission under ``path``, one per student, with its hand-in time if known."""
    return collect(path, job.ps, job.lms, job.roster)


def sanitize(job, subs):
    """2. A file that is not an nbformat-4 notebook fails here, with the reason, before any run."""
    for sub in subs:
        if not sub.error:
            try:
                parse_notebook(sub.data)
            except InvalidNotebook as exc:
                sub.error = str(exc)


def run(job, subs):
    """3. Grade what the ledger does not hold yet; yield every submission's result (dicts)."""
    from .pool import make_task
    from .pool import run as run_tasks
    done = {s.student: job.ledger.get(s.student) for s in subs
            if not job.force and job.ledger.is_done(s.student, s.sha256, job.source.sha256)}
    todo = [s for s in subs if s.student not in done]
    job.echo(f"{len(subs)} submissions, {len(done)} already graded, {len(todo)} to grade")
    yield from (row.to_dict() for row in done.values())
    tasks = [make_task(s, job.ps, job.source, job.limits, job.sandbox) for s in todo]
    for result in run_tasks(tasks, workers=job.workers, scheduler=job.scheduler):
        job.graded_now += 1
        yield result


def score(job, result, subs):
    """4. The typed row: auto score from the cells, the late penalty, manual cells, integrity."""
    row = GradeRow.from_result(result, job.source)
    sub = next((s for s in subs if s.student == row.student), None)
    if sub is not None:
        row.timestamp, row.lms_id = sub.timestamp or row.timestamp, sub.lms_id or row.lms_id
    apply_late_penalty(job, row)
    return row


def apply_late_penalty(job, row):
    """nbgrader's total_seconds_late against the due date plus the student's extension."""
    extension = job.extensions.get((row.student, job.ps))
    when = deadlines.parse_time(row.timestamp) if row.timestamp else None
    own_due, late = deadlines.lateness(when, job.due, extension)
    row.due = own_due.isoformat() if own_due else None
    row.seconds_late = round(late, 3)
    auto = row.auto_score
    row.late_penalty = (deadlines.PercentPerDay().late_submission_penalty(row.student, auto, late) or 0.0) \
        if row.status == "graded" else 0.0
    row.score = round(auto - row.late_penalty, 4)
    if late:
        job.late[row.student] = (f"{row.student}: handed in {deadlines.describe_late(late)} after "
                                 f"{row.due} ({'with' if extension else 'no'} extension): late penalty "
                                 f"{row.late_penalty:g} of {auto:g}")


def record(job, rows, subs):
    """5. Ledger (atomic, per row), then the gradebook and autograded notebooks from the same rows."""
    by_student, written = {s.student: s for s in subs}, []
    for row in rows:
        job.ledger.write(row)
        written.append(row)
        stopped = row.reason or row.runner_stopped or ""
        job.echo(f"  {row.student}: {row.status} {row.score:g}/{row.max_score:g} {stopped}".rstrip()
                 + (f"  integrity: {', '.join(row.integrity)}" if row.integrity else "")
                 + (f"  ({len(row.manual)} cell(s) to grade by hand)" if row.manual else ""))
    for message in job.late.values():
        job.echo("LATE " + message)
    members = job.roster.by_student if job.roster else None
    try:
        gradebook.write_rows(job.course, job.ps, job.source, written, job.extensions, job.due, members)
        for row in written:
            sub = by_student.get(row.student)
            gradebook.write_autograded(job.course, job.ps, job.source, row, sub.data if sub else b"",
                                       sub.secret if sub else b"")
    except gradebook.GradebookError as exc:
        job.gradebook_error = str(exc)
        job.echo("ERROR: " + str(exc))
    return written


def export(job):
    """6. grades.csv next to the ledger: the same rows, sorted, without timings."""
    return exports.export_csv(job.ledger.records(), job.folder / "grades.csv")
