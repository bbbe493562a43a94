"""Build the student release of the problem sets, and refuse it if anything secret leaks.

    python -m autograder.release            # regenerate assignments/ from solutions/ (or: ps2 ps3)
    python -m autograder.release --check    # exit 1 if assignments/ differs from a fresh build

The release is made by the real ``nbgrader generate_assignment`` in a scratch course
folder (never in the repository), checked, and only then copied to ``assignments/``.
"Secret" means every line inside a ``### BEGIN SOLUTION`` / ``### END SOLUTION`` or
``### BEGIN HIDDEN TESTS`` / ``### END HIDDEN TESTS`` block of the instructor notebooks
that does not also appear in their public part; neither those lines nor the markers may
appear anywhere in what students get.
"""
import argparse
import html
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
from nbconvert.preprocessors import Preprocessor
from traitlets import Bool

from . import markers
from .markers import BLOCKS, HIDDEN_ONLY, MARKERS  # noqa: F401 (bundle.py and tests import them here)

REPO = Path(__file__).resolve().parents[1]
SOLUTIONS = REPO / "solutions"
ASSIGNMENTS = REPO / "assignments"
AUTOGRADER = Path(__file__).resolve().parent
# Outside assignments/ (course code, lectures) a short line such as `return out` may be
# written independently; only lines this long count as a leak there.
DISTINCTIVE = 24


class LeakError(RuntimeError):
    """Something secret was found in a student-facing file."""


def problem_sets() -> list[str]:
    return sorted(p.name for p in SOLUTIONS.iterdir() if p.is_dir() and p.name.startswith("ps"))


def secret_lines(solutions: Path = SOLUTIONS, blocks=BLOCKS, names=None) -> set[str]:
    """The secret lines (markers.secret_lines) of the instructor notebooks, looked at together.

    ``names``: only these problem sets (default: every one, as the release ships them all)."""
    paths = sorted(p for p in Path(solutions).glob("ps*/*.ipynb") if names is None or p.parent.name in names)
    return markers.secret_lines((c.source for path in paths for c in nbformat.read(path, as_version=4).cells),
                                blocks)


def hidden_test_lines(solutions: Path = SOLUTIONS) -> set[str]:
    """Only the hidden-test lines (what feedback must never show, even for a perfect score)."""
    return secret_lines(solutions, HIDDEN_ONLY)


