"""The course package's seams: no import cycle, observers that do not import the trainer."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "course"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_statements(tree: ast.Module):
    """Every import statement, inside functions too: an import deferred to call time is
    still a dependency (``fit`` importing the plot that imports the trainer is a cycle)."""
    return (node for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom)))


def imported_modules(path: Path, known: set[str]) -> set[str]:
    """The course modules that importing ``path`` imports (relative imports resolved)."""
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found = set()
    for node in import_statements(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            # "from course import conv_math" imports the submodule course.conv_math
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        for name in names:
            while name and name not in known:  # course.viz.png.png_bytes -> course.viz.png
                name = name.rpartition(".")[0]
            if name and name != here:
                found.add(name)
    return found


def import_graph() -> dict[str, set[str]]:
    files = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    # (a.b.c also runs a/__init__ and a/b/__init__ first; a package importing its own
    # submodules is not a cycle, so only written imports are edges)
    return {name: imported_modules(path, set(files)) for name, path in files.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle (as a path a -> b -> ... -> a), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    path: list[str] = []

    def visit(node):
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def reachable_from(graph, start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in graph.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_the_checker_sees_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
    graph = import_graph()
    assert "course.callbacks" in graph["course.train"]           # absolute import
    assert "course.models.lenet" in graph["course.models"]       # relative import
    assert "course.conv_math" in graph["course.viz.matrices"]    # from course import conv_math


def test_no_import_cycle_in_the_course_package():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_observers_and_the_trainer_do_not_import_each_other():
    graph = import_graph()
    for observer in ("course.progress", "course.viz.training"):
        assert not {"course.train", "course.trainer"} & reachable_from(graph, observer), observer
    # History.plot() draws the record when a lecture asks for it: that edge is the record's, not the loop's
    loop = {**graph, "course.history": graph["course.history"] - {"course.viz.training"}}
    assert not {"course.progress", "course.viz.training", "course.train"} & reachable_from(loop, "course.trainer")
    assert reachable_from(graph, "course.callbacks") == set()  # the base imports nothing of ours


# Each helper once: the primitive behind each job appears in one module of course/ only.
ONE_HOME = {
    "savefig(": "course/viz/png.py",                      # figure -> PNG
    "register_forward_hook": "course/hooks.py",           # forward hooks
    "def count_parameters": "course/complexity.py",       # parameter count
    "urlopen(": "course/network.py",                      # "is the server there?"
    '"wrap"': "course/conv_math.py",                      # the padding-mode table
    "jump *=": "course/conv_math.py",                     # the receptive-field recurrence
    "self._busy = ": "course/widgets/base.py",             # the explorers' re-entrancy guard
    "def warning_html": "course/widgets/base.py",
}


def test_each_helper_has_one_home():
    sources = {p.relative_to(ROOT).as_posix(): p.read_text() for p in PACKAGE.rglob("*.py")}
    for needle, home in ONE_HOME.items():
        found = sorted(path for path, text in sources.items() if needle in text)
        assert found == [home], f"{needle!r} is in {found}, expected only in {home}"


def test_png_bytes_uses_one_dpi():
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from course.viz.png import DPI, png_bytes
    png = png_bytes(Figure(figsize=(2, 1)), close=False, tight=False)
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")  # IHDR
    assert png[:4] == b"\x89PNG" and (width, height) == (2 * DPI, DPI)
