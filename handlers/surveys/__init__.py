"""Surveys (问卷): YAML templates, the one-question-per-reply dialogue, and completion.

A response row is created when a survey starts (one per person per survey, a database
constraint) and holds the answers keyed by step; the conversation only points at it, so an
interrupted survey resumes from the response for 24 hours.
"""

from __future__ import annotations

import functools
import random
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from config import voice_texts as T
from config.recognition import default_config
from handlers.context import Context, Reply
from handlers.inbound import Inbound
from handlers.measures import (
    BrandRatingAnswer,
    MeasuredResponse,
    RosterAnswer,
    RosterItem,
    publish,
    roster_for,
)
from handlers.members import on_scene
from handlers.pages import guarded, link_line
from handlers.registry import on_click, on_flow, on_intent
from handlers.understanding import flow_prompt
from models import Brand, Conversation, SurveyResponse, User
from models.survey_admin import SurveySchedule
from nlp import Intent

SURVEY_DIR = Path(__file__).resolve().parents[2] / "config" / "surveys"
FLOW = "survey"
RESUME_WINDOW = timedelta(hours=24)
# From this many questions the chat also offers the survey's page (one tap per answer, not a reply).
LONG_SURVEY = 8
# The page is a medium, not a sampling channel: a response started there is the organiser's open
# survey to the index (neutral, so its roster counts for awareness), as from the chat; the
# response itself keeps "h5" for exports.
INDEX_CHANNELS = {"h5": "neutral_open"}
QUESTION_TYPES = ("single", "multiple", "scale", "yesno", "text", "roster", "brand_ratings")
GROUPS = ("W", "G", "S")
DONT_KNOW = "dk"
YESNO = ("是", "否")


class TemplateError(ValueError):
    """A survey template that cannot be used (message names the file and question)."""


@dataclass(frozen=True)
class Question:
    id: str
    type: str
    text: str
    options: tuple[str, ...] = ()
    max: int | None = None  # multiple: most options; scale: top of the scale
    min: int = 1
    optional: bool = False
    dont_know: bool = False
    max_chars: int = 200
    show_if: tuple[str, tuple[str, ...]] | None = None
    brand: str | None = None
    measure: str | None = None
    none_option: str | None = None
    # brand_ratings only (how many brands a ballot rates: rating_followups_per_ballot in recognition.yaml)
    source: str | None = None
    items: tuple[Question, ...] = ()


@dataclass(frozen=True)
class Template:
    key: str
    title: str
    questions: tuple[Question, ...]
    default: bool = False
    active: bool = True


@dataclass(frozen=True)
class Step:
    """One question as asked: a template question, maybe bound to a brand."""

    key: str
    question: Question
    brand_id: int | None = None
    brand_name: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        name = self.brand_name or self.question.brand or ""
        return self.question.text.replace("{brand}", name)


def _question(raw: dict[str, Any], where: str, seen: set[str]) -> Question:
    qid = str(raw.get("id", ""))
    qtype = str(raw.get("type", ""))
    if not re.fullmatch(r"[a-z][a-z0-9_]*", qid) or qid in seen:
        raise TemplateError(f"{where}: 题目 id「{qid}」无效或重复（小写字母、数字、下划线）")
    seen.add(qid)
    if qtype not in QUESTION_TYPES:
        raise TemplateError(f"{where}/{qid}: 题型「{qtype}」无效，可用：{', '.join(QUESTION_TYPES)}")
    options = tuple(str(o) for o in raw.get("options", []))
    if qtype == "yesno":
        options = YESNO
    if qtype in ("single", "multiple") and len(options) < 2:
        raise TemplateError(f"{where}/{qid}: 选择题至少需要 2 个选项")
    show_if = None
    if "show_if" in raw:
        cond = raw["show_if"]
        values = cond.get("in", cond.get("equals"))
        values = values if isinstance(values, list) else [values]
        show_if = (str(cond["question"]), tuple(str(v) for v in values))
        if show_if[0] not in seen:
            raise TemplateError(f"{where}/{qid}: show_if 只能引用前面的题目")
    items: tuple[Question, ...] = ()
    if qtype == "brand_ratings":
        items = tuple(_question(i, f"{where}/{qid}", seen) for i in raw.get("items", []))
        if not items or any(i.type != "scale" for i in items):
            raise TemplateError(f"{where}/{qid}: 品牌评分题的 items 必须是量表题")
        if "max_brands" in raw:  # one source: the index's parameters are frozen per round
            raise TemplateError(
                f"{where}/{qid}: 每张答卷评价几个品牌由 config/recognition.yaml 的 "
                "rating_followups_per_ballot 决定，问卷模板不能另设 max_brands"
            )
    scale_max = 5 if qtype == "scale" else None
    return Question(
        id=qid,
        type=qtype,
        text=str(raw.get("text", "")),
        options=options,
        max=int(raw["max"]) if "max" in raw else (scale_max if qtype == "scale" else None),
        min=int(raw.get("min", 1)),
        optional=bool(raw.get("optional", False)),
        dont_know=bool(raw.get("dont_know", False)),
        max_chars=int(raw.get("max_chars", 200)),
        show_if=show_if,
        brand=raw.get("brand"),
        measure=raw.get("measure"),
        none_option=raw.get("none_option"),
        source=raw.get("from"),
        items=items,
    )


