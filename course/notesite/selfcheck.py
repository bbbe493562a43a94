"""A lecture's self-check as static HTML: sealed questions, clickable without a kernel.

The self-check cell displays ``application/vnd.course.selfcheck+json`` (course/widgets/quiz.py:
``SelfCheck.sealed()``): each question with its options, the answer only as a salted hash and
the explanation only encrypted with the right answer. This module writes that as a form
(radio buttons or a number box, a Check button, a live feedback line); notes/_static/
course-quiz.js hashes what the learner picks, as quiz.py does, and shows the hint or unlocks
the explanation. Nothing on the page reveals the answer.
"""
import json
from html import escape

from course.widgets import quiz

MIME = "application/vnd.course.selfcheck+json"
TEXTS = {"right": quiz.RIGHT, "wrong": quiz.WRONG, "empty": quiz.EMPTY}


def _attr(value) -> str:
    return escape(json.dumps(value, ensure_ascii=False), quote=True)


def _choice_html(name: str, options: list[str]) -> str:
    items = "".join(
        f'<label class="course-q-option"><input type="radio" name="{name}" '
        f'value="{escape(o, quote=True)}"> <span>{escape(o)}</span></label>' for o in options)
    return f'<div class="course-q-options">{items}</div>'


def _number_html(ident: str, places: int) -> str:
    hint = "a whole number" if places == 0 else f"a number, {places} decimal place(s)"
    return (f'<label class="course-q-number-label" for="{ident}-n">Your answer ({hint})</label> '
            f'<input class="course-q-number" id="{ident}-n" type="text" inputmode="decimal" '
            f'autocomplete="off">')


def question_html(lecture: str, number: int, item: dict) -> str:
    ident = f"course-q-{lecture}-{number}"
    sealed = {k: item[k] for k in ("kind", "question", "key", "why", "hint", "options", "places")
              if k in item}
    entry = (_choice_html(ident, item["options"]) if item["kind"] == "choice"
             else _number_html(ident, int(item.get("places", 0))))
    return (f'<fieldset class="course-q" id="{ident}" data-sealed="{_attr(sealed)}">'
            f'<legend>{number}. {escape(item["question"])}</legend>{entry}'
            f'<div class="course-q-actions"><button type="button" class="course-q-check">Check'
            f'</button> <p class="course-q-feedback" role="status" aria-live="polite"></p></div>'
            f'</fieldset>')


def selfcheck_html(bundle: dict, fallback_lecture: str) -> str:
    """The form of one self-check (``bundle`` as SelfCheck.sealed() gives it)."""
    lecture = str(bundle.get("lecture") or fallback_lecture)
    questions = "".join(question_html(lecture, i, q)
                        for i, q in enumerate(bundle.get("questions", []), 1))
    return (f'<section class="course-selfcheck" data-lecture="{escape(lecture)}" '
            f'data-texts="{_attr(TEXTS)}" aria-label="Self-check questions">'
            '<p class="course-selfcheck-intro">Pick or type an answer and press <b>Check</b> '
            '(or Enter). A wrong answer gets a hint; the right one, the explanation.</p>'
            f'{questions}<noscript><p>The self-check needs JavaScript.</p></noscript></section>')
