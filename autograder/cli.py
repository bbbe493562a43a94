"""Instructor commands, one per step:

    python -m autograder release psN
    python -m autograder grade psN PATH [--workers N] [--scheduler tcp://HOST:PORT] [--no-sandbox]
    python -m autograder export psN [-o grades.csv]
    python -m autograder feedback psN

Grading folders live in build/grading/psN/ (override with --home or AUTOGRADER_HOME).
"""
import argparse
import sys
import time

from . import ledger as ledger_mod
from .limits import Limits, TEST_LIMITS
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
    grade.add_argument("path", help="folder or .zip of submitted notebooks")
    grade.add_argument("--workers", type=int, default=None, help="local processes (default: one per core)")
    grade.add_argument("--scheduler", help="Dask scheduler address, tcp://HOST:PORT")
    grade.add_argument("--no-sandbox", action="store_true", help="no bubblewrap (rlimits only)")
    grade.add_argument("--force", action="store_true", help="grade again even if already graded")
    grade.add_argument("--test-limits", action="store_true", help="small limits (tests, corpus)")
    for field, value in Limits().as_dict().items():
        grade.add_argument(f"--{field.replace('_', '-')}", type=type(value), default=None,
                           help=f"limit (default {value})")
    export = sub.add_parser("export", help="write grades.csv from the ledger")
    _common(export)
    export.add_argument("-o", "--output", help="CSV path (default build/grading/psN/grades.csv)")
    feedback = sub.add_parser("feedback", help="per-student feedback, hidden tests scrubbed")
    _common(feedback)
    return parser


def _source(args):
    return load_source(args.source or source_path(args.ps))


def cmd_release(args):
    from . import release
    return release.main([args.ps])


def limits_from(args, source=None):
    """Defaults, raised by the problem set's own needs (notebook metadata), then the flags."""
    base = TEST_LIMITS if args.test_limits else source_limits(source)
    overrides = {k: getattr(args, k) for k in base.as_dict() if getattr(args, k, None) is not None}
    return Limits.from_dict({**base.as_dict(), **overrides})


def source_limits(source) -> Limits:
    """Limits a problem set asks for in its metadata ("course_limits"), over the defaults."""
    return Limits.from_dict({**Limits().as_dict(), **(getattr(source, "limits", None) or {})})


def grade(ps, path, source, home=None, workers=None, scheduler=None, sandbox=True, force=False,
          limits=None, echo=print):
    """Grade every submission under ``path``; returns the summary dict (also used by tests)."""
    from .pool import make_task, run
    from .sandbox import NO_SANDBOX_WARNING, bubblewrap_works
    from .submissions import collect
    limits = limits or source_limits(source)
    if sandbox and not bubblewrap_works():
        echo("WARNING: " + NO_SANDBOX_WARNING)
    elif not sandbox:
        echo("WARNING: --no-sandbox: student code runs with rlimits only, no filesystem or network isolation")
    ledger = ledger_mod.Ledger(ledger_mod.grading_dir(ps, home))
    subs = collect(path, ps)
    todo = [s for s in subs if force or not ledger.is_done(s.student, s.sha256, source.sha256)]
    echo(f"{len(subs)} submissions, {len(subs) - len(todo)} already graded, {len(todo)} to grade")
    tasks = [make_task(s, ps, source, limits, sandbox) for s in todo]
    started = time.monotonic()
    for record in run(tasks, workers=workers, scheduler=scheduler):
        ledger.write(record)
        score = f"{record['score']:g}/{record['max_score']:g}" if record["status"] == "graded" else record["reason"]
        echo(f"  {record['student']}: {record['status']} {score}")
    wall = time.monotonic() - started
    records = {r["student"]: r for r in ledger.records()}
    mine = [records.get(s.student) for s in subs]
    graded = sum(1 for r in mine if r and r["status"] == "graded")
    failed = sum(1 for r in mine if r and r["status"] == "failed")
    summary = {"submitted": len(subs), "graded": graded, "failed": failed, "graded_now": len(tasks),
               "seconds": round(wall, 2), "records": mine}
    echo(f"submitted {len(subs)} = graded {graded} + failed {failed}"
         + ("" if graded + failed == len(subs) else "  <-- MISSING RESULTS"))
    return summary


def cmd_grade(args):
    source = _source(args)
    summary = grade(args.ps, args.path, source, args.home, args.workers, args.scheduler,
                    not args.no_sandbox, args.force, limits_from(args, source))
    return 0 if summary["graded"] + summary["failed"] == summary["submitted"] else 1


def cmd_export(args):
    ledger = ledger_mod.Ledger(ledger_mod.grading_dir(args.ps, args.home))
    output = args.output or ledger_mod.grading_dir(args.ps, args.home) / "grades.csv"
    path = ledger_mod.export_csv(ledger.records(), output)
    print(f"wrote {path}")
    return 0


def cmd_feedback(args):
    from .feedback import write_feedback
    folder = ledger_mod.grading_dir(args.ps, args.home)
    records = ledger_mod.Ledger(folder).records()
    written = write_feedback(records, _source(args), folder / "feedback")
    print(f"wrote feedback for {len(written)} students in {folder / 'feedback'}")
    return 0


def main(argv=None):
    args = build_parser().parse_args(argv)
    handler = {"release": cmd_release, "grade": cmd_grade, "export": cmd_export,
               "feedback": cmd_feedback}[args.command]
    return handler(args) or 0


if __name__ == "__main__":
    sys.exit(main())
