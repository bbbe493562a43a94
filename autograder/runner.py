"""Student side of the grading proxy: runs untrusted code inside the sandbox.

Started as ``python -I runner.py REQUEST_FD REPLY_FD`` (two inherited pipe ends); the student's
stdout / stderr are fds 1 / 2, a pipe the checker counts and caps. The file is self-contained
(standard library only at import time) because the sandbox sees only this file, not the
``autograder`` package. Replies never use pickle: see PROTOCOL.md, "Wire format".
"""
import builtins
import json
import os
import pickle
import struct
import sys
import traceback
import types

REQUEST_FD, REPLY_FD = 3, 4
MAX_FRAME = 256 << 20          # no single frame over 256 MiB, either direction
MAX_REPLY = 64 << 20           # a reply bigger than this is an error, not a transfer
MAX_DEPTH = 64
MAX_TEXT = 20_000
_HEADER = struct.Struct(">Q")
MAIN_PID = None
# The runner's own code keeps the real builtins even if the student patches the builtins module.
(len, isinstance, type, int, str, bytes, list, dict, tuple, set, frozenset, float, bool, id,
 iter, next, repr, getattr, setattr, min, range, enumerate, any, all, sorted, print, exec,
 compile) = (builtins.len, builtins.isinstance, builtins.type, builtins.int, builtins.str,
             builtins.bytes, builtins.list, builtins.dict, builtins.tuple, builtins.set,
             builtins.frozenset, builtins.float, builtins.bool, builtins.id, builtins.iter,
             builtins.next, builtins.repr, builtins.getattr, builtins.setattr, builtins.min,
             builtins.range, builtins.enumerate, builtins.any, builtins.all, builtins.sorted,
             builtins.print, builtins.exec, builtins.compile)


# ---------------------------------------------------------------- framing (shared with checker)
def read_exact(fd, n):
    chunks, left = [], n
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError("pipe closed")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_frame(fd, limit=MAX_FRAME):
    (size,) = _HEADER.unpack(read_exact(fd, _HEADER.size))
    if size > limit:
        raise ValueError(f"frame of {size} bytes exceeds the {limit} byte limit")
    return read_exact(fd, size)


def write_frames(fd, frames):
    for frame in frames:
        data = memoryview(_HEADER.pack(len(frame)) + bytes(frame))
        while data:
            data = data[os.write(fd, data):]


def read_message(fd, limit=MAX_FRAME):
    """One JSON frame plus the raw frames it announces."""
    head = json.loads(read_frame(fd, limit))
    nbufs = head.get("nbufs", 0) if isinstance(head, dict) else 0
    if not isinstance(nbufs, int) or not 0 <= nbufs <= 100_000:
        raise ValueError("bad buffer count")
    return head, [read_frame(fd, limit) for _ in range(nbufs)]


# ---------------------------------------------------------------- safe encoding (runner side)
class Encoder:
    """Turn a student value into a JSON tree + raw buffers; unknown objects become handles."""

    NUMERIC_KINDS = set("biufc")

    def __init__(self, table):
        self.table = table
        self.bufs = []
        self.size = 0

    def _buf(self, data):
        self.size += len(data)
        if self.size > MAX_REPLY:
            raise MemoryError(f"result larger than {MAX_REPLY >> 20} MiB")
        self.bufs.append(data)
        return len(self.bufs) - 1

    def encode(self, obj, depth=0):
        if depth > MAX_DEPTH:
            return self.table.handle(obj)
        if obj is None or type(obj) is bool:
            return obj
        if isinstance(obj, str):
            return str.__getitem__(obj, slice(None))  # a plain str even for a subclass
        if isinstance(obj, int):
            return int.__index__(obj)
        if isinstance(obj, float):
            value = float.__float__(obj)
            if value != value or value in (float("inf"), float("-inf")):
                return {"t": "float", "v": repr(value)}
            return value
        if isinstance(obj, complex):
            return {"t": "complex", "v": [self.encode(obj.real), self.encode(obj.imag)]}
        if isinstance(obj, (bytes, bytearray)):
            return {"t": "bytes", "b": self._buf(bytes(obj))}
        special = self._numeric(obj)  # before the containers: torch.Size is a tuple
        if special is not None:
            return special
        if isinstance(obj, (list, tuple, set, frozenset)):
            kind = {list: "list", tuple: "tuple", set: "set", frozenset: "frozenset"}
            tag = next(name for cls, name in kind.items() if isinstance(obj, cls))
            items = [self.encode(item, depth + 1) for item in list(obj)]
            return items if tag == "list" else {"t": tag, "v": items}
        if isinstance(obj, dict):
            return {"t": "dict", "v": [[self.encode(k, depth + 1), self.encode(v, depth + 1)]
                                       for k, v in list(dict.items(obj))]}
        if isinstance(obj, slice):
            return {"t": "slice", "v": [self.encode(x, depth + 1) for x in (obj.start, obj.stop, obj.step)]}
        if obj is Ellipsis:
            return {"t": "ellipsis"}
        return self.table.handle(obj)

    def _numeric(self, obj):
        torch = sys.modules.get("torch")
        if torch is not None:
            if isinstance(obj, torch.Size):
                return {"t": "size", "v": [int(x) for x in obj]}
            if isinstance(obj, torch.dtype):
                return {"t": "dtype", "v": str(obj).replace("torch.", "")}
            if isinstance(obj, torch.device):
                return {"t": "device", "v": str(obj)}
            if isinstance(obj, torch.Tensor):
                return self._tensor(torch, obj)
        np = sys.modules.get("numpy")
        if np is not None:
            if isinstance(obj, np.ndarray) and obj.dtype.kind in self.NUMERIC_KINDS:
                arr = np.ascontiguousarray(np.asarray(obj))
                return {"t": "ndarray", "dtype": arr.dtype.str, "shape": list(arr.shape),
                        "b": self._buf(arr.tobytes())}
            if isinstance(obj, np.generic) and obj.dtype.kind in self.NUMERIC_KINDS:
                return {"t": "npscalar", "dtype": obj.dtype.str, "b": self._buf(obj.tobytes())}
        return None

    def _tensor(self, torch, obj):
        if obj.layout != torch.strided or obj.is_meta or obj.is_quantized:
            return None
        plain = torch.Tensor._make_subclass(torch.Tensor, obj.detach().cpu()).contiguous()
        raw = plain.reshape(-1).view(torch.uint8) if plain.numel() else plain.new_empty(0, dtype=torch.uint8)
        return {"t": "tensor", "dtype": str(plain.dtype).replace("torch.", ""),
                "shape": list(plain.shape), "requires_grad": bool(obj.requires_grad),
                "param": isinstance(obj, torch.nn.Parameter),
                "b": self._buf(raw.numpy().tobytes())}


