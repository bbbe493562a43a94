"""Self-check questions that say right or wrong without giving the answer away.

Every lecture ends with a self-check. Its cell holds the questions in *sealed* form: the
correct option or number appears only as a salted hash (``key``), and the explanation is
encrypted with the correct answer itself (``why``), so neither can be read in the cell's
source or the notes site's page text. A wrong answer gets the hint; the right one unlocks
the explanation. Options are shuffled per learner (seeded by the learner's name, so the
order is stable for one learner and differs between learners)::

    from course.widgets.quiz import self_check, Choice, Number
    self_check([
        Choice("How many parameters does Conv2d(8, 16, kernel_size=3) have?",
               ["1,152", "1,168", "144", "2,304"], key="...", why="...",
               hint="Each output channel also has a bias.", covers=["S003-08"]),
        Number("Output side of a 3x3, stride 2, padding 1 convolution on 7x7?",
               key="...", why="...", hint="floor((n + 2p - f) / s) + 1", places=0),
    ], lecture="05")

Authors write a question in plain form and seal it (the plain form is never committed)::

    print(Choice.seal("question", ["a", "b", "c"], answer=1, explanation="...", hint="...").code())
    print(Number.seal("question", answer=4, explanation="...", hint="...").code())

``covers`` lists the review questions of seed 003 that a question answers (their ids are in
``course/quizzes/seed003_review.yaml``); a test checks that every conceptual one is covered.
The same sealing is reproduced in JavaScript on the notes site (SHA-256 and XOR), see
:func:`answer_key` and :func:`unseal`.
"""
from __future__ import annotations

import base64
import getpass
import hashlib
import os
import random
from dataclasses import dataclass, field
from html import escape

import ipywidgets as widgets

RIGHT = "Right"
WRONG = "Not quite"
EMPTY = "Pick or type an answer first."
KEY_CHARS = 16  # hex characters of the answer key kept in the cell


# ---------------------------------------------------------------- sealing (mirrored in JS)
def canonical(answer, places: int | None = None) -> str:
    """The text form that is hashed: an option's text, or a number rounded to ``places``."""
    if places is None:
        return str(answer).strip()
    text = str(answer).strip().replace(",", "").replace("_", "").replace(" ", "")
    value = round(float(text), places)
    if value == 0:
        value = 0.0  # -0.0 and 0.0 are the same answer
    return f"{value:.{places}f}"


def _digest(*parts: str) -> bytes:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()


def answer_key(question: str, answer: str) -> str:
    """What the cell stores instead of the answer: sha256("check" | question | answer)."""
    return _digest("check", question, answer).hex()[:KEY_CHARS]


def _keystream(question: str, answer: str, length: int) -> bytes:
    seed = _digest("unlock", question, answer)
    out = b""
    counter = 0
    while len(out) < length:
        out += hashlib.sha256(seed + counter.to_bytes(4, "big")).digest()
        counter += 1
    return out[:length]


def seal_text(question: str, answer: str, text: str) -> str:
    """Encrypt ``text`` so that only the right ``answer`` opens it (base64 of XOR)."""
    data = text.encode("utf-8")
    stream = _keystream(question, answer, len(data))
    return base64.b64encode(bytes(a ^ b for a, b in zip(data, stream))).decode("ascii")


def unseal(question: str, answer: str, sealed: str) -> str:
    data = base64.b64decode(sealed)
    stream = _keystream(question, answer, len(data))
    return bytes(a ^ b for a, b in zip(data, stream)).decode("utf-8", errors="replace")


def learner_seed() -> str:
    """Who is answering: COURSE_LEARNER, else the login name (stable per learner)."""
    name = os.environ.get("COURSE_LEARNER")
    if name:
        return name
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "learner"


# ---------------------------------------------------------------- question types
@dataclass
class Choice:
    """A multiple-choice question in sealed form."""

    question: str
    options: list[str]
    key: str
    why: str
    hint: str
    covers: list[str] = field(default_factory=list)

    def __post_init__(self):
        self.options = list(self.options)
        if len(self.options) < 2:
            raise ValueError(f"a Choice needs at least two options: {self.question}")
        if len(set(self.options)) != len(self.options):
            raise ValueError(f"options repeat in: {self.question}")
        if sum(self.is_right(o) for o in self.options) != 1:
            raise ValueError(f"exactly one option must match the key of: {self.question} "
                             "(re-seal it with Choice.seal)")
        if not self.hint:
            raise ValueError(f"a wrong answer gets the hint: give one for: {self.question}")

    @classmethod
    def seal(cls, question, options, answer: int, explanation: str, hint: str, covers=()):
        """Build a sealed question from the plain one (``answer`` indexes ``options``)."""
        options = [str(o) for o in options]
        if not isinstance(answer, int) or not 0 <= answer < len(options):
            raise ValueError(f"answer index {answer!r} does not point at one of "
                             f"{len(options)} options of: {question}")
        right = canonical(options[answer])
        return cls(question, options, answer_key(question, right),
                   seal_text(question, right, explanation), hint, list(covers))

    def is_right(self, option) -> bool:
        return answer_key(self.question, canonical(option)) == self.key

    def explanation(self, option) -> str:
        return unseal(self.question, canonical(option), self.why)

    def shuffled(self, seed: str) -> list[str]:
        order = list(self.options)
        random.Random(f"{seed}\x1f{self.question}").shuffle(order)
        return order

    def code(self) -> str:
        return (f"Choice({self.question!r},\n       {self.options!r},\n"
                f"       key={self.key!r}, why={self.why!r},\n"
                f"       hint={self.hint!r}, covers={self.covers!r}),")