def _text_of(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        return None


def _lines_of(path: Path, text: str) -> set[str]:
    """Stripped lines of a file; for notebooks, of every cell source and output."""
    if path.suffix != ".ipynb":
        return {line.strip() for line in text.splitlines()}
    lines = set()
    for cell in nbformat.reads(text, as_version=4).cells:
        lines.update(line.strip() for line in cell.source.splitlines())
        for out in cell.get("outputs", []):
            chunks = [out.get("text", "")] + list(out.get("traceback", []))
            chunks += [str(v) for v in out.get("data", {}).values()]
            for chunk in chunks:
                lines.update(line.strip() for line in str(chunk).splitlines())
    return lines


def find_leaks(folder: Path, secrets: set[str], min_length: int = 0) -> list[str]:
    """'file: what' for each marker or secret line found in the files under ``folder``."""
    secrets = {s for s in secrets if len(s.replace(" ", "")) >= min_length}
    leaks = []
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        text = _text_of(path)
        if text is None:
            continue
        rel = path.relative_to(folder)
        leaks += [f"{rel}: marker {m!r}" for m in MARKERS if m in text]
        if path.suffix in {".html", ".htm"}:  # feedback: compare the text a browser shows
            text = html.unescape(re.sub(r"<[^>]+>", "", text))
        found = _lines_of(path, text) & secrets
        leaks += [f"{rel}: secret line {line!r}" for line in sorted(found)]
    return leaks


def nbgrader(args: list[str], root: Path, check: bool = True, timeout: int | None = None):
    """Run the nbgrader CLI with the course config on the scratch course folder ``root``."""
    env = dict(os.environ, COURSE_NBGRADER_ROOT=str(root), COURSE_OFFLINE="1",
               PYTHONWARNINGS="ignore", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
               # nbgrader calls `alembic` and the kernel by name: use this environment's ones
               PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    env.pop("COURSE_FAST", None)  # grading always runs the real workload
    proc = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=AUTOGRADER, env=env,
                          capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


def generate(root: Path, names: list[str] | None = None) -> Path:
    """Copy solutions/ into ``root``/source and run generate_assignment; returns root/release."""
    for name in names or problem_sets():
        dest = root / "source" / name
        shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(SOLUTIONS / name, dest, ignore=shutil.ignore_patterns(
            ".ipynb_checkpoints", "__pycache__"))
        render_due(dest / f"{name}.ipynb")
        nbgrader(["generate_assignment", name, "--force"], root)
    return root / "release"


def render_due(path: Path):
    """Show the due date (notebook metadata ``course.due``, its one home) under the header's title.

    Done on the scratch copy before nbgrader sees it, so the release, its checksums and the
    gradebook's copy of the header all agree; solutions/ itself never holds a second copy."""
    from datetime import datetime
    nb = nbformat.read(path, as_version=4)
    due = (nb.metadata.get("course") or {}).get("due")
    if not due or not nb.cells or nb.cells[0].cell_type != "markdown":
        return
    when = datetime.fromisoformat(due)
    zone = when.strftime("UTC%z")
    zone = f"{zone[:-2]}:{zone[-2:]}" if len(zone) > 3 else "UTC"
    title, _, rest = nb.cells[0].source.partition("\n")
    line = f"**Due: {when:%A %-d %B %Y, %H:%M} ({zone}).** Late work loses points unless you have an extension."
    nb.cells[0].source = f"{title}\n\n{line}\n{rest}"
    nbformat.write(nb, path)


def build_checked(work: Path, names: list[str] | None = None) -> Path:
    """Generate the release in ``work`` and raise LeakError if anything secret is in it."""
    release = generate(work, names)
    leaks = find_leaks(release, secret_lines())
    if leaks:
        raise LeakError("refusing to release; secret content found:\n  " + "\n  ".join(leaks))
    return release


def differences(built: Path, committed: Path = ASSIGNMENTS) -> list[str]:
    """Files that differ (byte by byte) between a fresh build and the committed release."""
    def files(root):
        return {p.relative_to(root).as_posix(): p for p in root.rglob("*") if p.is_file()
                and "__pycache__" not in p.parts and ".ipynb_checkpoints" not in p.parts}

    new, old = files(built), files(committed) if committed.exists() else {}
    out = [f"{n}: only in the fresh build" for n in sorted(set(new) - set(old))]
    out += [f"{n}: only in assignments/" for n in sorted(set(old) - set(new))]
    out += [f"{n}: differs" for n in sorted(set(new) & set(old))
            if new[n].read_bytes() != old[n].read_bytes()]
    return out


def release(names: list[str] | None = None) -> None:
    """Regenerate assignments/<name> for each problem set (all by default), leak-checked."""
    names = problem_sets() if not names or names == ["all"] else names
    unknown = sorted(set(names) - set(problem_sets()))
    if unknown:
        raise SystemExit(f"no such problem set in solutions/: {', '.join(unknown)}")
    with tempfile.TemporaryDirectory(prefix="course-release-") as tmp:
        built = build_checked(Path(tmp), names)
        for name in names:
            shutil.rmtree(ASSIGNMENTS / name, ignore_errors=True)
            shutil.copytree(built / name, ASSIGNMENTS / name)
    print(f"released {', '.join(names)} to {ASSIGNMENTS.relative_to(REPO)}/ (no leaks)")


def check() -> list[str]:
    with tempfile.TemporaryDirectory(prefix="course-release-") as tmp:
        return differences(build_checked(Path(tmp)))


class ScrubHiddenTests(Preprocessor):
    """Feedback preprocessor: hidden tests and their tracebacks never reach a student.

    The autograded notebook holds the hidden tests (nbgrader restores them from the
    gradebook); a failing one shows its source in the traceback. Keep only the verdict.
    """

    enabled = Bool(True)  # nbconvert preprocessors are off unless enabled

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code" or not markers.has_hidden_tests(cell.source):
            return cell, resources
        public = [line.strip() for line, state in markers.classify(cell.source) if state is False]
        cell.source = "\n".join(public + ["# hidden tests: run at grading, not shown"])
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                message = f"{out.get('ename', 'Error')}: {out.get('evalue', '')}".strip()
                out["traceback"] = [f"A hidden test failed. {message}"]
        return cell, resources


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="problem sets to release: ps1 ... or all (default)")
    parser.add_argument("--check", action="store_true",
                        help="compare a fresh build with the committed assignments/")
    args = parser.parse_args(argv)
    if args.check:
        diffs = check()
        for line in diffs:
            print(line)
        print("assignments/ is up to date" if not diffs else "assignments/ is out of date")
        return 1 if diffs else 0
    release(args.names)
    return 0


if __name__ == "__main__":
    sys.exit(main())