class HandleTable:
    """Objects the checker refers to by number; the same object keeps the same number."""

    def __init__(self):
        self.objects, self.by_id, self.next = {}, {}, 1

    def handle(self, obj):
        number = self.by_id.get(id(obj))
        if number is None or self.objects.get(number) is not obj:
            number, self.next = self.next, self.next + 1
            self.objects[number], self.by_id[id(obj)] = obj, number
        cls = type(obj)
        mro = [f"{c.__module__}.{c.__qualname__}" for c in getattr(cls, "__mro__", (cls,))]
        return {"t": "handle", "h": number, "type": mro[0], "mro": mro[:32]}

    def get(self, number):
        return self.objects[number]


# ---------------------------------------------------------------- the student namespace
def strip_magics(source):
    """IPython magics and shell escapes are not Python; they do nothing here."""
    lines = []
    for line in source.splitlines():
        stripped = line.lstrip()
        lines.append(line[: len(line) - len(stripped)] + "pass" if stripped[:1] in ("%", "!") else line)
    return "\n".join(lines)


class Session:
    def __init__(self, guard=None):
        # The student's namespace is ``__main__`` (as in a notebook): the runner's own module
        # leaves sys.modules, so answer code cannot reach its functions by import.
        main_module = types.ModuleType("__main__")
        sys.modules["__main__"] = main_module
        self.ns = main_module.__dict__
        self.ns["__builtins__"] = builtins
        self.table = HandleTable()
        self.exported = []
        self.guard = guard

    def run_cell(self, source, name, export=True):
        before = {k: id(v) for k, v in self.ns.items()}
        error = None
        try:
            exec(compile(strip_magics(source), f"<{name}>", "exec"), self.ns)
        except BaseException as exc:  # SystemExit and KeyboardInterrupt included: a cell error
            error = describe(exc)
        for key, value in list(self.ns.items()):
            if key.startswith("__") or (key in before and before[key] == id(value)):
                continue
            if export and key not in self.exported:
                self.exported.append(key)
        self.exported = [k for k in self.exported if k in self.ns]
        return {"error": error, "names": list(self.exported)}


def describe(exc):
    mro = [c.__name__ for c in type(exc).__mro__]
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    try:
        msg = str(exc)
    except BaseException:
        msg = "<unprintable>"
    return {"type": type(exc).__name__, "mro": mro, "msg": msg[:MAX_TEXT], "tb": text[-MAX_TEXT:]}


class ArgUnpickler(pickle.Unpickler):
    """Arguments come from the trusted checker; handles inside them resolve to our objects."""

    def __init__(self, data, table):
        import io
        super().__init__(io.BytesIO(data))
        self.table = table

    def persistent_load(self, pid):
        return self.table.get(int(pid))


