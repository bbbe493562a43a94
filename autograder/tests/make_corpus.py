"""Generate the adversarial corpus from the fixture problem set's release notebook.

    .venv/bin/python autograder/tests/make_corpus.py      # rewrites autograder/tests/corpus/

Each submission is the release notebook with some answer cells filled in (correctly or with a
trick) or with its bytes broken; corpus/expected.json gives each student's expected score, or the
expected failure reason, and a phrase its notes / reason must contain. The fixture has four
tests: output_size 2, pad_zero 3, count_params 2, block 3 points (10 in all).
"""
import copy
import io
import json
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))
from autograder.source import load_source, released_answer, strip_markers, visible_test  # noqa: E402

FIXTURE = HERE / "fixtures" / "ps1" / "ps1.ipynb"
OUT = HERE / "corpus"

SOLUTION = {c.grade_id: strip_markers(c.source) for c in load_source(FIXTURE).cells if c.kind == "answer"}
POINTS = {"output_size": 2, "pad_zero": 3, "count_params": 2, "block": 3}


def release():
    """The student release of the fixture: stubs for solutions, hidden tests removed."""
    nb = json.loads(FIXTURE.read_text())
    for cell in nb["cells"]:
        meta = cell["metadata"].get("nbgrader", {})
        text = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if meta.get("solution"):
            cell["source"] = released_answer(text)
        elif meta.get("grade"):
            cell["source"] = visible_test(text)
    return nb


def notebook(answers=None, edit=None, stubs=False):
    """The release with every answer correct (or left as the stub), except those in ``answers``."""
    nb = release()
    filled = {} if stubs else dict(SOLUTION)
    filled.update(answers or {})
    for cell in nb["cells"]:
        gid = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if gid in filled:
            cell["source"] = filled[gid]
    if edit:
        edit(nb)
    return json.dumps(nb, indent=1).encode()


def score_without(*ids):
    return 10 - sum(POINTS[i] for i in ids)


def wrong(gid):
    return {"output_size": "def output_size(n, f, p=0, s=1):\n    return n\n",
            "pad_zero": "def pad_zero(x, p):\n    return x.new_zeros(*x.shape[:-2], x.shape[-2] + 2 * p, x.shape[-1] + 2 * p)\n",
            "count_params": "def count_params(model):\n    return 0\n",
            "block": "class Block(nn.Module):\n    def __init__(self, c):\n        super().__init__()\n\n    def forward(self, x):\n        return x\n"}[gid]


SEARCH = ("import glob\nfound = [p for pat in ('/work/*/solutions/*/*.ipynb', '/work/*/autograder/tests/fixtures/*/*.ipynb',\n"
          "         '/work/*/build/grading/*.db', '/work/*/build/grading/*/results/*.json', '/tmp/**/results/*.json',\n"
          "         '/root/*', '/home/*/*') for p in glob.glob(pat, recursive=True)]\n")

CASES = {}


def case(name, data, expected, contains=""):
    CASES[name] = (data, {"score": expected, "contains": contains} if isinstance(expected, (int, float))
                   else {"status": "failed", "contains": expected})