@dataclass
class Number:
    """A numeric-entry question: the typed value, rounded to ``places``, is checked."""

    question: str
    key: str
    why: str
    hint: str
    places: int = 0
    covers: list[str] = field(default_factory=list)

    def __post_init__(self):
        if not self.hint:
            raise ValueError(f"a wrong answer gets the hint: give one for: {self.question}")

    @classmethod
    def seal(cls, question, answer, explanation: str, hint: str, places: int = 0, covers=()):
        right = canonical(answer, places)
        return cls(question, answer_key(question, right), seal_text(question, right, explanation),
                   hint, places, list(covers))

    def _canonical(self, value) -> str | None:
        try:
            return canonical(value, self.places)
        except (TypeError, ValueError):
            return None

    def is_right(self, value) -> bool:
        text = self._canonical(value)
        return text is not None and answer_key(self.question, text) == self.key

    def explanation(self, value) -> str:
        return unseal(self.question, self._canonical(value), self.why)

    def code(self) -> str:
        return (f"Number({self.question!r},\n       key={self.key!r}, why={self.why!r},\n"
                f"       hint={self.hint!r}, places={self.places}, covers={self.covers!r}),")


# ---------------------------------------------------------------- widgets
def _verdict_html(text: str, colour: str) -> str:
    return f'<span style="color:{colour}">{escape(text)}</span>'


class QuestionCard(widgets.VBox):
    """One question: its text, the options (or a number box), a Check button and the verdict."""

    def __init__(self, number: int, question: Choice | Number, seed: str):
        self.question = question
        self.prompt = widgets.HTML(f"<b>{number}. {escape(question.question)}</b>")
        if isinstance(question, Choice):
            self.options = question.shuffled(seed)
            self.entry = widgets.RadioButtons(options=self.options, value=None,
                                              layout=widgets.Layout(width="auto"))
        else:
            self.options = None
            self.entry = widgets.Text(placeholder="type a number", layout=widgets.Layout(width="12em"))
        self.button = widgets.Button(description="Check", button_style="info",
                                     layout=widgets.Layout(width="90px"))
        self.feedback = widgets.HTML("")
        self.button.on_click(lambda _button: self.check())
        # A new choice makes the old verdict stale.
        self.entry.observe(lambda _change: self._clear(), names="value")
        super().__init__([self.prompt, self.entry, widgets.HBox([self.button, self.feedback])],
                         layout=widgets.Layout(margin="0 0 12px 0"))

    def _clear(self):
        self.feedback.value = ""

    @property
    def given(self):
        value = self.entry.value
        return None if value in (None, "") else value

    @property
    def is_right(self) -> bool:
        return self.given is not None and self.question.is_right(self.given)

    def answer(self, value) -> str:
        """Choose an option (by its text) or type a number, then check (what a click does)."""
        self.entry.value = value if self.options is None else str(value)
        return self.check()

    def check(self) -> str:
        """Judge the answer; shows and returns the verdict as plain text."""
        if self.given is None:
            text, colour = EMPTY, "#8a6d00"
        elif self.is_right:
            text, colour = f"{RIGHT}. {self.question.explanation(self.given)}", "#1a7f37"
        else:
            text, colour = f"{WRONG}. Hint: {self.question.hint}", "#b42318"
        self.feedback.value = _verdict_html(text, colour)
        return text


class SelfCheck(widgets.VBox):
    """The self-check of a lecture: a heading and one :class:`QuestionCard` per question."""

    def __init__(self, questions, title: str = "Self-check", lecture: str | None = None,
                 seed: str | None = None):
        items = list(questions)
        if not items:
            raise ValueError("self_check needs at least one question")
        for q in items:
            if not isinstance(q, (Choice, Number)):
                raise TypeError("self_check takes sealed Choice / Number questions (see "
                                f"Choice.seal), not {type(q).__name__}: plain answers would be "
                                "readable in the cell")
        self.lecture = lecture
        self.questions = items
        seed = seed or learner_seed()
        self.cards = [QuestionCard(i + 1, q, seed) for i, q in enumerate(items)]
        super().__init__([widgets.HTML(f"<h4>{escape(title)}</h4>"), *self.cards])

    def score(self) -> int:
        return sum(card.is_right for card in self.cards)

    def __repr__(self):
        # Plain-text fallback (terminals, static exports): the questions, never the answers.
        lines = [f"Self-check ({len(self.cards)} questions)"]
        for i, card in enumerate(self.cards, 1):
            lines.append(f"{i}. {card.question.question}")
            if card.options:
                lines += [f"   ( ) {option}" for option in card.options]
            else:
                lines.append("   [ number ]")
        return "\n".join(lines)

    def _repr_mimebundle_(self, **kwargs):
        # The widget for JupyterLab, plus a machine-readable sealed form for the notes site.
        bundle = super()._repr_mimebundle_(**kwargs) or {}
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        data = dict(data)
        data["application/vnd.course.selfcheck+json"] = self.sealed()
        data["text/plain"] = repr(self)
        return data

    def sealed(self) -> dict:
        """The questions as the notes site needs them: sealed, no answer in clear."""
        out = []
        for q in self.questions:
            item = {"question": q.question, "key": q.key, "why": q.why, "hint": q.hint,
                    "covers": q.covers}
            if isinstance(q, Choice):
                item.update(kind="choice", options=q.options)
            else:
                item.update(kind="number", places=q.places)
            out.append(item)
        return {"lecture": self.lecture, "questions": out}


def self_check(questions, title: str = "Self-check", lecture: str | None = None) -> SelfCheck:
    """Build the self-check widget of a lecture (display it as a cell's last expression)."""
    return SelfCheck(questions, title=title, lecture=lecture)
