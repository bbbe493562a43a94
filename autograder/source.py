"""The instructor source of a problem set: cell kinds, grade ids, points, secret lines.

Everything the grader trusts about a notebook's structure comes from here, never from a
submission (PROTOCOL.md, "What comes from where").
"""
import ast
import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import markers

# Re-exported: the checker, the corpus builder and tests import these from here.
from .markers import (  # noqa: F401
    BEGIN_HIDDEN,
    BEGIN_SOLUTION,
    END_HIDDEN,
    END_SOLUTION,
    STUB,
    hidden_line_numbers,
    released_answer,
    strip_markers,
    visible_test,
)

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Cell:
    index: int
    kind: str                 # "answer", "test", "setup" or "markdown"
    grade_id: str
    source: str
    points: float = 0.0
    manual: bool = False      # graded by hand (nbgrader grade + solution): code or written answer
    binds: list = field(default_factory=list)  # top-level names the instructor's answer defines


@dataclass
class Source:
    name: str
    cells: list
    sha256: str
    limits: dict = field(default_factory=dict)  # notebook metadata "course_limits": this set's needs
    due: str | None = None    # notebook metadata "course": {"due": ISO 8601}, read by deadlines.py
    path: str = ""            # the instructor notebook (the gradebook mirrors its cells)

    @property
    def max_score(self):
        return sum(c.points for c in self.cells if c.kind == "test")

    @property
    def manual_cells(self):
        """Cells graded by hand in formgrader (nbgrader ``grade`` and ``solution``): not in max_score."""
        return [c for c in self.cells if c.manual]

    @property
    def answer_ids(self):
        return [c.grade_id for c in self.cells if c.kind == "answer"]

    def to_dict(self):
        return {"name": self.name, "sha256": self.sha256, "cells": [asdict(c) for c in self.cells],
                "limits": dict(self.limits), "due": self.due, "path": self.path}

    @classmethod
    def from_dict(cls, data):
        return cls(data["name"], [Cell(**c) for c in data["cells"]], data["sha256"], data.get("limits", {}),
                   data.get("due"), data.get("path", ""))


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


def load_source(path) -> Source:
    raw = Path(path).read_bytes()
    nb = json.loads(raw)
    cells = []
    for index, cell in enumerate(nb.get("cells", [])):
        kind, meta = cell_kind(cell)
        text = text_of(cell.get("source"))
        grade_id = str(meta.get("grade_id") or f"cell-{index}")
        manual = bool(meta.get("grade") and meta.get("solution"))
        points = float(meta.get("points") or 0) if kind == "test" or manual else 0.0
        binds = top_level_names(text) if kind == "answer" else []
        cells.append(Cell(index, kind, grade_id, text, points, manual, binds))
    metadata = nb.get("metadata") or {}
    due = (metadata.get("course") or {}).get("due")
    return Source(Path(path).stem, cells, hashlib.sha256(raw).hexdigest(),
                  dict(metadata.get("course_limits") or {}), due, str(Path(path).resolve()))


def source_path(ps, root=ROOT):
    return Path(root) / "solutions" / ps / f"{ps}.ipynb"


# ------------------------------------------------------------------------- what students may see
def secret_lines(source: Source):
    """Lines of hidden tests and solutions that the release does not show (markers.secret_lines)."""
    return markers.secret_lines(c.source for c in source.cells)
