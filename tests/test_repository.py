"""The repository keeps its promises: two-command README, CI script, layout, clean notebooks."""
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_readme_opens_with_the_two_commands():
    lines = [l for l in (ROOT / "README.md").read_text().splitlines() if l.strip()]
    commands = [l for l in lines[:4] if not l.startswith("```")]
    assert [c.split("#")[0].strip() for c in commands[:2]] == ["make lab", "make test"]


def test_readme_says_what_each_user_does_next():
    text = (ROOT / "README.md").read_text()
    for heading in ("## Students", "## Instructors", "## Self-learners"):
        assert heading in text


def test_ci_runs_make_test_and_nothing_else():
    body = [l for l in (ROOT / ".ci/run").read_text().splitlines()
            if l.strip() and not l.lstrip().startswith(("#", "set ", "cd "))]
    assert body == ["make test"]


def test_layout_exists():
    for name in ("course", "lectures", "assignments", "solutions", "autograder", "tests", "benchmarks",
                 "environment.yml", "pyproject.toml", "Makefile", "README.md", ".ci/run"):
        assert (ROOT / name).exists(), name


def test_makefile_creates_the_environment_from_pyproject():
    text = (ROOT / "Makefile").read_text()
    assert re.search(r"pip install .*-e '\.\[dev\]'", text)
    for target in ("lab:", "test:", "bench:", "notes:", "student-bundle:"):
        assert re.search(rf"^{target}", text, re.M), target


@pytest.mark.parametrize("path", sorted(ROOT.glob("lectures/*.ipynb")) + sorted(ROOT.glob("solutions/*/*.ipynb"))
                         + sorted(ROOT.glob("assignments/*/*.ipynb")), ids=lambda p: p.name)
def test_committed_notebooks_have_no_outputs(path):
    nb = nbformat.read(path, as_version=4)
    assert sum(len(c.get("outputs", [])) for c in nb.cells if c.cell_type == "code") == 0
    assert all(c.get("execution_count") is None for c in nb.cells if c.cell_type == "code")


def test_course_command_doctor_runs():
    import subprocess
    import sys
    run = subprocess.run([sys.executable, "-m", "course.cli", "doctor"], capture_output=True, text=True,
                         timeout=300, env={**__import__("os").environ, "COURSE_OFFLINE": "1"})
    assert run.returncode == 0, run.stderr
    for word in ("torch", "torchvision", "nbgrader", "device", "threads", "mnist", "pretrained", "widgets"):
        assert word in run.stdout


def test_readme_names_the_folder_make_notes_writes():
    """The README's path is the one course.notes builds into (its OUT folder, _build/html)."""
    from course import notes
    readme = (ROOT / "README.md").read_text()
    site = re.search(r"`make notes` builds .*? into\s+`([^`]+)`", readme, re.S).group(1)
    built = [line for line in (notes.__doc__ or "").splitlines() if "(make notes)" in line]
    assert built and site.rsplit("/", 1)[0] + "/" in built[0], (site, built)


def test_license_and_hygiene_files():
    import yaml
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert re.search(r'^license = \{text = "MIT"\}', pyproject, re.M)
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    hooks = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    ids = {hook["id"] for repo in hooks["repos"] for hook in repo["hooks"]}
    assert {"ruff", "nbstripout"} <= ids
    assert re.search(r'^dev = \[\n(    ".*",\n)*    "ruff>=', pyproject, re.M)
    test_target = re.search(r"^test:.*\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text(), re.M).group(1)
    assert test_target.splitlines()[0].strip().endswith("ruff check ."), "ruff runs first in make test"

