"""Checks for the graded problem sets: each failure says what is wrong.

The visible tests of ``assignments/psN`` call these helpers, so a student sees
"shape (2, 3, 6, 6) but expected (2, 3, 5, 5)" or "reflect padding looks like
symmetric padding" instead of a bare ``AssertionError``.

    check_tensor(pad2d(x, 2, "reflect"), expected, "pad2d(x, 2, 'reflect')")
    out = assert_no_forbidden(conv2d_naive, x, w, b)   # F.conv2d / nn.Conv2d / unfold earn nothing

Everything here takes and returns plain values (tensors, arrays, numbers), so the
helpers work both in-kernel (plain ``nbgrader autograde``) and in the sandboxed
grader, where the student's functions are proxies (see autograder/PROTOCOL.md).
"""
import math
import time

import numpy as np
import torch
from torch.utils._python_dispatch import TorchDispatchMode

# aten ops that do the convolution for you; ps1's conv functions must not reach them.
FORBIDDEN_OPS = ("convolution", "_convolution", "conv1d", "conv2d", "conv3d",
                 "cudnn_convolution", "mkldnn_convolution", "_slow_conv2d_forward",
                 "thnn_conv2d", "conv_transpose1d", "conv_transpose2d", "im2col", "unfold")
# What a student reads when a forbidden call is found.
FORBIDDEN_HELP = ("F.conv2d, nn.Conv2d, F.unfold, nn.Unfold and Tensor.unfold are not allowed "
                  "inside this function: write the sliding window yourself")
# Helpers the sandboxed grader may run next to the student's code (PROTOCOL_REQUESTS.md, R1).
SANDBOX_HELPERS = ("course.grading:forbidden_ops", "course.grading:best_time")


class GradingError(AssertionError):
    """A check failed; the message says what is wrong."""


def _fail(msg):
    raise GradingError(msg)


def _as_tensor(value, name):
    if isinstance(value, torch.Tensor):
        return value.detach().cpu()
    if isinstance(value, np.ndarray):
        return torch.from_numpy(value)
    _fail(f"{name}: expected a torch.Tensor, got {type(value).__name__}"
          + (" (did you forget a return statement?)" if value is None else ""))


def check_shape(actual, shape, name="result"):
    """``actual`` (a tensor / array) has exactly ``shape``."""
    got = tuple(_as_tensor(actual, name).shape)
    want = tuple(shape)
    if got != want:
        hint = ""
        if len(got) != len(want):
            hint = f" ({len(got)} dimensions instead of {len(want)}; NCHW is N x C x H x W)"
        elif sorted(got) == sorted(want):
            hint = " (same sizes in another order: check which axis is which)"
        _fail(f"{name}: shape {got} but expected {want}{hint}")


def check_dtype(actual, dtype, name="result"):
    got = _as_tensor(actual, name).dtype
    want = dtype if isinstance(dtype, torch.dtype) else _as_tensor(dtype, "expected").dtype
    if got != want:
        _fail(f"{name}: dtype {got} but expected {want} (keep the input's dtype: "
              "create new tensors with dtype=x.dtype or torch.zeros_like)")


def check_tensor(actual, expected, name="result", atol=1e-5, rtol=1e-4, dtype=True):
    """Same type, shape, dtype (unless ``dtype=False``) and values as ``expected``."""
    want = _as_tensor(expected, "expected")
    got = _as_tensor(actual, name)
    check_shape(got, want.shape, name)
    if dtype:
        check_dtype(got, want.dtype, name)
    if want.dtype == torch.bool or not want.is_floating_point():
        bad = got.to(want.dtype) != want
    else:
        bad = ~torch.isclose(got.to(want.dtype), want, rtol=rtol, atol=atol, equal_nan=True)
    if bool(bad.any()):
        where = tuple(int(i) for i in bad.nonzero()[0])
        diff = (got.double() - want.double()).abs().max().item()
        _fail(f"{name}: {int(bad.sum())} of {bad.numel()} values are wrong; first at index "
              f"{where}: got {got[where].item():.6g}, expected {want[where].item():.6g} "
              f"(largest difference {diff:.3g})")


def check_value(actual, expected, name="result", tol=0.0):
    """A number (or a tuple / list of numbers) equals ``expected`` (within ``tol``)."""
    if isinstance(expected, (tuple, list)):
        if not isinstance(actual, (tuple, list)) or len(actual) != len(expected):
            _fail(f"{name}: expected a sequence of {len(expected)} values like {expected!r}, "
                  f"got {actual!r}")
        for i, (a, e) in enumerate(zip(actual, expected)):
            check_value(a, e, f"{name}[{i}]", tol)
        return
    if isinstance(actual, torch.Tensor) and actual.numel() == 1:
        actual = actual.item()
    if isinstance(expected, int) and not isinstance(expected, bool):
        if not isinstance(actual, (int, np.integer)) or isinstance(actual, bool):
            _fail(f"{name}: expected an int ({expected}), got {type(actual).__name__} {actual!r}"
                  " (use // for floor division)")
    if not isinstance(actual, (int, float, np.integer, np.floating)):
        _fail(f"{name}: expected a number, got {type(actual).__name__} {actual!r}")
    if abs(float(actual) - float(expected)) > tol:
        _fail(f"{name}: got {actual!r}, expected {expected!r}")