def build_cases():
    sol = SOLUTION
    case("correct", notebook(), 10)
    case("blank_release", notebook(stubs=True), 0, "NotImplementedError")
    case("infinite_loop", notebook({"count_params": "def count_params(model):\n    while True:\n        pass\n"}),
         score_without("count_params", "block"), "time limit")
    case("sleep_past_limit", notebook({"block": "import time\ntime.sleep(10_000)\n" + sol["block"]}),
         score_without("block"), "time limit")
    case("memory_bomb", notebook({"pad_zero": "def pad_zero(x, p):\n    hog = []\n    while True:\n"
                                              "        hog.append(bytearray(50_000_000))\n"}),
         score_without("pad_zero"), "MemoryError")
    case("torch_memory_bomb", notebook({"pad_zero": "def pad_zero(x, p):\n    return torch.ones(4_000_000_000)\n"}),
         score_without("pad_zero"), "RuntimeError")
    case("fork_bomb", notebook({"count_params": "import os\nwhile True:\n    os.fork()\n" + sol["count_params"]}),
         score_without("count_params"), "BlockingIOError")
    case("huge_output", notebook({"block": "while True:\n    print('x' * 10_000)\n"}),
         score_without("block"), "output limit")
    case("huge_file", notebook({"pad_zero": "with open('big.bin', 'wb') as fh:\n    fh.write(b'0' * (64 << 20))\n" + sol["pad_zero"]}),
         score_without("pad_zero"), "File too large")
    case("network", notebook({"output_size": "import socket\nsocket.create_connection(('1.1.1.1', 80), timeout=3)\n" + sol["output_size"]}),
         score_without("output_size"), "OSError")
    case("read_solutions", notebook({"output_size": SEARCH + "text = open(found[0]).read()\n" + sol["output_size"]}),
         score_without("output_size"), "IndexError")
    case("read_gradebook_and_others", notebook({"count_params": SEARCH + "assert found, 'nothing to read'\n" + sol["count_params"]}),
         score_without("count_params"), "nothing to read")
    case("patch_allclose", notebook({"pad_zero": "torch.allclose = lambda *a, **k: True\nnp.allclose = lambda *a, **k: True\n"
                                                 "torch.testing.assert_close = lambda *a, **k: None\n" + wrong("pad_zero")}),
         score_without("pad_zero"))
    case("shadow_trusted_names", notebook({"pad_zero": "class _Yes:\n    def __getattr__(self, name):\n        return lambda *a, **k: True\n"
                                                       "np = torch = F = _Yes()\n" + wrong("pad_zero")}),
         score_without("pad_zero", "block"), "shadow trusted")  # the student's own Block then calls _Yes().relu
    case("patch_builtins", notebook({"block": "import builtins\nbuiltins.isinstance = lambda *a: True\nbuiltins.sum = lambda *a: 148\n"
                                              "builtins.AssertionError = type('Nope', (Exception,), {})\n" + wrong("block")}),
         score_without("block"))
    case("patch_hooks_and_exit", notebook({"count_params": "import sys, traceback\nsys.excepthook = lambda *a: None\n"
                                                           "sys.displayhook = lambda *a: None\ntraceback.print_exc = lambda *a, **k: None\n"
                                                           "sys.exit = lambda *a: None\n" + wrong("count_params")}),
         score_without("count_params"))
    case("patch_torch_types", notebook({"pad_zero": "torch.Size.__eq__ = lambda *a: True\ntorch.Tensor.__eq__ = lambda *a: torch.tensor(True)\n"
                                                    "def pad_zero(x, p):\n    return torch.zeros(1)\n"}),
         score_without("pad_zero"))
    case("custom_eq_object", notebook({"output_size": "class Anything:\n    def __eq__(self, other):\n        return True\n"
                                                      "def output_size(n, f, p=0, s=1):\n    return Anything()\n",
                                       "count_params": "class Int(int):\n    def __eq__(self, other):\n        return True\n"
                                                       "def count_params(model):\n    return Int(7)\n"}),
         score_without("output_size", "count_params"))
    case("tensor_subclass", notebook({"pad_zero": "class Liar(torch.Tensor):\n    @classmethod\n"
                                                  "    def __torch_function__(cls, func, types, args=(), kwargs=None):\n        return True\n"
                                                  "def pad_zero(x, p):\n    return torch.zeros(*x.shape[:-2], x.shape[-2] + 2 * p, x.shape[-1] + 2 * p).as_subclass(Liar)\n"}),
         score_without("pad_zero"))
    case("sys_exit_in_call", notebook({"output_size": "def output_size(n, f, p=0, s=1):\n    import sys\n    sys.exit(0)\n"}),
         score_without("output_size"), "SystemExit")
    case("os_exit_in_call", notebook({"count_params": "def count_params(model):\n    import os\n    os._exit(0)\n"}),
         score_without("count_params", "block"), "exited with code 0")
    case("print_fake_pass", notebook({"output_size": "print('test_output_size: 2/2 passed\\nAll tests passed. Score: 10/10')\n"
                                                     "def output_size(n, f, p=0, s=1):\n    print('ok')\n    return -1\n"}, ),
         score_without("output_size"))
    case("forge_reply_frames", notebook({"output_size": "import os, sys, json, struct\n"
                                                       "msg = json.dumps({'t': 'value', 'v': 3, 'nbufs': 0}).encode()\n"
                                                       "for fd in [int(a) for a in sys.argv[1:]] + list(range(3, 12)):\n    try:\n        os.write(fd, struct.pack('>Q', len(msg)) + msg)\n"
                                                       "    except OSError:\n        pass\n" + wrong("output_size")}),
         0, "protocol violation")
    case("kill_the_grader", notebook({"output_size": "import os, signal\nfor pid in (os.getppid(), 1):\n    try:\n"
                                                     "        os.kill(pid, signal.SIGKILL)\n    except OSError:\n        pass\n" + sol["output_size"]}),
         10)
    case("write_instructor_files", notebook({"count_params": SEARCH + "for p in found:\n    open(p, 'w').write('owned')\n"
                                                             "open('/work/main/solutions/ps1/ps1.ipynb', 'w').write('owned')\n" + sol["count_params"]}),
         score_without("count_params"), "FileNotFoundError")
    case("syntax_error", notebook({"block": "class Block(nn.Module)\n    pass\n"}), score_without("block"), "SyntaxError")

    def delete(gid):
        return lambda nb: nb.__setitem__("cells", [c for c in nb["cells"]
                                                   if c["metadata"].get("nbgrader", {}).get("grade_id") != gid])

    def duplicate_first_wrong(nb):
        idx = next(i for i, c in enumerate(nb["cells"]) if c["metadata"].get("nbgrader", {}).get("grade_id") == "output_size")
        first = copy.deepcopy(nb["cells"][idx])
        first["source"] = wrong("output_size")
        nb["cells"].insert(idx, first)

    def change_points(nb):
        for cell in nb["cells"]:
            meta = cell["metadata"].get("nbgrader", {})
            if meta.get("grade"):
                meta["points"] = 1000
                cell["source"] = "pass"
            cell["id"] = "x"

    def change_id(nb):
        for cell in nb["cells"]:
            meta = cell["metadata"].get("nbgrader", {})
            if meta.get("grade_id") == "output_size":
                meta["grade_id"] = "my_answer"

    case("deleted_cell", notebook(edit=delete("count_params")), score_without("count_params"), "missing")
    case("duplicated_cell", notebook(edit=duplicate_first_wrong), score_without("output_size"), "appears twice")
    case("reordered_cells", notebook(edit=lambda nb: nb["cells"].reverse()), 10)
    case("changed_points_and_tests", notebook(stubs=True, edit=change_points), 0)
    case("changed_grade_id", notebook(edit=change_id), score_without("output_size"), "missing")
    case("wrong_kernel", notebook(edit=lambda nb: nb["metadata"].__setitem__("kernelspec", {"name": "ir", "display_name": "R"})),
         10, "kernel 'ir' ignored")
    case("malformed_json", notebook()[:-200], "malformed JSON")
    case("empty_file", b"", "empty file")
    case("non_utf8", notebook().replace(b"def output_size", b"def \xff\xfe_size"), "not UTF-8")
    case("json_list", b"[1, 2, 3]", "not a notebook")
    case("nbformat3", json.dumps({"nbformat": 3, "worksheets": [], "cells": []}).encode(), "unsupported nbformat")
    case("deep_json", b"[" * 200_000 + b"]" * 200_000, "malformed JSON")


