"""JupyterLab as `make lab` sets it up: no "official Jupyter news" question on a first start.

The question is switched off by the settings overrides that the Makefile's kernel step copies
from config/jupyterlab-overrides.json into the environment (share/jupyter/lab/settings/), not
by a command-line flag, so a plain `jupyter lab` in the environment behaves the same.
"""
import json
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from .conftest import ROOT, SCREENSHOTS, running_lab
from .lab import Lab
from nbrun import time_limit

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

PLUGIN = "@jupyterlab/apputils-extension:notification"
OVERRIDES = Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
FIXTURE = "tests/fixtures/mini_explorer.ipynb"
ASKS_WITHIN_S = 5  # measured: the question shows within a second of the page (fresh settings folder)


def settings(server) -> dict:
    """The plugin's settings in force: the schema's defaults (where JupyterLab applies the
    overrides) under the user's own settings (none in a fresh settings folder)."""
    request = urllib.request.Request(f"{server['url']}/lab/api/settings/{PLUGIN}",
                                     headers={"Authorization": f"token {server['token']}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        data = json.load(response)
    defaults = {key: spec.get("default") for key, spec in data["schema"]["properties"].items()}
    return {**defaults, **(data.get("settings") or {})}


def open_lab(page, server) -> Lab:
    lab = Lab(page, server["url"], server["token"], SCREENSHOTS)
    lab.page.goto(f"{server['url']}/lab/tree/{FIXTURE}?reset&token={server['token']}")
    lab.page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget",
                               timeout=90_000)
    return lab


def test_the_environment_carries_the_overrides():
    assert OVERRIDES.exists(), f"{OVERRIDES} is missing: run `make kernel` (make lab and make test do)"
    installed = json.loads(OVERRIDES.read_text())
    assert installed == json.loads((ROOT / "config" / "jupyterlab-overrides.json").read_text())
    assert installed[PLUGIN]["fetchNews"] == "false"


def test_without_the_overrides_the_question_is_asked(page, tmp_path, browser_executable):
    """The canary: the toast this module looks for really shows when nothing switches it off."""
    bare = tmp_path / "no-overrides"
    bare.mkdir()
    with running_lab(tmp_path / "lab", [f"--LabApp.app_settings_dir={bare}"]) as server:
        assert settings(server)["fetchNews"] == "none"  # JupyterLab's default: ask
        lab = open_lab(page, server)
        start = time.monotonic()
        lab.news_toast().first.wait_for(timeout=time_limit(ASKS_WITHIN_S) * 1000)
        lab.screenshot("news_question_without_overrides")
        print(f"news question shown {time.monotonic() - start:.1f} s after the page")


def test_make_lab_settings_ask_no_news_question(lab_server, page):
    assert settings(lab_server)["fetchNews"] == "false"
    lab = open_lab(page, lab_server)
    lab.page.locator(".jp-NotebookPanel .jp-Cell").first.wait_for(timeout=90_000)
    lab.page.wait_for_timeout(time_limit(ASKS_WITHIN_S) * 1000)  # as long as the canary gives the question
    lab.screenshot("no_news_question")
    assert lab.news_toast().count() == 0, "JupyterLab asks about official Jupyter news"
