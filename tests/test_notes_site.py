"""The extended notes (``make notes``): a static site of the lectures that reads offline.

One build per session into a fresh temp folder. ``make notes`` runs every lecture in full mode;
here only FULL_LECTURE runs in full mode (from the content-keyed cache in build/notes-cache/
when neither it nor course/ changed), and the others reuse the fast-mode runs the lecture tests
left in build/executed/ (stale or missing ones are executed here in fast mode). Parametrized
over lectures/*.ipynb: the lectures that exist are tested, test_every_lecture_is_there asks
for all ten. The browser tests drive Debian's chromium through Playwright and run axe-core
(npm, installed into build/axe/ on first use).
"""
import html
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest
import yaml

from course import notes
from course.notesite import kernel, pages, selfcheck
from course.notesite.execution import cache_key
from course.widgets import quiz

ROOT = Path(__file__).resolve().parents[1]
LECTURE_DIR = notes.LECTURES
LECTURES = notes.lectures(LECTURE_DIR)
N_LECTURES = 10
FULL_LECTURE = "03"  # the cheapest lecture with explorers: the one run in full mode here
SCREENSHOTS = ROOT / "build" / "screenshots"
AXE = ROOT / "build" / "axe"
AXE_SCRIPT = AXE / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

# One build per session: keep the module in one xdist worker (make test: --dist loadgroup).
pytestmark = [pytest.mark.notes, pytest.mark.xdist_group("notes")]


class _Page(HTMLParser):
    """Every href / src of a page, its ids, its <img> tags and its visible text."""

    def __init__(self):
        super().__init__()
        self.refs, self.ids, self.images, self.scripts, self.styles = [], set(), [], [], []
        self.text, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        for key in ("href", "src"):
            if attrs.get(key):
                self.refs.append(attrs[key])
        if tag == "img":
            self.images.append(attrs)
        if tag == "script" and attrs.get("src"):
            self.scripts.append(attrs["src"])
        if tag == "link" and "stylesheet" in (attrs.get("rel") or "") and attrs.get("href"):
            self.styles.append(attrs["href"])
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)

    @property
    def plain(self) -> str:
        return re.sub(r"\s+", " ", "".join(self.text))  # text nodes carry their own spaces


def parse(page: Path) -> _Page:
    refs = _Page()
    refs.feed(page.read_text(encoding="utf-8"))
    return refs


def _external(ref: str) -> bool:
    return bool(urlsplit(ref).scheme) or ref.startswith("//")


def _page(site, lecture) -> Path:
    return site["html"] / "lectures" / f"{lecture.stem}.html"


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    if not LECTURES:
        pytest.skip("no lecture in lectures/ yet")
    work = tmp_path_factory.mktemp("notes")
    report = notes.build(work / "site", src=work / "src", jobs=1, folder=LECTURE_DIR,
                         full=[FULL_LECTURE])
    # The theme copies two Jinja macro files to _static/: templates, not pages.
    report["pages"] = sorted(p for p in report["html"].rglob("*.html")
                             if "_static" not in p.relative_to(report["html"]).parts)
    return report


def test_build_succeeds(site):
    assert site["returncode"] == 0, site["log"][-3000:]
    assert not site["failed"], {n: site["lectures"][n] for n in site["failed"]}
    assert (site["html"] / "index.html").exists() and (site["html"] / "intro.html").exists()
    assert sorted(site["lectures"]) == [p.stem for p in LECTURES]
    full = [s for s, m in site["modes"].items() if m == "full"]
    assert [s[:2] for s in full] == [FULL_LECTURE], site["modes"]
    run = site["notebooks"][full[0]].metadata["course_notes"]
    assert run["mode"] == "full" and run["fast"] is False, "the full lecture's kernel ran in fast mode"


def test_every_lecture_is_there():
    """The course has ten lectures; the site is built from all of them."""
    numbers = sorted(p.name[:2] for p in LECTURES)
    assert numbers == [f"{n:02d}" for n in range(1, N_LECTURES + 1)], numbers


