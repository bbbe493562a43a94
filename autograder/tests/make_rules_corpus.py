"""The rules fixture and the submissions that try to break its rules.

    .venv/bin/python autograder/tests/make_rules_corpus.py   # rewrites fixtures/rules/, corpus/rules/

The fixture is a small ps1 + ps2 problem set whose tests state rules the grader enforces
(course/opwatch.py): no padding functions in pad2d, no convolution / unfold in the conv
functions, im2col at least 5x faster than the trusted loop reference, no autograd, convolution or
pooling in the backward functions. Each corpus submission is the fixture's release with one
answer cell replaced by a trick of one hole class of issue 11; corpus/rules_expected.json lists the
exact passed / failed state of every test cell and a phrase its reasons or flags must contain.
"""
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))
from make_corpus import write_cases  # noqa: E402  (this folder is on sys.path when run as a script)

from autograder.source import released_answer, visible_test  # noqa: E402

FIXTURE = HERE / "fixtures" / "rules" / "rules.ipynb"
OUT = HERE / "corpus" / "rules"

SETUP = """import torch
import torch.nn.functional as F
"""
SOLUTIONS = {
    "pad2d": '''def pad2d(x, p, mode="zero"):
    """Pad the last two axes by p: "zero" or "reflect"."""
    ### BEGIN SOLUTION
    h, w = x.shape[-2:]
    if mode == "zero":
        out = x.new_zeros(*x.shape[:-2], h + 2 * p, w + 2 * p)
        out[..., p:p + h, p:p + w] = x
        return out
    rows = (torch.arange(-p, h + p).abs() - (h - 1)).abs().neg() + (h - 1)
    cols = (torch.arange(-p, w + p).abs() - (w - 1)).abs().neg() + (w - 1)
    return x[..., rows[:, None], cols[None, :]]
    ### END SOLUTION
''',
    "conv2d_naive": '''def conv2d_naive(x, w, b=None, stride=1, padding=0):
    """Convolution of an NCHW batch, one output position at a time."""
    ### BEGIN SOLUTION
    xp = pad2d(x, padding)
    n, _, h, wd = xp.shape
    o, _, kh, kw = w.shape
    oh, ow = (h - kh) // stride + 1, (wd - kw) // stride + 1
    out = x.new_zeros(n, o, oh, ow)
    for i in range(oh):
        for j in range(ow):
            window = xp[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
            out[:, :, i, j] = torch.einsum("nchw,ochw->no", window, w)
    return out if b is None else out + b[None, :, None, None]
    ### END SOLUTION
''',
    "conv2d_im2col": '''def conv2d_im2col(x, w, b=None, stride=1, padding=0):
    """The same convolution as one matrix product over gathered columns."""
    ### BEGIN SOLUTION
    xp = pad2d(x, padding)
    n, c, h, wd = xp.shape
    o, _, kh, kw = w.shape
    oh, ow = (h - kh) // stride + 1, (wd - kw) // stride + 1
    rows = torch.arange(kh)[:, None] + stride * torch.arange(oh)[None, :]
    cols = torch.arange(kw)[:, None] + stride * torch.arange(ow)[None, :]
    patches = xp[:, :, rows[:, None, :, None], cols[None, :, None, :]]  # n c kh kw oh ow
    out = torch.einsum("ncklij,ockl->noij", patches, w)
    return out if b is None else out + b[None, :, None, None]
    ### END SOLUTION
''',
    "conv2d_backward": '''def conv2d_backward(dout, x, w, stride=1, padding=0):
    """(dx, dw, db) of conv2d(x, w, b, stride, padding), without autograd."""
    ### BEGIN SOLUTION
    xp = pad2d(x, padding)
    kh, kw = w.shape[-2:]
    oh, ow = dout.shape[-2:]
    dxp, dw = torch.zeros_like(xp), torch.zeros_like(w)
    for r in range(kh):
        for q in range(kw):
            rows, cols = slice(r, r + stride * (oh - 1) + 1, stride), slice(q, q + stride * (ow - 1) + 1, stride)
            dw[:, :, r, q] = torch.einsum("nohw,nchw->oc", dout, xp[:, :, rows, cols])
            dxp[:, :, rows, cols] += torch.einsum("nohw,oc->nchw", dout, w[:, :, r, q])
    h, wd = x.shape[-2:]
    return dxp[:, :, padding:padding + h, padding:padding + wd], dw, dout.sum(dim=(0, 2, 3))
    ### END SOLUTION
''',
    "maxpool2d_backward": '''def maxpool2d_backward(dout, indices, input_shape):
    """Gradient of max pooling; indices index each flattened H x W plane."""
    ### BEGIN SOLUTION
    n, c, h, w = input_shape
    dx = dout.new_zeros(n, c, h * w)
    dx.scatter_add_(2, indices.reshape(n, c, -1), dout.reshape(n, c, -1))
    return dx.reshape(n, c, h, w)
    ### END SOLUTION
''',
}
TESTS = [  # (grade_id, points, source)
    ("test_pad2d", 2, """import torch
import torch.nn.functional as F
from course.grading import assert_no_forbidden, check_tensor

x_ = torch.arange(12.0).reshape(1, 1, 3, 4)
for mode_, torch_mode in [("zero", "constant"), ("reflect", "reflect")]:
    check_tensor(assert_no_forbidden(pad2d, x_, 1, mode_, forbid="pad"),
                 F.pad(x_, (1, 1, 1, 1), mode=torch_mode), f"pad2d(x, 1, {mode_!r})")
"""),
    ("hidden_pad2d", 2, """### BEGIN HIDDEN TESTS
import torch
import torch.nn.functional as F
from course.grading import assert_no_forbidden, cases, check_tensor

g = torch.Generator().manual_seed(1)
with cases("pad2d on other shapes") as case:
    for shape, p_ in [((2, 3, 5, 5), 2), ((4, 6), 1), ((1, 2, 3, 3), 0)]:
        xb = torch.randn(*shape, generator=g, dtype=torch.float64)
        for mode_, torch_mode in [("zero", "constant"), ("reflect", "reflect")]:
            with case(f"{shape}, p={p_}, {mode_}"):
                want = F.pad(xb.reshape(-1, 1, *shape[-2:]), (p_,) * 4, mode=torch_mode)
                check_tensor(assert_no_forbidden(pad2d, xb, p_, mode_, forbid="pad"),
                             want.reshape(*shape[:-2], *want.shape[-2:]), "pad2d")
### END HIDDEN TESTS
"""),
    ("test_conv2d_naive", 3, """import torch
import torch.nn.functional as F
from course.grading import assert_no_forbidden, check_tensor

g = torch.Generator().manual_seed(2)
x_, w_, b_ = torch.randn(2, 3, 6, 6, generator=g), torch.randn(4, 3, 3, 3, generator=g), torch.randn(4, generator=g)
check_tensor(assert_no_forbidden(conv2d_naive, x_, w_, b_), F.conv2d(x_, w_, b_), "conv2d_naive(x, w, b)", atol=1e-4)
check_tensor(assert_no_forbidden(conv2d_naive, x_, w_, b_, stride=2, padding=1),
             F.conv2d(x_, w_, b_, stride=2, padding=1), "conv2d_naive(stride=2, padding=1)", atol=1e-4)
"""),
    ("hidden_conv2d_naive", 2, """### BEGIN HIDDEN TESTS
import torch
import torch.nn.functional as F
from course.grading import assert_no_forbidden, cases, check_tensor

g = torch.Generator().manual_seed(3)
with cases("conv2d_naive, other shapes") as case:
    for xs, ws, s_, p_ in [((1, 2, 7, 5), (3, 2, 3, 2), 3, 1), ((2, 1, 5, 5), (1, 1, 1, 1), 2, 0)]:
        with case(f"x {xs}, w {ws}, stride={s_}, padding={p_}"):
            x_, w_ = torch.randn(*xs, generator=g, dtype=torch.float64), torch.randn(*ws, generator=g, dtype=torch.float64)
            check_tensor(assert_no_forbidden(conv2d_naive, x_, w_, None, stride=s_, padding=p_),
                         F.conv2d(x_, w_, stride=s_, padding=p_), "conv2d_naive")
### END HIDDEN TESTS
"""),
    ("test_conv2d_im2col", 2, """import torch
import torch.nn.functional as F
from course.grading import assert_no_forbidden, check_tensor

g = torch.Generator().manual_seed(4)
x_, w_, b_ = torch.randn(2, 3, 7, 7, generator=g), torch.randn(4, 3, 3, 3, generator=g), torch.randn(4, generator=g)
check_tensor(assert_no_forbidden(conv2d_im2col, x_, w_, b_, stride=2, padding=1),
             F.conv2d(x_, w_, b_, stride=2, padding=1), "conv2d_im2col(stride=2, padding=1)", atol=1e-4)
"""),
    ("test_im2col_speed", 2, """import torch
from course.grading import check_true, time_against_reference

g = torch.Generator().manual_seed(5)
x_, w_, b_ = torch.randn(2, 3, 24, 24, generator=g), torch.randn(8, 3, 3, 3, generator=g), torch.randn(8, generator=g)
im2col_s, loops_s = time_against_reference(conv2d_im2col, "conv2d_loops", x_, w_, b_, padding=1, repeat=3)
check_true(loops_s >= 5 * im2col_s, f"conv2d_im2col is only {loops_s / im2col_s:.1f} times faster than a "
           "loop over output positions (needs 5)")
"""),
    ("test_conv2d_backward", 3, """import torch
import torch.nn.functional as F
from course.grading import assert_no_forbidden, cases, check_grad

g = torch.Generator().manual_seed(6)
with cases("conv2d_backward") as case:
    for xs, ws, s_, p_ in [((2, 2, 5, 5), (3, 2, 3, 3), 1, 0), ((1, 2, 6, 6), (2, 2, 3, 3), 2, 1)]:
        xa = torch.randn(*xs, generator=g, dtype=torch.float64, requires_grad=True)
        wa = torch.randn(*ws, generator=g, dtype=torch.float64, requires_grad=True)
        ba = torch.zeros(ws[0], dtype=torch.float64, requires_grad=True)
        out = F.conv2d(xa, wa, ba, stride=s_, padding=p_)
        dout = torch.randn(out.shape, generator=g, dtype=torch.float64)
        out.backward(dout)
        with case(f"x {xs}, w {ws}, stride={s_}, padding={p_}"):
            dx, dw, db = assert_no_forbidden(conv2d_backward, dout, xa.detach(), wa.detach(), stride=s_,
                                             padding=p_, forbid=("backward", "conv"))
            for name_, got_, want_ in [("dx", dx, xa.grad), ("dw", dw, wa.grad), ("db", db, ba.grad)]:
                check_grad(got_, want_, name_, atol=1e-10, rtol=1e-8)
"""),
    ("test_maxpool2d_backward", 2, """import torch
import torch.nn.functional as F
from course.grading import assert_no_forbidden, check_grad

g = torch.Generator().manual_seed(7)
x_ = torch.randn(2, 2, 5, 5, generator=g, dtype=torch.float64, requires_grad=True)
out, idx = F.max_pool2d(x_, 3, 1, return_indices=True)
dout = torch.randn(out.shape, generator=g, dtype=torch.float64)
out.backward(dout)
check_grad(assert_no_forbidden(maxpool2d_backward, dout, idx, tuple(x_.shape), forbid=("backward", "pool")),
           x_.grad, "maxpool2d_backward (overlapping 3x3 windows)")
"""),
]
POINTS = {gid: pts for gid, pts, _ in TESTS}
AFTER = {"pad2d": ["test_pad2d", "hidden_pad2d"], "conv2d_naive": ["test_conv2d_naive", "hidden_conv2d_naive"],
         "conv2d_im2col": ["test_conv2d_im2col", "test_im2col_speed"],
         "conv2d_backward": ["test_conv2d_backward"], "maxpool2d_backward": ["test_maxpool2d_backward"]}


