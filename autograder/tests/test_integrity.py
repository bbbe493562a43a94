"""Integrity flags, labelled cases, and the rule checks of course/opwatch.py in-kernel.

The same checks through the sandboxed grader: test_corpus.py (corpus/rules/).
"""
import threading
import time

import pytest
import torch
import torch.nn.functional as F

from autograder.integrity import integrity_flags
from autograder.values import student_location
from course import grading, optiming, opwatch


@pytest.mark.parametrize("code, what", [
    ("import threading\nthreading.Thread(target=print).start()", "starts threads or processes"),
    ("from concurrent.futures import ThreadPoolExecutor", "starts threads or processes"),
    ("import os\nos.fork()", "starts threads or processes"),
    ("import subprocess", "starts threads or processes"),
    ("from torch.utils._python_dispatch import _disable_current_modes", "torch dispatch internals"),
    ("with torch._C._DisableTorchDispatch():\n    pass", "torch dispatch internals"),
    ("import gc\ngc.get_objects()", "walks the interpreter's objects"),
    ("import ctypes", "walks the interpreter's objects"),
    ("import sys\nsys.modules['course.grading'] = None", "edits sys.modules"),
    ("import sys\nf = sys._getframe(1).f_back.f_globals", "reads interpreter frames"),
    ("def f():\n    pass\nf.__globals__['x'] = 1", "reads interpreter frames"),
    ("import course.grading as g\ng.check_tensor = print", "imports the grader"),
    ("from autograder import runner", "imports the grader"),
    ("import builtins\nbuiltins.len = lambda x: 0", "patches builtins"),
    ("exec('x = 1')", "runs code built at run time"),
])
def test_integrity_flags_name_the_cell_the_line_and_the_evidence(code, what):
    flags = integrity_flags({"cell": "x = 0\n" + code})
    assert flags and all(f.startswith("cell line ") for f in flags)
    assert any(what in f for f in flags), flags


def test_ordinary_answer_code_gets_no_flag():
    clean = ("import numpy as np\nimport torch\nimport torch.nn.functional as F\nfrom torch import nn\n"
             "def conv(x, w):\n    out = torch.einsum('nchw,ochw->no', x, w)\n    return out.sum(dim=0)\n"
             "class Net(nn.Module):\n    def forward(self, x):\n        return F.relu(x).view(len(x), -1)\n")
    assert integrity_flags({"a": clean, "b": "raise NotImplementedError()", "c": "def (:"}) == []


def test_cases_report_which_case_failed_and_how_many_passed():
    with pytest.raises(grading.GradingError) as info:
        with grading.cases("conv2d_naive: stride and padding") as case:
            with case("stride 1"):
                grading.check_value(1, 1)
            with case("stride 2, padding 1, 5x5 input"):
                grading.check_value(3, 2, "conv2d_naive")
            with case("odd kernel"):
                [][0]
    text = str(info.value)
    assert text.startswith("conv2d_naive: stride and padding: 1 of 3 cases passed; failed: "
                           "'stride 2, padding 1, 5x5 input': conv2d_naive: got 3, expected 2")
    assert "'odd kernel': IndexError" in text and "(at line" in text
    with grading.cases("all good") as case:
        with case("one"):
            pass
    with pytest.raises(grading.ChecksTampered):  # tampering is never a case result
        with grading.cases("x") as case:
            with case("y"):
                raise grading.ChecksTampered("test")


def _thread_conv(x, w):
    box = {}
    worker = threading.Thread(target=lambda: box.setdefault("out", _try(F.conv2d, x, w)))
    worker.start()
    worker.join()
    return box["out"]


def _try(fn, *args):
    try:
        return fn(*args)
    except RuntimeError:
        return torch.zeros(1)


def _modes_off(x, w):
    from torch.utils._python_dispatch import _disable_current_modes
    with _disable_current_modes(), torch._C._DisableTorchDispatch(), torch.inference_mode():
        return _try(F.conv2d, x, w)


def _autograd(x):
    xa = x.clone().requires_grad_()
    return torch.autograd.grad((xa * 2).sum(), [xa])[0]


