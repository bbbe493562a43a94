"""What every lecture must hold, read from the committed notebooks (no execution).

The ending every lecture shares: a summary; 3-6 exercises whose solutions are hidden in a
``<details>`` block until revealed; further reading; a self-check of at least 8 sealed
questions (one numeric entry at least) that between them cover seed 003's conceptual review
questions; an EN / PL / RU glossary. And the prose rule: a result-like number (a percentage,
a decimal, a number with thousands separators, an "N x" factor) is never typed into a
markdown cell. It is quoted from a computed value with ``course.say`` in a code cell, or,
for a constant taken from a paper or the seeds, listed with its source in the notebook's
metadata ``course.cited`` ({"token": "where it comes from"}).
"""
import ast
import re
from pathlib import Path

import nbformat
import pytest

from course.glossary import TERMS
from course.review_questions import conceptual

ROOT = Path(__file__).resolve().parents[1]
LECTURES = sorted((ROOT / "lectures").glob("[0-9][0-9]_*.ipynb"))
MIN_QUESTIONS = 8

# prose tokens that look like results; dimensions (3x3), small integers and years pass
RESULT_LIKE = re.compile(
    r"\d+(?:\.\d+)?\s?%"              # 97.4%
    r"|\d{1,3}(?:,\d{3})+(?:\.\d+)?"  # 61,706
    r"|\d+\.\d+"                      # 0.104
    r"|\d{5,}"                        # 60000
    r"|\d+(?:\.\d+)?\s?(?:x|×)(?!\s*[\d\w(])"  # 15x fewer (not 28 x 28)
)
NOT_PROSE = re.compile(
    r"```.*?```|`[^`\n]*`|\$\$.*?\$\$|\$[^$\n]+\$|\\\(.*?\\\)|https?://\S+|<[^>]+>"
    r"|\]\([^)]*\)",  # link targets
    re.S)
# words of the seeds' languages that are calques, not terms (issue 13)
CALQUES = ("блок-бутылочное горлышко", "однопериодическое", "sieć elastyczna", "hak (hook)")
# the references the seeds cite; each is in some lecture's further reading
REFERENCES = {
    "LeCun 1998": r"LeCun.{0,80}1998",
    "Krizhevsky 2012": r"Krizhevsky.{0,80}2012",
    "Simonyan 2014": r"Simonyan.{0,80}2014",
    "Szegedy 2014": r"Szegedy.{0,80}201[45]",
    "He 2016": r"He.{0,80}2016",
    "Ioffe 2015": r"Ioffe.{0,80}2015",
    "Srivastava 2014": r"Srivastava.{0,80}2014",
    "Chen 2020": r"Chen.{0,80}2020",
    "CNN Explainer": r"CNN Explainer",
    "convolution arithmetic": r"(?i)convolution arithmetic",
}


def _nb(path):
    return nbformat.read(path, as_version=4)


def _markdown(nb) -> list[str]:
    return [c.source for c in nb.cells if c.cell_type == "markdown"]


def _section(nb, heading: str) -> str:
    """Markdown from ``## heading`` up to the next ``## `` heading (cells joined)."""
    text = "\n".join(_markdown(nb))
    match = re.search(rf"^## {heading}\b.*?(?=^## |\Z)", text, re.M | re.S)
    return match.group(0) if match else ""


def _self_check_calls(nb):
    """The Choice(...) / Number(...) calls of the self-check cell, as ast.Call nodes."""
    cells = [c.source for c in nb.cells if c.cell_type == "code" and "self_check(" in c.source]
    assert len(cells) == 1, f"expected one self-check cell, found {len(cells)}"
    tree = ast.parse(cells[0])
    return [n for n in ast.walk(tree) if isinstance(n, ast.Call)
            and getattr(n.func, "id", None) in ("Choice", "Number")], cells[0]


def _covers(call) -> list[str]:
    for kw in call.keywords:
        if kw.arg == "covers":
            return list(ast.literal_eval(kw.value))
    return []


