"""Surveys in the chat: one question per reply, 「问卷」, the menu button and organisers' QR codes.

The chat and the H5 page share one response per person: answers given in one continue in the
other. From ``LONG_SURVEY`` questions the chat also offers the page.
"""

from __future__ import annotations

from config import voice_texts as T
from handlers.context import Context, Reply
from handlers.inbound import Inbound
from handlers.pages import guarded, link_line
from handlers.registry import Routes
from handlers.surveys.answers import BadAnswer, current_step, options_of, parse_answer, steps
from handlers.surveys.operations import (
    FLOW,
    RESUME_WINDOW,
    complete,
    ensure_roster,
    go_back,
    record_answer,
    start_response,
)
from handlers.surveys.queries import is_open, open_default_template
from handlers.surveys.templates import GROUPS, Step, Template, question_count, templates
from handlers.understanding import flow_prompt
from models import Conversation, SurveyResponse
from nlp import Intent

routes = Routes()

# From this many questions the chat also offers the survey's page (one tap per answer, not a reply).
LONG_SURVEY = 8
BACK_WORDS = ("上一题", "上一步", "返回", "后退")
SKIP_WORDS = ("跳过", "略过", "不回答", "下一题")


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
        complete(ctx.session, ctx.registry, tpl, resp, ctx.now)
        ctx.end_flow()
        return Reply(T.SURVEY_THANKS)
    if step.question.type == "roster":
        ensure_roster(ctx.session, ctx.registry, ctx.user, resp)
    _note_asked(ctx, step)
    text = render(step, resp, tpl)
    return Reply(f"{prefix}\n\n{text}" if prefix else text)


def _note_asked(ctx: Context, step: Step) -> None:
    """Remember which question the chat asked: the page may answer it before the chat's reply."""
    conv = ctx.conversation()
    if conv is not None and conv.flow == FLOW and conv.data.get("asked") != step.key:
        ctx.update_flow(conv, {**conv.data, "asked": step.key}, RESUME_WINDOW)


@routes.flow(FLOW)
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
        if not go_back(resp):
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


@routes.intent("survey")
def survey_intent(ctx: Context, inbound: Inbound, intent: Intent) -> Reply:
    return _open_survey(ctx)


@routes.click("MENU_SURVEY")
def survey_click(ctx: Context, inbound: Inbound) -> Reply:
    return _open_survey(ctx)


@routes.scene("survey")
def survey_scene(ctx: Context, inbound: Inbound, rest: str) -> Reply | None:
    """Scene "survey:<key>" or "survey:<key>:<G|S|W>": an organiser's link setting the group."""
    key, _, group = rest.partition(":")
    tpl = templates().get(key)
    if tpl is None or not is_open(ctx.session, tpl):
        return Reply(T.SURVEY_SCENE_UNKNOWN)
    group = group.upper() if group.upper() in GROUPS else "W"
    return begin(ctx, tpl, group=group, channel="neutral_invited")