def parse_template(data: dict[str, Any], where: str = "template") -> Template:
    seen: set[str] = set()
    questions = tuple(_question(q, where, seen) for q in data.get("questions", []))
    if not questions:
        raise TemplateError(f"{where}: 问卷没有题目")
    return Template(
        key=str(data["key"]),
        title=str(data["title"]),
        questions=questions,
        default=bool(data.get("default", False)),
        active=bool(data.get("active", True)),
    )


@functools.cache
def templates() -> dict[str, Template]:
    found: dict[str, Template] = {}
    for path in sorted(SURVEY_DIR.glob("*.yaml")):
        tpl = parse_template(yaml.safe_load(path.read_text(encoding="utf-8")), path.name)
        if tpl.key in found:
            raise TemplateError(f"{path.name}: 问卷 key「{tpl.key}」重复")
        found[tpl.key] = tpl
    return found


def is_open(session: Session, tpl: Template) -> bool:
    """Open for answers: the dashboard's open/close setting, else the template's ``active``."""
    row = session.get(SurveySchedule, tpl.key)
    return tpl.active if row is None else row.open


def open_default_template(session: Session) -> Template | None:
    """The survey "问卷" starts: the default one if open, else the first open one."""
    candidates = [t for t in templates().values() if is_open(session, t)]
    for tpl in candidates:
        if tpl.default:
            return tpl
    return candidates[0] if candidates else None


def set_open(session: Session, tpl: Template, open_: bool, now: datetime, by: str) -> bool:
    """Open or close ``tpl`` for new and resumed answers; returns the previous state.

    Closing keeps every answer: complete responses stay in the results, unfinished ones stay
    unfinished (and can resume if it is opened again within their 24-hour window)."""
    before = is_open(session, tpl)
    row = session.get(SurveySchedule, tpl.key)
    if row is None:
        row = SurveySchedule(key=tpl.key, open=open_)
        session.add(row)
    row.open, row.changed_at, row.changed_by = open_, now, by
    session.flush()
    return before


def default_template() -> Template | None:
    active = [t for t in templates().values() if t.active]
    for tpl in active:
        if tpl.default:
            return tpl
    return active[0] if active else None


# --- steps ----------------------------------------------------------------------------------


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


# --- answers --------------------------------------------------------------------------------

_TRANSLATE = str.maketrans("０１２３４５６７８９，、；;／/．", "0123456789,,,,,,.")
BACK_WORDS = ("上一题", "上一步", "返回", "后退")
SKIP_WORDS = ("跳过", "略过", "不回答", "下一题")
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


def _hint(step: Step, resp: SurveyResponse) -> str:
    q = step.question
    if q.type in ("multiple", "roster"):
        if q.max:
            return T.SURVEY_HINT_MULTIPLE_MAX.format(max=q.max)
        return T.SURVEY_HINT_MULTIPLE
    if q.type == "single":
        return T.SURVEY_HINT_SINGLE
    if q.type == "yesno":
        return T.SURVEY_HINT_YESNO
    if q.type == "scale":
        if q.min == 0 and q.max == 10:
            return T.SURVEY_HINT_NPS
        return T.SURVEY_HINT_SCALE_DK if q.dont_know else T.SURVEY_HINT_SCALE
    return T.SURVEY_HINT_TEXT.format(max=q.max_chars)


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


