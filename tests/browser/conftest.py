"""Real-browser fixtures: a JupyterLab server on a free loopback port and a Playwright page.

The browser is Debian's chromium (``apt-get install -y chromium``) driven by Playwright for
Python; ``playwright install`` is never used (it downloads a browser build, which fails offline).
Where no browser is there the tests are skipped with the reason printed (pytest -ra).

JupyterLab starts with fresh settings, config, workspace and runtime folders in a temp dir,
like a student's first ``make lab``, and with COURSE_FAST=1 / COURSE_OFFLINE=1 so that
"Run All Cells" of a lecture takes seconds, not minutes.
"""
import contextlib
import json
import os
import secrets
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


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _lab_settings(settings_dir: Path):
    """Two non-default settings.

    - every cell stays in the DOM: JupyterLab 4 detaches cells scrolled out of view (notebook
      windowing), and a test that looks for "Error displaying widget" must see every cell;
    - no autosave: the server serves the shared working tree, and a lecture must never be
      written back with its outputs.
    """
    settings = {"notebook-extension/tracker": {"windowingMode": "none"},
                "docmanager-extension/plugin": {"autosave": False}}
    for name, values in settings.items():
        path = settings_dir / "@jupyterlab" / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


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


@contextlib.contextmanager
def running_lab(home: Path, extra_args=()):
    """A JupyterLab server on a free loopback port serving the repository, with fresh settings,
    config, workspace and runtime folders under ``home``; yields its URL, token and log."""
    dirs = {name: home / name
            for name in ("config", "data", "settings", "workspaces", "runtime", "ipython",
                         "checkpoints")}
    for path in dirs.values():
        path.mkdir(parents=True, exist_ok=True)
    _lab_settings(dirs["settings"])
    env = dict(os.environ,
               JUPYTER_CONFIG_DIR=str(dirs["config"]),
               JUPYTER_DATA_DIR=str(dirs["data"]),
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
           "--LabApp.expose_app_in_browser=True",
           # checkpoints (written when a notebook opens) go to the temp dir, not next to it
           f"--FileCheckpoints.root_dir={dirs['checkpoints']}", *extra_args]
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
def lab_server(tmp_path_factory, browser_executable):
    """The JupyterLab of the tests, as ``make lab`` configures it (the environment's settings
    overrides included); yields its base URL and token."""
    with running_lab(tmp_path_factory.mktemp("lab")) as server:
        yield server


@pytest.fixture
def page(browser):
    """A fresh browser tab (new context: no cookies or storage from other tests), 1400x1000."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    yield context.new_page()
    context.close()


def _shut_down_sessions(url: str, token: str):
    """Close every notebook session (and its kernel) the test opened, through the REST API."""
    headers = {"Authorization": f"token {token}"}
    with urllib.request.urlopen(urllib.request.Request(f"{url}/api/sessions", headers=headers)) as r:
        sessions = json.load(r)
    for session in sessions:
        request = urllib.request.Request(f"{url}/api/sessions/{session['id']}", method="DELETE",
                                         headers=headers)
        urllib.request.urlopen(request).close()


@pytest.fixture
def lab(page, lab_server):
    """A JupyterLab session in ``page``; see tests/browser/lab.py. Kernels are shut down after."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    yield Lab(page, lab_server["url"], lab_server["token"], SCREENSHOTS)
    _shut_down_sessions(lab_server["url"], lab_server["token"])
