"""The questions a respondent sees and the one set of answer rules, for the chat and the page.

``steps`` follows ``show_if`` and the brands picked on the roster; ``check_value`` turns a typed
answer into what the response stores, or refuses it with a ``BadAnswer`` reason; ``parse_answer``
reads a chat reply into a typed answer first.
"""

from __future__ import annotations

import re
from typing import Any

from handlers.surveys.templates import DONT_KNOW, Question, Step, Template
from models import SurveyResponse


def _visible(q: Question, answers: dict[str, Any], lookup: dict[str, Question]) -> bool:
    if q.show_if is None:
        return True
    ref, wanted = q.show_if
    return bool(set(answer_labels(answers.get(ref), lookup.get(ref))) & set(wanted))


def answer_labels(value: Any, q: Question | None) -> list[str]:
    """An answer as option labels (for show_if and reports)."""
    if value is None or q is None:
        return []
    if q.type in ("single", "yesno"):
        return [q.options[int(value) - 1]]
    if q.type == "multiple":
        return [q.options[int(v) - 1] for v in value]
    return [str(value)]


def steps(tpl: Template, resp: SurveyResponse) -> list[Step]:
    """The questions this respondent sees, in order, given the answers so far."""
    lookup = {q.id: q for q in tpl.questions}
    out: list[Step] = []
    for q in tpl.questions:
        if not _visible(q, resp.answers, lookup):
            continue
        if q.type == "brand_ratings":
            for brand in resp.plan.get("rated", []):
                for item in q.items:
                    out.append(Step(f"{item.id}:{brand['id']}", item, brand["id"], brand["name"]))
            continue
        out.append(Step(q.id, q))
    return out


def current_step(tpl: Template, resp: SurveyResponse) -> Step | None:
    for step in steps(tpl, resp):
        if step.key not in resp.answers:
            return step
    return None


_TRANSLATE = str.maketrans("０１２３４５６７８９，、；;／/．", "0123456789,,,,,,.")
DONT_KNOW_WORDS = ("说不清", "不清楚", "不知道", "不了解")


class BadAnswer(ValueError):
    """An answer the question cannot take; ``reason`` says why (the page words it for the worker).

    Reasons: missing, not_option, too_many, none_and_other, out_of_range, too_long.
    """

    def __init__(self, reason: str = "not_option") -> None:
        super().__init__(reason)
        self.reason = reason


def options_of(step: Step, resp: SurveyResponse) -> tuple[str, ...]:
    q = step.question
    if q.type == "roster":
        names = tuple(item["name"] for item in resp.plan.get("roster", []))
        return (*names, q.none_option) if q.none_option else names
    return q.options


def _choice(token: str, options: tuple[str, ...]) -> int:
    if token.isdigit():
        n = int(token)
        if 1 <= n <= len(options):
            return n
        raise BadAnswer("not_option")
    matches = [i + 1 for i, o in enumerate(options) if token == o]
    if not matches:
        matches = [i + 1 for i, o in enumerate(options) if token and (token in o or o in token)]
    if len(matches) != 1:
        raise BadAnswer("not_option")
    return matches[0]


def _is_code(value: Any, count: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= count


def check_value(step: Step, resp: SurveyResponse, value: Any) -> Any:
    """The stored value for a typed answer, or BadAnswer: the one set of rules for every channel.

    ``value`` is what the worker chose, already typed: an option number (1-based) for single and
    yes/no, a list of them for multiple and roster, a number or ``DONT_KNOW`` for a scale, a string
    for text. The chat parses its reply into this (``parse_answer``), the page reads its form.
    """
    q = step.question
    options = options_of(step, resp)
    if q.type in ("single", "yesno"):
        if not _is_code(value, len(options)):
            raise BadAnswer("not_option")
        return value
    if q.type in ("multiple", "roster"):
        if not isinstance(value, (list, tuple)) or not value:
            raise BadAnswer("missing")
        if not all(_is_code(v, len(options)) for v in value):
            raise BadAnswer("not_option")
        codes = sorted(set(value))
        if q.type == "roster" and q.none_option and len(options) in codes:
            if len(codes) > 1:
                raise BadAnswer("none_and_other")
            return []
        if len(codes) > (q.max or len(options)):
            raise BadAnswer("too_many")
        return codes
    if q.type == "scale":
        if value == DONT_KNOW and q.dont_know:
            return DONT_KNOW
        top = q.max if q.max is not None else 5
        if isinstance(value, int) and not isinstance(value, bool) and q.min <= value <= top:
            return value
        raise BadAnswer("out_of_range")
    if not isinstance(value, str) or not value.strip():
        raise BadAnswer("missing")
    text = value.strip()
    if len(text) > q.max_chars:
        raise BadAnswer("too_long")
    return text


def parse_answer(step: Step, resp: SurveyResponse, text: str) -> Any:
    """The stored value for a chat reply ``text`` (codes are 1-based option numbers), or BadAnswer."""
    q = step.question
    t = text.strip().translate(_TRANSLATE).strip("。.!！ ")
    if not t:
        raise BadAnswer("missing")
    options = options_of(step, resp)
    if q.type in ("single", "yesno"):
        if q.type == "yesno":
            t = {"对": "是", "有": "是", "是的": "是", "没有": "否", "不是": "否", "不": "否"}.get(t, t)
        return check_value(step, resp, _choice(t, options))
    if q.type in ("multiple", "roster"):
        tokens = [x.strip() for x in re.split(r"[,\s]+", t) if x.strip()]
        if len(tokens) == 1 and tokens[0].isdigit() and len(tokens[0]) > 1 and len(options) < 10:
            tokens = list(tokens[0])  # "13" for 1 and 3 when every option is one digit
        return check_value(step, resp, [_choice(tok, options) for tok in tokens])
    if q.type == "scale":
        top = q.max if q.max is not None else 5
        if q.dont_know and (t in DONT_KNOW_WORDS or (t.isdigit() and int(t) == top + 1)):
            return check_value(step, resp, DONT_KNOW)
        if not t.isdigit():
            raise BadAnswer("out_of_range")
        return check_value(step, resp, int(t))
    return check_value(step, resp, text)
