"""Results a lecture computes: shown to the reader, quoted in its prose, read by the tests.

``record("simple_cnn_params", n, "simple_cnn parameters")`` displays ``label: value``,
keeps the value in :data:`RECORDED` and attaches it to the cell output's metadata, so a
test can read every result of an executed notebook without parsing text
(tests/nbrun.py: ``figures(nb)``).

``say("The MLP reaches {mlp_acc:.1%} with {mlp_params:,} parameters.")`` renders a
sentence of prose as Markdown, its numbers filled in from recorded results. Prose that
quotes a result lives in such a cell (tagged ``remove-input`` so the notes site shows only
the text), never typed into a markdown cell: the notebook, the notes site and the text
always agree. The output's metadata lists the names it quoted.
"""
import json
import string

METADATA_KEY = "course_figure"
PROSE_KEY = "course_prose"

#: every value recorded in this kernel, by name (what :func:`say` quotes)
RECORDED: dict = {}


def _plain(value):
    """Make numpy / torch scalars and arrays JSON-friendly."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _format(value):
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.4g}"
    return str(value)


def _display(data: dict, metadata: dict) -> bool:
    """Display rich output in IPython; False outside a kernel."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        return False
    if get_ipython() is None:
        return False
    display(data, raw=True, metadata=metadata)
    return True


def record(name: str, value, label: str | None = None):
    """Show ``label: value`` and tag the output with ``{name: value}``; returns ``value``."""
    plain = _plain(value)
    json.dumps(plain)  # fail early on values a test could not read
    RECORDED[name] = value
    text = f"{label or name}: {_format(value)}"
    if not _display({"text/plain": text}, {METADATA_KEY: {"name": name, "value": plain}}):
        print(text)
    return value


def quoted_names(template: str) -> list[str]:
    """The result names a :func:`say` template quotes, in order."""
    names = []
    for _text, field, _spec, _conv in string.Formatter().parse(template):
        if field is not None:
            names.append(field.split(".")[0].split("[")[0])
    return names


def say(template: str, **values) -> None:
    """Render ``template`` as Markdown with recorded results filled in (returns nothing, so a
    cell ending in ``say(...)`` shows the sentence once).

    ``{name:spec}`` quotes ``RECORDED[name]`` (or a keyword argument of the same name)
    with a format spec, e.g. ``{acc:.1%}``, ``{params:,}``. A name nothing recorded is an
    error that says which one, so prose cannot quote a result the cells did not compute.
    """
    names = quoted_names(template)
    pool = {**RECORDED, **values}
    missing = [n for n in names if n not in pool]
    if missing:
        raise KeyError(f"say() quotes {missing} but no cell recorded them: call "
                       f"course.record(name, value) first (recorded so far: {sorted(RECORDED)})")
    text = template.format(**pool)
    if not _display({"text/markdown": text, "text/plain": text},
                    {PROSE_KEY: {"names": names}}):
        print(text)
