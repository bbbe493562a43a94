"""The extended notes (``make notes``): a static site of the lectures that reads offline.

One build per session into a fresh temp folder (nothing from an earlier build is reused but the
executed notebooks the lecture tests leave in build/executed/; stale or missing ones are
executed here in fast mode). Parametrized over lectures/*.ipynb: the lectures that exist are
tested, and test_every_lecture_is_there asks for all ten.
"""
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest

from course import notes

ROOT = Path(__file__).resolve().parents[1]
LECTURE_DIR = notes.LECTURES
LECTURES = notes.lectures(LECTURE_DIR)
N_LECTURES = 10
SCREENSHOTS = ROOT / "build" / "screenshots"

# One build per session: keep the module in one xdist worker (make test: --dist loadgroup).
pytestmark = [pytest.mark.notes, pytest.mark.xdist_group("notes")]


class _Refs(HTMLParser):
    """Every href / src of a page, its element ids, and its <img> tags."""

    def __init__(self):
        super().__init__()
        self.refs, self.ids, self.images, self.scripts, self.styles = [], set(), [], [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        for key in ("href", "src"):
            if attrs.get(key):
                self.refs.append(attrs[key])
        if tag == "img":
            self.images.append(attrs.get("src", ""))
        if tag == "script" and attrs.get("src"):
            self.scripts.append(attrs["src"])
        if tag == "link" and "stylesheet" in (attrs.get("rel") or "") and attrs.get("href"):
            self.styles.append(attrs["href"])


def parse(page: Path) -> _Refs:
    refs = _Refs()
    refs.feed(page.read_text(encoding="utf-8"))
    return refs


def _external(ref: str) -> bool:
    return bool(urlsplit(ref).scheme) or ref.startswith("//")


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    if not LECTURES:
        pytest.skip("no lecture in lectures/ yet")
    work = tmp_path_factory.mktemp("notes")
    report = notes.build(work / "site", src=work / "src", jobs=1, folder=LECTURE_DIR)
    # The theme copies two Jinja macro files to _static/: templates, not pages.
    report["pages"] = sorted(p for p in report["html"].rglob("*.html")
                             if "_static" not in p.relative_to(report["html"]).parts)
    return report


def test_build_succeeds(site):
    assert site["returncode"] == 0, site["log"][-3000:]
    assert not site["failed"], {n: site["lectures"][n] for n in site["failed"]}
    assert (site["html"] / "index.html").exists() and (site["html"] / "intro.html").exists()
    assert sorted(site["lectures"]) == [p.stem for p in LECTURES]


def test_every_lecture_is_there():
    """The course has ten lectures; the site is built from all of them."""
    numbers = sorted(p.name[:2] for p in LECTURES)
    assert numbers == [f"{n:02d}" for n in range(1, N_LECTURES + 1)], numbers


@pytest.mark.parametrize("lecture", LECTURES, ids=[p.stem for p in LECTURES])
def test_lecture_page(site, lecture):
    page = site["html"] / "lectures" / f"{lecture.stem}.html"
    assert page.exists(), f"no page for {lecture.name}"
    text = page.read_text(encoding="utf-8")
    refs = parse(page)
    figures = [src for src in refs.images if "_images/" in src or src.startswith("data:image")]
    assert figures, f"{lecture.stem}: no figure on its page"
    assert "cell_output" in text, f"{lecture.stem}: the page shows no executed output"
    assert "Traceback (most recent call last)" not in text and 'class="output traceback' not in text
    # The sidebar links every other lecture: the reader can move between them.
    others = {f"{p.stem}.html" for p in LECTURES if p != lecture}
    linked = {Path(urlsplit(r).path).name for r in refs.refs if not _external(r)}
    assert others <= linked, f"{lecture.stem}: no link to {sorted(others - linked)}"
    source = nbformat.read(lecture, as_version=4)
    markdown = "\n".join(c.source for c in source.cells if c.cell_type == "markdown")
    if re.search(r"\$[^$\s][^$]*\$", markdown):
        assert 'class="math' in text, f"{lecture.stem}: its $...$ math was not rendered as math"
        assert any(s.endswith("_static/mathjax/tex-svg-full.js") for s in refs.scripts)


def test_no_broken_internal_link(site):
    """Every href / src of every page points at a file of the site (and an id that exists)."""
    pages = site["pages"]
    ids = {page.resolve(): parse(page).ids for page in pages}
    broken = []
    for page in pages:
        for ref in parse(page).refs:
            if _external(ref) or ref.startswith("#"):
                continue
            parts = urlsplit(ref)
            target = (page.parent / unquote(parts.path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{page.relative_to(site['html'])}: {ref}")
            elif parts.fragment and target.suffix == ".html" and target in ids \
                    and unquote(parts.fragment) not in ids[target]:
                broken.append(f"{page.relative_to(site['html'])}: {ref} (no such id)")
    assert not broken, "\n".join(broken[:30])


def test_no_broken_cross_reference(site):
    """A markdown link to a lecture or heading that does not exist is no <a>: Sphinx only warns."""
    warnings = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in site["log"].splitlines()
                if "xref_missing" in line or "reference target not found" in line
                or "toctree contains reference to nonexisting document" in line]
    assert not warnings, "\n".join(warnings[:20])


def test_reads_offline(site):
    """No script, stylesheet or image from the network; MathJax is in the site."""
    remote = []
    for page in site["pages"]:
        refs = parse(page)
        remote += [f"{page.name}: {r}" for r in refs.scripts + refs.styles + refs.images
                   if _external(r) and not r.startswith("data:")]
    assert not remote, "\n".join(remote[:20])
    assert (site["html"] / "_static" / "mathjax" / "tex-svg-full.js").stat().st_size > 1_000_000


def test_search_index_has_every_lecture(site):
    index = (site["html"] / "searchindex.js").read_text(encoding="utf-8")
    assert (site["html"] / "search.html").exists()
    missing = [p.stem for p in LECTURES if f'"lectures/{p.stem}"' not in index]
    assert not missing, f"not in the search index: {missing}"


def test_notes_sources_are_tracked():
    """A clean clone has everything the build reads: nothing of notes/ or lectures/ is ignored."""
    ignored = subprocess.run(
        ["git", "ls-files", "--others", "--ignored", "--exclude-standard", "notes", "lectures"],
        cwd=ROOT, capture_output=True, text=True)
    if ignored.returncode:
        pytest.skip(f"not a git checkout: {ignored.stderr.strip()}")
    files = [f for f in ignored.stdout.splitlines()
             if ".ipynb_checkpoints" not in f and "__pycache__" not in f]
    assert not files, f"ignored files the build would need: {files}"
    for name in ("_config.yml", "_toc.yml", "intro.md", "README.md"):
        assert (ROOT / "notes" / name).exists()


@pytest.mark.browser
def test_math_and_search_work_from_file_urls(site, browser):
    """Opened from the folder (file://), math is typeset and search finds the lectures."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with_math = [p for p in site["pages"] if 'class="math' in p.read_text(encoding="utf-8")]
    assert with_math, "no page of the site has math"
    page = browser.new_page(viewport={"width": 1300, "height": 900})  # the session's browser (tests/conftest.py)
    page.goto(with_math[-1].as_uri())
    page.wait_for_function("() => document.querySelectorAll('mjx-container svg').length > 0",
                           timeout=30_000)
    assert page.locator("mjx-container svg").count() > 0
    assert page.locator("mjx-container [data-mjx-error], mjx-merror").count() == 0
    page.screenshot(path=str(SCREENSHOTS / "notes_math.png"))
    page.goto((site["html"] / "search.html").as_uri() + "?q=convolution")
    page.wait_for_function(
        "() => document.querySelectorAll('#search-results li, ul.search li').length > 0",
        timeout=30_000)
    page.wait_for_timeout(500)  # results are appended one by one
    hits = page.locator("#search-results a[href*='lectures/']").count()
    page.screenshot(path=str(SCREENSHOTS / "notes_search.png"))
    page.close()
    assert hits > 0, "searching 'convolution' from file:// found no lecture"


# --- the build's parts, without a build -----------------------------------------------------------
def _widget_notebook():
    """A notebook whose one output is a VBox(slider, label, Output holding a PNG)."""
    state = {
        "box": {"model_name": "VBoxModel",
                "state": {"children": ["IPY_MODEL_slider", "IPY_MODEL_label", "IPY_MODEL_out"]}},
        "slider": {"model_name": "IntSliderModel", "state": {"description": "padding", "value": 2}},
        "label": {"model_name": "LabelModel", "state": {"description": "", "value": "output 6×6"}},
        "out": {"model_name": "OutputModel", "state": {"outputs": [
            {"output_type": "display_data", "metadata": {}, "data": {"image/png": "iVBORw0KGgo="}}]}},
    }
    view = nbformat.v4.new_output("execute_result", execution_count=1, data={
        "text/plain": "VBox(...)", notes.WIDGET_VIEW: {"model_id": "box", "version_major": 2}})
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("explorer()", outputs=[view])])
    nb.metadata["widgets"] = {notes.WIDGET_STATE: {"state": state}}
    return nb


def test_widgets_become_a_note_and_their_first_view():
    nb = notes.static_widgets(_widget_notebook())
    outputs = nb.cells[0].outputs
    assert "widgets" not in nb.metadata
    assert not any(notes.WIDGET_VIEW in o.get("data", {}) for o in outputs)
    assert "make lab" in outputs[0].data["text/html"] and "padding = 2" in outputs[0].data["text/html"]
    assert "output 6×6" in outputs[1].data["text/html"]
    assert outputs[2].data["image/png"] == "iVBORw0KGgo="


def test_executed_copy_is_reused_only_when_fresh(tmp_path):
    lecture, executed = tmp_path / "01_x.ipynb", tmp_path / "executed"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")])
    nbformat.write(nb, lecture)
    assert notes.fresh_copy(lecture, executed) is None  # no copy yet
    ran = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1", outputs=[
        nbformat.v4.new_output("execute_result", data={"text/plain": "2"}, execution_count=1)])])
    notes._save_executed(ran, lecture.name, executed)
    assert notes.fresh_copy(lecture, executed).cells[0].outputs[0].data["text/plain"] == "2"
    nb.cells[0].source = "1 + 2"  # the lecture changed after the run
    nbformat.write(nb, lecture)
    assert notes.fresh_copy(lecture, executed) is None
    nb.cells[0].source = "1 + 1"
    nbformat.write(nb, lecture)
    ran.cells[0].outputs = [nbformat.v4.new_output("error", ename="E", evalue="x", traceback=[])]
    notes._save_executed(ran, lecture.name, executed)
    assert notes.fresh_copy(lecture, executed) is None  # a failed run is never reused
