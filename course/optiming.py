"""Timing that student code cannot forge: best times, and times against a trusted reference.

Every function takes ``ow``, the rule checker (course/opwatch.py): in-kernel the public module,
in the sandboxed runner its private copy (the runner loads this file privately too, before any
student code runs, so the clock and the reference convolutions below are references taken then:
patching ``time.perf_counter`` or ``torch.einsum`` in answer code changes nothing here).
"""
from time import perf_counter

import torch

_conv2d, _pad, _einsum, _zeros = torch.conv2d, torch.constant_pad_nd, torch.einsum, torch.zeros
_randn, _Generator, _Tensor, _allclose = torch.randn, torch.Generator, torch.Tensor, torch.allclose
_getitem, _setitem = torch.Tensor.__getitem__, torch.Tensor.__setitem__
_get_threads, _set_threads = torch.get_num_threads, torch.set_num_threads


def _timed(ow, fn, args, kwargs, rules):
    """(plain result, seconds) of one call, checked by ``rules`` when given: the result is made
    plain inside the timed window, so work left for later is timed (and checked) too."""
    if not rules:
        start = perf_counter()
        result = ow.plain(fn(*args, **kwargs))
        return result, perf_counter() - start
    with ow.Watch(rules) as watch:
        start = perf_counter()
        try:
            result = ow.plain(fn(*args, **kwargs))
        except ow.Forbidden:
            result = None
        elapsed = perf_counter() - start
    watch.tampered = watch.tampered or "".join(ow._EVIDENCE[:1])
    if watch.seen or watch.tampered:
        raise _RuleBroken(watch)
    return result, elapsed


class _RuleBroken(Exception):
    def __init__(self, watch):
        super().__init__(watch.tampered or ", ".join(watch.seen))
        self.watch = watch


def best_time(ow, fn, args, kwargs, repeat=3, rules=()):
    """Shortest wall time of ``repeat`` calls (the least disturbed by other processes)."""
    return min(_timed(ow, fn, args, kwargs, rules)[1] for _ in range(max(1, int(repeat))))


def loop_conv2d(x, w, b=None, stride=1, padding=0, dilation=1, padding_mode="zero"):
    """The instructor's loop-over-output-positions convolution (zero padding): the trusted
    yardstick of ps1's speed rule. Built from references taken before student code ran."""
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    xp = _pad(x, [padding] * 4) if padding else x
    oh = (h + 2 * padding - dilation * (kh - 1) - 1) // stride + 1
    ow = (wd + 2 * padding - dilation * (kw - 1) - 1) // stride + 1
    out = _zeros(n, o, oh, ow, dtype=x.dtype)
    for i in range(oh):
        for j in range(ow):
            top, left = i * stride, j * stride
            window = _getitem(xp, (slice(None), slice(None), slice(top, top + dilation * (kh - 1) + 1, dilation),
                                   slice(left, left + dilation * (kw - 1) + 1, dilation)))
            _setitem(out, (slice(None), slice(None), i, j), _einsum("nchw,ochw->no", window, w))
    return out if b is None else out + _getitem(b, (None, slice(None), None, None))


def fast_conv2d(x, w, b=None, stride=1, padding=0, dilation=1, padding_mode="zero"):
    return _conv2d(x, w, b, stride, padding, dilation)


REFERENCES = {"conv2d_loops": loop_conv2d, "conv2d": fast_conv2d}


def time_against_reference(ow, fn, reference, args, kwargs, repeat=5, rules=("conv",), seed=0):
    """Best times of ``fn`` and of a trusted reference, interleaved, on fresh inputs each round
    (so a cache does not help), every timed result checked against the reference's.

    Returns {"student_s", "reference_s", "seen", "tampered", "wrong"}."""
    ref = REFERENCES[reference]
    generator = _Generator().manual_seed(seed)
    threads = _get_threads()
    _set_threads(1)
    best, best_ref, wrong = float("inf"), float("inf"), ""
    try:
        for _ in range(max(1, int(repeat))):
            x = _randn(args[0].shape, generator=generator, dtype=args[0].dtype)
            call_args = (x, *args[1:])
            try:
                got, seconds = _timed(ow, fn, call_args, kwargs, rules)
            except _RuleBroken as broken:
                return {"student_s": None, "reference_s": None, "seen": broken.watch.seen,
                        "tampered": broken.watch.tampered, "wrong": ""}
            want, ref_seconds = _timed(ow, ref, call_args, kwargs, ())
            best, best_ref = min(best, seconds), min(best_ref, ref_seconds)
            if not (isinstance(got, _Tensor) and got.shape == want.shape
                    and _allclose(got.double(), want.double(), rtol=1e-3, atol=1e-3)):
                wrong = "the timed calls (on fresh random inputs) returned wrong results"
    finally:
        _set_threads(threads)
    return {"student_s": best, "reference_s": best_ref, "seen": [], "tampered": "", "wrong": wrong}
