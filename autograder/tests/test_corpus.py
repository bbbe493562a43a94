"""The adversarial corpus gets exactly its expected scores, in the sandbox, two workers at once.

Also: every submission is accounted for, nothing a submission does reaches the instructor's files
or another submission, a second run grades nothing and yields the same rows, and feedback never
shows a hidden test or a solution line.
"""
import csv
import hashlib
import json
import re
from pathlib import Path

import pytest

from autograder import cli
from autograder.feedback import write_feedback
from autograder.ledger import Ledger, export_csv, grading_dir
from autograder.limits import TEST_LIMITS
from autograder.sandbox import bubblewrap_works
from autograder.source import load_source

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
FIXTURE = HERE / "fixtures" / "ps1" / "ps1.ipynb"
EXPECTED = json.loads((CORPUS / "expected.json").read_text())
RULES_FIXTURE = HERE / "fixtures" / "rules" / "rules.ipynb"
RULES_EXPECTED = json.loads((CORPUS / "rules_expected.json").read_text())

pytestmark = pytest.mark.skipif(not bubblewrap_works(),
                                reason="needs bubblewrap (apt-get install -y bubblewrap)")


def _digest(folder):
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(Path(folder).rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    home = tmp_path_factory.mktemp("grading")
    before = {**_digest(FIXTURE.parent), **_digest(CORPUS)}
    source = load_source(FIXTURE)
    folder = cli.grade("ps1", CORPUS / "ps1", source, home=home, workers=2, limits=TEST_LIMITS,
                       echo=lambda *a: None)
    archive = cli.grade("ps1", CORPUS / "archive.zip", source, home=home / "zip", workers=2,
                        limits=TEST_LIMITS, echo=lambda *a: None)
    after = {**_digest(FIXTURE.parent), **_digest(CORPUS)}
    return {"home": home, "source": source, "folder": folder, "archive": archive,
            "unchanged": before == after}


@pytest.fixture(scope="module")
def rules_graded(tmp_path_factory):
    home = tmp_path_factory.mktemp("rules")
    source = load_source(RULES_FIXTURE)
    summary = cli.grade("rules", CORPUS / "rules", source, home=home, workers=2, limits=TEST_LIMITS,
                        echo=lambda *a: None)
    return {r["student"]: r for r in summary["records"]}


def _text(record):
    return " | ".join([record.get("reason") or "", record.get("runner_stopped") or ""]
                      + record.get("notes", []) + [c["reason"] for c in record.get("cells", [])])


def test_rule_breakers_fail_exactly_the_cells_of_their_rule(rules_graded):
    """One or more submissions per hole class of issue 11 (make_rules_corpus.py): every test cell
    passes or fails exactly as expected, the reason says why, and the integrity flag is there."""
    assert set(rules_graded) == set(RULES_EXPECTED) and len(RULES_EXPECTED) >= 20
    for student, want in RULES_EXPECTED.items():
        record = rules_graded[student]
        assert record["status"] == "graded", (student, record.get("reason"))
        got = {c["grade_id"]: c["passed"] for c in record["cells"]}
        assert got == want["cells"], (student, _text(record)[:2000])
        assert want["contains"] in _text(record), (student, want["contains"], _text(record)[:2000])
        flags = " | ".join(record.get("integrity", []))
        assert not want["flag"] or want["flag"] in flags, (student, flags)
    assert rules_graded["solved"]["integrity"] == [] and rules_graded["stubs"]["integrity"] == []


def test_hidden_case_summaries_reach_feedback_without_secrets(rules_graded, tmp_path):
    """A failed hidden case is shown by its label and message, never by the hidden source."""
    written = write_feedback(list(rules_graded.values()), load_source(RULES_FIXTURE), tmp_path)
    secrets = _secret_lines(RULES_FIXTURE)
    assert secrets and all(not [s for s in secrets if s in md.read_text()] for md in written)
    stubs = (tmp_path / "stubs.md").read_text()
    assert "conv2d_naive, other shapes: 0 of 2 cases passed" in stubs
    assert "your cell conv2d_naive, line 4" in stubs


def _check(record, want):
    text = _text(record)
    if "status" in want:
        assert record["status"] == want["status"], (record["student"], record.get("reason"))
    else:
        assert record["status"] == "graded", (record["student"], record.get("reason"))
        assert record["score"] == want["score"], (record["student"], record["score"], text[:1500])
    assert want.get("contains", "") in text, (record["student"], want.get("contains"), text[:1500])


def test_corpus_is_large_enough():
    assert len(EXPECTED["ps1"]) + len(EXPECTED["archive.zip"]) >= 25


def test_every_submission_gets_exactly_its_expected_score(graded):
    summary = graded["folder"]
    by_student = {r["student"]: r for r in summary["records"]}
    assert set(by_student) == set(EXPECTED["ps1"])
    for student, want in EXPECTED["ps1"].items():
        _check(by_student[student], want)


def test_zip_with_nested_folders_and_escaping_names(graded):
    summary = graded["archive"]
    by_student = {r["student"]: r for r in summary["records"]}
    assert set(by_student) == set(EXPECTED["archive.zip"])
    for student, want in EXPECTED["archive.zip"].items():
        _check(by_student[student], want)
    home = graded["home"] / "zip"
    assert all(p.resolve().is_relative_to(home.resolve()) for p in home.rglob("*"))


def test_no_submission_is_lost_and_no_run_crashes(graded):
    for summary in (graded["folder"], graded["archive"]):
        assert summary["submitted"] == summary["graded"] + summary["failed"]
        assert all(r is not None for r in summary["records"])
        assert not any("grader error" in (r.get("reason") or "") for r in summary["records"])
        assert not any("worker died" in (r.get("reason") or "") for r in summary["records"])


def test_sandbox_was_used_and_instructor_files_untouched(graded):
    graded_records = [r for r in graded["folder"]["records"] if r["status"] == "graded"]
    assert graded_records and all(r["sandbox"] == "bubblewrap" for r in graded_records)
    assert graded["unchanged"]


def test_second_run_grades_nothing_and_gives_the_same_rows(graded, tmp_path):
    home = graded["home"]
    first = export_csv(Ledger(grading_dir("ps1", home)).records(), tmp_path / "a.csv").read_text()
    again = cli.grade("ps1", CORPUS / "ps1", graded["source"], home=home, workers=2,
                      limits=TEST_LIMITS, echo=lambda *a: None)
    assert again["graded_now"] == 0
    second = export_csv(Ledger(grading_dir("ps1", home)).records(), tmp_path / "b.csv").read_text()
    assert first == second
    rows = list(csv.DictReader(first.splitlines()))
    assert len(rows) == len(EXPECTED["ps1"])
    assert {r["student"]: float(r["score"]) for r in rows}["correct"] == 10


def _secret_lines(path):
    """Hidden-test and solution lines of the instructor source, parsed here independently."""
    secret, public = set(), set()
    for cell in json.loads(Path(path).read_text())["cells"]:
        inside = False
        for line in "".join(cell["source"]).splitlines():
            marker = line.strip()
            if re.fullmatch(r"### BEGIN (SOLUTION|HIDDEN TESTS)", marker):
                inside = True
            elif re.fullmatch(r"### END (SOLUTION|HIDDEN TESTS)", marker):
                inside = False
            else:
                (secret if inside else public).add(marker)
    return {s for s in secret - public if len(s) >= 8}


def test_feedback_never_shows_hidden_tests_or_solutions(graded, tmp_path):
    records = graded["folder"]["records"] + graded["archive"]["records"]
    written = write_feedback(records, graded["source"], tmp_path / "feedback")
    assert len(written) == len(records)
    secrets = _secret_lines(FIXTURE)
    assert secrets
    for md in written:
        for path in (md, md.with_suffix(".html")):
            text = path.read_text()
            leaked = [s for s in secrets if s in text]
            assert not leaked, (path.name, leaked)
    sample = (tmp_path / "feedback" / "correct.md").read_text()
    assert "10 / 10" in sample and "output_size(5, 3) == 3" in sample  # visible tests are shown
