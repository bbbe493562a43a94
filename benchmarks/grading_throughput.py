"""Grading throughput: plain serial ``nbgrader autograde`` vs the sandboxed grade command.

    .venv/bin/python benchmarks/grading_throughput.py [--n 40] [--ps ps1] [--workers 2]

Grades the same N correct submissions of a problem set three ways in one run and prints
submissions per minute for each:
  1. serial  ``nbgrader autograde`` (one kernel per notebook, tests in the student's kernel),
  2. ``python -m autograder grade`` with a local pool of ``--workers`` processes (sandbox on,
     writing the ledger, nbgrader's gradebook and the autograded notebooks, as in a semester),
  3. the same through Dask: a LocalCluster of ``--workers`` single-thread workers on loopback.
Target: (2) at least 1.7x (1). Work folders go to build/grading/bench/ (ignored by git).
Not a test: timings depend on the machine and on whatever else runs on it.
"""
import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from autograder import cli  # noqa: E402
from autograder.limits import Limits  # noqa: E402
from autograder.sandbox import bubblewrap_works  # noqa: E402
from autograder.source import load_source, source_path, strip_markers  # noqa: E402


def nbgrader(args, course):
    """The nbgrader CLI with the course config on a scratch course folder (autograder.release)."""
    from autograder.release import nbgrader as run_nbgrader
    return run_nbgrader(args, course)


def make_submissions(ps, instructor, n, work):
    """Release with nbgrader, then N students each hand in the release with the solutions filled in."""
    course = work / "course"
    shutil.rmtree(work, ignore_errors=True)
    (course / "source" / ps).mkdir(parents=True)
    shutil.copytree(instructor.parent, course / "source" / ps, dirs_exist_ok=True)
    nbgrader(["generate_assignment", ps, "--force"], course)
    release = json.loads((course / "release" / ps / f"{ps}.ipynb").read_text())
    answers = {c.grade_id: strip_markers(c.source) for c in load_source(instructor).cells if c.kind == "answer"}
    for cell in release["cells"]:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid in answers:
            cell["source"] = answers[gid]
    data = json.dumps(release, indent=1)
    flat = work / "submissions"
    flat.mkdir()
    for i in range(n):
        student = f"s{i:02d}"
        (course / "submitted" / student / ps).mkdir(parents=True)
        (course / "submitted" / student / ps / f"{ps}.ipynb").write_text(data)
        (flat / f"{student}.ipynb").write_text(data)
    return course, flat


def timed(label, n, fn):
    start = time.perf_counter()
    detail = fn()
    seconds = time.perf_counter() - start
    rate = n / seconds * 60
    print(f"{label:<40} {seconds:8.1f} s  {rate:6.2f} submissions/min  {detail}", flush=True)
    return {"label": label, "seconds": round(seconds, 1), "per_minute": round(rate, 2), "detail": detail}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ps", default="ps1")
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--source", help="instructor notebook (default solutions/PS/PS.ipynb)")
    args = parser.parse_args(argv)
    instructor = Path(args.source) if args.source else source_path(args.ps)
    work = ROOT / "build" / "grading" / "bench"
    course, flat = make_submissions(args.ps, instructor, args.n, work)
    source = load_source(instructor)
    limits = Limits()
    print(f"{args.n} submissions of {args.ps}; sandbox: {'bubblewrap' if bubblewrap_works() else 'NONE'}; "
          f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f} at start", flush=True)

    def serial():
        nbgrader(["autograde", args.ps, "--force"], course)
        return f"{len(list((course / 'autograded').glob('*/' + args.ps)))} autograded"

    def summary(result):
        scores = [r["score"] for r in result["records"] if r and r["status"] == "graded"]
        return f"{len(scores)} graded, mean score {sum(scores) / max(1, len(scores)):.1f}/{source.max_score:g}"

    def pool():
        return summary(cli.grade(args.ps, flat, source, home=work / "pool", workers=args.workers,
                                 limits=limits, echo=lambda *a: None))

    def dask():
        from distributed import LocalCluster
        with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                          host="127.0.0.1", dashboard_address=None) as cluster:
            return summary(cli.grade(args.ps, flat, source, home=work / "dask",
                                     scheduler=cluster.scheduler_address, limits=limits,
                                     echo=lambda *a: None))

    results = [timed("serial nbgrader autograde", args.n, serial),
               timed(f"grade --workers {args.workers} (sandbox)", args.n, pool),
               timed(f"grade via Dask, {args.workers} workers", args.n, dask)]
    base = results[0]["per_minute"]
    for r in results[1:]:
        r["speedup"] = round(r["per_minute"] / base, 2)
        print(f"{r['label']}: {r['speedup']}x serial nbgrader (target 1.7x)")
    print(f"load average {os.getloadavg()[0]:.1f} at the end (other work on the machine slows every figure)")
    (work / "results.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
