"""The runner / checker wire: safe values, handles that forward but never judge, hostile replies."""
import json
import math
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from autograder import runner as wire
from autograder.feedback import feedback_markdown
from autograder.ledger import Ledger, csv_rows
from autograder.limits import Limits
from autograder.remote import Connection, RemoteError, RemoteHandle, RunnerGone, decode
from autograder.sandbox import bubblewrap_works
from autograder.source import load_source, released_answer, secret_lines, visible_test
from autograder.submissions import InvalidNotebook, collect, read_answers, safe_name

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "ps1" / "ps1.ipynb"


def roundtrip(value):
    encoder = wire.Encoder(wire.HandleTable())
    node = json.loads(json.dumps(encoder.encode(value)))
    return decode(node, encoder.bufs, conn=None)


def test_values_cross_as_plain_copies():
    weight = torch.nn.Parameter(torch.randn(2, 3))
    value = {"t": torch.arange(6.).reshape(2, 3), "bf": torch.ones(2, dtype=torch.bfloat16),
             "mask": torch.tensor([True, False]), "grad": torch.ones(3, requires_grad=True),
             "w": weight, "a": np.arange(4, dtype=np.int16), "s": np.float64(2.5),
             (1, "k"): {3, 4}, "nan": math.nan, "inf": -math.inf, "b": b"\x00\xff",
             "size": torch.Size([2, 3]), "dtype": torch.float64, "dev": torch.device("cpu"),
             "slice": slice(1, None, 2), "c": 1 + 2j, "empty": torch.empty(0, 3)}
    back = roundtrip(value)
    assert torch.equal(back["t"], value["t"]) and back["bf"].dtype == torch.bfloat16
    assert back["mask"].tolist() == [True, False] and back["grad"].requires_grad
    assert isinstance(back["w"], torch.nn.Parameter) and torch.equal(back["w"], weight)
    assert back["a"].dtype == np.int16 and back["a"].tolist() == [0, 1, 2, 3]
    assert back["s"] == 2.5 and back[(1, "k")] == {3, 4} and math.isnan(back["nan"])
    assert back["inf"] == -math.inf and back["b"] == b"\x00\xff" and back["size"] == (2, 3)
    assert back["dtype"] is torch.float64 and back["slice"] == slice(1, None, 2) and back["c"] == 1 + 2j
    assert back["empty"].shape == (0, 3)


def test_subclasses_lose_their_behaviour():
    class Int(int):
        def __eq__(self, other):
            return True

    class Liar(list):
        pass
    back = roundtrip([Int(7), Liar([1]), type("S", (str,), {"__eq__": lambda s, o: True})("x")])
    assert type(back[0]) is int and back[0] != 8 and type(back[1]) is list and type(back[2]) is str


@pytest.mark.parametrize("node, frames", [
    ({"t": "ndarray", "dtype": "|O8", "shape": [1], "b": 0}, [b"\x00" * 8]),
    ({"t": "ndarray", "dtype": "<f8", "shape": [3], "b": 0}, [b"\x00" * 8]),
    ({"t": "tensor", "dtype": "float32", "shape": [2], "b": 0, "requires_grad": False}, [b"\x00" * 4]),
    ({"t": "tensor", "dtype": "qint8", "shape": [1], "b": 0}, [b"\x00"]),
    ({"t": "tensor", "dtype": "float32", "shape": [1], "b": 5}, [b"\x00" * 4]),
    ({"t": "pickle", "v": "cos\nsystem\n"}, []),
])
def test_hostile_values_are_refused(node, frames):
    with pytest.raises(RemoteError):
        decode(node, frames, conn=None)


@pytest.fixture(scope="module")
def conn():
    connection = Connection(Limits(cell_s=15, wall_s=240), sandbox=bubblewrap_works())
    yield connection
    connection.close()


def run(conn, code):
    return conn.request({"op": "exec", "source": code, "name": "t"})


