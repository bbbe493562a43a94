"""Real-browser fixtures: a JupyterLab server on a free loopback port and a Playwright page.

The browser is Debian's chromium (``apt-get install -y chromium``) driven by Playwright for
Python; ``playwright install`` is never used (it downloads a browser build, which fails offline).
Where no browser is there the tests are skipped with the reason printed (pytest -ra).

JupyterLab starts with fresh settings, config, workspace and runtime folders in a temp dir,
like a student's first ``make lab``, and with COURSE_FAST=1 / COURSE_OFFLINE=1 so that
"Run All Cells" of a lecture takes seconds, not minutes.
"""
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from .lab import Lab

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "build" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-dev-shm-usage"]

pytestmark = pytest.mark.browser


def chromium_path() -> str | None:
    """Debian's chromium (or COURSE_CHROMIUM), never a Playwright-downloaded build."""
    wanted = os.environ.get("COURSE_CHROMIUM")
    for candidate in (wanted, "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _lab_settings(settings_dir: Path):
    """Only one non-default setting: every cell stays in the DOM.

    JupyterLab 4 detaches cells scrolled out of view (notebook windowing); a test that looks for
    "Error displaying widget" in the whole notebook must see every cell.
    """
    tracker = settings_dir / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True, exist_ok=True)
    tracker.write_text(json.dumps({"windowingMode": "none"}))


def _wait_until_up(url: str, proc: subprocess.Popen, log: Path, timeout: float = 120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"JupyterLab exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"JupyterLab did not answer in {timeout}s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def browser_executable():
    path = chromium_path()
    if path is None:
        pytest.skip("no chromium at /usr/bin/chromium: install it with `apt-get install -y chromium`")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("Playwright for Python is not installed (pip install playwright)")
    return path


@pytest.fixture(scope="session")
def lab_server(tmp_path_factory, browser_executable):
    """A JupyterLab server on 127.0.0.1 serving the repository; yields its base URL and token."""
    home = tmp_path_factory.mktemp("lab")
    dirs = {name: home / name for name in ("config", "settings", "workspaces", "runtime", "ipython")}
    for path in dirs.values():
        path.mkdir()
    _lab_settings(dirs["settings"])
    env = dict(os.environ,
               JUPYTER_CONFIG_DIR=str(dirs["config"]),
               JUPYTERLAB_SETTINGS_DIR=str(dirs["settings"]),
               JUPYTERLAB_WORKSPACES_DIR=str(dirs["workspaces"]),
               JUPYTER_RUNTIME_DIR=str(dirs["runtime"]),
               IPYTHONDIR=str(dirs["ipython"]),
               COURSE_FAST="1", COURSE_OFFLINE="1",
               PYDEVD_DISABLE_FILE_VALIDATION="1")
    env.pop("MPLBACKEND", None)  # the kernel's inline backend, as for a student
    port, token = _free_port(), secrets.token_hex(16)
    log = home / "lab.log"
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
           f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={ROOT}",
           "--LabApp.expose_app_in_browser=True"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # CI and containers run as root
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(f"{base}/api/status?token={token}", proc, log)
        yield {"url": base, "token": token, "log": log}
    finally:
        proc.terminate()  # the server shuts its kernels down on SIGTERM
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def browser(browser_executable):
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=browser_executable,
                                              headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh browser tab, 1400x1000, whose console errors are kept in ``page.console_errors``."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    tab.console_errors = []
    tab.on("console", lambda msg: msg.type == "error" and tab.console_errors.append(msg.text))
    yield tab
    context.close()


@pytest.fixture
def lab(page, lab_server):
    """A JupyterLab session in ``page``; see tests/browser/lab.py."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return Lab(page, lab_server["url"], lab_server["token"], SCREENSHOTS)
