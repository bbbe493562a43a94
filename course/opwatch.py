"""Checks that run next to the student's code: forbidden ops, autograd, in-place edits.

Used by ``course.grading`` in-kernel (plain nbgrader) and, through a private copy loaded before
any student code runs, by the sandboxed grader's runner (autograder/PROTOCOL.md, "Rules the
grader enforces"). How a rule is enforced, so that student code cannot switch it off:

* For the length of one checked call, every overload of the forbidden aten ops gets a kernel at
  the dispatcher (``torch.library``, CPU and CompositeImplicitAutograd keys) that records the op
  and raises. That table is global: worker threads, ``_disable_current_modes``,
  ``_DisableTorchDispatch``, ``inference_mode`` and aliases all reach it, and the real kernel
  is not callable from Python while it is replaced.
* Backward rules also wrap the autograd engine, so ``.backward()`` / ``torch.autograd.grad`` /
  ``torch.func`` raise inside the call.
* A canary (a forbidden call made by this trusted code) must be seen before and after the call;
  if not, the report says ``tampered``. An audit hook refuses ``ctypes`` and ``gc`` object
  walks during the call (tampered too), and a process the submission left running is refused.
* Results are copied to plain tensors inside the call, so a lazy tensor subclass cannot do its
  work after the check.

Timing against a trusted reference: course/optiming.py.
"""
import inspect
import os
import re
import sys
import warnings

import numpy as np
import torch

# Private references, taken before any student code runs (the runner loads this file first).
_Library, _Tensor, _make_subclass = torch.library.Library, torch.Tensor, torch.Tensor._make_subclass
_conv2d, _pad, _max_pool2d, _grad = torch.conv2d, torch.constant_pad_nd, torch.max_pool2d, torch.autograd.grad
_has_kernel = torch._C._dispatch_has_kernel_for_dispatch_key
_has_computed = torch._C._dispatch_has_computed_kernel_for_dispatch_key
_all_ops = torch._C._dispatch_get_all_op_names
_Variable = torch.autograd.variable.Variable

# Which aten ops each rule forbids (matched against "name" without "aten::" and overload).
RULES = {
    "conv": r"(\w*_)?conv(?!ert)\w*|thnn_conv2d|im2col|col2im|unfold(_copy|_backward)?",
    "pad": r"constant_pad_nd|(reflection|replication)_pad[123]d(_backward)?|_pad_circular|_pad_enum|pad",
    "pool": r"\w*(max|avg)_pool[123]d\w*|max_unpool[23]d|fractional_max_pool[23]d\w*|_?adaptive_\w+_pool\w*",
    "backward": r"\w+_backward(_\w+)?",
}
# What a student reads when a rule is broken.
RULE_HELP = {
    "conv": "F.conv2d, nn.Conv2d, conv_transpose, torch.nn.grad, F.unfold, nn.Unfold and "
            "Tensor.unfold are not allowed here: write the sliding window yourself",
    "pad": "F.pad, nn.ReflectionPad2d / ReplicationPad2d / ZeroPad2d and torch's other padding "
           "functions are not allowed here: build the padded tensor by indexing",
    "pool": "F.max_pool2d, F.avg_pool2d, nn.MaxPool2d and the other pooling functions are not "
            "allowed here: take the windows yourself",
    "backward": "autograd (.backward(), torch.autograd.grad, torch.func) and PyTorch's backward "
                "functions are not allowed here: compute the gradient yourself",
}
ENGINE_RULES = {"backward"}
# Audit events refused during a checked call; those marked True mean the checks were attacked.
REFUSED_EVENTS = {"ctypes.dlopen": True, "ctypes.dlsym": True, "ctypes.cdata": True,
                  "ctypes.addressof": True, "ctypes.string_at": True, "ctypes.call_function": True,
                  "gc.get_objects": True, "gc.get_referrers": True, "gc.get_referents": True,
                  "sys._current_frames": True, "os.fork": False, "os.forkpty": False,
                  "os.posix_spawn": False, "os.spawn": False, "os.exec": False, "os.system": False,
                  "subprocess.Popen": False}