def build_archive():
    """A zip with nested folders, a ../ entry, an absolute entry and a stray file."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("course/section-a/zara/ps1/ps1.ipynb", notebook())
        archive.writestr("course/section-a/yann/ps1.ipynb", notebook({"output_size": sol_wrong()}))
        archive.writestr("course/../../escape.ipynb", notebook())
        archive.writestr("/abs/evil.ipynb", notebook())
        archive.writestr("course/section-a/notes/readme.txt", b"not a submission")
        archive.writestr("course/section-b/zara/ps1/ps1.ipynb", notebook(stubs=True))
    expected = {"zara": {"score": 10}, "yann": {"score": 8},
                "escape": {"status": "failed", "contains": "unsafe path"},
                "evil": {"status": "failed", "contains": "unsafe path"},
                "notes": {"status": "failed", "contains": "not a notebook"}, "zara-2": {"score": 0}}
    return buffer.getvalue(), expected


def sol_wrong():
    return wrong("output_size")


def write_cases(folder, cases) -> dict:
    """Replace ``folder``'s notebooks with ``cases`` ({name: (bytes, expected)}); returns the expectations."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    expected = {}
    for name, (data, want) in cases.items():
        (folder / f"{name}.ipynb").write_bytes(data)
        expected[name] = want
    return expected


def main():
    build_cases()
    folder = OUT / "ps1"
    expected = write_cases(folder, CASES)
    (folder / "essay.pdf").write_bytes(b"%PDF-1.4 not a notebook")
    expected["essay"] = {"status": "failed", "contains": "not a notebook"}
    archive, archive_expected = build_archive()
    (OUT / "archive.zip").write_bytes(archive)
    (OUT / "expected.json").write_text(json.dumps({"ps1": expected, "archive.zip": archive_expected},
                                                  indent=1, sort_keys=True) + "\n")
    print(f"{len(expected)} submissions in {folder}, {len(archive_expected)} in archive.zip")


if __name__ == "__main__":
    main()
