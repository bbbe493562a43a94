"""Figures a lecture computes, shown to the reader and machine-readable for the tests.

``record("simple_cnn_params", n, "simple_cnn parameters")`` displays the value and
attaches it to the cell output's metadata, so a test can read every figure of an
executed notebook without parsing text (see tests/nbrun.py: ``figures(nb)``).
"""
import json

METADATA_KEY = "course_figure"


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


def record(name: str, value, label: str | None = None):
    """Show ``label: value`` and tag the output with ``{name: value}``; returns ``value``."""
    plain = _plain(value)
    json.dumps(plain)  # fail early on values a test could not read
    text = f"{label or name}: {_format(value)}"
    try:
        from IPython import get_ipython
        from IPython.display import display
        if get_ipython() is not None:
            display({"text/plain": text}, raw=True,
                    metadata={METADATA_KEY: {"name": name, "value": plain}})
            return value
    except ImportError:
        pass
    print(text)
    return value
