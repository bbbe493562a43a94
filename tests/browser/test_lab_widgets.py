"""The course in a real browser: JupyterLab + chromium, as a student uses it.

Each test opens a notebook in JupyterLab, runs all its cells through the Run menu, moves a
slider of an explorer one step and checks that the picture and the shape label changed, that
no cell failed and that no widget shows "Error displaying widget". Screenshots go to
build/screenshots/ (NAME_ran: the page after Run All; NAME_before / NAME_after: the explorer).
"""
import re
import shutil
from pathlib import Path

import pytest

from .conftest import ROOT

# One JupyterLab server per session: keep the module in one xdist worker (--dist loadgroup).
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

INFO_10 = r"layer .*channels"  # "layer conv1: 8 channels, 14 x 14; channel 0: mean ..."
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "mini_explorer.ipynb"

# (lecture, code that creates the explorer, the slider to move, a regex for its shape label)
EXPLORERS = [
    ("03", "ConvolutionExplorer(", "padding", "Output shape"),
    ("04", "PoolingExplorer(", "kernel", "Output shape"),
]


def notebook(pattern: str) -> str:
    """The repository-relative path of the first notebook matching ``pattern``."""
    found = sorted(ROOT.glob(pattern))
    assert found, f"no notebook matches {pattern}"
    return found[0].relative_to(ROOT).as_posix()


def label_line(text: str, pattern: str) -> str:
    """The first line of the explorer's text that matches ``pattern`` (a regex, from its start)."""
    lines = [line.strip() for line in text.splitlines() if re.match(pattern, line.strip())]
    assert lines, f"no line matching {pattern!r} in the explorer:\n{text}"
    return lines[0]


def look(lab, cell, label: str) -> dict:
    text = lab.widget_text(cell)
    return {"drawn": lab.drawn(cell), "label": label_line(text, label)}


def run_to(lab, name: str, marker: str):
    """Run all cells; return the cell containing ``marker``, scrolled into view."""
    lab.run_all()
    assert not lab.errors(), lab.errors()
    lab.screenshot(f"{name}_ran")
    cell = lab.cell_with(marker)
    cell.scroll_into_view_if_needed()
    return cell


def step_slider(lab, cell, name: str, slider_name: str):
    """Move the ``slider_name`` slider one step (down when it is at its maximum)."""
    sliders = lab.sliders(cell).filter(has_text=slider_name)
    assert sliders.count() > 0, f"no {slider_name!r} slider in the explorer of {name}"
    readout = sliders.first.locator(".widget-readout")
    value = readout.inner_text()
    lab.move_slider(sliders.first, 1)
    if readout.inner_text() == value:
        lab.move_slider(sliders.first, 1, key="ArrowLeft")
    assert readout.inner_text() != value, f"the {slider_name} slider of {name} did not move"


def explore(lab, name: str, marker: str, slider_name: str, label: str):
    """Run all cells, then move the ``slider_name`` slider of the explorer made by the cell
    containing ``marker`` by one step; returns what the explorer showed before and after."""
    cell = run_to(lab, name, marker)
    before = look(lab, cell, label)
    assert before["drawn"], f"the explorer of {name} draws nothing"
    lab.screenshot(f"{name}_before", cell)
    step_slider(lab, cell, name, slider_name)
    lab.wait_for_change(lambda: lab.drawn(cell), before["drawn"])
    after = look(lab, cell, label)
    lab.screenshot(f"{name}_after", cell)
    lab.screenshot(f"{name}_page")
    assert not lab.errors(), lab.errors()
    return before, after


def test_mini_explorer_runs_and_redraws(lab):
    """The harness itself, on the tests' own notebook (no course code involved)."""
    target = ROOT / "build" / "browser" / FIXTURE.name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(FIXTURE, target)
    lab.open(target.relative_to(ROOT).as_posix())
    before, after = explore(lab, "mini_explorer", "# mini explorer", "kernel", "output")
    assert (before["label"], after["label"]) == ("output 10×10", "output 9×9")
    assert after["drawn"] != before["drawn"]
    # and with the mouse: drag the handle to the right end (kernel 6)
    cell = lab.cell_with("# mini explorer")
    lab.drag_slider(lab.sliders(cell).first, 1.0)
    lab.wait_for_change(lambda: lab.drawn(cell), after["drawn"])
    assert look(lab, cell, "output")["label"] == "output 7×7"