def render(step: Step, resp: SurveyResponse, tpl: Template) -> str:
    q = step.question
    all_steps = steps(tpl, resp)
    index = next((i for i, s in enumerate(all_steps) if s.key == step.key), 0) + 1
    # No "of N": the total moves with show_if answers and the brands ticked on the roster.
    title = f"第 {index} 题 {step.text}"
    if q.type in ("multiple", "roster"):
        title += T.SURVEY_MULTI_TAG_MAX.format(max=q.max) if q.max else T.SURVEY_MULTI_TAG
    if q.optional:
        title += T.SURVEY_OPTIONAL_TAG
    lines = [title]
    options = options_of(step, resp)
    lines += [f"{i}. {o}" for i, o in enumerate(options, 1)]
    if q.type in ("scale", "text"):
        lines.append(_hint(step, resp))
    return "\n".join(lines)


# --- the dialogue ----------------------------------------------------------------------------


def _new_code(session: Session) -> str:
    while True:
        code = "R" + secrets.token_hex(6).upper()
        if session.scalar(select(SurveyResponse.id).where(SurveyResponse.respondent_code == code)) is None:
            return code


def _reset(resp: SurveyResponse, now: datetime, group: str | None, channel: str | None) -> None:
    resp.answers, resp.plan = {}, {"history": []}
    if group is not None:
        resp.respondent_group = group
        resp.plan["group_fixed"] = True
    if channel is not None:
        resp.channel = channel
    resp.started_at = resp.updated_at = now


def start_response(
    session: Session,
    tpl: Template,
    user: User,
    now: datetime,
    *,
    group: str | None = None,
    channel: str | None = None,
    new_channel: str = "neutral_open",
) -> tuple[SurveyResponse, str]:
    """The user's response to ``tpl``, created, resumed or restarted; and which of these it was.

    Returns ("complete" | "new" | "resumed" | "restarted"). The chat and the page both start here,
    so they share one response: answers given in one continue in the other. ``channel`` is an
    organiser link's; ``new_channel`` what a response started here without one is.
    """
    resp = response_of(session, tpl.key, user)
    if resp is not None and resp.status == "complete":
        return resp, "complete"
    if resp is None:
        resp = SurveyResponse(
            survey_key=tpl.key,
            user_id=user.id,
            respondent_code=_new_code(session),
            respondent_group="W",
            channel=new_channel,
            status="in_progress",
        )
        _reset(resp, now, group, channel)
        try:
            with session.begin_nested():
                session.add(resp)
                session.flush()
        except IntegrityError:
            # The same person started it a moment ago elsewhere (the chat, another tab).
            resp = response_of(session, tpl.key, user)
            if resp is None:
                raise
            return resp, ("complete" if resp.status == "complete" else "resumed")
        return resp, "new"
    if now - resp.updated_at > RESUME_WINDOW:
        _reset(resp, now, group, channel)  # too old to resume: start afresh
        how = "restarted"
    else:
        how = "resumed"
        if group is not None:
            resp.respondent_group, resp.plan = group, {**resp.plan, "group_fixed": True}
    session.flush()
    return resp, how


def ensure_roster(session: Session, user: User, resp: SurveyResponse) -> None:
    """Draw the respondent's brand roster once, before the roster question is first shown."""
    if "roster" not in resp.plan:
        rng = random.Random()
        resp.plan = {
            **resp.plan,
            "roster": [{"id": i.brand_id, "name": i.name} for i in roster_for(session, user, rng)],
        }


def question_count(tpl: Template) -> int:
    """How many questions the template asks at most once each (a brand-rating item counts once)."""
    return sum(len(q.items) if q.type == "brand_ratings" else 1 for q in tpl.questions)


def page_path(tpl: Template) -> str:
    return f"/h5/surveys/{tpl.key}"


def begin(ctx: Context, tpl: Template, group: str | None = None, channel: str | None = None) -> Reply:
    """Start or resume ``tpl`` for the context's user; the reply is the next question."""
    resp, how = start_response(ctx.session, tpl, ctx.user, ctx.now, group=group, channel=channel)
    if how == "complete":
        return Reply(T.SURVEY_DONE_ALREADY.format(title=tpl.title))
    intro = (T.SURVEY_RESUME if how == "resumed" else T.SURVEY_INTRO).format(title=tpl.title)
    line = None
    if question_count(tpl) >= LONG_SURVEY and current_step(tpl, resp) is not None:
        line = link_line(ctx, T.SURVEY_PAGE_LINK, page_path(tpl))
    if line is not None:
        intro = f"{intro}\n{line}"
    ctx.start_flow(FLOW, {"response_id": resp.id, "survey": tpl.key}, RESUME_WINDOW)
    return guarded(ctx, _ask_next(ctx, tpl, resp, intro), line)


