"""Parallel grading: Dask (a LocalCluster of two workers on loopback) gives the local pool's rows,
and an interrupted run resumes without grading anything twice."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import cli
from autograder.ledger import Ledger, csv_rows, grading_dir
from autograder.limits import TEST_LIMITS
from autograder.sandbox import bubblewrap_works
from autograder.source import load_source

HERE = Path(__file__).resolve().parent
FIXTURE = HERE / "fixtures" / "ps1" / "ps1.ipynb"
PICK = ["correct", "blank_release", "os_exit_in_call", "malformed_json"]
SANDBOX = bubblewrap_works()
quiet = dict(echo=lambda *a: None, limits=TEST_LIMITS, sandbox=SANDBOX)


@pytest.fixture(scope="module")
def submissions(tmp_path_factory):
    folder = tmp_path_factory.mktemp("subs")
    for name in PICK:
        shutil.copy(HERE / "corpus" / "ps1" / f"{name}.ipynb", folder)
    return folder


def rows(home):
    return csv_rows(Ledger(grading_dir("ps1", home)).records())


@pytest.fixture(scope="module")
def local(submissions, tmp_path_factory):
    """The local pool's grading of the submissions (two workers), graded once for this module."""
    home = tmp_path_factory.mktemp("local")
    summary = cli.grade("ps1", submissions, load_source(FIXTURE), home=home, workers=2, **quiet)
    return home, summary


def test_dask_two_workers_match_the_local_pool(submissions, local, tmp_path):
    distributed = pytest.importorskip("distributed")
    source = load_source(FIXTURE)
    local_home, local = local
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        remote = cli.grade("ps1", submissions, source, home=tmp_path / "dask",
                           scheduler=cluster.scheduler_address, **quiet)
    assert local["submitted"] == remote["submitted"] == len(PICK)
    assert rows(local_home) == rows(tmp_path / "dask")
    scores = {r[0]: r[3] for r in rows(tmp_path / "dask")[1]}
    assert scores == {"correct": "10", "blank_release": "0", "os_exit_in_call": "5", "malformed_json": "0"}


def test_interrupted_run_resumes_without_grading_twice(submissions, local, tmp_path):
    source = load_source(FIXTURE)
    local_home, first = local
    assert first["graded_now"] == len(PICK)
    shutil.copytree(local_home, tmp_path, dirs_exist_ok=True)
    before = rows(tmp_path)
    results = grading_dir("ps1", tmp_path) / "results"
    for name in PICK[:2]:  # as if the run had been killed before these two were recorded
        (results / f"{name}.json").unlink()
    (results / ".tmp-half-written.json").write_text("{")  # a crash mid-write leaves only a temp file
    again = cli.grade("ps1", submissions, source, home=tmp_path, workers=2, **quiet)
    assert again["graded_now"] == 2
    assert rows(tmp_path) == before
    assert again["submitted"] == again["graded"] + again["failed"] == len(PICK)


def test_cli_commands_end_to_end(submissions, tmp_path):
    env_args = ["--home", str(tmp_path), "--source", str(FIXTURE)]
    python = [sys.executable, "-m", "autograder"]
    grade = subprocess.run(python + ["grade", "ps1", str(submissions), "--workers", "2", "--test-limits",
                                     *env_args] + ([] if SANDBOX else ["--no-sandbox"]),
                           capture_output=True, text=True, timeout=600)
    assert grade.returncode == 0, grade.stdout + grade.stderr
    assert f"submitted {len(PICK)} = graded 3 + failed 1" in grade.stdout
    export = subprocess.run(python + ["export", "ps1", *env_args], capture_output=True, text=True)
    assert export.returncode == 0
    csv_text = (grading_dir("ps1", tmp_path) / "grades.csv").read_text()
    assert csv_text.splitlines()[0].startswith("student,problem_set,status,score,max_score,reason")
    feedback = subprocess.run(python + ["feedback", "ps1", *env_args], capture_output=True, text=True)
    assert feedback.returncode == 0
    folder = grading_dir("ps1", tmp_path) / "feedback"
    assert sorted(p.name for p in folder.glob("*.md")) == sorted(f"{n}.md" for n in PICK)
    assert "Not graded" in (folder / "malformed_json.md").read_text()
