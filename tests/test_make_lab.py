"""`make lab` really starts JupyterLab on lectures/ and prints a URL that answers."""
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


def test_make_lab_serves_the_lectures(tmp_path):
    port = free_port()
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "config"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt"),
           "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "settings"), "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "ws")}
    proc = subprocess.Popen(["make", "lab", f"PORT={port}"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
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
        output = "".join(lines)
        assert "ipywidgets JupyterLab extension: installed" in output
        token = url.split("token=")[1]
        listing = b""
        for _ in range(60):  # the URL can be printed a moment before the socket accepts
            try:
                listing = urllib.request.urlopen(f"http://127.0.0.1:{port}/api/contents?token={token}",
                                                 timeout=30).read()
                break
            except OSError:
                time.sleep(1)
        served = {item["name"] for item in json.loads(listing)["content"] if item["type"] == "notebook"}
        lectures = {p.name for p in (ROOT / "lectures").glob("*.ipynb")}
        assert "01_why_convolutions.ipynb" in lectures and served == lectures, "JupyterLab must open on lectures/"
        # the "official Jupyter news" question is off through the settings overrides (no flag)
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/lab/api/settings/@jupyterlab/apputils-extension:notification",
            headers={"Authorization": f"token {token}"})
        schema = json.load(urllib.request.urlopen(request, timeout=30))["schema"]["properties"]
        assert schema["fetchNews"]["default"] == "false" and schema["checkForUpdates"]["default"] is False
        assert "news_url" not in (ROOT / "Makefile").read_text()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
