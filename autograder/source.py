"""The instructor source of a problem set: cell kinds, grade ids, points, secret lines.

Everything the grader trusts about a notebook's structure comes from here, never from a
submission (PROTOCOL.md, "What comes from where").
"""
import ast
import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
STUB = "# YOUR CODE HERE\nraise NotImplementedError()"


@dataclass
class Cell:
    index: int
    kind: str                 # "answer", "test", "setup" or "markdown"
    grade_id: str
    source: str
    points: float = 0.0
    manual: bool = False      # an answer that is also graded by hand
    binds: list = field(default_factory=list)  # top-level names the instructor's answer defines


@dataclass
class Source:
    name: str
    cells: list
    sha256: str
    limits: dict = field(default_factory=dict)  # notebook metadata "course_limits": this set's needs

    @property
    def max_score(self):
        return sum(c.points for c in self.cells if c.kind == "test")

    @property
    def answer_ids(self):
        return [c.grade_id for c in self.cells if c.kind == "answer"]

    def to_dict(self):
        return {"name": self.name, "sha256": self.sha256, "cells": [asdict(c) for c in self.cells],
                "limits": dict(self.limits)}

    @classmethod
    def from_dict(cls, data):
        return cls(data["name"], [Cell(**c) for c in data["cells"]], data["sha256"], data.get("limits", {}))


def text_of(source):
    return "".join(source) if isinstance(source, list) else str(source or "")


def cell_kind(cell):
    meta = (cell.get("metadata") or {}).get("nbgrader") or {}
    if cell.get("cell_type") != "code":
        return "markdown", meta
    if meta.get("solution"):
        return "answer", meta
    if meta.get("grade"):
        return "test", meta
    return "setup", meta


def top_level_names(code):
    """Names a cell binds at module level by def, class or assignment.

    Imports are left out on purpose: a student's ``import fake as np`` must never replace the
    checker's ``np`` just because the instructor's answer cell also imports numpy."""
    try:
        tree = ast.parse(strip_markers(code))
    except SyntaxError:
        return []
    names = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                names += [n.id for n in ast.walk(target) if isinstance(n, ast.Name)]
    return sorted(set(names))


def strip_markers(code):
    return "\n".join(l for l in code.splitlines() if l.strip() not in (BEGIN_SOLUTION, END_SOLUTION,
                                                                         BEGIN_HIDDEN, END_HIDDEN))


def load_source(path) -> Source:
    raw = Path(path).read_bytes()
    nb = json.loads(raw)
    cells = []
    for index, cell in enumerate(nb.get("cells", [])):
        kind, meta = cell_kind(cell)
        text = text_of(cell.get("source"))
        grade_id = str(meta.get("grade_id") or f"cell-{index}")
        points = float(meta.get("points") or 0) if kind == "test" else 0.0
        binds = top_level_names(text) if kind == "answer" else []
        cells.append(Cell(index, kind, grade_id, text, points, bool(kind == "answer" and meta.get("grade")), binds))
    limits = (nb.get("metadata") or {}).get("course_limits") or {}
    return Source(Path(path).stem, cells, hashlib.sha256(raw).hexdigest(), dict(limits))


def source_path(ps, root=ROOT):
    return Path(root) / "solutions" / ps / f"{ps}.ipynb"


# ------------------------------------------------------------------------- what students may see
def _blocks(code, begin, end):
    """Split code into (line, secret: bool) pairs for a begin/end marker pair."""
    inside, out = False, []
    for line in code.splitlines():
        marker = line.strip()
        if marker == begin:
            inside = True
            out.append((line, None))
        elif marker == end:
            inside = False
            out.append((line, None))
        else:
            out.append((line, inside))
    return out


def visible_test(code):
    """A test cell as released: the hidden block removed."""
    return "\n".join(l for l, secret in _blocks(code, BEGIN_HIDDEN, END_HIDDEN) if secret is False)


def hidden_line_numbers(code):
    """1-based line numbers of a test cell's hidden block (markers included)."""
    return {n for n, (_, secret) in enumerate(_blocks(code, BEGIN_HIDDEN, END_HIDDEN), 1) if secret is not False}


def released_answer(code):
    """An answer cell as released: the solution replaced by the stub."""
    lines, inside = [], False
    for line in code.splitlines():
        marker = line.strip()
        if marker == BEGIN_SOLUTION:
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            lines += [indent + s for s in STUB.splitlines()]
        elif marker == END_SOLUTION:
            inside = False
        elif not inside:
            lines.append(line)
    return "\n".join(lines)


def secret_lines(source: Source, min_length=6):
    """Lines of hidden tests and solutions that the release does not show: feedback must not."""
    secret, public = set(), set()
    for cell in source.cells:
        if cell.kind == "test":
            for line, hidden in _blocks(cell.source, BEGIN_HIDDEN, END_HIDDEN):
                (secret if hidden else public).add(line.strip())
        elif cell.kind == "answer":
            for line, hidden in _blocks(cell.source, BEGIN_SOLUTION, END_SOLUTION):
                (secret if hidden else public).add(line.strip())
        else:
            public.update(l.strip() for l in cell.source.splitlines())
    return {l for l in secret - public if len(l) >= min_length and not re.fullmatch(r"[#\W_]*", l)}