def handle_request(session, head, frames):
    op, table = head.get("op"), session.table
    args = ArgUnpickler(frames[0], table).load() if frames else None
    if op == "exec":
        out = session.run_cell(str(head["source"]), str(head.get("name", "cell")),
                               bool(head.get("export", True)))
        return {"error": out["error"], "names": out["names"],
                "values": [session.ns[k] for k in out["names"]]}
    if op == "bye":
        return None
    obj = table.get(head["h"]) if "h" in head else None
    if op == "getattr":
        return getattr(obj, head["name"])
    if op == "setattr":
        setattr(obj, head["name"], args)
        return None
    if op == "call":  # every call from a test: an argument changed in place fails it
        if session.guard is None:
            return obj(*args[0], **args[1])
        return session.guard.call_unchanged(obj, args[0], args[1])
    if op == "apply":  # an allow-listed course helper (checked by the checker) applied to obj
        return apply_helper(session.guard, str(head["helper"]), obj, list(args[0]), dict(args[1]))
    if op == "events":  # what the audit hook saw: evidence for the integrity column
        guard = session.guard
        return [] if guard is None else (list(guard._EVIDENCE)
                                         + [f"started a process ({e})" for e in guard._SPAWNED])
    if op == "getitem":
        return obj[args]
    if op == "contains":
        return args in obj
    if op == "len":
        return len(obj)
    if op == "bool":
        return bool(obj)
    if op == "iter":
        return iter(obj)
    if op == "next":
        return next(obj)
    if op in ("repr", "str"):
        return (repr if op == "repr" else str)(obj)[:MAX_TEXT]
    raise ValueError(f"unknown op {op!r}")


def _rules(value):
    return (value,) if isinstance(value, str) else tuple(value or ())


def apply_helper(guard, helper, obj, args, kwargs):
    """The runner's private copy of a course.grading helper (PROTOCOL.md, "Rules the grader
    enforces"): rebinding course.grading or course.opwatch in answer code changes nothing."""
    if guard is None:
        raise RuntimeError("the grader's checks could not be loaded in the sandbox")
    rules = _rules(kwargs.pop("forbid", ()))
    if helper == "course.grading:forbidden_ops":
        return guard.watched_call(obj, args, kwargs, rules or ("conv",))
    if helper == "course.grading:best_time":
        repeat = kwargs.pop("repeat", 3)
        return guard.timing.best_time(guard, obj, args, kwargs, repeat, rules)
    if helper == "course.grading:time_against_reference":
        repeat = kwargs.pop("repeat", 5)
        return guard.timing.time_against_reference(guard, obj, args[0], args[1:], kwargs, repeat, rules)
    raise ValueError(f"unknown helper {helper[:80]!r}")


def _private_module(folder, name):
    import importlib.util
    spec = importlib.util.spec_from_file_location(f"_autograder_{name}", os.path.join(folder, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_guard():
    """course/opwatch.py and course/optiming.py as private modules (never in sys.modules),
    loaded before any student code runs, so that the checks answer code could rebind are not
    the ones applied."""
    import importlib.util
    spec = importlib.util.find_spec("course")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = list(spec.submodule_search_locations)[0]
    guard = _private_module(folder, "opwatch")
    guard.timing = _private_module(folder, "optiming")
    guard.TRUSTED_FILES.update({os.path.abspath(__file__), guard.timing.__file__})
    guard._install_hooks()
    return guard


def encode_name(encoder, value):
    """A name's value by copy when it encodes within the cap, else by handle."""
    mark = (len(encoder.bufs), encoder.size)
    try:
        return encoder.encode(value)
    except BaseException:  # too big, or a student object that fails to convert
        del encoder.bufs[mark[0]:]
        encoder.size = mark[1]
        return encoder.table.handle(value)


def reply(session, value, error=None):
    if os.getpid() != MAIN_PID:  # a process the student forked came back here: it says nothing
        os._exit(0)
    encoder = Encoder(session.table)
    if error is not None:
        body = {"t": "error", **error}
    else:
        try:
            if isinstance(value, dict) and set(value) == {"error", "names", "values"}:
                body = {"t": "cell", "error": value["error"], "names": value["names"],
                        "values": [encode_name(encoder, v) for v in value["values"]]}
            else:
                body = {"t": "value", "v": encoder.encode(value)}
        except BaseException as exc:
            encoder = Encoder(session.table)
            body = {"t": "error", **describe(exc)}
    body["nbufs"] = len(encoder.bufs)
    sys.stdout.flush()
    sys.stderr.flush()
    write_frames(REPLY_FD, [json.dumps(body).encode()] + encoder.bufs)


def main():
    global REQUEST_FD, REPLY_FD, MAIN_PID
    MAIN_PID = os.getpid()
    if len(sys.argv) == 3:
        REQUEST_FD, REPLY_FD = int(sys.argv[1]), int(sys.argv[2])
    for name in filter(None, os.environ.get("AUTOGRADER_PRELOAD", "").split(",")):
        try:  # the course's heavy imports, before the clock of the first cell starts
            __import__(name)
        except ImportError:
            pass
    try:
        guard = load_guard()
    except Exception:  # no torch in this environment: the rule checks report an error
        guard = None
    session = Session(guard)
    write_frames(REPLY_FD, [json.dumps({"t": "ready", "pid": os.getpid(), "nbufs": 0}).encode()])
    while True:
        try:
            head, frames = read_message(REQUEST_FD)
        except EOFError:
            return
        try:
            value = handle_request(session, head, frames)
        except BaseException as exc:  # the student's error, reported; the loop goes on
            reply(session, None, describe(exc))
            continue
        if head.get("op") == "bye":
            return
        reply(session, value)


if __name__ == "__main__":
    main()
