"""Debian's chromium for Playwright: where it is and how to launch it (never `playwright install`)."""
import os
import shutil
from pathlib import Path

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-dev-shm-usage"]
INSTALL_HINT = "install it with `apt-get install -y chromium` (Debian) and `pip install playwright`"


def chromium_path() -> str | None:
    """COURSE_CHROMIUM, /usr/bin/chromium or chromium on PATH; None when there is none."""
    for candidate in (os.environ.get("COURSE_CHROMIUM"), "/usr/bin/chromium",
                      shutil.which("chromium")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def missing_browser() -> str | None:
    """Why no real browser can run here, or None when one can."""
    if chromium_path() is None:
        return f"no chromium browser: {INSTALL_HINT}"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return f"Playwright for Python is missing: {INSTALL_HINT}"
    return None


def launch(playwright):
    return playwright.chromium.launch(executable_path=chromium_path(), headless=True,
                                      args=CHROMIUM_ARGS)
