"""Trusted side of grading: runs the instructor's tests against proxies of the student's names.

This process never executes student code. Answer cells go to the sandboxed runner
(``remote.Connection``); setup cells run in both; test cells (hidden tests included) run here,
and each one earns its points if and only if it finishes without raising.
"""
import builtins
import contextlib
import io
import sys
import time
import traceback

from .feedback import scrub
from .integrity import integrity_flags, runtime_flags
from .limits import Limits
from .remote import Connection, RemoteError, RunnerGone, student_location
from .source import Source, hidden_line_numbers, secret_lines

MAX_REASON = 2000


def grade_submission(source: Source, answers: dict, limits: Limits = Limits(), sandbox=True,
                     notes=None):
    """Grade one submission's answer sources (grade_id -> code). Returns the result record."""
    started = time.monotonic()
    notes = list(notes or [])
    cells, ns, gone = [], {"__name__": "__main__", "__builtins__": builtins}, None
    trusted = set(dir(builtins))
    flags = integrity_flags({c.grade_id: answers.get(c.grade_id, "") for c in source.cells
                             if c.kind == "answer"})
    secrets = secret_lines(source)
    conn = None
    try:
        conn = Connection(limits, sandbox)
    except RunnerGone as exc:
        gone = exc.reason
    except OSError as exc:
        gone = f"runner could not start: {exc}"
    try:
        for cell in source.cells:
            if cell.kind == "markdown":
                continue
            if gone is not None:
                if cell.kind == "test":
                    cells.append(_row(cell, False, gone, runner=True))
                continue
            try:
                if cell.kind == "setup":
                    _run_setup(conn, cell, ns, trusted, notes)
                elif cell.kind == "answer":
                    _run_answer(conn, cell, answers.get(cell.grade_id, ""), ns, trusted, notes)
                elif cell.kind == "test":
                    cells.append(_run_test(cell, ns, secrets))
                    trusted.update(k for k in ns if not _is_proxy_name(k, ns))
            except RunnerGone as exc:
                gone = exc.reason
                if cell.kind == "test":
                    cells.append(_row(cell, False, gone, runner=True))
        if gone is None and conn is not None:
            flags += runtime_flags(_runtime_events(conn))
    finally:
        sandboxed = bool(conn and conn.sandboxed)
        output = bytes(conn.output[:4000]).decode("utf-8", "replace") if conn else ""
        if conn is not None:
            conn.close()
    score = sum(c["points"] for c in cells)
    return {"status": "graded", "score": round(score, 4), "max_score": round(source.max_score, 4),
            "cells": cells, "notes": notes, "runner_stopped": gone, "integrity": flags,
            "sandbox": "bubblewrap" if sandboxed else "none", "output_head": output,
            "seconds": round(time.monotonic() - started, 2)}


def _runtime_events(conn):
    """What the runner's audit hook saw (evidence only: the runner is untrusted)."""
    try:
        events = conn.request({"op": "events"})
    except (RemoteError, RunnerGone):
        return []
    return [str(e) for e in events][:20] if isinstance(events, list) else []


def _is_proxy_name(key, ns):
    return key in ns.get("__autograder_student__", ())


def _row(cell, passed, reason="", hidden=False, runner=False):
    return {"grade_id": cell.grade_id, "points": cell.points if passed else 0.0,
            "max_points": cell.points, "passed": passed, "reason": reason[:MAX_REASON],
            "hidden": hidden, "runner": runner}


def _run_setup(conn, cell, ns, trusted, notes):
    # setup cells are the instructor's (imports, data): bounded by the wall limit, not the cell limit
    reply = conn.request({"op": "exec", "source": cell.source, "name": cell.grade_id, "export": False},
                         timeout=conn.limits.wall_s)
    if reply["error"]:
        notes.append(f"setup cell {cell.grade_id} failed in the runner: "
                     f"{reply['error'].get('type')}: {str(reply['error'].get('msg'))[:200]}")
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            exec(compile(cell.source, f"<setup {cell.grade_id}>", "exec"), ns)
    except RunnerGone:
        raise
    except BaseException as exc:  # an instructor bug must not stop grading
        notes.append(f"setup cell {cell.grade_id} failed in the checker: {type(exc).__name__}: {exc}"[:300])
    trusted.update(k for k in ns if not _is_proxy_name(k, ns))


def _run_answer(conn, cell, code, ns, trusted, notes):
    conn.answer_cells[cell.grade_id] = code
    reply = conn.request({"op": "exec", "source": code, "name": cell.grade_id})
    if reply["error"]:
        err = reply["error"] if isinstance(reply["error"], dict) else {}
        where = student_location(err.get("tb"), {cell.grade_id: code})
        notes.append(f"answer cell {cell.grade_id} raised {str(err.get('type'))[:80]}: "
                     f"{str(err.get('msg'))[:300]}" + (f" ({where})" if where else ""))
    student = ns.setdefault("__autograder_student__", set())
    ignored = []
    for name, value in reply["values"].items():
        if not name.isidentifier() or name.startswith("__"):
            continue
        if name in trusted and name not in cell.binds and name not in student:
            ignored.append(name)  # would shadow a trusted name (np, torch, a test helper)
            continue
        ns[name] = value
        student.add(name)
    if ignored:
        notes.append(f"answer cell {cell.grade_id}: ignored names that shadow trusted ones: "
                     + ", ".join(sorted(ignored)[:20]))


def _run_test(cell, ns, secrets=()):
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            exec(compile(cell.source, f"<test {cell.grade_id}>", "exec"), ns)
    except RunnerGone:
        raise
    except Exception as exc:
        line = _failing_line(exc, cell.grade_id)
        hidden = line in hidden_line_numbers(cell.source)
        if hidden and type(exc).__name__ == "CaseFailed":
            # a case summary names the case and its check's message, never the test's source
            return _row(cell, False, scrub(str(exc), secrets), hidden=False)
        return _row(cell, False, _reason(exc), hidden=hidden)
    except BaseException as exc:  # SystemExit, ChecksTampered from trusted code: a failed test
        if type(exc).__name__ == "ChecksTampered":
            return _row(cell, False, str(exc))
        return _row(cell, False, f"{type(exc).__name__}: {exc}")
    return _row(cell, True)


def _failing_line(exc, grade_id):
    line = None
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        if frame.f_code.co_filename == f"<test {grade_id}>":
            line = lineno
    return line


def _reason(exc):
    if isinstance(exc, RemoteError):
        if exc.remote_type == "InputChanged":  # the runner's in-place check (course/opwatch.py)
            return exc.remote_msg
        where = f" ({exc.student_location})" if exc.student_location else ""
        said = f"student code raised {exc.remote_type}" + (f": {exc.remote_msg}" if exc.remote_msg else "")
        return said[:MAX_REASON - 200] + where
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def main(argv=None):
    """python -m autograder.checker SOURCE.ipynb SUBMISSION.ipynb: grade one notebook, print JSON."""
    import argparse
    import json

    from .source import load_source
    from .submissions import read_answers
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("source")
    parser.add_argument("submission")
    parser.add_argument("--no-sandbox", action="store_true")
    args = parser.parse_args(argv)
    source = load_source(args.source)
    with open(args.submission, "rb") as handle:
        answers, notes = read_answers(handle.read(), source)
    result = grade_submission(source, answers, Limits(), not args.no_sandbox, notes)
    json.dump(result, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