@pytest.mark.parametrize("number,marker,slider,label", EXPLORERS, ids=[e[0] for e in EXPLORERS])
def test_lecture_explorer(lab, number, marker, slider, label):
    path = notebook(f"lectures/{number}_*.ipynb")
    stamp = (ROOT / path).stat().st_mtime
    lab.open(path)
    before, after = explore(lab, f"lecture{number}", marker, slider, label)
    assert (ROOT / path).stat().st_mtime == stamp, "JupyterLab wrote the lecture back"
    assert after["drawn"] != before["drawn"], "the picture did not change"
    assert after["label"] != before["label"], f"the shape label stayed {before['label']!r}"
    assert lab.shapes(after["label"]), after["label"]


def test_lecture10_feature_map_explorer(lab):
    """Lecture 10: a deeper layer changes the map's shape, the channel slider the picture."""
    path = notebook("lectures/10_*.ipynb")
    stamp = (ROOT / path).stat().st_mtime
    lab.open(path)
    cell = run_to(lab, "lecture10", "FeatureMapExplorer(")
    first = look(lab, cell, INFO_10)
    assert first["drawn"], "the feature-map explorer draws nothing"
    lab.screenshot("lecture10_before", cell)
    layer = cell.locator(".widget-dropdown", has_text="layer").locator("select")
    names = layer.locator("option").all_inner_texts()
    assert len(names) > 1, names
    current = layer.evaluate("select => select.selectedIndex")
    layer.select_option(index=len(names) - 1 if current != len(names) - 1 else 0)
    lab.wait_until_done(120)
    lab.wait_for_change(lambda: lab.drawn(cell), first["drawn"])
    deeper = look(lab, cell, INFO_10)
    assert deeper["drawn"] != first["drawn"], "another layer, the same picture"
    assert lab.shapes(deeper["label"]) != lab.shapes(first["label"]), deeper["label"]
    step_slider(lab, cell, "lecture10", "channel")
    lab.wait_for_change(lambda: lab.drawn(cell), deeper["drawn"])
    last = look(lab, cell, INFO_10)
    lab.screenshot("lecture10_after", cell)
    lab.screenshot("lecture10_page")
    assert last["drawn"] != deeper["drawn"], "another channel, the same picture"
    assert last["label"] != deeper["label"], "the label does not name the new channel"
    assert not lab.errors(), lab.errors()
    assert (ROOT / path).stat().st_mtime == stamp, "JupyterLab wrote the lecture back"


def test_assignment_has_nbgrader_tools(lab):
    """A student opens a problem set: the nbgrader menu and the Validate button are there, and
    Validate on the unsolved release (a copy: validating saves the notebook) reports failures."""
    path = notebook("assignments/ps1/ps1.ipynb")
    stamp = (ROOT / path).stat().st_mtime
    lab.open(path)
    validate = lab.page.locator(".jp-NotebookPanel-toolbar .validate-button")
    validate.wait_for(timeout=30_000)
    assert "Validate" in validate.inner_text()
    lab.page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").click()
    items = lab.page.locator(".lm-Menu-itemLabel").all_inner_texts()
    lab.screenshot("assignment_nbgrader_menu")
    lab.page.keyboard.press("Escape")
    assert any("Assignment List" in item for item in items), items
    assert (ROOT / path).stat().st_mtime == stamp, "JupyterLab wrote the assignment back"

    copy = ROOT / "build" / "browser" / path
    copy.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / path, copy)
    lab.open(copy.relative_to(ROOT).as_posix())
    lab.page.locator(".jp-NotebookPanel-toolbar .validate-button").click()
    dialog = lab.page.locator(".jp-Dialog")
    dialog.wait_for(timeout=240_000)
    lab.screenshot("assignment_validate")
    text = dialog.inner_text()
    assert "Validation Results" in text, text[:2000]
    assert "failed" in text, "the unsolved release passes validation:\n" + text[:2000]