def test_handles_forward_but_never_judge(conn):
    out = run(conn, "import torch\nclass Any:\n    def __eq__(self, o):\n        return True\n"
                    "    def __len__(self):\n        return 3\n    def __getitem__(self, i):\n"
                    "        return [10, 20, 30][i]\n    def __bool__(self):\n        return False\n"
                    "def make():\n    return Any()\nnet = torch.nn.Linear(2, 3)\n"
                    "def fails(x):\n    raise ValueError(f'bad {x}')\n")
    assert out["error"] is None
    values = out["values"]
    thing = values["make"]()
    assert type(thing) is RemoteHandle and thing != 1 and not (thing == thing._ag_conn)
    assert len(thing) == 3 and thing[1] == 20 and list(thing) == [10, 20, 30] and not thing
    net = values["net"]
    assert isinstance(net, torch.nn.Module) and net(torch.ones(4, 2)).shape == (4, 3)
    assert sum(p.numel() for p in net.parameters()) == 9
    with pytest.raises(ValueError, match="bad 3"):
        values["fails"](3)
    with pytest.raises(TypeError):
        thing + 1


def test_student_patches_stay_in_the_runner(conn):
    run(conn, "import torch, numpy, builtins\ntorch.allclose = lambda *a, **k: True\n"
              "numpy.allclose = lambda *a, **k: True\nbuiltins.len = lambda x: 0\n")
    assert not torch.allclose(torch.zeros(2), torch.ones(2)) and len([1, 2]) == 2
    assert not np.allclose(0, 1)


def test_a_call_past_the_cell_limit_kills_the_runner():
    with Connection(Limits(cell_s=2, wall_s=60), sandbox=bubblewrap_works()) as c:
        c.request({"op": "exec", "source": "import time\ndef slow():\n    time.sleep(60)\n", "name": "a"})
        slow = c.request({"op": "exec", "source": "", "name": "b"})["values"]["slow"]
        with pytest.raises(RunnerGone, match="time limit"):
            slow()
        with pytest.raises(RunnerGone):
            slow()


def test_forged_reply_frames_are_a_protocol_violation():
    with Connection(Limits(cell_s=10, wall_s=60), sandbox=bubblewrap_works()) as c:
        code = ("import os, sys, json, struct\nm = json.dumps({'t': 'value', 'v': 1, 'nbufs': 0}).encode()\n"
                "os.write(int(sys.argv[2]), struct.pack('>Q', len(m)) + m)\n")
        with pytest.raises(RunnerGone, match="protocol violation"):
            c.request({"op": "exec", "source": code, "name": "x"})


def test_source_kinds_points_and_secrets():
    source = load_source(FIXTURE)
    kinds = [c.kind for c in source.cells if c.kind != "markdown"]
    assert kinds == ["setup"] + ["answer", "test"] * 4 and source.max_score == 10
    test = next(c for c in source.cells if c.grade_id == "test_output_size")
    assert "224" in test.source and "224" not in visible_test(test.source)
    answer = next(c for c in source.cells if c.grade_id == "output_size")
    assert "NotImplementedError" in released_answer(answer.source) and "//" not in released_answer(answer.source)
    assert "return (n + 2 * p - f) // s + 1" in secret_lines(source)


def test_feedback_scrubs_hidden_reasons_and_quoted_secrets():
    source = load_source(FIXTURE)
    record = {"student": "x", "problem_set": "ps1", "status": "graded", "score": 0, "max_score": 10,
              "cells": [{"grade_id": "test_output_size", "points": 0, "max_points": 2, "passed": False,
                         "hidden": True, "reason": "AssertionError: output_size(224, 11, p=2, s=4) == 55"},
                        {"grade_id": "test_pad_zero", "points": 0, "max_points": 3, "passed": False,
                         "hidden": False, "reason": "saw assert output_size(224, 11, p=2, s=4) == 55"}],
              "notes": ["quoted: return (n + 2 * p - f) // s + 1"]}
    text = feedback_markdown(record, source)
    assert "224" not in text and "(n + 2 * p - f)" not in text
    assert "a hidden test in this cell failed (AssertionError)" in text