@pytest.mark.parametrize("path", LECTURES, ids=lambda p: p.name[:2])
def test_lecture_ending(path):
    nb = _nb(path)
    assert _section(nb, "Summary"), "a '## Summary' section"
    exercises = _section(nb, "Exercises")
    n_ex = len(re.findall(r"^\*\*Exercise \d+", exercises, re.M))
    assert 3 <= n_ex <= 6, f"3-6 exercises ('**Exercise N** ...' under '## Exercises'), found {n_ex}"
    assert exercises.count("<details>") >= n_ex, "each exercise's solution is in a <details> block"
    reading = _section(nb, "Further reading")
    assert len(re.findall(r"^[*-] ", reading, re.M)) >= 2, "'## Further reading' lists references"
    assert any("glossary(" in c.source for c in nb.cells if c.cell_type == "code")


@pytest.mark.parametrize("path", LECTURES, ids=lambda p: p.name[:2])
def test_self_check_is_sealed(path):
    calls, source = _self_check_calls(_nb(path))
    assert len(calls) >= MIN_QUESTIONS, f"at least {MIN_QUESTIONS} questions, found {len(calls)}"
    assert any(c.func.id == "Number" for c in calls), "at least one numeric-entry question"
    for call in calls:
        names = {kw.arg for kw in call.keywords}
        assert {"key", "why", "hint"} <= names, "sealed with Choice.seal / Number.seal"
        assert "answer" not in names and "explanation" not in names, "the answer is in clear"
    # the cell builds: every key matches exactly one option (checked by Choice itself)
    namespace = {}
    exec(compile(source.replace("self_check(", "_built = self_check("), path.name, "exec"), namespace)
    assert namespace["_built"].lecture == path.name[:2]


def test_self_checks_cover_seed_003_review():
    covered = {}
    for path in LECTURES:
        calls, _ = _self_check_calls(_nb(path))
        for call in calls:
            for qid in _covers(call):
                covered.setdefault(qid, set()).add(path.name[:2])
    missing = {qid: lec for qid, lec in conceptual().items() if lec not in covered.get(qid, ())}
    assert not missing, f"review questions of seed 003 not covered where planned: {missing}"


@pytest.mark.parametrize("path", LECTURES, ids=lambda p: p.name[:2])
def test_no_typed_results_in_prose(path):
    nb = _nb(path)
    cited = nb.metadata.get("course", {}).get("cited", {})
    typed = []
    for text in _markdown(nb):
        for token in RESULT_LIKE.findall(NOT_PROSE.sub(" ", text)):
            if token.replace(" ", "") not in {k.replace(" ", "") for k in cited}:
                typed.append(token)
    assert not typed, (f"numbers typed into the prose: {sorted(set(typed))}; quote computed values "
                       "with course.say(...) in a code cell, or list a cited constant with its "
                       "source in metadata course.cited")


@pytest.mark.parametrize("path", LECTURES, ids=lambda p: p.name[:2])
def test_cited_constants_have_sources(path):
    cited = _nb(path).metadata.get("course", {}).get("cited", {})
    for token, source in cited.items():
        assert isinstance(source, str) and len(source) >= 8, f"{token!r} needs a source"


@pytest.mark.parametrize("path", LECTURES, ids=lambda p: p.name[:2])
def test_glossary_has_no_calques(path):
    source = "\n".join(c.source for c in _nb(path).cells if "glossary(" in c.source)
    for calque in CALQUES:
        assert calque not in source, f"calque {calque!r}: use the term in course.glossary.TERMS"


def test_glossary_terms():
    for term in ("convolutional neural network", "relu", "leaky relu", "backpropagation", "epoch",
                 "gradient", "nchw", "im2col"):
        assert term in TERMS, term
    assert "konwolucja" in TERMS["convolution"][0]
    assert "z odbiciem" in TERMS["symmetric padding"][0]
    assert "z odbiciem" not in TERMS["reflection padding"][0].split("(")[0]


def test_further_reading_cites_the_seeds_references():
    text = "\n".join(_section(_nb(p), "Further reading") for p in LECTURES)
    missing = [name for name, pattern in REFERENCES.items() if not re.search(pattern, text, re.S)]
    assert not missing, f"further reading lacks: {missing}"
