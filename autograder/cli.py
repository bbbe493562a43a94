"""Instructor commands, one per step:

    python -m autograder release psN
    python -m autograder grade psN PATH [--workers N] [--scheduler tcp://HOST:PORT] [--no-sandbox]
                                        [--lms canvas|moodle] [--roster roster.csv]
    python -m autograder export psN [-o grades.csv] [--format csv|canvas|moodle --roster roster.csv]
    python -m autograder feedback psN
    python -m autograder solutions psN [--force]

Grading folders live in build/grading/ (override with --home or AUTOGRADER_HOME): the nbgrader
course folder (gradebook.db, autograded/, feedback/, extensions.csv) and psN/ (ledger, grades.csv).
This module only parses arguments; the steps are in pipeline.py.
"""
import argparse
import sys

from . import ledger as ledger_mod
from .limits import Limits, LimitsError, resolve
from .source import load_source, source_path


def _common(parser):
    parser.add_argument("ps", help="problem set, e.g. ps1")
    parser.add_argument("--source", help="instructor notebook (default solutions/psN/psN.ipynb)")
    parser.add_argument("--home", help="grading folder root (default build/grading)")


def build_parser():
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    release = sub.add_parser("release", help="regenerate assignments/psN from solutions/psN")
    release.add_argument("ps")
    grade = sub.add_parser("grade", help="grade a folder or zip of submissions")
    _common(grade)
    grade.add_argument("path", help="folder or .zip of submitted notebooks (nbgrader submitted/, LMS download)")
    grade.add_argument("--workers", type=int, default=None, help="local processes (default: one per core)")
    grade.add_argument("--scheduler", help="Dask scheduler address, tcp://HOST:PORT")
    grade.add_argument("--no-sandbox", action="store_true",
                       help="grade without bubblewrap (rlimits only); without it, grade refuses")
    grade.add_argument("--force", action="store_true", help="grade again even if already graded")
    grade.add_argument("--test-limits", action="store_true", help="small limits (tests, corpus)")
    grade.add_argument("--lms", choices=["canvas", "moodle"], help="file names follow this LMS's download")
    grade.add_argument("--roster", help="roster CSV: maps LMS ids to course ids (roster.py)")
    for field, value in Limits().as_dict().items():
        grade.add_argument(f"--{field.replace('_', '-')}", type=type(value), default=None,
                           help=f"limit (default {value})")
    export = sub.add_parser("export", help="grades.csv from the ledger, or an LMS gradebook file")
    _common(export)
    export.add_argument("-o", "--output", help="output path (default build/grading/psN/grades.csv or psN-LMS.csv)")
    export.add_argument("--format", choices=["csv", "canvas", "moodle"], default="csv")
    export.add_argument("--roster", help="roster CSV (needed for canvas and moodle)")
    feedback = sub.add_parser("feedback", help="per-student feedback, hidden tests scrubbed")
    _common(feedback)
    solutions = sub.add_parser("solutions", help="student-safe solution notebook, after the due date")
    _common(solutions)
    solutions.add_argument("--force", action="store_true", help="build it before the due date")
    solutions.add_argument("-o", "--output", help="folder (default build/grading/psN/solutions)")
    return parser


def _source(args):
    return load_source(args.source or source_path(args.ps))


def _roster(args):
    from .roster import load_roster
    return load_roster(args.roster) if args.roster else None


def cmd_release(args):
    from . import release
    return release.main([args.ps])


def limits_from(args, source=None):
    """Defaults, raised by the problem set's own needs (notebook metadata), then the flags."""
    flags = {k: getattr(args, k, None) for k in Limits().as_dict()}
    return resolve(source, flags, test=args.test_limits)


def source_limits(source) -> Limits:
    """Limits a problem set asks for in its metadata ("course_limits"), over the defaults."""
    return resolve(source)


def grade(*args, **kwargs):
    """pipeline.grade (kept here for older callers)."""
    from .pipeline import grade as run_pipeline
    return run_pipeline(*args, **kwargs)


def cmd_grade(args):
    from .pipeline import grade as run_pipeline
    source = _source(args)
    summary = run_pipeline(args.ps, args.path, source, args.home, args.workers, args.scheduler,
                           not args.no_sandbox, args.force, limits_from(args, source),
                           lms=args.lms, roster=_roster(args))
    complete = summary["graded"] + summary["failed"] == summary["submitted"]
    return 0 if complete and not summary["gradebook_error"] else 1


def cmd_export(args):
    folder = ledger_mod.grading_dir(args.ps, args.home)
    if args.format == "csv":
        output = args.output or folder / "grades.csv"
        print(f"wrote {ledger_mod.export_csv(ledger_mod.Ledger(folder).records(), output)}")
        return 0
    from .exports import export_lms
    from .gradebook import read_grades
    roster = _roster(args)
    if roster is None:
        raise SystemExit(f"--format {args.format} needs --roster roster.csv (course id -> LMS id)")
    source = _source(args)
    maximum = source.max_score + sum(c.points for c in source.manual_cells)
    path, unmatched = export_lms(args.format, args.ps, read_grades(folder.parent, args.ps), roster, maximum,
                                 args.output or folder / f"{args.ps}-{args.format}.csv")
    print(f"wrote {path}")
    if unmatched:
        print(f"{len(unmatched)} graded student(s) not in the roster (listed in "
              f"{path.with_name(args.ps + '-unmatched.csv')}): {', '.join(unmatched)}")
    return 1 if unmatched else 0


def cmd_feedback(args):
    from .feedback import write_feedback
    folder = ledger_mod.grading_dir(args.ps, args.home)
    records = ledger_mod.Ledger(folder).records()
    written = write_feedback(records, _source(args), folder / "feedback")
    print(f"wrote feedback for {len(written)} students in {folder / 'feedback'}")
    return 0


def cmd_solutions(args):
    from .solutions import build
    folder = ledger_mod.grading_dir(args.ps, args.home)
    print(f"wrote {build(_source(args), args.output or folder / 'solutions', force=args.force)}")
    return 0


def main(argv=None):
    from .deadlines import DeadlineError
    from .gradebook import GradebookError
    from .pipeline import SandboxUnavailable
    from .roster import RosterError
    from .solutions import TooEarly
    args = build_parser().parse_args(argv)
    handler = {"release": cmd_release, "grade": cmd_grade, "export": cmd_export,
               "feedback": cmd_feedback, "solutions": cmd_solutions}[args.command]
    try:
        return handler(args) or 0
    except (SandboxUnavailable, LimitsError, RosterError, DeadlineError, GradebookError, TooEarly) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
