"""Self-check questions answered with a widget: radio buttons, a "Check" button, a verdict.

Used at the end of every lecture::

    from course.widgets.quiz import self_check
    self_check([
        ("What shape does a 3x3 kernel give on a 5x5 input without padding?",
         ["5x5", "3x3", "7x7"], 1,
         "Each side shrinks by f - 1 = 2: 5 - 3 + 1 = 3."),
        {"question": "...", "options": [...], "answer": 0, "explanation": "..."},
    ])

A question is a tuple ``(question, options, correct_index, explanation)`` or a dict with
the keys ``question``, ``options``, ``answer`` (``correct`` is accepted too) and
``explanation``. The returned :class:`SelfCheck` is an ``ipywidgets.VBox`` of
:class:`QuestionCard` s; each card has ``radio`` (RadioButtons, nothing chosen at first),
``button`` ("Check") and ``feedback`` (HTML whose text starts with "Right" or "Not quite").
Headless (tests) use ``card.answer(i)`` or set ``card.radio.index`` and call
``card.check()``; ``quiz.score()`` counts the cards answered right.
"""
from html import escape

import ipywidgets as widgets

RIGHT = "Right"
WRONG = "Not quite"
EMPTY = "Pick an answer first."


def _normalize(question) -> dict:
    """Accept a 4-tuple or a dict; check the answer index points at an option."""
    if isinstance(question, dict):
        answer = question.get("answer", question.get("correct"))
        item = {"question": question["question"], "options": list(question["options"]),
                "answer": answer, "explanation": question.get("explanation", "")}
    else:
        text, options, answer, explanation = question
        item = {"question": text, "options": list(options), "answer": answer,
                "explanation": explanation}
    if not isinstance(item["answer"], int) or not 0 <= item["answer"] < len(item["options"]):
        raise ValueError(f"answer index {item['answer']!r} does not point at one of "
                         f"{len(item['options'])} options of: {item['question']}")
    if len(set(item["options"])) != len(item["options"]):
        raise ValueError(f"options repeat in: {item['question']}")
    return item


class QuestionCard(widgets.VBox):
    """One question: its text, the options, a Check button and the verdict."""

    def __init__(self, number: int, question: dict):
        self.question = question
        self.correct = question["answer"]
        self.prompt = widgets.HTML(f"<b>{number}. {escape(question['question'])}</b>")
        self.radio = widgets.RadioButtons(options=question["options"], value=None,
                                          layout=widgets.Layout(width="auto"))
        self.button = widgets.Button(description="Check", button_style="info",
                                     layout=widgets.Layout(width="90px"))
        self.feedback = widgets.HTML("")
        self.button.on_click(lambda _button: self.check())
        # A new choice makes the old verdict stale.
        self.radio.observe(lambda _change: self._clear(), names="value")
        super().__init__([self.prompt, self.radio, widgets.HBox([self.button, self.feedback])],
                         layout=widgets.Layout(margin="0 0 12px 0"))

    def _clear(self):
        self.feedback.value = ""

    @property
    def is_right(self) -> bool:
        return self.radio.index == self.correct

    def answer(self, index: int) -> str:
        """Choose option ``index`` and check it (what a click does); returns the verdict text."""
        self.radio.index = index
        return self.check()

    def check(self) -> str:
        """Judge the chosen option; shows and returns the verdict as plain text."""
        if self.radio.index is None:
            verdict, colour, detail = EMPTY, "#8a6d00", ""
        elif self.is_right:
            verdict, colour, detail = RIGHT, "#1a7f37", self.question["explanation"]
        else:
            verdict, colour = WRONG, "#b42318"
            # Say why the right answer is right, without a second guess handed on a plate.
            detail = "Think again, or read the explanation: " + self.question["explanation"]
        text = f"{verdict}. {detail}".strip() if detail else verdict
        self.feedback.value = f'<span style="color:{colour}">{escape(text)}</span>'
        return text


class SelfCheck(widgets.VBox):
    """A list of :class:`QuestionCard` under a heading."""

    def __init__(self, questions, title: str = "Self-check"):
        items = [_normalize(q) for q in questions]
        if not items:
            raise ValueError("self_check needs at least one question")
        self.cards = [QuestionCard(i + 1, q) for i, q in enumerate(items)]
        heading = widgets.HTML(f"<h4>{escape(title)}</h4>")
        super().__init__([heading, *self.cards])

    def score(self) -> int:
        return sum(card.is_right for card in self.cards)

    def __repr__(self):
        # Plain-text fallback (static site, terminals): the questions without the answers.
        lines = [f"Self-check ({len(self.cards)} questions)"]
        for i, card in enumerate(self.cards, 1):
            lines.append(f"{i}. {card.question['question']}")
            lines += [f"   ( ) {option}" for option in card.question["options"]]
        return "\n".join(lines)


def self_check(questions, title: str = "Self-check") -> SelfCheck:
    """Build the self-check widget of a lecture (display it as a cell's last expression)."""
    return SelfCheck(questions, title=title)
