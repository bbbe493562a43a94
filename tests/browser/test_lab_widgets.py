"""The course in a real browser: JupyterLab + chromium, as a student uses it.

Each test opens a notebook in JupyterLab, runs all its cells through the Run menu, moves a
slider of an explorer and checks that the picture and the shape label changed, that no cell
failed and that no widget shows "Error displaying widget". Screenshots go to build/screenshots/.
"""
import shutil
from pathlib import Path

import pytest

from .conftest import ROOT

pytestmark = pytest.mark.browser

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "mini_explorer.ipynb"


def notebook(pattern: str) -> str:
    """The repository-relative path of the one notebook matching ``pattern``."""
    found = sorted(ROOT.glob(pattern))
    if not found:
        pytest.skip(f"{pattern} is not written yet")
    return found[0].relative_to(ROOT).as_posix()


def explore(lab, name: str, marker: str, slider_name: str | None = None, steps: int = 1):
    """Run the notebook's cells, move one slider of the explorer in the cell containing
    ``marker``; returns (cell, before, after) where before/after are (drawn, shapes)."""
    state = lab.run_all()
    assert not lab.errors(), lab.errors()
    lab.screenshot(f"{name}_ran")
    cell = lab.cell_with(marker)
    cell.scroll_into_view_if_needed()
    sliders = lab.sliders(cell)
    assert sliders.count() > 0, f"no slider in the explorer cell of {name}"
    slider = sliders.filter(has_text=slider_name).first if slider_name else sliders.first
    before = (lab.drawn(cell), lab.shapes(lab.widget_text(cell)))
    assert before[0], f"the explorer of {name} draws nothing"
    lab.screenshot(f"{name}_before", cell)
    lab.move_slider(slider, steps)
    drawn = lab.wait_for_change(lambda: lab.drawn(cell), before[0])
    after = (drawn, lab.shapes(lab.widget_text(cell)))
    lab.screenshot(f"{name}_after", cell)
    lab.screenshot(f"{name}_page")
    assert not lab.errors(), lab.errors()
    return state, before, after


def test_mini_explorer_runs_and_redraws(lab):
    """The harness itself, on the tests' own notebook (no course code involved)."""
    target = ROOT / "build" / "browser" / FIXTURE.name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(FIXTURE, target)
    lab.open(target.relative_to(ROOT).as_posix())
    _, before, after = explore(lab, "mini_explorer", "# mini explorer")
    assert before[1] == ["10×10"] and after[1] == ["9×9"]
    assert after[0] != before[0]
