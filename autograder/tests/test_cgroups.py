"""Total memory and process count across all of a submission's processes (cgroups.py).

The submission starts several processes, each well under the per-process rlimits; only the
cgroup's totals stop them. Where no cgroup is writable the test skips and says what remains.
"""
import nbformat
import pytest

from autograder import cgroups
from autograder.checker import grade_submission
from autograder.limits import TEST_LIMITS
from autograder.sandbox import bubblewrap_works
from autograder.source import load_source

CAPPED, HOW = cgroups.available()
pytestmark = [pytest.mark.skipif(not bubblewrap_works(), reason="needs bubblewrap"),
              pytest.mark.skipif(not CAPPED, reason=HOW)]

ANSWER = '''import subprocess, sys

def spawn(n):
    """Start n sleeping processes; how many started?"""
    started = []
    for _ in range(n):
        try:
            started.append(subprocess.Popen(["/bin/sleep", "5"]))
        except OSError:
            break
    for proc in started:  # free the slots for the next test
        proc.kill()
        proc.wait()
    return len(started)

def hog(n, mb):
    """n processes that each touch mb MiB; how many were killed?"""
    code = f"b = bytearray({mb} << 20)\\nfor i in range(0, len(b), 4096): b[i] = 1"
    procs = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(n)]
    return sum(p.wait() != 0 for p in procs)
'''


def problem_set(folder, tests):
    nb = nbformat.v4.new_notebook()
    answer = nbformat.v4.new_code_cell(ANSWER)
    answer.metadata["nbgrader"] = {"solution": True, "grade": False, "grade_id": "answer"}
    nb.cells.append(answer)
    for name, code in tests.items():
        cell = nbformat.v4.new_code_cell(code)
        cell.metadata["nbgrader"] = {"grade": True, "solution": False, "grade_id": name, "points": 1}
        nb.cells.append(cell)
    path = folder / "caps.ipynb"
    nbformat.write(nb, path)
    return load_source(path)


def test_many_processes_each_under_the_rlimit_are_capped_together(tmp_path, monkeypatch):
    made, create = [], cgroups.for_submission
    monkeypatch.setattr(cgroups, "for_submission", lambda limits: made.append(create(limits)) or made[-1])
    source = problem_set(tmp_path, {
        # RLIMIT_NPROC allows 200 and RLIMIT_DATA 1536 MiB per process: only the totals stop these
        "processes": "n = spawn(40)\nassert n < 40, n",
        "memory": "killed = hog(3, 700)\nassert killed >= 1, killed",
    })
    limits = TEST_LIMITS.__class__(**{**TEST_LIMITS.as_dict(), "total_processes": 24, "processes": 200,
                                      "total_memory_mb": 1200, "cell_s": 20, "wall_s": 60})
    result = grade_submission(source, {"answer": ANSWER}, limits, sandbox=True)
    assert result["sandbox"] == "bubblewrap"
    verdicts = {c["grade_id"]: (c["passed"], c["reason"]) for c in result["cells"]}
    assert verdicts["processes"] == (True, ""), verdicts
    # 3 x 700 MiB fits each RLIMIT_DATA (1536 MiB) but not the 1200 MiB total: the kernel's OOM
    # killer takes one process of the group, a child (the cell passes) or the runner itself
    passed, reason = verdicts["memory"]
    assert passed or reason == "runner died: killed (memory or process limit)", verdicts
    assert made and not [d for group in made for d in group.dirs if d.exists()]  # removed after the run