IN_PID_NAMESPACE = os.environ.get("AUTOGRADER_PID_NAMESPACE") == "1"
MAX_SNAPSHOT = 64 << 20  # bytes of one argument copied to check for in-place edits
TAMPERED = "the grading checks were tampered with"
# Files whose frames student code must not reach (the runner adds its own path).
TRUSTED_FILES = {__file__}


class Forbidden(RuntimeError):
    """Raised by the stand-in kernel of a forbidden op (the student's code may catch it: the
    op is recorded anyway)."""


class InputChanged(AssertionError):
    """A student function changed an argument in place."""


# ---------------------------------------------------------------- op tables
_OP_CACHE = {}


def rule_ops(rule):
    """[(op name with overload, dispatch key)] to replace for ``rule``; computed once."""
    if rule not in _OP_CACHE:
        pattern = re.compile(rf"^aten::({RULES[rule]})(\.\w+)?$")
        found = []
        for name in sorted(_all_ops()):
            if not pattern.match(name):
                continue
            if _has_kernel(name, "CompositeImplicitAutograd"):
                found.append((name[6:], "CompositeImplicitAutograd"))
            elif _has_computed(name, "CPU"):
                found.append((name[6:], "CPU"))
        _OP_CACHE[rule] = found
    return _OP_CACHE[rule]


class _EngineGuard:
    """Stands in for autograd's engine: refuses backward passes inside a checked call."""

    def __init__(self, engine):
        object.__setattr__(self, "_engine", engine)

    def __getattr__(self, name):
        return getattr(object.__getattribute__(self, "_engine"), name)

    def run_backward(self, *args, **kwargs):
        if _ARMED and _ARMED[-1].engine:
            _ARMED[-1].record("autograd engine")
            raise Forbidden("autograd is not allowed here")
        return object.__getattribute__(self, "_engine").run_backward(*args, **kwargs)


_ARMED = []     # the watches of the checked calls in progress (innermost last)
_HOOKED = []    # whether the audit hook and the engine guard are installed


SPAWN_EVENTS = {"os.fork", "os.forkpty", "os.posix_spawn", "os.spawn", "os.exec", "os.system",
                "subprocess.Popen"}
_SPAWNED = []   # process-creation events seen since the hook was installed


_EVIDENCE = []  # student code that reached a frame of this file or of the runner
_IN_HOOK = []
FRAME_EVENTS = {"tb_frame", "gi_frame", "cr_frame", "ag_frame"}


def _trusted_frame_reached(event, args):
    """True when code compiled from a cell ("<...>") got hold of a trusted frame, from whose
    globals it could rewrite the checks."""
    if event == "sys._getframe":
        frame = args[0] if args else None
    elif event == "object.__getattr__" and len(args) > 1 and args[1] in FRAME_EVENTS:
        frame = getattr(args[0], args[1], None)
    else:
        return False
    caller = sys._getframe(2)  # 0: this function, 1: _audit, 2: whoever asked for the frame
    asker = caller.f_code.co_filename
    return (frame is not None and frame.f_code.co_filename in TRUSTED_FILES
            and (asker.startswith("<") or asker == inspect.__file__))


def _audit(event, args):
    if event in SPAWN_EVENTS and not _SPAWNED:
        _SPAWNED.append(event)
    if event in ("sys._getframe", "object.__getattr__") and not _IN_HOOK:
        _IN_HOOK.append(True)
        try:
            if _trusted_frame_reached(event, args) and not _EVIDENCE:
                _EVIDENCE.append(f"answer code reached the grader's own frames ({event})")
        finally:
            _IN_HOOK.clear()
    if not _ARMED or event not in REFUSED_EVENTS:
        return
    watch = _ARMED[-1]
    watch.refused.append(event)
    if REFUSED_EVENTS[event]:  # an attack on the checks: no later check is trusted either
        watch.tampered = watch.tampered or f"{event} inside a checked call"
        if not _EVIDENCE:
            _EVIDENCE.append(f"answer code called {event} inside a checked call")
    raise PermissionError(f"{event} is not allowed inside a function the grader checks")


