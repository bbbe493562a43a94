"""Shared test settings: offline, fast mode, and full-mode notebook runs only when asked."""
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/nbrun.py for every test module
os.environ.setdefault("COURSE_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
# `make test` sets COURSE_THREADS=1 (one thread per xdist worker): torch reads OMP_NUM_THREADS
# when first imported, which happens after this file, so code that never calls fit() (where the
# course sets its thread count) does not spread over every core either.
if os.environ.get("COURSE_THREADS"):
    os.environ.setdefault("OMP_NUM_THREADS", os.environ["COURSE_THREADS"])


def pytest_collection_modifyitems(config, items):
    """Full-mode runs (minutes each) are measured with COURSE_FULL_TESTS=1, not in every `make test`."""
    if os.environ.get("COURSE_FULL_TESTS") == "1":
        return
    skip = pytest.mark.skip(reason="full-mode run: set COURSE_FULL_TESTS=1 (make test-full)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


# One Playwright session per test process: sync_playwright cannot be opened twice in one
# process, and both the JupyterLab tests (tests/browser/) and the notes-site test need it.
@pytest.fixture(scope="session")
def browser_executable():
    from browser.chromium import chromium_path, missing_browser
    reason = missing_browser()
    if reason:
        pytest.skip(reason)
    return chromium_path()


@pytest.fixture(scope="session")
def browser(browser_executable):
    from playwright.sync_api import sync_playwright

    from browser.chromium import launch
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()