@pytest.mark.parametrize("lecture", LECTURES, ids=[p.stem for p in LECTURES])
def test_lecture_page(site, lecture):
    page = _page(site, lecture)
    assert page.exists(), f"no page for {lecture.name}"
    text = page.read_text(encoding="utf-8")
    refs = parse(page)
    figures = [i for i in refs.images if "_images/" in i.get("src", "")
               or "_static/explorers/" in i.get("src", "")]
    assert figures, f"{lecture.stem}: no figure on its page"
    no_alt = [i["src"] for i in refs.images if not (i.get("alt") or "").strip()
              or "_images/" in (i.get("alt") or "") or len(i["alt"]) < 12]
    assert not no_alt, f"{lecture.stem}: pictures without a real alt text: {no_alt[:5]}"
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
    # The notebook download: the executed lecture, with its outputs.
    download = f"../_sources/lectures/{lecture.name}"
    assert download in refs.refs, f"{lecture.stem}: no download link of its notebook"
    downloaded = nbformat.read(page.parent / download, as_version=4)
    assert any(c.get("outputs") for c in downloaded.cells if c.cell_type == "code")
    assert "course_notes" not in downloaded.metadata  # the explorer grids stay out of it
    # Exercises: every solution sits in a <details> with a <summary>, closed at first.
    assert text.count("<details") == text.count("<summary"), f"{lecture.stem}: <details> without <summary>"


@pytest.mark.parametrize("lecture", LECTURES, ids=[p.stem for p in LECTURES])
def test_problem_set_links(site, lecture):
    """Lectures a problem set grades link its student release (notes/problem_sets.yml)."""
    mapping = yaml.safe_load((notes.NOTES / "problem_sets.yml").read_text())
    graded_by = [ps for ps, entry in mapping.items() if lecture.stem[:2] in entry["lectures"]]
    refs = parse(_page(site, lecture))
    for ps in graded_by:
        links = [r for r in refs.refs if r.endswith(f"/{ps}.ipynb") and "_downloads/" in r]
        assert links, f"{lecture.stem}: no link to {ps}"
        target = (_page(site, lecture).parent / unquote(links[0])).resolve()
        assert nbformat.read(target, as_version=4).cells, f"{lecture.stem}: {ps} link is empty"


def test_problem_set_map_covers_every_problem_set():
    mapping = yaml.safe_load((notes.NOTES / "problem_sets.yml").read_text())
    released = sorted(p.name for p in (ROOT / "assignments").glob("ps*") if p.is_dir())
    assert sorted(mapping) == released, "notes/problem_sets.yml must list every problem set"
    numbers = {p.name[:2] for p in LECTURES}
    for ps, entry in mapping.items():
        assert set(entry["lectures"]) <= numbers, f"{ps} grades a lecture that does not exist"
        assert entry["grades"].strip()


def test_no_broken_internal_link(site):
    """Every href / src of every page points at a file of the site (and an id that exists)."""
    pages_ = site["pages"]
    ids = {page.resolve(): parse(page).ids for page in pages_}
    broken = []
    for page in pages_:
        refs = parse(page)
        for ref in refs.refs + [i.get("src", "") for i in refs.images]:
            if not ref or _external(ref) or ref.startswith("#"):
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
        # the pictures an explorer swaps in are links too
        for data in re.findall(r'<script type="application/json" class="course-explorer-data">(.*?)</script>',
                               page.read_text(encoding="utf-8"), flags=re.S):
            for url in json.loads(data)["images"]:
                if not (page.parent / url).exists():
                    broken.append(f"{page.relative_to(site['html'])}: explorer picture {url}")
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
        remote += [f"{page.name}: {r}" for r in refs.scripts + refs.styles
                   + [i.get("src", "") for i in refs.images] if _external(r) and not r.startswith("data:")]
    assert not remote, "\n".join(remote[:20])
    assert (site["html"] / "_static" / "mathjax" / "tex-svg-full.js").stat().st_size > 1_000_000


def test_site_size_is_reasonable(site):
    """Explorer pictures are small WebP files; the whole site stays a download one can afford."""
    size = site["size"]
    assert size["_static/explorers"] < 25e6, size
    assert size["all"] < 80e6, size
    pictures = list((site["html"] / "_static" / "explorers").rglob("*"))
    assert all(p.suffix == ".webp" for p in pictures if p.is_file())


def test_search_index_has_every_lecture(site):
    index = (site["html"] / "searchindex.js").read_text(encoding="utf-8")
    assert (site["html"] / "search.html").exists()
    missing = [p.stem for p in LECTURES if f'"lectures/{p.stem}"' not in index]
    assert not missing, f"not in the search index: {missing}"


