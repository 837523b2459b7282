"""Survey events (state changes): opening and closing a survey, starting, answering and
completing a response.

A response row is created when a survey starts (one per person per survey, a database
constraint) and holds the answers keyed by step; the conversation only points at it, so an
interrupted survey resumes from the response for 24 hours.
"""

from __future__ import annotations

import random
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from config.recognition import default_config
from handlers.actor import Actor
from handlers.measures import (
    BrandRatingAnswer,
    MeasuredResponse,
    RosterAnswer,
    RosterItem,
)
from handlers.registry import Registry
from handlers.surveys.answers import steps
from handlers.surveys.queries import is_open, response_of
from handlers.surveys.templates import Step, Template
from models import Conversation, SurveyResponse, User
from models.survey_admin import SurveySchedule

FLOW = "survey"
RESUME_WINDOW = timedelta(hours=24)
# The page is a medium, not a sampling channel: a response started there is the organiser's open
# survey to the index (neutral, so its roster counts for awareness), as from the chat; the
# response itself keeps "h5" for exports.
INDEX_CHANNELS = {"h5": "neutral_open"}


def set_open(session: Session, tpl: Template, open_: bool, now: datetime, actor: Actor) -> bool:
    """Open or close ``tpl`` for new and resumed answers; returns the previous state.

    Closing keeps every answer: complete responses stay in the results, unfinished ones stay
    unfinished (and can resume if it is opened again within their 24-hour window)."""
    before = is_open(session, tpl)
    row = session.get(SurveySchedule, tpl.key)
    if row is None:
        row = SurveySchedule(key=tpl.key, open=open_)
        session.add(row)
    row.open, row.changed_at, row.changed_by = open_, now, actor.label
    session.flush()
    return before


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


def ensure_roster(session: Session, registry: Registry, user: User, resp: SurveyResponse) -> None:
    """Draw the respondent's brand roster once, before the roster question is first shown (from
    the registry's roster provider: the recognition index's campaigns when it is registered)."""
    if "roster" not in resp.plan:
        rng = random.Random()
        resp.plan = {
            **resp.plan,
            "roster": [{"id": i.brand_id, "name": i.name} for i in registry.roster(session, user, rng)],
        }


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


def go_back(resp: SurveyResponse) -> bool:
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


def end_chat_flow(session: Session, resp: SurveyResponse) -> None:
    """The response was completed on the page: the chat stops asking its questions."""
    conv = session.scalar(select(Conversation).where(Conversation.user_id == resp.user_id))
    if conv is not None and conv.flow == FLOW and conv.data.get("response_id") == resp.id:
        session.delete(conv)
        session.flush()


def complete(
    session: Session, registry: Registry, tpl: Template, resp: SurveyResponse, now: datetime
) -> None:
    """Mark the response complete (answers of hidden questions dropped) and publish measures
    to the registry's sinks (the recognition index)."""
    visible = {s.key for s in steps(tpl, resp)}
    resp.answers = {k: v for k, v in resp.answers.items() if k in visible}
    resp.status, resp.submitted_at, resp.updated_at = "complete", now, now
    session.flush()
    measured = measured_response(tpl, resp)
    if measured is not None:
        registry.publish(session, measured)


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