def check_true(condition, message):
    """``assert condition, message`` that survives ``python -O``."""
    if not condition:
        _fail(message)


# ---------------------------------------------------------------- padding diagnosis
def _reference_pads(x, p):
    """The five padding modes of the course for a 2-D tensor, with numpy's names."""
    arr = x.double().numpy()
    pads = [(0, 0)] * (arr.ndim - 2) + [(p, p), (p, p)]
    return {"zero": np.pad(arr, pads, mode="constant"), "replicate": np.pad(arr, pads, mode="edge"),
            "reflect": np.pad(arr, pads, mode="reflect"),
            "symmetric": np.pad(arr, pads, mode="symmetric"),
            "circular": np.pad(arr, pads, mode="wrap")}


def check_padding(actual, x, p, mode, name=None):
    """``actual`` is ``x`` padded by ``p`` in ``mode``; else say which mode it looks like."""
    name = name or f"pad2d(x, {p}, {mode!r})"
    x = _as_tensor(x, "x")
    refs = _reference_pads(x, p)
    got = _as_tensor(actual, name)
    check_shape(got, refs[mode].shape, name)
    if not np.allclose(got.double().numpy(), refs[mode]):
        looks = [m for m, r in refs.items() if m != mode and np.allclose(got.double().numpy(), r)]
        if looks:
            _fail(f"{name}: this is {looks[0]} padding, not {mode}"
                  + (" (reflect mirrors around the edge pixel, symmetric repeats it)"
                     if {mode, looks[0]} == {"reflect", "symmetric"} else ""))
    check_tensor(got, torch.from_numpy(refs[mode]).to(x.dtype), name)


# ---------------------------------------------------------------- forbidden calls
class _OpRecorder(TorchDispatchMode):
    """Records the aten ops a piece of code reaches, whatever alias it used to get there."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        name = func.overloadpacket.__name__
        if name in FORBIDDEN_OPS and name not in self.seen:
            self.seen.append(name)
        return func(*args, **(kwargs or {}))


def forbidden_ops(fn, *args, **kwargs):
    """Run ``fn(*args, **kwargs)``; return ``(result, names of forbidden ops it used)``."""
    remote = getattr(type(fn), "__sandbox_apply__", None)
    if remote is not None:  # a proxy of the sandboxed grader: run the check where fn runs
        return remote(fn, "course.grading:forbidden_ops", *args, **kwargs)
    with _OpRecorder() as rec:
        result = fn(*args, **kwargs)
    return result, list(rec.seen)


def assert_no_forbidden(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` if it uses no convolution / unfold op; fails otherwise."""
    result, seen = forbidden_ops(fn, *args, **kwargs)
    if seen:
        name = getattr(fn, "__name__", "this function")
        _fail(f"{name} reached {', '.join(seen)}: {FORBIDDEN_HELP}. No points for {name}.")
    return result


# ---------------------------------------------------------------- timing and gradients
def best_time(fn, *args, repeat=3, **kwargs):
    """Shortest wall time of ``repeat`` calls (the least disturbed by other processes)."""
    remote = getattr(type(fn), "__sandbox_apply__", None)
    if remote is not None:  # time it where it runs, without the proxy's round trips
        return remote(fn, "course.grading:best_time", *args, repeat=repeat, **kwargs)
    best = math.inf
    for _ in range(repeat):
        start = time.perf_counter()
        fn(*args, **kwargs)
        best = min(best, time.perf_counter() - start)
    return best


def numerical_grad(f, x, eps=1e-6):
    """Central-difference gradient of the scalar ``f(x)`` with respect to ``x`` (float64)."""
    x = x.detach().double().clone()
    grad = torch.zeros_like(x)
    flat, gflat = x.view(-1), grad.view(-1)
    for i in range(flat.numel()):
        old = flat[i].item()
        flat[i] = old + eps
        up = float(f(x))
        flat[i] = old - eps
        down = float(f(x))
        flat[i] = old
        gflat[i] = (up - down) / (2 * eps)
    return grad


def check_grad(actual, expected, name="gradient", atol=1e-6, rtol=1e-4):
    """A gradient equals the reference; the message says whether it is off by a factor."""
    got, want = _as_tensor(actual, name), _as_tensor(expected, "expected")
    check_shape(got, want.shape, name)
    if not torch.allclose(got.double(), want.double(), atol=atol, rtol=rtol):
        ratio = (got.double() * want.double()).sum() / (want.double() ** 2).sum().clamp_min(1e-30)
        if ratio.abs() > 1e-3 and torch.allclose(got.double(), ratio * want.double(), atol=atol * 10,
                                                 rtol=rtol * 10):
            _fail(f"{name}: proportional to the right gradient but {ratio.item():.3g} times it")
        check_tensor(got.double(), want.double(), name, atol=atol, rtol=rtol)

