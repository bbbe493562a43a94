"""Grade many submissions in parallel: a local process pool or a Dask cluster.

Each task is self-contained (notebook bytes + parsed instructor source + limits), so a Dask worker
on another machine needs only this package, its virtual environment and bubblewrap, not the
submissions folder. Results come back to the driver, which alone writes the ledger.
"""
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context

from .checker import grade_submission
from .limits import Limits
from .source import Source
from .submissions import InvalidNotebook, read_answers


def make_task(sub, ps, source: Source, limits: Limits, sandbox: bool):
    return {"problem_set": ps, "student": sub.student, "origin": sub.origin, "data": sub.data,
            "error": sub.error, "notes": list(sub.notes), "source": source.to_dict(),
            "limits": limits.as_dict(), "sandbox": sandbox, "submission_sha256": sub.sha256}


def _base(task):
    return {"student": task["student"], "problem_set": task["problem_set"],
            "origin": task["origin"], "submission_sha256": task["submission_sha256"],
            "source_sha256": task["source"]["sha256"]}


def failed(task, reason):
    source = Source.from_dict(task["source"])
    return {**_base(task), "status": "failed", "reason": reason, "score": 0.0,
            "max_score": source.max_score, "cells": [], "notes": list(task.get("notes", []))}


def grade_task(task):
    """Grade one submission (runs in a pool worker or a Dask worker). Never raises."""
    if task.get("error"):
        return failed(task, task["error"])
    source = Source.from_dict(task["source"])
    try:
        answers, notes = read_answers(task["data"], source)
    except InvalidNotebook as exc:
        return failed(task, str(exc))
    try:
        result = grade_submission(source, answers, Limits.from_dict(task["limits"]),
                                  task["sandbox"], list(task.get("notes", [])) + notes)
    except Exception as exc:  # a grader bug: still one row, with the reason
        return failed(task, f"grader error: {type(exc).__name__}: {exc}"[:500])
    return {**_base(task), **result}


def _warm():
    """Pool worker start-up: import what every submission's checker needs once."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    try:
        import torch
        torch.set_num_threads(1)
    except ImportError:
        pass
    from .sandbox import bubblewrap_works
    bubblewrap_works()


def default_workers():
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def run_local(tasks, workers=None):
    """Yield results as they finish, from a pool of ``workers`` processes (one per core)."""
    if not tasks:
        return
    workers = workers or default_workers()
    with ProcessPoolExecutor(max_workers=min(workers, len(tasks)), mp_context=get_context("spawn"),
                             initializer=_warm) as pool:
        futures = {pool.submit(grade_task, task): task for task in tasks}
        for future in as_completed(futures):
            try:
                yield future.result()
            except Exception as exc:  # the worker process itself died
                yield failed(futures[future], f"grading worker died: {type(exc).__name__}: {exc}"[:500])


def run_dask(tasks, scheduler):
    """Yield results from a Dask distributed cluster at ``scheduler`` (tcp://HOST:PORT or a Client)."""
    from distributed import Client
    from distributed import as_completed as dask_completed
    client = scheduler if hasattr(scheduler, "map") else Client(scheduler)
    try:
        client.run(_warm)  # every worker imports torch once, before the clock of a task starts
        keys = [f"grade-{t['problem_set']}-{t['student']}-{t['submission_sha256'][:12]}" for t in tasks]
        futures = client.map(grade_task, tasks, key=keys, pure=False, retries=0)
        index = {f.key: t for f, t in zip(futures, tasks)}
        for future in dask_completed(futures):
            try:
                yield future.result()
            except Exception as exc:  # KilledWorker and friends
                yield failed(index[future.key], f"dask worker failed: {type(exc).__name__}: {exc}"[:500])
    finally:
        if client is not scheduler:
            client.close()


def run(tasks, workers=None, scheduler=None):
    if scheduler:
        yield from run_dask(tasks, scheduler)
    elif workers == 0:
        for task in tasks:  # in-process, for debugging
            yield grade_task(task)
    else:
        yield from run_local(tasks, workers)