def test_intake_names_layouts_and_zip_slip(tmp_path):
    assert safe_name("../../etc/passwd") == "etc_passwd" and safe_name("..") == "student"
    (tmp_path / "in" / "alice" / "ps1").mkdir(parents=True)
    (tmp_path / "in" / "alice" / "ps1" / "ps1.ipynb").write_text("{}")
    (tmp_path / "in" / "bob.ipynb").write_text("{}")
    (tmp_path / "in" / "carol.docx").write_text("essay")
    os.symlink("/etc/passwd", tmp_path / "in" / "dave.ipynb")
    subs = {s.student: s for s in collect(tmp_path / "in", "ps1")}
    assert set(subs) == {"alice", "bob", "carol", "dave"}
    assert "not a notebook" in subs["carol"].error and "link" in subs["dave"].error
    with zipfile.ZipFile(tmp_path / "s.zip", "w") as z:
        z.writestr("../../x.ipynb", "{}")
        z.writestr("a/b/eve/ps1.ipynb", "{}")
    subs = {s.student: s for s in collect(tmp_path / "s.zip", "ps1")}
    assert "unsafe path" in subs["x"].error and subs["eve"].error == ""
    assert not (tmp_path.parent / "x.ipynb").exists()


def test_answers_come_only_from_instructor_answer_ids():
    source = load_source(FIXTURE)
    nb = json.loads(FIXTURE.read_text())
    nb["metadata"]["kernelspec"]["name"] = "julia"
    nb["cells"].append(json.loads(json.dumps(nb["cells"][3])))  # output_size again
    nb["cells"] = [c for c in nb["cells"] if c["metadata"]["nbgrader"].get("grade_id") != "block"]
    answers, notes = read_answers(json.dumps(nb).encode(), source)
    assert set(answers) == {"output_size", "pad_zero", "count_params"}
    assert any("julia" in n for n in notes) and any("twice" in n for n in notes)
    assert any("block missing" in n for n in notes)
    for bad in (b"", b"\xff\xfe", b"{", b"[]", b'{"nbformat": 3, "cells": []}'):
        with pytest.raises(InvalidNotebook):
            read_answers(bad, source)


def test_ledger_rows_are_deterministic(tmp_path):
    ledger = Ledger(tmp_path)
    for student, score in (("b", 2.5), ("a", 10)):
        ledger.write({"student": student, "problem_set": "ps1", "status": "graded", "score": score,
                      "max_score": 10, "seconds": 1.23, "submission_sha256": "s", "source_sha256": "t",
                      "cells": [{"grade_id": "q", "points": score}]})
    header, rows = csv_rows(ledger.records())
    assert header[:5] == ["student", "problem_set", "status", "score", "max_score"]
    # columns after reason: integrity flags, late penalty, manual cells pending, then per cell
    assert rows == [["a", "ps1", "graded", "10", "10", "", "", "0", "", "10"],
                    ["b", "ps1", "graded", "2.5", "10", "", "", "0", "", "2.5"]]
    assert ledger.is_done("a", "s", "t") and not ledger.is_done("a", "other", "t")


def test_without_bubblewrap_it_still_grades_and_says_what_is_missing(tmp_path, monkeypatch):
    from autograder import cli, sandbox
    monkeypatch.setattr(sandbox, "bubblewrap_works", lambda: False)
    shutil_copy = __import__("shutil").copy
    (tmp_path / "in").mkdir()
    shutil_copy(FIXTURE.parent.parent.parent / "corpus" / "ps1" / "correct.ipynb", tmp_path / "in")
    lines = []
    # without bubblewrap, grade refuses unless told --no-sandbox (test_semester.py checks the refusal)
    summary = cli.grade("ps1", tmp_path / "in", load_source(FIXTURE), home=tmp_path, workers=0,
                        limits=Limits(cell_s=20, wall_s=120), echo=lines.append, sandbox=False)
    assert any(l.startswith("WARNING") and "bubblewrap" in l for l in lines)
    record = summary["records"][0]
    assert record["score"] == 10 and record["sandbox"] == "none"
