"""`make lab` really starts JupyterLab on lectures/ and prints a URL that answers."""
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

from nbrun import time_limit

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def lab_env(tmp_path, **extra) -> dict:
    """Fresh Jupyter config, runtime, settings and workspace folders (nothing from this machine)."""
    return {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "config"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt"),
            "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "settings"), "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "ws"),
            **extra}


@contextlib.contextmanager
def serve_lab(cwd, env):
    """Run `make lab` in ``cwd``; yields (api(path) -> parsed JSON, everything it printed)."""
    port = free_port()
    proc = subprocess.Popen(["make", "lab", f"PORT={port}"], cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    lines, url = [], None
    try:
        deadline = time.time() + time_limit(180)
        while time.time() < deadline and url is None:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            match = re.search(rf"(http://127\.0\.0\.1:{port}/lab\?token=\w+)", line)
            url = match.group(1) if match else None
        assert url, "no URL printed:\n" + "".join(lines)
        token = url.split("token=")[1]

        def api(path):
            request = urllib.request.Request(f"http://127.0.0.1:{port}{path}",
                                             headers={"Authorization": f"token {token}"})
            for _ in range(60):  # the URL can be printed a moment before the socket accepts
                try:
                    return json.load(urllib.request.urlopen(request, timeout=30))
                except OSError:
                    time.sleep(1)
            raise AssertionError(f"JupyterLab never answered {path}")

        yield api, "".join(lines)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def assert_serves_lectures_without_news(api, lectures: Path):
    served = {item["name"] for item in api("/api/contents")["content"] if item["type"] == "notebook"}
    expected = {p.name for p in lectures.glob("*.ipynb")}
    assert "01_why_convolutions.ipynb" in expected and served == expected, "JupyterLab must open on lectures/"
    # the "official Jupyter news" question is off through the settings overrides (no flag)
    schema = api("/lab/api/settings/@jupyterlab/apputils-extension:notification")["schema"]["properties"]
    assert schema["fetchNews"]["default"] == "false" and schema["checkForUpdates"]["default"] is False


def test_make_lab_serves_the_lectures(tmp_path):
    with serve_lab(ROOT, lab_env(tmp_path)) as (api, output):
        assert "ipywidgets JupyterLab extension: installed" in output
        assert_serves_lectures_without_news(api, ROOT / "lectures")
    assert "news_url" not in (ROOT / "Makefile").read_text()