@pytest.mark.parametrize("fn, rule, op", [
    (_thread_conv, "conv", "conv2d"), (_modes_off, "conv", "conv2d"),
    (lambda x, w: torch.nn.grad.conv2d_input(x.shape, w, x[:, :3, :3, :3]), "conv", "convolution_backward"),
    (lambda x, w: F.pad(x, (1, 1, 1, 1), mode="circular"), "pad", "pad"),
    (lambda x, w: F.max_pool2d(x, 2), "pool", "max_pool2d"),
    (lambda x, w: _autograd(x), "backward", "autograd engine"),
])
def test_forbidden_ops_are_seen_in_threads_and_with_dispatch_modes_off(fn, rule, op):
    x, w = torch.randn(1, 2, 5, 5), torch.randn(3, 2, 3, 3)
    _, seen = grading.forbidden_ops(fn, x, w, forbid=rule)
    assert op in seen
    assert F.conv2d(x, w).shape == (1, 3, 3, 3)  # the real kernels are back after the call


def test_switching_the_check_off_inside_the_call_is_tampering():
    def tamper(x):
        opwatch._ARMED.clear()
        return x * 2
    with pytest.raises(grading.ChecksTampered, match="tampered with"):
        grading.forbidden_ops(tamper, torch.ones(2))


def test_an_argument_changed_in_place_fails_the_call():
    def edits(x, p):
        x[0, 0] = 9
        return x.clone()
    with pytest.raises(grading.GradingError, match="edits changed its input x in place"):
        grading.call_checked(edits, torch.zeros(2, 2), 1)
    with pytest.raises(grading.GradingError, match="in place"):
        grading.assert_no_forbidden(edits, torch.zeros(2, 2), 1)
    assert grading.call_checked(lambda x: x + 1, torch.zeros(2)).tolist() == [1, 1]


def test_speed_is_judged_against_the_trusted_reference_on_fresh_inputs():
    x, w, b = torch.randn(1, 2, 12, 12), torch.randn(3, 2, 3, 3), torch.randn(3)
    fast, loops = grading.time_against_reference(optiming.fast_conv2d, "conv2d_loops", x, w, b,
                                                 padding=1, repeat=2, forbid="pad")
    assert loops > fast > 0
    cache = {}

    def cached(x, w, b=None, padding=0):  # right on the first input only
        return cache.setdefault("out", optiming.loop_conv2d(x, w, b, padding=padding))
    time.perf_counter, real = (lambda: 0.0), time.perf_counter  # a patched clock is not used
    try:
        with pytest.raises(grading.GradingError, match="wrong results"):
            grading.time_against_reference(cached, "conv2d_loops", x, w, b, padding=1, repeat=2)
    finally:
        time.perf_counter = real


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_gradient_that_overwrites_is_not_called_proportional(seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(1, 1, 5, 5, dtype=torch.float64, generator=g)
    if seed == 2:
        x[0, 0, 2, 2] = 10.0  # every 3x3 window has the same winner: one nonzero entry
    x.requires_grad_()
    out, idx = F.max_pool2d(x, 3, 1, return_indices=True)
    dout = torch.rand(out.shape, dtype=torch.float64, generator=g) + 0.5
    out.backward(dout)
    overwritten = torch.zeros(1, 1, 25, dtype=torch.float64)
    overwritten[0, 0, idx.reshape(-1)] = dout.reshape(-1)  # assignment instead of accumulation
    with pytest.raises(grading.GradingError) as info:
        grading.check_grad(overwritten.reshape(1, 1, 5, 5), x.grad, "dx")
    assert "times it" not in str(info.value)


def test_gradient_and_dtype_hints_say_what_is_wrong():
    # distinct maxima: the 9 overlapping windows have 9 different winners
    x = torch.arange(25, dtype=torch.float64).reshape(1, 1, 5, 5).requires_grad_()
    F.max_pool2d(x, 3, 1).sum().backward()
    with pytest.raises(grading.GradingError, match="times it"):
        grading.check_grad(3 * x.grad, x.grad, "dx")
    with pytest.raises(grading.GradingError, match="indices must be torch.int64") as info:
        grading.check_dtype(torch.zeros(2), torch.int64, "indices")
    assert "dtype=x.dtype" not in str(info.value)


def test_a_student_error_names_the_answer_cell_and_line():
    tb = ('Traceback (most recent call last):\n  File "<test_conv>", line 3, in <module>\n'
          '  File "<conv2d_naive>", line 2, in conv2d_naive\nIndexError: bad')
    answers = {"conv2d_naive": "def conv2d_naive(x):\n    return x[99]\n"}
    assert student_location(tb, answers) == "your cell conv2d_naive, line 2: return x[99]"
    assert student_location(tb, {}) == ""
