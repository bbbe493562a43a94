"""Self-check questions: sealed answers, shuffled options, hints, numeric entry."""
import re

import ipywidgets as widgets
import pytest

from course.widgets import quiz as q
from course.widgets.quiz import RIGHT, WRONG, Choice, Number, SelfCheck, self_check

CHOICE = Choice.seal("How many parameters has Conv2d(8, 16, 3)?", ["1,152", "1,168", "144"],
                     answer=1, explanation="16 x 8 x 9 weights + 16 biases = 1,168.",
                     hint="Each output channel has a bias too.", covers=["S003-08"])
NUMBER = Number.seal("Output side of 7x7, kernel 3, stride 2, padding 1?", 4,
                     explanation="floor((7 + 2 - 3) / 2) + 1 = 4.", hint="floor((n + 2p - f) / s) + 1")


def test_sealed_form_hides_answer_and_explanation():
    code = CHOICE.code() + NUMBER.code()
    assert "16 x 8 x 9" not in code and "floor((7 + 2" not in code
    assert "answer" not in code
    # the code an author pastes rebuilds the same question
    rebuilt = eval(CHOICE.code().rstrip().rstrip(","), {"Choice": Choice})
    assert rebuilt == CHOICE
    assert CHOICE.is_right("1,168") and not CHOICE.is_right("1,152")
    assert CHOICE.explanation("1,168").startswith("16 x 8 x 9")
    assert "16 x 8" not in CHOICE.explanation("1,152")  # a wrong key decrypts to noise


def test_widget_right_wrong_hint_and_stale_verdict():
    quiz = self_check([CHOICE, NUMBER], lecture="00")
    assert isinstance(quiz, SelfCheck) and isinstance(quiz, widgets.VBox)
    choice, number = quiz.cards
    assert choice.entry.value is None and choice.feedback.value == ""
    assert choice.check().startswith("Pick")
    verdict = choice.answer("144")
    assert verdict.startswith(WRONG) and "Each output channel has a bias" in verdict
    assert "1,168" not in verdict  # a wrong answer gets the hint, never the answer
    assert choice.answer("1,168").startswith(RIGHT) and "16 biases" in choice.feedback.value
    choice.entry.value = "144"  # a new choice clears the stale verdict
    assert choice.feedback.value == ""
    assert number.answer("5").startswith(WRONG)
    assert number.answer("not a number").startswith(WRONG)
    assert number.answer(" 4.0 ").startswith(RIGHT)
    number.entry.value = "4"
    number.button.click()  # the click handler, as in the browser
    assert RIGHT in number.feedback.value and quiz.score() == 1


def test_options_shuffle_per_learner_and_stay_stable():
    options = [f"option {i}" for i in range(6)]
    item = Choice.seal("Which?", options, answer=3, explanation="x", hint="y")
    orders = {tuple(item.shuffled(f"learner{i}")) for i in range(20)}
    assert len(orders) > 5
    assert item.shuffled("ann") == item.shuffled("ann")
    assert sorted(item.shuffled("ann")) == sorted(options)


def test_numbers_round_to_places():
    item = Number.seal("Share of zeros?", 0.255, explanation="e", hint="h", places=2)
    assert item.is_right("0.255") and item.is_right("0.26") and not item.is_right("0.25")
    assert Number.seal("n?", 1168, "e", "h").is_right("1,168")


def test_bad_questions_are_refused():
    with pytest.raises(ValueError, match="does not point"):
        Choice.seal("q", ["a", "b"], answer=2, explanation="e", hint="h")
    with pytest.raises(ValueError, match="repeat"):
        Choice.seal("q", ["a", "a"], answer=0, explanation="e", hint="h")
    with pytest.raises(ValueError, match="hint"):
        Choice.seal("q", ["a", "b"], answer=0, explanation="e", hint="")
    with pytest.raises(ValueError, match="exactly one option"):
        Choice("q", ["a", "b"], key="0" * 16, why="", hint="h")
    with pytest.raises(TypeError, match="sealed"):
        self_check([("q", ["a", "b"], 0, "plain answers")])
    with pytest.raises(ValueError):
        self_check([])


def test_text_and_site_forms_hold_no_answer():
    quiz = self_check([CHOICE, NUMBER], lecture="00")
    text = repr(quiz)
    assert "How many parameters" in text and "16 biases" not in text
    bundle = quiz._repr_mimebundle_()
    sealed = bundle["application/vnd.course.selfcheck+json"]
    assert sealed["lecture"] == "00" and len(sealed["questions"]) == 2
    assert "16 biases" not in str(sealed) and "floor((7" not in str(sealed)
    assert sealed["questions"][0]["key"] == q.answer_key(CHOICE.question, "1,168")


def test_sealing_matches_the_published_scheme():
    # The notes site re-implements this in JavaScript: pin the scheme with a known vector.
    assert q.answer_key("Q", "A") == __import__("hashlib").sha256(
        b"check\x1fQ\x1fA").hexdigest()[:16]
    assert q.unseal("Q", "A", q.seal_text("Q", "A", "héllo")) == "héllo"
    assert re.fullmatch(r"[A-Za-z0-9+/=]+", q.seal_text("Q", "A", "text"))