def test_notes_sources_are_tracked():
    """A clean clone has everything the build reads: nothing of notes/ or lectures/ is ignored."""
    ignored = subprocess.run(
        ["git", "ls-files", "--others", "--ignored", "--exclude-standard", "notes", "lectures",
         "course/notesite"], cwd=ROOT, capture_output=True, text=True)
    if ignored.returncode:
        pytest.skip(f"not a git checkout: {ignored.stderr.strip()}")
    files = [f for f in ignored.stdout.splitlines()
             if ".ipynb_checkpoints" not in f and "__pycache__" not in f]
    assert not files, f"ignored files the build would need: {files}"
    for name in ("_config.yml", "_toc.yml", "intro.md", "README.md", "problem_sets.yml",
                 "_static/course-quiz.js", "_static/course-explorer.js", "_static/course.css"):
        assert (ROOT / "notes" / name).exists()


# --- the results on the pages are the runs' -------------------------------------------------------
HIDDEN = {"remove-output", "remove-cell"}
TYPOGRAPHY = str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'",
                            "\u2013": "--", "\u2014": "---", "\u2026": "...", "\xa0": " "})


def _shown(nb, key: str) -> list[str]:
    """The text/plain of every output tagged ``key`` in its metadata, of cells the page shows."""
    return [o["data"]["text/plain"] for c in nb.cells
            if not HIDDEN & set(c.get("metadata", {}).get("tags", []))
            for o in c.get("outputs", [])
            if key in o.get("metadata", {}) and "text/plain" in o.get("data", {})]


def _said(nb) -> list[str]:
    return _shown(nb, "course_prose")


def _recorded(nb) -> list[str]:
    return _shown(nb, "course_figure")


def _normal(text: str) -> str:
    """Sphinx's smart quotes and dashes undone, spaces collapsed (the same for both sides)."""
    return re.sub(r"\s+", " ", text.translate(TYPOGRAPHY)).strip()


def _prose_pieces(markdown: str) -> list[str]:
    """The plain-text stretches of a say() sentence (math and markup left out)."""
    text = re.sub(r"\$\$.*?\$\$|\$[^$]*\$", "\0", markdown, flags=re.S)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"`|\*\*?", "", text)  # code and emphasis marks (an _ stays: names have them)
    return [re.sub(r"\s+", " ", p).strip() for p in text.split("\0") if len(p.strip()) > 3]


@pytest.mark.parametrize("lecture", LECTURES, ids=[p.stem for p in LECTURES])
def test_results_on_the_page_are_the_runs(site, lecture):
    """Every record() line and every say() sentence of the run the page was built from is on it."""
    nb = site["notebooks"][lecture.stem]
    page_text = _normal(html.unescape(parse(_page(site, lecture)).plain))
    missing = [r for r in _recorded(nb) if _normal(r) not in page_text]
    missing += [p for s in _said(nb) for p in _prose_pieces(s) if _normal(p) not in page_text]
    assert not missing, f"{lecture.stem}: not on the page: {missing[:5]}"
    if lecture.stem[:2] == FULL_LECTURE:
        run = nb.metadata["course_notes"]
        assert run["mode"] == "full" and run["fast"] is False
        cached = sorted(notes.CACHE.glob(f"{lecture.stem}.full.*.ipynb"))
        assert cached, "the full-mode run is not in the cache"
        assert _recorded(nbformat.read(cached[-1], as_version=4)) == _recorded(nb)


# --- self-checks and explorers, in the build's parts ----------------------------------------------
def _sealed_questions():
    choice = quiz.Choice.seal("Which is the odd one out? ünïcödé", ["2", "4", "7", "8"], answer=2,
                              explanation="7 is odd — the others are even.", hint="Divide by two.")
    number = quiz.Number.seal("How many weights has a 3x3x8 kernel?", 72,
                              explanation="3 × 3 × 8 = 72.", hint="Multiply the sides.")
    return choice, number


def test_selfcheck_html_keeps_the_answer_out():
    choice, number = _sealed_questions()
    page = selfcheck.selfcheck_html(quiz.SelfCheck([choice, number], lecture="03").sealed(), "03")
    assert page.count('<fieldset class="course-q"') == 2 and 'type="radio"' in page
    assert "7 is odd" not in page and "72." not in html.unescape(page)
    assert choice.key in page and choice.hint in page


