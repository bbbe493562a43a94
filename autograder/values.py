"""Safe decoding of what the runner sends, and the handles that stand for its objects.

Nothing here unpickles or executes what the runner sends: replies are JSON plus raw bytes
whose dtype and size are checked (PROTOCOL.md, "Wire format").
"""
import builtins
import re
import sys

from . import runner as wire


class RemoteError(Exception):
    """An exception raised by student code, rebuilt from its name and message only."""

    def __init__(self, info):
        self.remote_type = str(info.get("type", "Exception"))[:200]
        self.remote_msg = str(info.get("msg", ""))[:wire.MAX_TEXT]
        self.remote_tb = str(info.get("tb", ""))[-wire.MAX_TEXT:]
        self.student_location = ""  # set by the connection, which knows the answer cells
        super().__init__(f"{self.remote_type}: {self.remote_msg}" if self.remote_msg else self.remote_type)


_ERROR_CLASSES = {}
_CELL_FRAME = re.compile(r'File "<([^<>"]{1,200})>", line (\d{1,7})')


def student_location(tb, answers):
    """ "your cell conv2d_naive, line 12: out[i] = ..." for the innermost traceback frame in an
    answer cell (the runner compiles each cell as ``<grade_id>``); "" when there is none."""
    found = None
    for match in _CELL_FRAME.finditer(str(tb or "")):
        if match.group(1) in answers:
            found = match
    if found is None:
        return ""
    cell, line = found.group(1), int(found.group(2))
    lines = str(answers.get(cell) or "").splitlines()
    code = lines[line - 1].strip()[:120] if 0 < line <= len(lines) else ""
    return f"your cell {cell}, line {line}" + (f": {code}" if code else "")


def remote_error(info):
    """A RemoteError that also subclasses the first builtin Exception class in the remote MRO."""
    base = None
    for name in info.get("mro", []) if isinstance(info.get("mro"), list) else []:
        cls = getattr(builtins, str(name), None)
        if isinstance(cls, type) and issubclass(cls, Exception) and cls is not Exception:
            base = cls
            break
    if base is None:
        return RemoteError(info)
    if base not in _ERROR_CLASSES:
        _ERROR_CLASSES[base] = type(f"Remote{base.__name__}", (RemoteError, base), {})
    return _ERROR_CLASSES[base](info)


# ------------------------------------------------------------------------- safe decoding
_NP_DTYPE = re.compile(r"^[<>|=][biufc][1-9][0-9]?$")
_TORCH_DTYPES = {"float16", "bfloat16", "float32", "float64", "complex64", "complex128", "bool",
                 "uint8", "int8", "int16", "int32", "int64", "uint16", "uint32", "uint64"}
MAX_DECODE_DEPTH = 80


def decode(node, frames, conn, depth=0):
    if depth > MAX_DECODE_DEPTH:
        raise RemoteError({"type": "ProtocolError", "msg": "value nested too deeply"})
    if node is None or type(node) in (bool, int, float, str):
        return node
    if type(node) is list:
        return [decode(x, frames, conn, depth + 1) for x in node]
    if type(node) is not dict:
        raise RemoteError({"type": "ProtocolError", "msg": "bad value"})
    tag, value = node.get("t"), node.get("v")
    if tag in ("tuple", "set", "frozenset"):
        items = [decode(x, frames, conn, depth + 1) for x in _as_list(value)]
        return {"tuple": tuple, "set": set, "frozenset": frozenset}[tag](items)
    if tag == "dict":
        return {decode(k, frames, conn, depth + 1): decode(v, frames, conn, depth + 1)
                for k, v in (_pair(p) for p in _as_list(value))}
    if tag == "float" and value in ("nan", "inf", "-inf"):
        return float(value)
    if tag == "complex":
        re_, im = _as_list(value)[:2]
        return complex(float(re_), float(im))
    if tag == "bytes":
        return bytes(_frame(frames, node))
    if tag == "slice":
        return slice(*[decode(x, frames, conn, depth + 1) for x in _as_list(value)[:3]])
    if tag == "ellipsis":
        return Ellipsis
    if tag in ("tensor", "size", "dtype", "device"):
        return _decode_torch(tag, node, frames)
    if tag in ("ndarray", "npscalar"):
        return _decode_numpy(tag, node, frames)
    if tag == "handle":
        return RemoteHandle(conn, int(node["h"]), str(node.get("type", "?"))[:300],
                            [str(x)[:300] for x in _as_list(node.get("mro", []))[:32]])
    raise RemoteError({"type": "ProtocolError", "msg": f"unknown value tag {str(tag)[:40]}"})


def _as_list(value):
    if type(value) is not list:
        raise RemoteError({"type": "ProtocolError", "msg": "expected a list"})
    return value


def _pair(item):
    if type(item) is not list or len(item) != 2:
        raise RemoteError({"type": "ProtocolError", "msg": "bad dict item"})
    return item


def _frame(frames, node):
    index = node.get("b")
    if type(index) is not int or not 0 <= index < len(frames):
        raise RemoteError({"type": "ProtocolError", "msg": "bad buffer index"})
    return frames[index]


def _shape(node):
    shape = _as_list(node.get("shape"))
    if len(shape) > 32 or any(type(x) is not int or x < 0 for x in shape):
        raise RemoteError({"type": "ProtocolError", "msg": "bad shape"})
    count = 1
    for x in shape:
        count *= x
    return shape, count


