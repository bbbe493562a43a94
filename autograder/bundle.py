"""Write the student bundle: what students get, and nothing the instructor keeps.

    python -m autograder.bundle                  # -> student-bundle/ and build/student-bundle.zip
    python -m autograder.bundle --out DIR --no-zip

The bundle holds course/, lectures/, assignments/, the environment files, pyproject.toml, the
student README and Makefile (autograder/student/), the grading core that `course check` runs
(the modules of autograder/ that autograder/check.py imports, found by reading its imports),
a built notes site when there is one, and BUNDLE.json, the release stamp. It never holds
solutions/, the instructor's commands (release, grading, export, feedback), the autograder's
tests and corpus, the repository's tests, build outputs or caches. Before it is written out, it is
checked: no nbgrader marker in a notebook or in assignments/, no solution or hidden-test line in
assignments/, and no copied one anywhere else (a line too long to be a coincidence, or three
shorter ones in one file).
"""
import argparse
import ast
import datetime
import hashlib
import json
import shutil
import sys
import tempfile
from pathlib import Path

from autograder.release import DISTINCTIVE, MARKERS, REPO, LeakError, find_leaks, problem_sets, secret_lines

FOLDERS = ("course", "lectures", "assignments")
FILES = ("environment.yml", "pyproject.toml", "LICENSE", "config/jupyterlab-overrides.json")
STUDENT = REPO / "autograder" / "student"  # the bundle's own README.md and Makefile
NOTES_SITE = REPO / "build" / "notes" / "_build" / "html"
NEVER = ("solutions", "tests", "build", "notes/_build", "autograder/tests", "autograder/student",
         "autograder/release.py", "autograder/bundle.py", "autograder/cli.py", "autograder/__main__.py")
# what no file of the bundle may mention: the instructor's side of the course
INSTRUCTOR_ONLY = ("python -m autograder ", "python -m autograder.release", "make release", "make student-bundle", "make bench",
                   "nbgrader generate_assignment", "nbgrader collect", "nbgrader release_feedback",
                   "solutions/ps")
UNMISTAKABLE = 40  # non-space characters: a line this long is not written twice by chance
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints", ".pytest_cache",
                              "*.egg-info", ".DS_Store")


STUDENT_PACKAGE_DOC = '''"""The grader's checker and runner, as `course check psN` runs them on a student's machine.

The same modules grade the submissions, so a visible test that passes here passes there.
"""
'''


