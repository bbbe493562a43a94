"""Checks for the graded problem sets: each failure says what is wrong.

The visible tests of ``assignments/psN`` call these helpers, so a student sees
"shape (2, 3, 6, 6) but expected (2, 3, 5, 5)" or "reflect padding looks like
symmetric padding" instead of a bare ``AssertionError``.

    check_tensor(pad2d(x, 2, "reflect"), expected, "pad2d(x, 2, 'reflect')")
    out = assert_no_forbidden(conv2d_naive, x, w, b)   # F.conv2d / nn.Conv2d / unfold earn nothing

Everything here takes and returns plain values (tensors, arrays, numbers), so the
helpers work both in-kernel (plain ``nbgrader autograde``) and in the sandboxed
grader, where the student's functions are proxies (see autograder/PROTOCOL.md).

Group the checks of a test cell into labelled cases, so that a failure names the case and
says how many passed (the sandboxed grader shows that summary even for hidden cases):

    with cases("conv2d_naive: stride and padding") as case:
        with case("stride 2, padding 1, 5x5 input"):
            check_tensor(call_checked(conv2d_naive, x, w, b, stride=2, padding=1), ref, "conv2d_naive")
"""
import traceback

import numpy as np
import torch

from . import conv_math, optiming, opwatch

# What a student reads when a forbidden call is found, per rule (see course/opwatch.py).
RULE_HELP = opwatch.RULE_HELP
FORBIDDEN_HELP = RULE_HELP["conv"]
# Helpers the sandboxed grader runs next to the student's code (autograder/PROTOCOL.md). The
# runner maps each name to its own private copy, loaded before any student code ran.
SANDBOX_HELPERS = ("course.grading:forbidden_ops", "course.grading:best_time",
                   "course.grading:time_against_reference")
TAMPERED = opwatch.TAMPERED


class GradingError(AssertionError):
    """A check failed; the message says what is wrong."""


class ChecksTampered(BaseException):
    """The checks themselves stopped working during a call (BaseException, so that no
    ``cases`` block or test cell catches it: the whole test cell scores 0)."""

    def __init__(self, detail=""):
        super().__init__(f"{TAMPERED}" + (f" ({detail})" if detail else ""))


def _fail(msg):
    raise GradingError(msg)


# ---------------------------------------------------------------- labelled cases
MAX_CASE_MESSAGE = 400


def _case_message(exc):
    """What a failed case says: the check's message, or the error and where it was raised."""
    if isinstance(exc, AssertionError) and str(exc):
        return str(exc)[:MAX_CASE_MESSAGE]
    remote = getattr(exc, "remote_type", None)  # an error raised by student code in the sandbox
    if remote == "InputChanged":  # the runner's in-place check
        return str(getattr(exc, "remote_msg", exc))[:MAX_CASE_MESSAGE]
    if remote is not None:
        msg = getattr(exc, "remote_msg", "")
        text = f"your code raised {remote}" + (f": {msg}" if msg else "")
        where = getattr(exc, "student_location", "")
        return (text[:MAX_CASE_MESSAGE] + (f" ({where})" if where else ""))
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename != __file__]
    if frames:
        text = text[:MAX_CASE_MESSAGE] + f" (at line {frames[-1].lineno}: {(frames[-1].line or '').strip()[:120]})"
    return text


class CaseFailed(GradingError):
    """Some cases of a ``cases`` block failed; the message is a summary safe to show."""

    def __init__(self, title, passed, failures):
        self.title, self.passed, self.failures = title, passed, failures
        total = passed + len(failures)
        shown = "; ".join(f"{label!r}: {msg}" for label, msg in failures[:3])
        more = f"; and {len(failures) - 3} more" if len(failures) > 3 else ""
        super().__init__(f"{title}: {passed} of {total} cases passed; failed: {shown}{more}")


class cases:  # noqa: N801 (used like a function: ``with cases("title") as case``)
    """A group of labelled checks: every case runs, and leaving the block fails with
    "title: k of n cases passed; failed: 'label': message" if any case failed."""

    def __init__(self, title):
        self.title, self.passed, self.failures = str(title), 0, []

    def __enter__(self):
        return self

    def __call__(self, label):
        return _Case(self, str(label))

    def __exit__(self, kind, exc, tb):
        if kind is not None:  # an error outside any case (e.g. in the test's own setup) propagates
            return False
        if self.failures:
            raise CaseFailed(self.title, self.passed, self.failures)
        if not self.passed:
            _fail(f"{self.title}: no cases ran")
        return False


class _Case:
    def __init__(self, group, label):
        self.group, self.label = group, label

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if kind is None:
            self.group.passed += 1
            return False
        if not issubclass(kind, Exception):  # KeyboardInterrupt, a stopped runner: not a case result
            return False
        self.group.failures.append((self.label, _case_message(exc)))
        return True


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
        if want.is_floating_point:
            hint = ("keep the input's dtype: create new tensors with dtype=x.dtype or "
                    "torch.zeros_like, and watch for float32 buffers filled with float64 values")
        elif want == torch.bool:
            hint = "a mask is a bool tensor: compare (x > 0) instead of converting"
        else:
            hint = (f"integer results such as indices must be {want}: take them from argmax / "
                    f"torch.arange or convert with .to({want}), never through a float tensor")
        _fail(f"{name}: dtype {got} but expected {want} ({hint})")


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
    """The padding modes of the course (``conv_math.PAD_MODES``) of a 2-D tensor, by numpy."""
    arr = x.double().numpy()
    pads = [(0, 0)] * (arr.ndim - 2) + [(p, p), (p, p)]
    return {m: np.pad(arr, pads, mode=conv_math.NUMPY_NAMES[m]) for m in conv_math.PAD_MODES}


