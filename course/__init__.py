"""Helper package of the CNN course.

Small modules by concern: ``device``, ``data``, ``train``, ``hooks``, ``viz``,
``widgets``, ``models``, ``grading``. The most used names are re-exported here
lazily so that ``import course`` stays fast and does not import torch until needed.
"""
from importlib import import_module

__version__ = "0.1.0"

_EXPORTS = {
    "pick_device": "course.device",
    "seed_everything": "course.device",
    "set_threads": "course.device",
    "fit": "course.train",
    "evaluate": "course.train",
    "History": "course.train",
    "summary": "course.model_summary",
    "record": "course.results",
    "say": "course.results",
    "fast": "course.config",
}


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'course' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_EXPORTS))
