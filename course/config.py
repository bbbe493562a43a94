"""Run-time settings read from the environment.

COURSE_FAST=1     shrink data and epochs (tests, quick previews); never changes the code path
COURSE_OFFLINE=1  never touch the network (embedded data only)
COURSE_DATA=DIR   cache folder for downloaded datasets and weights
"""
import os
from pathlib import Path


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def fast(full, quick):
    """Return ``quick`` in fast mode and ``full`` otherwise: ``epochs = fast(5, 1)``."""
    return quick if _flag("COURSE_FAST") else full


def offline() -> bool:
    return _flag("COURSE_OFFLINE")


def data_dir() -> Path:
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "cnn-course"
    path = Path(os.environ.get("COURSE_DATA", default)).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def in_notebook() -> bool:
    """True inside a Jupyter kernel (where widgets and live plots can render)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and shell.__class__.__name__ == "ZMQInteractiveShell"
