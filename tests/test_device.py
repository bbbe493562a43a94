import os
import subprocess
import sys
import textwrap

import pytest
import torch

import course.device as device
from course.device import device_reason, ensure_threads, pick_device, seed_everything, set_threads, thread_count


def test_pick_device_returns_a_usable_device_and_a_reason(monkeypatch):
    device, reason = device_reason()
    assert torch.zeros(2, device=device).sum().item() == 0
    assert reason.startswith(device.type)
    expected = "cuda" if torch.cuda.is_available() else ("mps" if torch.backends.mps.is_available() else "cpu")
    assert pick_device().type == expected


def test_pick_device_says_why(capsys):
    pick_device(verbose=True)
    assert capsys.readouterr().out.startswith("device ")


def test_override_by_environment(monkeypatch):
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    assert pick_device() == torch.device("cpu")


def test_seed_everything_repeats():
    seed_everything(3)
    a = torch.randn(3)
    seed_everything(3)
    assert torch.equal(a, torch.randn(3))


def test_set_threads(monkeypatch):
    before = torch.get_num_threads()
    try:
        assert set_threads(1) == 1 and torch.get_num_threads() == 1
        monkeypatch.setenv("COURSE_THREADS", "2")
        assert set_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_thread_count_reads_course_threads_then_omp(monkeypatch):
    monkeypatch.delenv("COURSE_THREADS", raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert thread_count() == device.physical_cores()
    monkeypatch.setenv("OMP_NUM_THREADS", "3,1")  # OpenMP's per-level list: the first level counts
    assert thread_count() == 3
    monkeypatch.setenv("COURSE_THREADS", "2")
    assert thread_count() == 2
    monkeypatch.setenv("COURSE_THREADS", "two")
    with pytest.raises(ValueError, match="COURSE_THREADS='two' is not a number of threads"):
        thread_count()


def test_ensure_threads_keeps_a_count_already_chosen(monkeypatch):
    before = torch.get_num_threads()
    monkeypatch.setenv("COURSE_THREADS", "2")
    try:
        set_threads(1)
        assert ensure_threads() == 1 and torch.get_num_threads() == 1
        monkeypatch.setattr(device, "_chosen", [])  # a fresh process: nothing chosen yet
        assert ensure_threads() == 2 and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_importing_changes_no_thread_count_and_fit_chooses_one():
    """No side effect on import; training (fit) is where the course picks its thread count."""
    code = textwrap.dedent("""
        import torch
        torch.set_num_threads(1)
        import course, course.device, course.train, course.models, course.data
        assert torch.get_num_threads() == 1, torch.get_num_threads()
        import sys; sys.path.insert(0, "tests")
        from test_train import blobs, small_cnn
        course.train.fit(small_cnn(), blobs(64), epochs=1, quiet=True)
        print(torch.get_num_threads())
    """)
    env = {**os.environ, "COURSE_THREADS": "2", "COURSE_OFFLINE": "1"}
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["2"]