def _cell(kind, gid, source, points=None):
    meta = {"grade": kind == "test", "grade_id": gid, "locked": kind != "answer", "schema_version": 3,
            "solution": kind == "answer"}
    if points is not None:
        meta["points"] = points
    return {"cell_type": "code", "execution_count": None, "id": gid.replace("_", "-"), "outputs": [],
            "metadata": {"nbgrader": meta}, "source": source}


def fixture():
    cells = [{"cell_type": "markdown", "id": "intro", "source": "# Rules fixture (ps1 + ps2 rules)",
              "metadata": {"nbgrader": {"grade": False, "grade_id": "intro", "locked": True,
                                        "schema_version": 3, "solution": False}}},
             _cell("setup", "imports", SETUP)]
    tests = {gid: (pts, src) for gid, pts, src in TESTS}
    for gid, solution in SOLUTIONS.items():
        cells.append(_cell("answer", gid, solution))
        cells += [_cell("test", t, tests[t][1], tests[t][0]) for t in AFTER[gid]]
    return {"cells": cells, "nbformat": 4, "nbformat_minor": 5,
            "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                         "language_info": {"name": "python"}}}


def submission(**answers):
    nb = fixture()
    for cell in nb["cells"]:
        meta = cell["metadata"].get("nbgrader", {})
        if meta.get("solution"):
            gid = meta["grade_id"]
            cell["source"] = answers.get(gid, SOLUTIONS[gid].replace("    ### BEGIN SOLUTION\n", "")
                                         .replace("    ### END SOLUTION\n", ""))
        elif meta.get("grade"):
            cell["source"] = visible_test(cell["source"])
    return json.dumps(nb, indent=1).encode()


def stub(gid):
    return released_answer(SOLUTIONS[gid])


def solved(gid):
    return SOLUTIONS[gid].replace("    ### BEGIN SOLUTION\n", "").replace("    ### END SOLUTION\n", "")


CONV = "def conv2d_naive(x, w, b=None, stride=1, padding=0):\n"
FCONV = "F.conv2d(x, w, b, stride=stride, padding=padding)"
ALL_PASS = {gid: True for gid in POINTS}


def fails(*gids, after=None):
    """Every test cell passes except ``gids`` (and every cell from ``after`` on: the runner died)."""
    order = list(POINTS)
    out = dict(ALL_PASS, **{g: False for g in gids})
    if after is not None:
        out.update({g: False for g in order[order.index(after):]})
    return out


CASES = {}


def case(name, answers, cells, contains, flag=""):
    CASES[name] = (submission(**answers), {"cells": cells, "contains": contains, "flag": flag})


def build_cases():
    case("solved", {}, ALL_PASS, "")
    case("stubs", {g: stub(g) for g in SOLUTIONS}, {g: False for g in POINTS},
         "raised NotImplementedError (your cell pad2d, line 4: raise NotImplementedError())")
    # 1. rebinding course.grading helpers and their internals in the runner
    case("rebind_grading_helpers", {"conv2d_naive": (
        "import course.grading as g, course.opwatch as o\n"
        "g.forbidden_ops = lambda fn, *a, forbid='conv', **k: (fn(*a, **k), [])\n"
        "g.assert_no_forbidden = lambda fn, *a, forbid='conv', **k: fn(*a, **k)\n"
        "o.watched_call = lambda fn, a, k, r=(): {'result': fn(*a, **k), 'seen': [], 'tampered': '', 'changed': []}\n"
        "o.RULES['conv'] = 'nothing_at_all'\no._OP_CACHE.clear()\n"
        + CONV + f"    return {FCONV}\n")},
        fails("test_conv2d_naive", "hidden_conv2d_naive"), "reached conv2d", "imports the grader")
    # 2. switching dispatch modes off
    case("disable_dispatch_modes", {"conv2d_naive": (
        "from torch.utils._python_dispatch import _disable_current_modes\n" + CONV
        + f"    with _disable_current_modes(), torch._C._DisableTorchDispatch():\n        return {FCONV}\n")},
        fails("test_conv2d_naive", "hidden_conv2d_naive"), "reached conv2d", "torch dispatch internals")
    case("inference_mode_and_aten_leaf", {"conv2d_naive": (
        CONV + "    with torch.inference_mode():\n"
        "        out = torch.ops.aten._slow_conv2d_forward(pad2d(x, padding), w, list(w.shape[-2:]), b, [stride] * 2, [0, 0])\n"
        "    return out.clone()\n")},
        fails("test_conv2d_naive", "hidden_conv2d_naive"), "reached _slow_conv2d_forward", "calls aten operators")
    case("lazy_tensor_subclass", {"conv2d_naive": (
        "class Lazy(torch.Tensor):  # does the convolution only when the grader reads the values\n"
        "    @staticmethod\n    def __new__(cls, x, w, b, stride, padding):\n"
        "        oh = (x.shape[2] + 2 * padding - w.shape[2]) // stride + 1\n"
        "        ow = (x.shape[3] + 2 * padding - w.shape[3]) // stride + 1\n"
        "        t = torch.Tensor._make_wrapper_subclass(cls, (x.shape[0], w.shape[0], oh, ow), dtype=x.dtype)\n"
        "        t.job = (x, w, b, stride, padding)\n        return t\n\n"
        "    @classmethod\n    def __torch_dispatch__(cls, func, types, args=(), kwargs=None):\n"
        "        real = [F.conv2d(*a.job[:3], stride=a.job[3], padding=a.job[4]) if isinstance(a, Lazy) else a for a in args]\n"
        "        return func(*real, **(kwargs or {}))\n\n\n"
        + CONV + "    return Lazy(x, w, b, stride, padding)\n")},
        fails("test_conv2d_naive", "hidden_conv2d_naive"), "reached conv2d")
    # 3. a worker thread started in the call, and one started before it
    case("conv_in_worker_thread", {"conv2d_naive": (
        "import threading\n" + CONV + "    box = {}\n"
        f"    def work():\n        try:\n            box['out'] = {FCONV}\n        except Exception as exc:\n"
        "            box['out'] = torch.zeros(1)\n"
        "    t = threading.Thread(target=work)\n    t.start()\n    t.join()\n    return box['out']\n")},
        fails("test_conv2d_naive", "hidden_conv2d_naive"), "reached conv2d", "starts threads or processes")
    case("conv_in_prestarted_thread", {"conv2d_naive": (
        "import queue, threading\njobs, results = queue.Queue(), queue.Queue()\n"
        "def serve():\n    while True:\n        a = jobs.get()\n        try:\n"
        "            results.put(F.conv2d(*a[:3], stride=a[3], padding=a[4]))\n        except Exception:\n"
        "            results.put(torch.zeros(1))\n"
        "threading.Thread(target=serve, daemon=True).start()\n"
        + CONV + "    jobs.put((x, w, b, stride, padding))\n    return results.get()\n")},
        fails("test_conv2d_naive", "hidden_conv2d_naive"), "reached conv2d")
    # 4. a subprocess started in the call (refused), and one left running from the cell
    case("conv_in_subprocess", {"conv2d_naive": (
        "import pickle, subprocess, sys\n" + CONV
        + "    code = 'import pickle, sys, torch, torch.nn.functional as F; a = pickle.load(sys.stdin.buffer); "
          "sys.stdout.buffer.write(pickle.dumps(F.conv2d(*a)))'\n"
          "    run = subprocess.run([sys.executable, '-c', code], input=pickle.dumps((x, w, b, stride, padding)), capture_output=True)\n"
          "    return pickle.loads(run.stdout)\n")},
        fails("test_conv2d_naive", "hidden_conv2d_naive"), "subprocess.Popen is not allowed", "starts threads or processes")
    case("conv_in_prestarted_process", {"conv2d_naive": (
        "import os, pickle, subprocess, sys\n"
        "worker = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)'])\n" + CONV
        + f"    return {FCONV}\n")},
        fails(after="test_conv2d_naive"), "the grading checks were tampered with")
    # 5. timing: a sleeping naive conv with a loop im2col, a cache, a patched clock
    loop_im2col = solved("conv2d_naive").replace("def conv2d_naive", "def conv2d_im2col")
    case("sleeping_naive_loop_im2col", {
        "conv2d_naive": "import time\n" + solved("conv2d_naive").replace('    """Convolution', '    time.sleep(0.05)\n    """Convolution'),
        "conv2d_im2col": loop_im2col}, fails("test_im2col_speed"), "times faster than a loop")
    case("cached_loop_im2col", {"conv2d_im2col": (
        "_cache = {}\n" + loop_im2col.replace("def conv2d_im2col", "def _slow") +
        "def conv2d_im2col(x, w, b=None, stride=1, padding=0):\n"
        "    key = (x.shape, float(x.sum()), stride, padding)\n"
        "    if key not in _cache:\n        _cache[key] = _slow(x, w, b, stride, padding)\n    return _cache[key]\n")},
        fails("test_im2col_speed"), "times faster than a loop")
    case("patched_clock_loop_im2col", {"conv2d_im2col": (
        "import time\n_ticks = iter(range(10**9))\ntime.perf_counter = lambda: next(_ticks) * 1e-9\n" + loop_im2col)},
        fails("test_im2col_speed"), "times faster than a loop")
    # 6. ps2: autograd, torch.nn.grad and conv_transpose2d in the backward functions
    case("autograd_conv2d_backward", {"conv2d_backward": (
        "def conv2d_backward(dout, x, w, stride=1, padding=0):\n"
        "    xa, wa = x.clone().requires_grad_(), w.clone().requires_grad_()\n"
        "    out = conv2d_im2col(xa, wa, None, stride, padding)\n"
        "    dx, dw = torch.autograd.grad(out, (xa, wa), dout)\n    return dx, dw, dout.sum(dim=(0, 2, 3))\n")},
        fails("test_conv2d_backward"), "reached autograd engine")
    case("nn_grad_conv2d_backward", {"conv2d_backward": (
        "def conv2d_backward(dout, x, w, stride=1, padding=0):\n"
        "    dx = torch.nn.grad.conv2d_input(x.shape, w, dout, stride=stride, padding=padding)\n"
        "    dw = torch.nn.grad.conv2d_weight(x, w.shape, dout, stride=stride, padding=padding)\n"
        "    return dx, dw, dout.sum(dim=(0, 2, 3))\n")},
        fails("test_conv2d_backward"), "reached convolution_backward")
    case("conv_transpose_conv2d_backward", {"conv2d_backward": (
        "def conv2d_backward(dout, x, w, stride=1, padding=0):\n"
        "    dx = F.conv_transpose2d(dout, w, stride=stride, padding=padding,\n"
        "                            output_padding=(x.shape[-1] + 2 * padding - w.shape[-1]) % stride)\n"
        "    _, dw, db = torch.ops.aten.convolution_backward(dout, x, w, [w.shape[0]], [stride] * 2, [padding] * 2,\n"
        "                                                   [1, 1], False, [0, 0], 1, [False, True, True])\n"
        "    return dx, dw, db\n")},
        fails("test_conv2d_backward"), "reached conv_transpose2d")
    case("unpool_maxpool2d_backward", {"maxpool2d_backward": (
        "def maxpool2d_backward(dout, indices, input_shape):\n"
        "    return F.max_unpool2d(dout, indices, 3, 1, output_size=input_shape[-2:])\n")},
        fails("test_maxpool2d_backward"), "reached max_unpool2d")
    # 7. ps1 pad2d rule, and an input changed in place
    case("pad2d_with_F_pad", {"pad2d": (
        "def pad2d(x, p, mode='zero'):\n    shaped = x.reshape(-1, 1, *x.shape[-2:])\n"
        "    out = F.pad(shaped, (p,) * 4, mode='constant' if mode == 'zero' else mode)\n"
        "    return out.reshape(*x.shape[:-2], *out.shape[-2:])\n")},
        fails("test_pad2d", "hidden_pad2d"), "reached pad")
    case("pad2d_edits_its_input", {"pad2d": solved("pad2d").replace("def pad2d", "def _pad2d") + (
        "def pad2d(x, p, mode='zero'):  # the right result, but reflect mode zeroes its input\n"
        "    out = _pad2d(x.clone(), p, mode)\n    if mode == 'reflect':\n        x.zero_()\n    return out\n")},
        fails("test_pad2d", "hidden_pad2d"), "changed its input x in place")
    # 8. reaching the checker's own state: frames, gc
    case("frame_walk_destroys_the_check", {"conv2d_naive": (
        "import sys\n" + CONV + "    frame = sys._getframe(1)\n"
        "    while frame is not None and 'watch' not in frame.f_locals:\n        frame = frame.f_back\n"
        "    if frame is not None:\n        frame.f_locals['watch'].lib._destroy()\n"
        f"    return {FCONV}\n")},
        fails(after="test_conv2d_naive"), "the grading checks were tampered with", "reads interpreter frames")
    case("gc_walk_finds_the_check", {"conv2d_naive": (
        "import gc\n" + CONV + "    for obj in gc.get_objects():\n"
        "        if type(obj).__name__ == 'Watch':\n            obj.lib._destroy()\n"
        f"    return {FCONV}\n")},
        fails(after="test_conv2d_naive"), "the grading checks were tampered with", "walks the interpreter")
    # 9. a flood and a hang inside a checked call: the runner stops, later cells score 0
    case("flood_in_im2col", {"conv2d_im2col": (
        "def conv2d_im2col(x, w, b=None, stride=1, padding=0):\n    while True:\n        print('x' * 10000)\n")},
        fails(after="test_conv2d_im2col"), "output limit")
    case("hang_in_naive", {"conv2d_naive": CONV + "    while True:\n        pass\n"},
         fails(after="test_conv2d_naive"), "time limit")


def main():
    FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    FIXTURE.write_text(json.dumps(fixture(), indent=1) + "\n")
    build_cases()
    expected = write_cases(OUT, CASES)
    (OUT.parent / "rules_expected.json").write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")
    print(f"{len(expected)} submissions in {OUT}")


if __name__ == "__main__":
    main()