def _ask_next(ctx: Context, tpl: Template, resp: SurveyResponse, prefix: str | None = None) -> Reply:
    step = current_step(tpl, resp)
    if step is None:
        complete(ctx.session, tpl, resp, ctx.now)
        ctx.end_flow()
        return Reply(T.SURVEY_THANKS)
    if step.question.type == "roster":
        ensure_roster(ctx.session, ctx.user, resp)
    _note_asked(ctx, step)
    text = render(step, resp, tpl)
    return Reply(f"{prefix}\n\n{text}" if prefix else text)


def _note_asked(ctx: Context, step: Step) -> None:
    """Remember which question the chat asked: the page may answer it before the chat's reply."""
    conv = ctx.conversation()
    if conv is not None and conv.flow == FLOW and conv.data.get("asked") != step.key:
        ctx.update_flow(conv, {**conv.data, "asked": step.key}, RESUME_WINDOW)


def record_answer(resp: SurveyResponse, step: Step, value: Any, tpl: Template) -> None:
    answers = dict(resp.answers)
    answers[step.key] = value
    plan = dict(resp.plan)
    plan["history"] = [*plan.get("history", []), step.key]
    if step.question.type == "roster":
        # The brands to rate: those ticked (not the foil), at most the index's follow-ups, at random.
        roster = plan.get("roster", [])
        aware = [roster[c - 1] for c in (value or []) if roster[c - 1]["id"] is not None]
        limit = default_config().followups_per_ballot
        chosen = random.Random().sample(aware, limit) if len(aware) > limit else aware
        plan["rated"] = chosen
        # Ratings of brands no longer chosen (the roster was answered again) are dropped.
        keep = {str(b["id"]) for b in chosen}
        answers = {k: v for k, v in answers.items() if ":" not in k or k.split(":", 1)[1] in keep}
    resp.answers, resp.plan = answers, plan


def _go_back(resp: SurveyResponse) -> bool:
    plan = dict(resp.plan)
    history = list(plan.get("history", []))
    if not history:
        return False
    last = history.pop()
    answers = dict(resp.answers)
    answers.pop(last, None)
    plan["history"] = history
    resp.answers, resp.plan = answers, plan
    return True


@on_flow(FLOW)
def survey_flow(ctx: Context, inbound: Inbound, conv: Conversation) -> Reply | None:
    tpl = templates().get(str(conv.data.get("survey")))
    resp = ctx.session.get(SurveyResponse, conv.data.get("response_id"))
    if tpl is None or resp is None or resp.status == "complete":
        ctx.end_flow()
        return None
    if not is_open(ctx.session, tpl):
        ctx.end_flow()
        return Reply(T.SURVEY_CLOSED)
    step = current_step(tpl, resp)
    if step is None:
        return _ask_next(ctx, tpl, resp)
    text = inbound.text
    word = text.strip().strip("。.!！ ")
    prefix: str | None = None
    asked = conv.data.get("asked")
    if asked is not None and asked != step.key and word not in BACK_WORDS:
        # Answered on the page since the chat asked: this reply was meant for another question.
        return _ask_next(ctx, tpl, resp, T.SURVEY_MOVED_ON)
    if word in BACK_WORDS:
        if not _go_back(resp):
            prefix = T.SURVEY_AT_FIRST
    elif word in SKIP_WORDS:
        if not step.question.optional:
            return Reply(f"{T.SURVEY_NOT_OPTIONAL}\n\n{render(step, resp, tpl)}\n{T.SURVEY_LEAVE_HINT}")
        record_answer(resp, step, None, tpl)
    else:
        try:
            value = parse_answer(step, resp, text)
        except BadAnswer:
            return Reply(f"{_hint(step, resp)}\n\n{render(step, resp, tpl)}\n{T.SURVEY_LEAVE_HINT}")
        record_answer(resp, step, value, tpl)
    resp.updated_at = ctx.now
    ctx.update_flow(conv, dict(conv.data), RESUME_WINDOW)
    return _ask_next(ctx, tpl, resp, prefix)


