"""Integrity flags: answer code that reaches for the grader's internals.

A flag is evidence for the instructor, not a zero: the grade row and the export carry the
list (``integrity``), the score does not change. The source of each answer cell is parsed
(never run); the runner adds what its audit hook saw at run time (``runtime_flags``).

    integrity_flags({"conv2d_naive": "import threading\\n..."})
    -> ["conv2d_naive line 1: starts threads or processes (threading)"]
"""
import ast

# module (or prefix) imported -> what it is evidence of
MODULES = {
    "threading": "starts threads or processes", "_thread": "starts threads or processes",
    "multiprocessing": "starts threads or processes", "subprocess": "starts threads or processes",
    "concurrent": "starts threads or processes", "gc": "walks the interpreter's objects",
    "ctypes": "walks the interpreter's objects", "inspect": "reads interpreter frames",
    "torch._C": "reaches torch dispatch internals", "torch.library": "reaches torch dispatch internals",
    "torch.overrides": "reaches torch dispatch internals",
    "torch.utils._python_dispatch": "reaches torch dispatch internals",
    "course.grading": "imports the grader", "course.opwatch": "imports the grader",
    "autograder": "imports the grader", "builtins": "patches builtins",
    "importlib": "imports modules at run time",
}
# attribute name -> evidence (wherever it appears: sys._getframe, frame.f_back, fn.__globals__)
ATTRIBUTES = {
    "fork": "starts threads or processes", "forkpty": "starts threads or processes",
    "system": "starts threads or processes", "popen": "starts threads or processes",
    "posix_spawn": "starts threads or processes", "spawnv": "starts threads or processes",
    "execv": "starts threads or processes", "execve": "starts threads or processes",
    "_getframe": "reads interpreter frames", "_current_frames": "reads interpreter frames",
    "f_back": "reads interpreter frames", "f_globals": "reads interpreter frames",
    "f_locals": "reads interpreter frames", "f_builtins": "reads interpreter frames",
    "tb_frame": "reads interpreter frames", "gi_frame": "reads interpreter frames",
    "__globals__": "reads interpreter frames", "__code__": "reads interpreter frames",
    "__closure__": "reads interpreter frames", "settrace": "reads interpreter frames",
    "setprofile": "reads interpreter frames", "modules": "edits sys.modules",
    "_C": "reaches torch dispatch internals", "library": "reaches torch dispatch internals",
    "overrides": "reaches torch dispatch internals", "ops": "calls aten operators directly",
    "_python_dispatch": "reaches torch dispatch internals",
    "_disable_current_modes": "reaches torch dispatch internals",
    "_DisableTorchDispatch": "reaches torch dispatch internals",
    "__builtins__": "patches builtins", "__subclasses__": "walks the interpreter's objects",
    "audithook": "reaches the grader's audit hook", "addaudithook": "reaches the grader's audit hook",
}
NAMES = {"__builtins__": "patches builtins", "__import__": "imports modules at run time",
         "exec": "runs code built at run time", "eval": "runs code built at run time",
         "compile": "runs code built at run time"}
# Only these objects' attributes count for the short names that are common elsewhere.
OWNERS = {"modules": {"sys"}, "system": {"os"}, "popen": {"os"}, "library": {"torch"}, "ops": {"torch"},
          "overrides": {"torch"}, "_C": {"torch"}, "fork": {"os"}}


def _owner(node):
    value = node.value
    return value.id if isinstance(value, ast.Name) else getattr(value, "attr", None)


def _findings(tree):
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield from _module(alias.name, line)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield from _module(node.module, line)
            for alias in node.names:
                yield from _module(f"{node.module}.{alias.name}", line, exact=True)
        elif isinstance(node, ast.Attribute) and node.attr in ATTRIBUTES:
            owners = OWNERS.get(node.attr)
            if owners is None or _owner(node) in owners:
                yield line, ATTRIBUTES[node.attr], node.attr
        elif isinstance(node, ast.Name) and node.id in NAMES:
            yield line, NAMES[node.id], node.id


def _module(name, line, exact=False):
    for prefix, what in MODULES.items():
        if name == prefix or (not exact and name.startswith(prefix + ".")):
            yield line, what, name
            return


def integrity_flags(answer_sources):
    """Flags for answer cells ``{grade_id: source}`` (or a list of sources): one line per kind
    of evidence and cell, "grade_id line N: what (the name that shows it)"."""
    items = answer_sources.items() if isinstance(answer_sources, dict) else enumerate(answer_sources)
    flags = []
    for cell, source in items:
        try:
            tree = ast.parse(str(source or ""))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        seen = set()
        for line, what, name in sorted(_findings(tree), key=lambda f: f[0]):
            if what not in seen:
                seen.add(what)
                flags.append(f"{cell} line {line}: {what} ({name})")
    return flags


def runtime_flags(events):
    """The runner's audit evidence, as flags (``events``: a list of short strings)."""
    return [f"at run time: {str(e)[:200]}" for e in list(events or [])[:20]]