def test_explorer_grid_drives_the_widget(monkeypatch):
    from course.widgets.padding import PaddingExplorer

    monkeypatch.setitem(kernel.PLANS, "PaddingExplorer", {"padding": [0, 1, 3]})
    grid = kernel.explorer_grid(PaddingExplorer(padding=1))
    assert grid["controls"][0]["description"] == "padding"
    assert grid["controls"][0]["values"] == ["0", "1", "3"] and grid["start"] == [1]
    assert len(grid["frames"]) == 3
    shapes = {grid["texts"][t] for f in grid["frames"].values() for t in f["texts"] if "shape" in grid["texts"][t]}
    assert len(shapes) == len(grid["frames"]), "each padding draws another shape"
    assert "Padded shape" in notes.pages.explorers.frame_alt(grid, "0")


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


def test_widgets_without_a_grid_become_a_note_and_their_first_view():
    nb = notes.static_widgets(_widget_notebook())
    outputs = nb.cells[0].outputs
    assert "widgets" not in nb.metadata
    assert not any(notes.WIDGET_VIEW in o.get("data", {}) for o in outputs)
    assert "make lab" in outputs[0].data["text/html"] and "padding = 2" in outputs[0].data["text/html"]
    assert "output 6×6" in outputs[1].data["text/html"]
    assert outputs[2].data["image/png"] == "iVBORw0KGgo="
    assert "padding = 2" in outputs[2].metadata["image/png"]["alt"]


def test_alt_text_comes_from_the_figure_or_the_cell():
    cells = [nbformat.v4.new_markdown_cell("## Output sizes"),
             nbformat.v4.new_code_cell("# the output side for each padding", outputs=[
                 nbformat.v4.new_output("display_data", data={"text/plain": "side: 6"},
                                        metadata={"course_figure": {"name": "side", "value": 6}}),
                 nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo="})])]
    nb = nbformat.v4.new_notebook(cells=cells)
    (digest, alt), = pages.alt_texts(nb, {}).items()
    assert "Output sizes" in alt and "side: 6" in alt and "output side for each padding" in alt
    assert pages.alt_texts(nb, {digest: '"Loss": x: epoch'})[digest] == 'Figure: "Loss": x: epoch'


def test_cache_key_follows_the_notebook_and_the_package(tmp_path):
    lecture = tmp_path / "01_x.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")]), lecture)
    first = cache_key(lecture, "full", "code-a")
    assert cache_key(lecture, "full", "code-a") == first
    assert cache_key(lecture, "full", "code-b") != first  # the course package changed
    assert cache_key(lecture, "fast", "code-a") != first
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 2")]), lecture)
    assert cache_key(lecture, "full", "code-a") != first  # the lecture changed


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


# --- in a real browser ----------------------------------------------------------------------------
@pytest.fixture(scope="session")
def axe_script():
    """axe-core from npm, installed once into build/axe/ (never from a CDN)."""
    if not AXE_SCRIPT.exists():
        if shutil.which("npm") is None:
            pytest.skip("npm is missing: apt-get install -y npm (axe-core comes from npm)")
        AXE.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(["npm", "install", "--prefix", str(AXE), "--no-audit", "--no-fund",
                               "--loglevel=error", "axe-core@4"], capture_output=True, text=True)
        if done.returncode or not AXE_SCRIPT.exists():
            pytest.skip(f"could not install axe-core from npm: {done.stderr[-500:]}")
    return AXE_SCRIPT


@pytest.fixture
def tab(browser):
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda err: page.errors.append(str(err)))
    yield page
    context.close()


def _quiz_lecture(site):
    with_quiz = [p for p in LECTURES if 'class="course-selfcheck"' in _page(site, p).read_text()]
    if not with_quiz:
        pytest.fail("no lecture page has a self-check form")
    return with_quiz[0]


