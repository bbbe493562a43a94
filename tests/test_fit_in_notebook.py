"""In a Jupyter kernel, fit shows a tqdm widget and ONE plot that is updated in place."""
from pathlib import Path

import nbformat

from nbrun import execute_notebook


def test_fit_shows_a_progress_widget_and_one_live_plot(tmp_path):
    nb = nbformat.v4.new_notebook()
    tests = str(Path(__file__).parent)
    nb.cells = [nbformat.v4.new_code_cell(
        f"import sys; sys.path.insert(0, {tests!r})\n"
        "from test_train import blobs, small_cnn\n"
        "from course.train import fit\n"
        "history = fit(small_cnn(), blobs(), epochs=3, lr=1e-2, batch_size=32)")]
    path = tmp_path / "fit.ipynb"
    nbformat.write(nb, path)
    out = execute_notebook(path, save=False).cells[0].outputs
    images = [o for o in out if "image/png" in o.get("data", {})]
    widgets = [o for o in out if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    errors = [o for o in out if o.output_type == "error" or o.get("name") == "stderr"]
    assert len(images) == 1, "one figure, redrawn in place, not one per update"
    assert len(widgets) >= 1, "a tqdm.auto progress widget"
    assert not errors, errors