def check_padding(actual, x, p, mode, name=None):
    """``actual`` is ``x`` padded by ``p`` in ``mode``; else say which mode it looks like."""
    name = name or f"pad2d(x, {p}, {mode!r})"
    mode = conv_math.canonical_mode(mode)  # the problem set's "zero" is conv_math's "zeros"
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


# ---------------------------------------------------------------- rules and calls
def _rules(forbid):
    return (forbid,) if isinstance(forbid, str) else tuple(forbid)


def _remote(fn):
    """The sandboxed grader's proxies run helpers where the function lives (PROTOCOL.md)."""
    return getattr(type(fn), "__sandbox_apply__", None)


def _name(fn):
    name = getattr(fn, "__name__", None)
    return name if isinstance(name, str) else "this function"


def _judge(fn, report):
    if report.get("tampered"):
        raise ChecksTampered(str(report["tampered"])[:300])
    if report.get("changed"):
        _fail(f"{_name(fn)} changed its input {', '.join(map(str, report['changed']))} in place: "
              "leave the arguments as they are and return a new tensor (x.clone() first)")
    return report


def forbidden_ops(fn, *args, forbid="conv", **kwargs):
    """Run ``fn(*args, **kwargs)`` with the rule(s) ``forbid`` ("conv", "pad", "pool",
    "backward") enforced at the dispatcher; return ``(result, names of forbidden ops it used)``.

    Raises ChecksTampered if the check stopped working, GradingError if ``fn`` changed an
    argument in place."""
    remote = _remote(fn)
    if remote is not None:
        report = remote(fn, "course.grading:forbidden_ops", *args, forbid=forbid, **kwargs)
    else:
        report = opwatch.watched_call(fn, args, kwargs, _rules(forbid))
    report = _judge(fn, report)
    return report["result"], list(report["seen"])


def assert_no_forbidden(fn, *args, forbid="conv", **kwargs):
    """``fn(*args, **kwargs)`` if it keeps the rule(s) ``forbid``; fails otherwise."""
    result, seen = forbidden_ops(fn, *args, forbid=forbid, **kwargs)
    if seen:
        name = _name(fn)
        helps = "; ".join(RULE_HELP[r] for r in _rules(forbid))
        _fail(f"{name} reached {', '.join(seen)}: {helps}. No points for {name}.")
    return result


def call_checked(fn, *args, **kwargs):
    """``fn(*args, **kwargs)``, failing if it changed a tensor / array argument in place.

    The sandboxed grader checks every call this way; in-kernel, only calls made through
    this helper (or ``assert_no_forbidden``) are checked, so visible tests use it."""
    if _remote(fn) is not None:  # the runner compares the arguments itself
        return fn(*args, **kwargs)
    saved = opwatch.snapshot(fn, args, kwargs)
    result = fn(*args, **kwargs)
    _judge(fn, {"changed": opwatch.changed(saved)})
    return result


# ---------------------------------------------------------------- timing and gradients
def best_time(fn, *args, repeat=3, forbid=(), **kwargs):
    """Shortest wall time of ``repeat`` calls (the least disturbed by other processes)."""
    remote = _remote(fn)
    if remote is not None:  # time it where it runs, without the proxy's round trips
        return remote(fn, "course.grading:best_time", *args, repeat=repeat, forbid=forbid, **kwargs)
    return optiming.best_time(opwatch, fn, args, kwargs, repeat, _rules(forbid))


def time_against_reference(fn, reference, *args, repeat=5, forbid="conv", **kwargs):
    """``(student seconds, reference seconds)``: best times of ``fn`` and of a trusted
    reference ("conv2d_loops": the instructor's loop convolution, or "conv2d": F.conv2d), timed
    by trusted code, interleaved, on fresh random inputs of the same shape each round, every
    timed result checked. Fails if ``fn`` breaks ``forbid`` or returns wrong results."""
    remote = _remote(fn)
    if remote is not None:
        report = remote(fn, "course.grading:time_against_reference", reference, *args,
                        repeat=repeat, forbid=forbid, **kwargs)
    else:
        report = optiming.time_against_reference(opwatch, fn, reference, args, kwargs, repeat,
                                                 _rules(forbid))
    _judge(fn, report)
    name = _name(fn)
    if report.get("seen"):
        _fail(f"{name} reached {', '.join(report['seen'])} while timed: "
              f"{'; '.join(RULE_HELP[r] for r in _rules(forbid))}. No points for {name}.")
    if report.get("wrong"):
        _fail(f"{name}: {report['wrong']}")
    return float(report["student_s"]), float(report["reference_s"])


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
    g, e = got.double(), want.double()
    if not torch.allclose(g, e, atol=atol, rtol=rtol):
        # "k times the right gradient" only when the nonzero entries are in the same places and
        # there are several of them: a gradient that overwrites instead of accumulating
        # (overlapping max-pool windows, one winner) is not proportional, it misses contributions
        support = e.abs() > atol
        if torch.equal(g.abs() > atol, support) and int(support.sum()) > 1:
            ratio = (g * e).sum() / (e ** 2).sum().clamp_min(1e-30)
            if ratio.abs() > 1e-3 and torch.allclose(g, ratio * e, atol=atol * 10, rtol=rtol * 10):
                _fail(f"{name}: proportional to the right gradient but {ratio.item():.3g} times it")
        elif ((g - e).abs() > atol + rtol * e.abs()).any() and bool(((g != 0) & (e == 0)).sum() == 0):
            missing = int(((g - e).abs() > atol + rtol * e.abs()).sum())
            _fail(f"{name}: {missing} entries are missing contributions (where windows overlap, "
                  "add the gradients up instead of overwriting them)")
        check_tensor(g, e, name, atol=atol, rtol=rtol)

