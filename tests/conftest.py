"""Shared test settings: offline, fast mode, and full-mode notebook runs only when asked."""
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/nbrun.py for every test module
os.environ.setdefault("COURSE_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")


def pytest_collection_modifyitems(config, items):
    """Full-mode runs (minutes each) are measured with COURSE_FULL_TESTS=1, not in every `make test`."""
    if os.environ.get("COURSE_FULL_TESTS") == "1":
        return
    skip = pytest.mark.skip(reason="full-mode run: set COURSE_FULL_TESTS=1 (make test-full)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