@pytest.mark.browser
def test_quiz_javascript_matches_python(site, tab):
    """course-quiz.js hashes, unseals and rounds as course/widgets/quiz.py does."""
    tab.goto((site["html"] / "intro.html").as_uri())
    tab.wait_for_function("() => window.courseQuiz !== undefined")
    texts = ["", "abc", "check\x1fq\x1fa", "ü" * 100, "x" * 1000]
    assert tab.evaluate("ts => ts.map(t => courseQuiz.sha256Hex(t))", texts) == \
        [__import__("hashlib").sha256(t.encode()).hexdigest() for t in texts]
    numbers = [("1,168", 0), ("2.5", 0), ("3.5", 0), ("0.125", 2), ("-0.4", 0), ("1e3", 1),
               ("3.14159", 2), ("  42 ", 0), ("1_000.05", 1), ("-2.675", 2), ("abc", 0), ("", 0)]
    expected = []
    for value, places in numbers:
        try:
            expected.append(quiz.canonical(value, places))
        except ValueError:
            expected.append(None)
    assert tab.evaluate("ns => ns.map(([v, p]) => courseQuiz.canonical(v, p))", numbers) == expected
    choice, number = _sealed_questions()
    js = tab.evaluate("""([q, a, why]) => [courseQuiz.answerKey(q, a), courseQuiz.unseal(q, a, why)]""",
                      [choice.question, "7", choice.why])
    assert js == [choice.key, "7 is odd — the others are even."]
    assert tab.evaluate("([q, a]) => courseQuiz.answerKey(q, a)", [number.question, "72"]) == number.key
    orders = tab.evaluate("""q => Array.from({length: 12}, (_, i) =>
        courseQuiz.shuffled(['a', 'b', 'c', 'd'], 'learner ' + i, q).join(''))""", choice.question)
    assert len(set(orders)) > 3 and all(sorted(o) == list("abcd") for o in orders)
    assert tab.evaluate("q => courseQuiz.shuffled(['a', 'b', 'c'], 's', q).join('')", "x") == \
        tab.evaluate("q => courseQuiz.shuffled(['a', 'b', 'c'], 's', q).join('')", "x")


def _right_number(item: dict):
    """The answer of a sealed whole-number question, found the way a learner could: by trying."""
    if item.get("places", 0) != 0:
        return None
    return next((str(v) for v in range(-1000, 200_000)
                 if quiz.answer_key(item["question"], str(v)) == item["key"]), None)


@pytest.mark.browser
def test_quiz_gives_the_hint_then_the_explanation(site, tab):
    lecture = _quiz_lecture(site)
    bundle = next(o["data"][selfcheck.MIME] for c in site["notebooks"][lecture.stem].cells
                  for o in c.get("outputs", []) if selfcheck.MIME in o.get("data", {}))
    tab.goto(_page(site, lecture).as_uri())
    tab.wait_for_selector(".course-selfcheck[data-ready=true]")
    cards = tab.locator("fieldset.course-q")
    assert cards.count() == len(bundle["questions"])
    order = cards.first.locator("input").evaluate_all("els => els.map(e => e.value)")
    tab.reload()  # the learner's seed is kept in localStorage: the same order again
    tab.wait_for_selector(".course-selfcheck[data-ready=true]")
    assert cards.first.locator("input").evaluate_all("els => els.map(e => e.value)") == order
    text = _page(site, lecture).read_text(encoding="utf-8")
    for n, item in enumerate(bundle["questions"]):
        card, feedback = cards.nth(n), cards.nth(n).locator(".course-q-feedback")
        if item["kind"] == "choice":
            q = quiz.Choice(item["question"], item["options"], item["key"], item["why"], item["hint"])
            right = next(o for o in q.options if q.is_right(o))
            wrong = next(o for o in q.options if not q.is_right(o))
            assert q.explanation(right) not in html.unescape(text), "the explanation is on the page"
            card.locator("input[type=radio]").nth(0).focus()  # keyboard: the group, then the pick
            card.locator(f"input[type=radio][value={json.dumps(wrong)}]").check()
            card.locator("button.course-q-check").press("Enter")
            assert feedback.text_content() == f"{quiz.WRONG}. Hint: {q.hint}"
            card.locator(f"input[type=radio][value={json.dumps(right)}]").check()
            card.locator("button.course-q-check").click()
            assert feedback.text_content() == f"{quiz.RIGHT}. {q.explanation(right)}"
        else:
            box = card.locator("input.course-q-number")
            box.fill("-987654")
            box.press("Enter")
            assert feedback.text_content() == f"{quiz.WRONG}. Hint: {item['hint']}"
            right = _right_number(item)
            if right is not None:
                box.fill(right)
                box.press("Enter")
                assert feedback.text_content().startswith(f"{quiz.RIGHT}. ")
    assert not tab.errors, tab.errors