def _install_hooks():
    if not _HOOKED:
        sys.addaudithook(_audit)
        if type(_Variable._execution_engine) is not _EngineGuard:
            _Variable._execution_engine = _EngineGuard(_Variable._execution_engine)
        _HOOKED.append(True)


class Watch:
    """One armed checked call: the stand-in kernels, what they recorded, tampering seen."""

    def __init__(self, rules):
        self.rules = tuple(rules)
        unknown = [r for r in self.rules if r not in RULES]
        if unknown:
            raise ValueError(f"unknown rule(s) {unknown}; known: {sorted(RULES)}")
        self.engine = any(r in ENGINE_RULES for r in self.rules)
        self.seen, self.refused, self.tampered, self.lib, self.hits = [], [], "", None, 0

    def record(self, name):
        self.hits += 1
        if name not in self.seen:
            self.seen.append(name)

    def _kernel(self, name):
        op = name.split(".")[0]

        def forbidden(*args, **kwargs):
            self.record(op)
            raise Forbidden(f"{op} is not allowed here")
        return forbidden

    def __enter__(self):
        _install_hooks()
        stray = _stray_processes() if _SPAWNED else []
        if stray:  # they could compute what this call returns where no check can see it
            self.tampered = (f"{len(stray)} process(es) started by the submission were running "
                             "during a checked call")
        self.tampered = self.tampered or "".join(_EVIDENCE[:1])
        with warnings.catch_warnings():  # "overriding a previously registered kernel": expected
            warnings.simplefilter("ignore")
            self.lib = _Library("aten", "IMPL")
            for rule in self.rules:
                for name, key in rule_ops(rule):
                    self.lib.impl(name, self._kernel(name), key)
        self._canary("before")
        _ARMED.append(self)
        return self

    def __exit__(self, *exc):
        if _ARMED and _ARMED[-1] is self:
            _ARMED.pop()
        else:
            self.tampered = self.tampered or "the check's state was changed during the call"
            _ARMED[:] = [w for w in _ARMED if w is not self]
        self._canary("after")
        self.lib._destroy()
        return False

    def _canary(self, when):
        """A forbidden call made by this trusted code must be refused and recorded."""
        seen, hits = list(self.seen), self.hits
        _ARMED.append(self)
        try:
            for rule in self.rules:
                before = self.hits
                try:
                    _PROBES[rule]()
                    ok = False
                except Forbidden:
                    ok = self.hits > before
                except Exception:
                    ok = False
                if not ok:
                    self.tampered = self.tampered or f"the {rule} check did not work {when} the call"
        finally:
            _ARMED.pop()
            self.seen[:], self.hits = seen, hits


_PROBES = {"conv": lambda: _conv2d(torch.ones(1, 1, 2, 2), torch.ones(1, 1, 1, 1)),
           "pad": lambda: _pad(torch.ones(1, 2, 2), [1, 1]),
           "pool": lambda: _max_pool2d(torch.ones(1, 1, 2, 2), 2),
           "backward": lambda: _grad(torch.ones(1, requires_grad=True).sum() * 2,
                                     [torch.ones(1, requires_grad=True)], allow_unused=True)}


# ---------------------------------------------------------------- values
def plain(value, depth=0):
    """Tensors and arrays as plain copies of their values (runs a subclass's code now)."""
    if depth > 8:
        return value
    if isinstance(value, _Tensor):
        if type(value) is _Tensor or type(value) is torch.nn.Parameter:
            return value
        return _make_subclass(_Tensor, value.detach().cpu()).clone()
    if isinstance(value, np.ndarray) and type(value) is not np.ndarray:
        return np.array(value)
    if isinstance(value, (list, tuple)):
        items = [plain(v, depth + 1) for v in value]
        return items if isinstance(value, list) else tuple(items)
    if isinstance(value, dict):
        return {k: plain(v, depth + 1) for k, v in dict.items(value)}
    return value


def _arg_names(fn, args, kwargs):
    try:
        bound = inspect.signature(fn).bind_partial(*args, **kwargs)
        names = {id(v): k for k, v in bound.arguments.items()}
    except (TypeError, ValueError):
        names = {}
    labelled = [(names.get(id(v), f"argument {i + 1}"), v) for i, v in enumerate(args)]
    return labelled + [(names.get(id(v), k), v) for k, v in kwargs.items()]


