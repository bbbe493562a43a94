"""The student bundle as a student gets it: built, copied outside the repository, set up from its
own pyproject, `make lab` serving JupyterLab and `make check` telling the truth.

The bundle's environment is made the way its Makefile makes it (`pip install -e .` from the
bundle's pyproject) in a new virtualenv. To stay offline and fast, that virtualenv sees the
course environment's installed packages through a .pth file and pip runs with no index: if the
bundle's pyproject asked for anything the course environment lacks, the install fails.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import nbformat
import pytest
from test_make_lab import assert_serves_lectures_without_news, serve_lab

from autograder import bundle

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.xdist_group("student_bundle")
INSTRUCTOR_TARGETS = ("test", "bench", "notes", "release", "student-bundle")


def run(cmd, cwd, env=None, timeout=600, check=True):
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"{cmd} exited {proc.returncode}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


@pytest.fixture(scope="module")
def student(tmp_path_factory):
    """A bundle in a folder of its own, with its environment set up by its Makefile."""
    home = tmp_path_factory.mktemp("student")
    folder = home / "cnn-course"
    run([sys.executable, "-m", "autograder.bundle", "--out", str(folder), "--no-zip"], ROOT)
    venv = folder / ".venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)], folder)
    # pip and the course's packages come from the course environment, seen read-only
    site = Path(run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                    folder).stdout.strip())
    (site / "course_environment.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {**os.environ, "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1",
           "JUPYTER_CONFIG_DIR": str(home / "config"), "JUPYTER_RUNTIME_DIR": str(home / "rt"),
           "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"), "JUPYTERLAB_WORKSPACES_DIR": str(home / "ws"),
           "JUPYTER_DATA_DIR": str(home / "data"),
           # JupyterLab's extensions are data files of the course environment's prefix
           "JUPYTER_PATH": str(Path(sys.prefix) / "share" / "jupyter")}
    env.pop("VIRTUAL_ENV", None)
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if ".venv" not in p)
    # JupyterLab's own files (schemas, static) are data files of the course environment too;
    # the settings folder, where the bundle's Makefile puts its overrides, stays the bundle's
    lab = venv / "share" / "jupyter" / "lab"
    lab.mkdir(parents=True)
    for part in (Path(sys.prefix) / "share" / "jupyter" / "lab").iterdir():
        if part.name != "settings":
            (lab / part.name).symlink_to(part)
    run(["make", "venv", "PIP_FLAGS=--no-build-isolation"], folder, env)
    assert (lab / "settings" / "overrides.json").is_file(), "the bundle's make sets the lab overrides"
    return folder, env


def test_environment_is_the_bundles_own(student):
    folder, env = student
    where = run([str(folder / ".venv" / "bin" / "python"), "-c",
                 "import course, autograder.check; print(course.__file__); print(autograder.check.__file__)"],
                folder, env).stdout.split()
    assert all(str(folder) in w for w in where), where


def test_nothing_instructor_only_in_the_bundle(student):
    folder, _ = student
    assert bundle.problems(folder) == []
    assert not (folder / "solutions").exists() and not (folder / "tests").exists()
    for name in ("release.py", "bundle.py", "cli.py", "__main__.py", "tests"):
        assert not (folder / "autograder" / name).exists(), name
    makefile = (folder / "Makefile").read_text()
    targets = set(re.findall(r"^([\w-]+):", makefile, re.M))
    assert {"lab", "check", "doctor", "clean"} <= targets
    assert not targets & set(INSTRUCTOR_TARGETS), targets & set(INSTRUCTOR_TARGETS)
    readme = (folder / "README.md").read_text()
    assert readme.splitlines()[1].startswith("make lab") and readme.splitlines()[2].startswith("make check PS=ps1")
    for needed in ("Validate", "course doctor", "notes site", "Canvas", "Submit"):
        assert needed in readme or needed.lower() in readme.lower(), needed


def test_release_notebooks_equal_assignments_and_the_stamp_says_so(student):
    folder, env = student
    stamp = json.loads((folder / "BUNDLE.json").read_text())
    released = sorted(p.parent.name for p in (ROOT / "assignments").glob("ps*/ps*.ipynb"))
    assert sorted(stamp["problem_sets"]) == released
    for ps in released:
        mine = (folder / "assignments" / ps / f"{ps}.ipynb").read_bytes()
        assert mine == (ROOT / "assignments" / ps / f"{ps}.ipynb").read_bytes(), ps
        import hashlib
        assert stamp["problem_sets"][ps]["release"] == hashlib.sha256(mine).hexdigest()[:16]
    from course import __version__
    assert stamp["course"] == __version__
    doctor = run([str(folder / ".venv" / "bin" / "course"), "doctor"], folder, env).stdout
    assert f"course {__version__} built" in doctor and stamp["problem_sets"]["ps1"]["release"] in doctor


def solved_copy(release_nb: Path, ps: str, dest: Path) -> Path:
    """The release with the instructor's solutions typed into its answer cells."""
    solution = nbformat.read(ROOT / "solutions" / ps / f"{ps}.ipynb", as_version=4)
    answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in solution.cells
               if c.metadata.get("nbgrader", {}).get("solution")}
    nb = nbformat.read(release_nb, as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.metadata.get("nbgrader", {}).get("solution") and grade_id in answers:
            cell.source = "\n".join(line for line in answers[grade_id].splitlines()
                                    if "### BEGIN SOLUTION" not in line and "### END SOLUTION" not in line)
    nbformat.write(nb, dest)
    return dest


def test_make_check_tells_the_truth(student):
    folder, env = student
    untouched = run(["make", "check", "PS=ps1"], folder, env, check=False)
    assert untouched.returncode != 0
    assert "FAIL test_" in untouched.stdout and "NotImplementedError" in untouched.stdout
    assert "0 of" in untouched.stdout
    solved = solved_copy(folder / "assignments" / "ps1" / "ps1.ipynb", "ps1", folder / "mine.ipynb")
    good = run(["make", "check", "PS=ps1", f"NOTEBOOK={solved}"], folder, env, check=False)
    assert good.returncode == 0, good.stdout[-3000:] + good.stderr[-2000:]
    assert "FAIL" not in good.stdout and "PASS test_" in good.stdout


def test_make_lab_serves_the_lectures(student):
    folder, env = student
    with serve_lab(folder, env) as (api, output):
        assert "ipywidgets JupyterLab extension: installed" in output
        assert_serves_lectures_without_news(api, folder / "lectures")
    shutil.rmtree(folder / ".ipynb_checkpoints", ignore_errors=True)