@pytest.mark.browser
def test_explorer_control_changes_the_picture(site, tab):
    with_explorers = [p for p in LECTURES if 'class="course-explorer"' in _page(site, p).read_text()]
    assert any(p.stem[:2] == FULL_LECTURE for p in with_explorers), \
        "the full-mode lecture has no explorer drawn over a grid"
    for lecture in with_explorers:
        tab.goto(_page(site, lecture).as_uri())
        boxes = tab.locator(".course-explorer[data-ready=true]")
        boxes.first.wait_for()
        for n in range(boxes.count()):
            box = boxes.nth(n)
            picture = box.locator("img.course-explorer-picture").first
            before = (picture.get_attribute("src"), picture.get_attribute("alt"))
            control = box.locator("[data-axis]").first
            control.focus()
            tab.keyboard.press("ArrowRight" if control.get_attribute("type") == "range" else "ArrowDown")
            after = (picture.get_attribute("src"), picture.get_attribute("alt"))
            assert after != before, f"{lecture.stem}: explorer {n + 1} did not change"
            assert len(after[1]) > 20
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(SCREENSHOTS / "notes_explorer.png"))
    assert not tab.errors, tab.errors


@pytest.mark.browser
def test_solutions_open_from_the_keyboard(site, tab):
    with_details = [p for p in LECTURES if "<details" in _page(site, p).read_text()]
    if not with_details:
        pytest.skip("no lecture has exercise solutions yet")
    tab.goto(_page(site, with_details[0]).as_uri())
    summary = tab.locator("details summary").first
    assert tab.locator("details").first.get_attribute("open") is None
    summary.focus()
    tab.keyboard.press("Enter")
    assert tab.locator("details").first.get_attribute("open") is not None


@pytest.mark.browser
def test_axe_finds_nothing_serious(site, tab, axe_script):
    """WCAG 2.1 A/AA rules of axe-core on every page: no serious or critical violation."""
    found = []
    for page in site["pages"]:
        tab.goto(page.as_uri())
        for attempt in range(3):  # a page that navigates on load (a redirect) replaces the context
            try:
                tab.wait_for_load_state("load")
                tab.add_script_tag(path=str(axe_script))
                violations = tab.evaluate(
                    """tags => axe.run(document, {runOnly: {type: 'tag', values: tags}}).then(r =>
                         r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
                           .map(v => v.id + ' (' + v.impact + '): ' + v.nodes.slice(0, 3)
                           .map(n => n.target.join(' ')).join(' | ')))""", AXE_TAGS)
                break
            except Exception as exc:  # playwright's Error: retry only a destroyed context
                if "Execution context was destroyed" not in str(exc) or attempt == 2:
                    raise
        found += [f"{tab.url}: {v}" for v in violations]
    assert not found, "\n".join(found[:30])


@pytest.mark.browser
def test_math_and_search_work_from_file_urls(site, tab):
    """Opened from the folder (file://), math is typeset and search finds the lectures."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with_math = [p for p in site["pages"] if 'class="math' in p.read_text(encoding="utf-8")]
    assert with_math, "no page of the site has math"
    tab.goto(with_math[-1].as_uri())
    tab.wait_for_function("() => document.querySelectorAll('mjx-container svg').length > 0",
                          timeout=30_000)
    assert tab.locator("mjx-container svg").count() > 0
    assert tab.locator("mjx-container [data-mjx-error], mjx-merror").count() == 0
    tab.screenshot(path=str(SCREENSHOTS / "notes_math.png"))
    tab.goto((site["html"] / "search.html").as_uri() + "?q=convolution")
    tab.wait_for_function(
        "() => document.querySelectorAll('#search-results li, ul.search li').length > 0",
        timeout=30_000)
    tab.wait_for_timeout(500)  # results are appended one by one
    hits = tab.locator("#search-results a[href*='lectures/']").count()
    tab.screenshot(path=str(SCREENSHOTS / "notes_search.png"))
    assert hits > 0, "searching 'convolution' from file:// found no lecture"