def snapshot(fn, args, kwargs):
    """Copies of the tensor / array arguments (top level, and inside tuples and lists)."""
    saved = []
    for label, value in _arg_names(fn, args, kwargs):
        items = [(label, value)]
        if type(value) in (list, tuple):
            items = [(f"{label}[{i}]", v) for i, v in enumerate(value)]
        for name, item in items:
            if isinstance(item, _Tensor) and item.layout == torch.strided and not item.is_meta \
                    and item.numel() * item.element_size() <= MAX_SNAPSHOT:
                saved.append((name, item, item.detach().clone()))
            elif isinstance(item, np.ndarray) and item.nbytes <= MAX_SNAPSHOT:
                saved.append((name, item, item.copy()))
    return saved


def changed(saved):
    """Names of the arguments whose value, shape or dtype is no longer what it was."""
    out = []
    for name, now, before in saved:
        if isinstance(now, _Tensor):
            now = now.detach()
            same = now.shape == before.shape and now.dtype == before.dtype and (
                torch.equal(now, before) or (now.is_floating_point() and bool(
                    torch.isclose(now, before, rtol=0, atol=0, equal_nan=True).all())))
        else:
            same = now.shape == before.shape and now.dtype == before.dtype and bool(
                np.array_equal(now, before, equal_nan=now.dtype.kind in "fc"))
        if not same:
            out.append(name)
    return out


def check_inputs(fn, saved):
    edited = changed(saved)
    if edited:
        name = getattr(fn, "__name__", "the function")
        raise InputChanged(f"{name} changed its input {', '.join(edited)} in place: leave the "
                           "arguments as they are and return a new tensor (x.clone() first)")


def call_unchanged(fn, args, kwargs):
    """``fn(*args, **kwargs)``; fails if it edited a tensor / array argument in place."""
    saved = snapshot(fn, args, kwargs)
    result = fn(*args, **kwargs)
    check_inputs(fn, saved)
    return result


# ---------------------------------------------------------------- checked calls
def _stray_processes():
    """Processes the submission started that are still alive (they could compute unseen)."""
    me = os.getpid()
    parents = {}
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as handle:
                    stat = handle.read().rsplit(b")", 1)[1].split()
                if stat[0] != b"Z":
                    parents[int(entry)] = int(stat[1])
            except (OSError, IndexError, ValueError):
                continue
    ancestors, pid = set(), me
    while pid in parents and pid not in ancestors:
        ancestors.add(pid)
        pid = parents[pid]
    if IN_PID_NAMESPACE:  # everything in the sandbox that is not the runner or its parents
        return sorted(p for p in parents if p not in ancestors and p != 1)
    children = {me}
    for _ in range(8):
        children |= {p for p, q in parents.items() if q in children}
    # multiprocessing's own helpers (started by any process pool of the host, e.g. a test run
    # or a DataLoader) compute nothing for anyone
    return sorted(p for p in children - {me} if not _is_multiprocessing_helper(p))


def _is_multiprocessing_helper(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            cmdline = handle.read()
    except OSError:
        return False
    return any(helper in cmdline for helper in (b"multiprocessing.resource_tracker",
                                                b"multiprocessing.forkserver"))


def watched_call(fn, args, kwargs, rules=("conv",)):
    """Run ``fn`` with ``rules`` enforced. Returns a plain report:
    {"result", "seen": [forbidden ops reached], "tampered": "" or why, "changed": [args]}."""
    rules = (rules,) if isinstance(rules, str) else tuple(rules)
    saved = snapshot(fn, args, kwargs)
    result, error = None, None
    watch = Watch(rules)
    with watch:
        try:
            result = plain(fn(*args, **kwargs))
        except Exception as exc:  # judged below: a forbidden op explains it, else it is re-raised
            error = exc
    report = {"result": result, "seen": list(watch.seen),
              "tampered": watch.tampered or "".join(_EVIDENCE[:1]), "changed": changed(saved)}
    if error is not None and not (report["seen"] or report["tampered"]):
        raise error
    return report
