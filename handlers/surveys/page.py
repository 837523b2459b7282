"""The H5 survey page: a survey as a form, one section at a time, on the chat's response.

Without JavaScript, skip logic works by sections: a section is the visible unanswered questions up
to and including the next one that decides what comes later (a ``show_if`` target, or the roster
that picks the brands to rate). Submitting a section checks every answer with the chat's rules
(``answers.check_value``) and saves all of them or none; the next section is then worked out
from the saved answers. The response is the chat's (one per person): a survey begun in chat
continues here at its next question, and back. Completion is the chat's ``complete()``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from config import voice_texts as T
from handlers.registry import Registry
from handlers.surveys.answers import BadAnswer, check_value, current_step, options_of, steps
from handlers.surveys.operations import (
    RESUME_WINDOW,
    complete,
    end_chat_flow,
    ensure_roster,
    record_answer,
    start_response,
)
from handlers.surveys.queries import is_open, response_of
from handlers.surveys.templates import DONT_KNOW, Step, Template
from models import SurveyResponse, User

# A response started on the page, not through an organiser's link.
PAGE_CHANNEL = "h5"
_MISSING = object()


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class Field:
    """One question of the section, as the form shows it."""

    key: str  # the step key ("joined", "q1:12"): the form field is "a.<key>"
    number: int
    text: str
    kind: str  # radio | checkbox | text | scale
    choices: tuple[Choice, ...] = ()
    dont_know: Choice | None = None
    optional: bool = False
    hint: str = ""
    max_chars: int = 0
    # What the worker had entered, when the page comes back with a problem.
    selected: frozenset[str] = frozenset()
    value: str = ""
    problem: str | None = None


@dataclass(frozen=True)
class SurveyPage:
    template: Template
    state: str  # open | closed | complete
    fields: tuple[Field, ...] = ()
    answered: int = 0
    resumed: bool = False
    # The section ends the survey: its button submits rather than continues.
    final: bool = False

    @property
    def section_keys(self) -> str:
        return ",".join(f.key for f in self.fields)


def controllers(tpl: Template) -> frozenset[str]:
    """Questions whose answer changes which questions follow."""
    ids = {q.show_if[0] for q in tpl.questions if q.show_if}
    ids |= {i.show_if[0] for q in tpl.questions for i in q.items if i.show_if}
    ids |= {q.id for q in tpl.questions if q.type == "roster"}
    return frozenset(ids)


def section(tpl: Template, resp: SurveyResponse) -> list[Step]:
    """The visible unanswered steps up to and including the next one that controls the rest."""
    ends = controllers(tpl)
    out: list[Step] = []
    for step in steps(tpl, resp):
        if step.key in resp.answers:
            continue
        out.append(step)
        if step.question.id in ends:
            break
    return out


def _hint(step: Step) -> str:
    q = step.question
    if q.type == "multiple":
        return T.SURVEY_PAGE_HINT_MAX.format(max=q.max) if q.max else T.SURVEY_PAGE_HINT_MULTIPLE
    if q.type == "roster":
        if q.max:
            return T.SURVEY_PAGE_HINT_MAX.format(max=q.max)
        return T.SURVEY_PAGE_HINT_ROSTER.format(none=q.none_option) if q.none_option else ""
    if q.type == "text":
        return T.SURVEY_PAGE_HINT_TEXT.format(max=q.max_chars)
    return ""


def _field(
    step: Step,
    resp: SurveyResponse,
    number: int,
    raw: Sequence[str] = (),
    problem: str | None = None,
) -> Field:
    q = step.question
    common: dict[str, Any] = {
        "key": step.key,
        "number": number,
        "text": step.text,
        "optional": q.optional,
        "hint": _hint(step),
        "selected": frozenset(raw),
        "problem": problem,
    }
    if q.type == "text":
        return Field(kind="text", max_chars=q.max_chars, value=raw[0] if raw else "", **common)
    if q.type == "scale":
        top = q.max if q.max is not None else 5
        numbers = tuple(Choice(str(n), str(n)) for n in range(q.min, top + 1))
        dk = Choice(DONT_KNOW, T.SURVEY_PAGE_DONT_KNOW) if q.dont_know else None
        return Field(kind="scale", choices=numbers, dont_know=dk, **common)
    choices = tuple(Choice(str(i), label) for i, label in enumerate(options_of(step, resp), 1))
    kind = "checkbox" if q.type in ("multiple", "roster") else "radio"
    return Field(kind=kind, choices=choices, **common)


def _numbers(tpl: Template, resp: SurveyResponse) -> dict[str, int]:
    # As in the chat ("第 N 题"): the position among the questions this respondent sees.
    return {s.key: i for i, s in enumerate(steps(tpl, resp), 1)}


def _page(
    tpl: Template,
    resp: SurveyResponse,
    resumed: bool = False,
    raw: Mapping[str, Sequence[str]] | None = None,
    problems: Mapping[str, str] | None = None,
) -> SurveyPage:
    part = section(tpl, resp)
    numbers = _numbers(tpl, resp)
    raw, problems = raw or {}, problems or {}
    fields = tuple(_field(s, resp, numbers[s.key], raw.get(s.key, ()), problems.get(s.key)) for s in part)
    all_steps = steps(tpl, resp)
    final = bool(part) and part[-1].key == all_steps[-1].key and part[-1].question.id not in controllers(tpl)
    answered = sum(1 for s in all_steps if s.key in resp.answers)
    return SurveyPage(tpl, "open", fields, answered=answered, resumed=resumed, final=final)


def survey_page(session: Session, registry: Registry, tpl: Template, user: User, now: datetime) -> SurveyPage:
    """The page as the worker opens it: starting or resuming their response (the chat's too)."""
    existing = response_of(session, tpl.key, user)
    if existing is not None and existing.status == "complete":
        return SurveyPage(tpl, "complete")
    if not is_open(session, tpl):
        return SurveyPage(tpl, "closed")
    resp, how = start_response(session, tpl, user, now, new_channel=PAGE_CHANNEL)
    if how == "complete":
        return SurveyPage(tpl, "complete")
    part = section(tpl, resp)
    if not part:  # every question answered, yet not complete (the template lost its last ones)
        _finish(session, registry, tpl, resp, now)
        return SurveyPage(tpl, "complete")
    if any(s.question.type == "roster" for s in part):
        ensure_roster(session, registry, user, resp)  # drawn once and kept: the form's numbers refer to it
    session.flush()
    return _page(tpl, resp, resumed=how == "resumed" and bool(resp.answers))


@dataclass(frozen=True)
class Submission:
    # saved | completed | invalid (nothing saved) | stale (nothing saved) | complete_already | closed
    outcome: str
    page: SurveyPage | None = None
    problems: tuple[str, ...] = field(default_factory=tuple)


def _form_value(step: Step, raw: Sequence[str]) -> Any:
    """The typed value of a form field (for ``check_value``), or _MISSING when left empty."""
    q = step.question
    if q.type == "text":
        if len(raw) > 1:
            raise BadAnswer("not_option")
        return raw[0] if raw and raw[0].strip() else _MISSING
    values = [v.strip() for v in raw if v.strip()]
    if not values:
        return _MISSING
    if not all(v == DONT_KNOW or (v.isascii() and v.isdigit() and len(v) <= 4) for v in values):
        raise BadAnswer("out_of_range" if q.type == "scale" else "not_option")
    typed: list[Any] = [v if v == DONT_KNOW else int(v) for v in values]
    if q.type in ("multiple", "roster"):
        if DONT_KNOW in typed:
            raise BadAnswer("not_option")
        return typed
    if len(typed) != 1:
        raise BadAnswer("not_option")
    return typed[0]


def _problem(step: Step, resp: SurveyResponse, number: int, reason: str, raw: Sequence[str]) -> str:
    q = step.question
    if reason == "missing":
        return T.SURVEY_PAGE_MISSING.format(n=number)
    if reason == "too_many":
        return T.SURVEY_PAGE_TOO_MANY.format(n=number, max=q.max, got=len(set(raw)))
    if reason == "none_and_other":
        return T.SURVEY_PAGE_NONE_AND_OTHER.format(n=number, none=q.none_option)
    if reason == "too_long":
        return T.SURVEY_PAGE_TOO_LONG.format(n=number, max=q.max_chars, got=len(raw[0].strip()))
    if reason == "out_of_range" and q.type == "scale":
        top = q.max if q.max is not None else 5
        return T.SURVEY_PAGE_OUT_OF_RANGE.format(n=number, min=q.min, max=top)
    return T.SURVEY_PAGE_NOT_OPTION.format(n=number)


def _finish(session: Session, registry: Registry, tpl: Template, resp: SurveyResponse, now: datetime) -> None:
    complete(session, registry, tpl, resp, now)
    end_chat_flow(session, resp)


def submit_section(
    session: Session,
    registry: Registry,
    tpl: Template,
    user: User,
    now: datetime,
    shown: Sequence[str],
    answers: Mapping[str, Sequence[str]],
) -> Submission:
    """Save the answers of the section the worker saw, all or none.

    ``shown`` is the step keys the rendered form said it held; ``answers`` the submitted values by
    step key. A key outside the section (forged, or from another page) refuses the whole form.
    """
    resp = response_of(session, tpl.key, user)
    if resp is not None and resp.status == "complete":
        return Submission("complete_already")
    if not is_open(session, tpl):
        return Submission("closed")
    if resp is None or now - resp.updated_at > RESUME_WINDOW:
        return Submission("stale", survey_page(session, registry, tpl, user, now), (T.SURVEY_PAGE_STALE,))
    part = section(tpl, resp)
    keys = [s.key for s in part]
    if any(s.question.type == "roster" for s in part) and "roster" not in resp.plan:
        ensure_roster(session, registry, user, resp)  # never shown yet: nothing here can refer to it
        session.flush()
        return Submission("stale", _page(tpl, resp), (T.SURVEY_PAGE_STALE,))
    if list(shown) != keys:
        # The chat (or another tab) answered meanwhile: show where the response is now.
        return Submission("stale", _page(tpl, resp), (T.SURVEY_PAGE_STALE,))
    if any(k not in keys for k in answers):
        return Submission("invalid", _page(tpl, resp, raw=answers), (T.SURVEY_PAGE_FORGED,))
    numbers = _numbers(tpl, resp)
    values: list[tuple[Step, Any]] = []
    problems: dict[str, str] = {}
    for step in part:
        raw = answers.get(step.key, ())
        try:
            typed = _form_value(step, raw)
            if typed is _MISSING:
                if not step.question.optional:
                    raise BadAnswer("missing")
                values.append((step, None))  # skipped, as 「跳过」 in the chat
                continue
            values.append((step, check_value(step, resp, typed)))
        except BadAnswer as exc:
            problems[step.key] = _problem(step, resp, numbers[step.key], exc.reason, raw)
    if problems:
        page = _page(tpl, resp, raw=answers, problems=problems)
        return Submission("invalid", page, tuple(problems[k] for k in keys if k in problems))
    for step, value in values:
        record_answer(resp, step, value, tpl)
    resp.updated_at = now
    if current_step(tpl, resp) is None:
        _finish(session, registry, tpl, resp, now)
        return Submission("completed")
    session.flush()
    return Submission("saved")