def _decode_torch(tag, node, frames):
    import torch
    if tag == "size":
        return torch.Size([int(x) for x in _as_list(node.get("v")) if type(x) is int])
    if tag == "device":
        return torch.device(str(node.get("v"))[:40])
    name = str(node.get("v") if tag == "dtype" else node.get("dtype"))
    if name not in _TORCH_DTYPES:
        raise RemoteError({"type": "ProtocolError", "msg": f"dtype {name[:40]} not allowed"})
    dtype = getattr(torch, name)
    if tag == "dtype":
        return dtype
    shape, count = _shape(node)
    raw = _frame(frames, node)
    itemsize = torch.empty((), dtype=dtype).element_size()
    if count * itemsize != len(raw):
        raise RemoteError({"type": "ProtocolError", "msg": "tensor size does not match its bytes"})
    flat = torch.frombuffer(bytearray(raw), dtype=dtype) if raw else torch.empty(0, dtype=dtype)
    tensor = flat.reshape(shape)
    grad = node.get("requires_grad") is True and (dtype.is_floating_point or dtype.is_complex)
    if node.get("param") is True:
        return torch.nn.Parameter(tensor, requires_grad=grad)
    return tensor.requires_grad_(grad)


def _decode_numpy(tag, node, frames):
    import numpy as np
    text = str(node.get("dtype"))
    if not _NP_DTYPE.match(text):
        raise RemoteError({"type": "ProtocolError", "msg": f"dtype {text[:40]} not allowed"})
    dtype = np.dtype(text)
    raw = _frame(frames, node)
    if tag == "npscalar":
        if len(raw) != dtype.itemsize:
            raise RemoteError({"type": "ProtocolError", "msg": "scalar size mismatch"})
        return np.frombuffer(raw, dtype=dtype)[0]
    shape, count = _shape(node)
    if count * dtype.itemsize != len(raw):
        raise RemoteError({"type": "ProtocolError", "msg": "array size does not match its bytes"})
    return np.frombuffer(bytearray(raw), dtype=dtype).reshape(shape)


# ------------------------------------------------------------------------- remote handles
_CLASS_MODULES = ("torch", "numpy", "builtins", "collections", "typing")


def _local_class(mro):
    """The most derived class of the remote MRO that the checker already has (never imports)."""
    for dotted in mro:
        for split in range(len(dotted.split(".")) - 1, 0, -1):
            parts = dotted.split(".")
            module, qualname = ".".join(parts[:split]), parts[split:]
            if module.split(".")[0] not in _CLASS_MODULES or module not in sys.modules:
                continue
            obj = sys.modules[module]
            for attr in qualname:
                obj = getattr(obj, attr, None)
            if isinstance(obj, type) and obj is not object:
                return obj
    return None


def _sandbox_helpers():
    try:
        from course.grading import SANDBOX_HELPERS
    except ImportError:
        return ()
    return tuple(SANDBOX_HELPERS)


class RemoteHandle:
    """An object that lives in the runner. Forwards attribute access, calls, len, iteration,
    indexing, ``in``, ``bool``, ``repr`` and ``str``; never ``==``, ordering, hashing or
    arithmetic (identity semantics), so a forged ``__eq__`` earns nothing."""

    __slots__ = ("_ag_conn", "_ag_number", "_ag_type", "_ag_mro")

    def __init__(self, conn, number, type_name, mro):
        for key, value in (("_ag_conn", conn), ("_ag_number", number), ("_ag_type", type_name),
                           ("_ag_mro", mro)):
            object.__setattr__(self, key, value)

    def _ag(self, op, args=None, **extra):
        conn = object.__getattribute__(self, "_ag_conn")
        return conn.request({"op": op, "h": object.__getattribute__(self, "_ag_number"), **extra}, args)

    @property
    def __class__(self):
        return _local_class(object.__getattribute__(self, "_ag_mro")) or RemoteHandle

    def __getattr__(self, name):
        if name.startswith("_ag_"):
            raise AttributeError(name)
        return self._ag("getattr", name=name)

    def __sandbox_apply__(self, helper, *args, **kwargs):
        """Run an allow-listed course helper on this object inside the runner (PROTOCOL.md, R1)."""
        if helper not in _sandbox_helpers():
            raise PermissionError(f"{helper!r} is not in course.grading.SANDBOX_HELPERS")
        return self._ag("apply", (args, kwargs), helper=helper)

    def __setattr__(self, name, value):
        self._ag("setattr", value, name=name)

    def __call__(self, *args, **kwargs):
        return self._ag("call", (args, kwargs))

    def __getitem__(self, key):
        return self._ag("getitem", key)

    def __contains__(self, item):
        return bool(self._ag("contains", item) is True)

    def __len__(self):
        value = self._ag("len")
        if type(value) is not int:
            raise TypeError("len() of a remote object did not return an int")
        return value

    def __bool__(self):
        return self._ag("bool") is True

    def __iter__(self):
        iterator = self._ag("iter")
        return iterator if type(iterator) is RemoteHandle else iter(iterator)

    def __next__(self):
        try:
            return self._ag("next")
        except RemoteError as exc:
            if exc.remote_type == "StopIteration":
                raise StopIteration from None
            raise

    def __repr__(self):
        try:
            return str(self._ag("repr"))
        except RemoteError:
            return f"<remote {object.__getattribute__(self, '_ag_type')}>"

    def __str__(self):
        return str(self._ag("str"))

    __hash__ = object.__hash__
    __eq__ = object.__eq__