def grading_core(package: Path = REPO / "autograder", start: str = "check") -> list[str]:
    """Modules of the autograder package that ``start`` needs, following its imports."""
    needed, todo = set(), [start]
    while todo:
        name = todo.pop()
        if name in needed or not (package / f"{name}.py").is_file():
            continue
        needed.add(name)
        tree = ast.parse((package / f"{name}.py").read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                mod = node.module or ""
                if node.level == 1:
                    todo += [mod.split(".")[0]] if mod else [a.name for a in node.names]
                elif mod.startswith("autograder."):
                    todo.append(mod.split(".")[1])
                elif mod == "autograder":
                    todo += [a.name for a in node.names]
            elif isinstance(node, ast.Import):
                todo += [a.name.split(".")[1] for a in node.names if a.name.startswith("autograder.")]
    return sorted(needed | {"__init__"})


def stamp(repo: Path = REPO) -> dict:
    """The release stamp: which course version and which problem-set sources a bundle holds."""
    from course import __version__

    def digest(path):
        return hashlib.sha256(path.read_bytes()).hexdigest()[:16] if path.is_file() else None

    sets = {ps: {"source": digest(repo / "solutions" / ps / f"{ps}.ipynb"),
                 "release": digest(repo / "assignments" / ps / f"{ps}.ipynb")}
            for ps in problem_sets()}
    return {"course": __version__, "built": datetime.date.today().isoformat(), "problem_sets": sets}


def copy_tree(dest: Path, repo: Path = REPO) -> list[str]:
    """Copy the student-facing parts of ``repo`` into ``dest``; returns the top-level names copied."""
    copied = []
    for name in FOLDERS:
        if (repo / name).is_dir():
            shutil.copytree(repo / name, dest / name, ignore=SKIP)
            copied.append(name + "/")
    for name in FILES:
        if (repo / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(repo / name, dest / name)
            copied.append(name)
    for name in ("README.md", "Makefile"):
        shutil.copy2(STUDENT / name, dest / name)
        copied.append(name)
    (dest / "autograder").mkdir()
    for module in grading_core(repo / "autograder"):
        shutil.copy2(repo / "autograder" / f"{module}.py", dest / "autograder" / f"{module}.py")
    (dest / "autograder" / "__init__.py").write_text(STUDENT_PACKAGE_DOC)
    copied.append("autograder/")
    if NOTES_SITE.is_dir() and repo == REPO:
        shutil.copytree(NOTES_SITE, dest / "notes-site", ignore=SKIP)
        copied.append("notes-site/")
    (dest / "BUNDLE.json").write_text(json.dumps(stamp(repo), indent=2) + "\n")
    copied.append("BUNDLE.json")
    return copied


def problems(bundle: Path) -> list[str]:
    """Everything that must not be in a student bundle (empty list: the bundle is clean)."""
    found = [f"{name}/ is in the bundle" for name in NEVER if (bundle / name).exists()]
    released = {p.name for p in (bundle / "assignments").glob("ps*") if p.is_dir()}
    found += [f"assignments/{name}/ is missing" for name in problem_sets() if name not in released]
    secrets = secret_lines()
    if (bundle / "assignments").exists():
        found += ["assignments/" + leak for leak in find_leaks(bundle / "assignments", secrets)]
    for path in sorted(p for p in bundle.rglob("*") if p.is_file()):
        rel = path.relative_to(bundle)
        if rel.parts[0] == "assignments":
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        if path.suffix == ".ipynb":
            found += [f"{rel}: marker {m!r}" for m in MARKERS if m in text]
        if rel.parts[0] != "notes-site":
            found += [f"{rel}: names the instructor command {c!r}" for c in INSTRUCTOR_ONLY
                      if c in text]
        lines = {line.strip() for line in text.splitlines()}
        if path.suffix == ".ipynb":
            import nbformat
            lines = {line.strip() for cell in nbformat.reads(text, as_version=4).cells
                     for line in cell.source.splitlines()}
        shared = sorted(lines & {s for s in secrets if len(s.replace(" ", "")) >= DISTINCTIVE})
        # Lecture code may write one idiom the same way (`self.shortcut = nn.Identity()`);
        # a long line, or several shared lines, is a copied solution.
        if any(len(line.replace(" ", "")) >= UNMISTAKABLE for line in shared) or len(shared) >= 3:
            found += [f"{rel}: solution line {line!r}" for line in shared]
    return found


def build(out: Path, make_zip: bool = True) -> Path:
    """Assemble, check, then publish the bundle at ``out`` (and ``out``.zip); raises LeakError."""
    with tempfile.TemporaryDirectory(prefix="student-bundle-") as tmp:
        staging = Path(tmp) / "cnn-course"
        staging.mkdir()
        copy_tree(staging)
        found = problems(staging)
        if found:
            raise LeakError("refusing to write the student bundle:\n  " + "\n  ".join(found))
        if out.exists():
            shutil.rmtree(out)
        shutil.copytree(staging, out)
        if make_zip:
            zip_base = REPO / "build" / out.name
            zip_base.parent.mkdir(parents=True, exist_ok=True)
            shutil.make_archive(str(zip_base), "zip", root_dir=staging.parent, base_dir=staging.name)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "student-bundle")
    parser.add_argument("--no-zip", action="store_true")
    args = parser.parse_args(argv)
    try:
        out = build(args.out.resolve(), make_zip=not args.no_zip)
    except LeakError as why:
        print(why, file=sys.stderr)
        return 1
    n_files = sum(1 for p in out.rglob("*") if p.is_file())
    print(f"student bundle: {out} ({n_files} files; checked: no solutions, no hidden tests)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