def end_chat_flow(session: Session, resp: SurveyResponse) -> None:
    """The response was completed on the page: the chat stops asking its questions."""
    conv = session.scalar(select(Conversation).where(Conversation.user_id == resp.user_id))
    if conv is not None and conv.flow == FLOW and conv.data.get("response_id") == resp.id:
        session.delete(conv)
        session.flush()


def complete(session: Session, tpl: Template, resp: SurveyResponse, now: datetime) -> None:
    """Mark the response complete (answers of hidden questions dropped) and publish measures."""
    visible = {s.key for s in steps(tpl, resp)}
    resp.answers = {k: v for k, v in resp.answers.items() if k in visible}
    resp.status, resp.submitted_at, resp.updated_at = "complete", now, now
    session.flush()
    measured = measured_response(tpl, resp)
    if measured is not None:
        publish(session, measured)


def measured_response(tpl: Template, resp: SurveyResponse) -> MeasuredResponse | None:
    roster_q = next((q for q in tpl.questions if q.type == "roster"), None)
    block = next((q for q in tpl.questions if q.type == "brand_ratings"), None)
    if roster_q is None and block is None:
        return None
    roster = None
    if roster_q is not None:
        shown = tuple(RosterItem(i["id"], i["name"]) for i in resp.plan.get("roster", []))
        ticked = [shown[c - 1] for c in resp.answers.get(roster_q.id) or []]
        roster = RosterAnswer(
            shown=shown,
            aware_brand_ids=tuple(i.brand_id for i in ticked if i.brand_id is not None),
            foil_ticked=any(i.is_foil for i in ticked),
        )

    def num(key: str) -> int | None:
        value = resp.answers.get(key)
        return value if isinstance(value, int) else None

    ratings = tuple(
        BrandRatingAnswer(
            brand_id=b["id"],
            q1_overall=num(f"q1:{b['id']}"),
            q2_vs_expect=num(f"q2:{b['id']}"),
            q3_recommend=num(f"q3:{b['id']}"),
        )
        for b in resp.plan.get("rated", [])
    )
    assert resp.submitted_at is not None
    return MeasuredResponse(
        user_id=resp.user_id,
        survey_key=resp.survey_key,
        group=resp.respondent_group if resp.plan.get("group_fixed") else None,
        channel=INDEX_CHANNELS.get(resp.channel, resp.channel),
        started_at=resp.started_at,
        submitted_at=resp.submitted_at,
        roster=roster,
        ratings=ratings,
        source_key=f"survey:{resp.survey_key}:{resp.respondent_code}",
    )


@flow_prompt(FLOW)
def survey_prompt(ctx: Context, conv: Conversation) -> str:
    tpl = templates().get(str(conv.data.get("survey")))
    resp = ctx.session.get(SurveyResponse, conv.data.get("response_id"))
    step = current_step(tpl, resp) if tpl is not None and resp is not None else None
    if tpl is None or resp is None or step is None:
        return T.SURVEY_LEAVE_HINT
    _note_asked(ctx, step)
    return f"{render(step, resp, tpl)}\n{T.SURVEY_LEAVE_HINT}"


def _open_survey(ctx: Context) -> Reply:
    tpl = open_default_template(ctx.session)
    if tpl is None:
        return Reply(T.SURVEY_NONE)
    return begin(ctx, tpl)


@on_intent("survey")
def survey_intent(ctx: Context, inbound: Inbound, intent: Intent) -> Reply:
    return _open_survey(ctx)


@on_click("MENU_SURVEY")
def survey_click(ctx: Context, inbound: Inbound) -> Reply:
    return _open_survey(ctx)


@on_scene("survey")
def survey_scene(ctx: Context, inbound: Inbound, rest: str) -> Reply | None:
    """Scene "survey:<key>" or "survey:<key>:<G|S|W>": an organiser's link setting the group."""
    key, _, group = rest.partition(":")
    tpl = templates().get(key)
    if tpl is None or not is_open(ctx.session, tpl):
        return Reply(T.SURVEY_SCENE_UNKNOWN)
    group = group.upper() if group.upper() in GROUPS else "W"
    return begin(ctx, tpl, group=group, channel="neutral_invited")


def brand_names(session: Session, ids: list[int]) -> dict[int, str]:
    return {b.id: b.name for b in session.scalars(select(Brand).where(Brand.id.in_(ids)))}


def response_of(session: Session, key: str, user: User) -> SurveyResponse | None:
    return session.scalar(
        select(SurveyResponse).where(SurveyResponse.survey_key == key, SurveyResponse.user_id == user.id)
    )
