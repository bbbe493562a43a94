"""What a person does in JupyterLab, as Playwright steps: open, run all, move a slider, look.

State is read from the page's JupyterLab application object (``window.jupyterapp``, exposed by
``--LabApp.expose_app_in_browser``) and from the DOM; actions go through the menus and the mouse
or keyboard, as a student's would.
"""
import re
import time
from pathlib import Path

SHAPE = re.compile(r"\d+\s*[×x]\s*\d+(?:\s*[×x]\s*\d+)*")

# Every code cell of the current notebook: its source, execution count and error outputs.
_CELLS_JS = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  const cells = [];
  const model = panel.content.model;
  for (let i = 0; i < model.cells.length; i++) {
    const cell = model.cells.get(i);
    if (cell.type !== 'code') continue;
    const outputs = cell.outputs.toJSON();
    cells.push({index: i, source: cell.sharedModel.getSource(), count: cell.executionCount,
                errors: outputs.filter(o => o.output_type === 'error')
                               .map(o => o.ename + ': ' + o.evalue)});
  }
  const prompts = [...panel.node.querySelectorAll('.jp-InputPrompt')].map(p => p.textContent);
  return {status: kernel ? kernel.status : 'none', running: prompts.filter(t => t.includes('*')).length,
          cells: cells};
}"""


class Lab:
    def __init__(self, page, url: str, token: str, screenshots: Path):
        self.page, self.url, self.token, self.screenshots = page, url, token, screenshots

    # --- opening ---------------------------------------------------------------------------------
    def open(self, path: str, timeout: float = 90):
        """Open ``path`` (relative to the repository) and wait for its kernel to be idle."""
        self.page.goto(f"{self.url}/lab/tree/{path}?reset&token={self.token}")
        self.page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
                                    " && window.jupyterapp.shell.currentWidget.sessionContext",
                                    timeout=timeout * 1000)
        self.page.locator(".jp-NotebookPanel .jp-Cell").first.wait_for(timeout=timeout * 1000)
        self.wait_for_kernel("idle", timeout)

    def news_toast(self):
        """JupyterLab's "official Jupyter news" question (a toast), if it is shown."""
        return self.page.locator(".Toastify__toast", has_text="Jupyter news")

    def wait_for_kernel(self, status: str, timeout: float = 90):
        self.page.wait_for_function(
            """s => { const c = window.jupyterapp.shell.currentWidget.sessionContext;
                      return c.session && c.session.kernel && c.session.kernel.status === s; }""",
            arg=status, timeout=timeout * 1000)

    # --- running ---------------------------------------------------------------------------------
    def cells(self) -> dict:
        return self.page.evaluate(_CELLS_JS)

    def menu(self, top: str, item: str):
        """Click ``top`` in the menu bar, then ``item`` in its menu."""
        self.page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{top}$")).click()
        self.page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(item)}$")).click()

    def run_all(self, timeout: float = 300) -> dict:
        """Run > Run All Cells, then wait until every code cell ran (or one failed)."""
        self.menu("Run", "Run All Cells")
        return self.wait_until_done(timeout)

    def wait_until_done(self, timeout: float = 300) -> dict:
        deadline, quiet = time.monotonic() + timeout, 0
        while time.monotonic() < deadline:
            state = self.cells()
            code = [c for c in state["cells"] if c["source"].strip()]
            failed = any(c["errors"] for c in code)
            finished = all(c["count"] is not None for c in code) or failed
            quiet = quiet + 1 if (state["status"] == "idle" and not state["running"] and finished) else 0
            if quiet >= 2:  # idle twice in a row: no cell is queued behind a finished one
                return state
            time.sleep(0.5)
        self.screenshot("timeout")
        raise TimeoutError(f"cells still running after {timeout}s: {self.cells()}")

    def errors(self) -> list[str]:
        """Error outputs of the notebook and widgets that failed to display."""
        found = [e for c in self.cells()["cells"] for e in c["errors"]]
        text = self.page.locator("body").inner_text()
        found += [line for line in text.splitlines() if "Error displaying widget" in line]
        return found

    # --- one cell and its widgets ------------------------------------------------------------------
    def cell_with(self, text: str):
        """The DOM cell whose source contains ``text`` (the last one when several do)."""
        matches = [c["index"] for c in self.cells()["cells"] if text in c["source"]]
        assert matches, f"no code cell contains {text!r}"
        return self.page.locator(".jp-Notebook .jp-Cell").nth(matches[-1])

    @staticmethod
    def sliders(cell):
        return cell.locator(".jp-Cell-outputArea .widget-slider:not(.widget-readout)")

    @staticmethod
    def drawn(cell) -> list[str]:
        """What the explorer draws: its images' sources and inline SVG figures."""
        return cell.locator(".jp-Cell-outputArea").evaluate(
            """area => [...area.querySelectorAll('img, svg')]
                       .filter(e => !e.closest('.widget-slider'))
                       .map(e => e.tagName === 'IMG' ? e.src : e.outerHTML)""")

    @staticmethod
    def widget_text(cell) -> str:
        """Text of the explorer as shown (labels, HTML, printed output, slider readouts)."""
        return cell.locator(".jp-Cell-outputArea").inner_text()

    @staticmethod
    def shapes(text: str) -> list[str]:
        return [re.sub(r"\s+", "", s) for s in SHAPE.findall(text)]

    def move_slider(self, slider, steps: int = 1, key: str = "ArrowRight"):
        """Drag-free move: focus the handle and press an arrow key ``steps`` times."""
        handle = slider.locator(".noUi-handle")
        handle.scroll_into_view_if_needed()
        handle.click()
        for _ in range(steps):
            handle.press(key)
        self.page.wait_for_timeout(300)
        self.wait_until_done(120)

    def drag_slider(self, slider, fraction: float):
        """Drag the handle by ``fraction`` of the track's width (negative: to the left)."""
        handle = slider.locator(".noUi-handle")
        handle.scroll_into_view_if_needed()
        track = slider.locator(".noUi-target").bounding_box()
        box = handle.bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        self.page.mouse.move(x, y)
        self.page.mouse.down()
        self.page.mouse.move(x + fraction * track["width"], y, steps=8)
        self.page.mouse.up()
        self.page.wait_for_timeout(300)
        self.wait_until_done(120)

    def wait_for_change(self, read, before, timeout: float = 30):
        """Poll ``read()`` until it differs from ``before``; returns the new value."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            now = read()
            if now != before:
                return now
            time.sleep(0.25)
        return read()

    # --- pictures ----------------------------------------------------------------------------------
    def screenshot(self, name: str, locator=None) -> Path:
        path = self.screenshots / f"{name}.png"
        (locator or self.page).screenshot(path=str(path))
        return path
