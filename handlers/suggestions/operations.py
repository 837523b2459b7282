"""Suggestions (建议 / 意见 / 投诉): filing, tickets, routing, the state machine, answers.

Operations the dashboard calls (accept, start, answer, transfer, reject, rate) are plain
functions taking the acting person: a WeChat cadre/admin (checked by ``can_act``), or None
when the caller has already checked authority (the dashboard, whose account is scoped to a
subtree and whose write is recorded in its audit log). Anonymous suggestions store no user and set
``ctx.redact_inbound`` on every message of their dialogue, so nothing ties them to an openid.
"""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from config import voice_texts as T
from handlers import delivery
from handlers.anonymity import (
    ATTEMPT_WINDOW,
    MAX_WRONG_ATTEMPTS,
    code_matches,
    day_stamp,
    hash_code,
    keyed,
    new_access_code,
    normalise_code,
    seal,
    show_code,
    unseal,
)
from handlers.clock import add_working_days, local_day, show_day, show_time
from handlers.context import Context, JobRequest, Reply
from handlers.delivery import owed
from handlers.held_replies import has_held
from handlers.inbound import Inbound
from handlers.notify import within_service_window
from handlers.pages import guarded, link_line
from handlers.registry import JobContext, after_message, before_message, job, on_click, on_flow, on_intent
from handlers.understanding import fit_echo, flow_prompt
from models import (
    Brand,
    Conversation,
    Role,
    Suggestion,
    SuggestionEvent,
    SuggestionState,
    Union,
    User,
)
from models.delivery import DeliveryChannel
from models.voice import AnonymousQuota, CodeAttempt, SuggestionQuota, TicketCounter
from nlp import Intent
from nlp.keywords import categorise

log = logging.getLogger(__name__)

CONFIG_FILE = Path(__file__).resolve().parent.parent / "config" / "suggestions.yaml"
FLOW = "suggest"
RATE_FLOW = "suggestion_rate"
FLOW_TTL = timedelta(hours=1)
RATE_TTL = timedelta(days=7)
S = SuggestionState


class SuggestionError(ValueError):
    """An operation that cannot be done as asked; the message is Chinese, for the person acting."""


@dataclass(frozen=True)
class SuggestionConfig:
    categories: dict[str, dict[str, float]]
    accept_working_days: int
    answer_working_days: int
    min_chars: int
    max_chars: int
    per_day: int
    confirm_over_chars: int


@functools.cache
def config() -> SuggestionConfig:
    data: dict[str, Any] = yaml.safe_load(CONFIG_FILE.read_text(encoding="utf-8"))
    return SuggestionConfig(
        categories={k: dict(v or {}) for k, v in data["categories"].items()},
        accept_working_days=int(data["deadlines"]["accept_working_days"]),
        answer_working_days=int(data["deadlines"]["answer_working_days"]),
        min_chars=int(data["limits"]["min_chars"]),
        max_chars=int(data["limits"]["max_chars"]),
        per_day=int(data["limits"]["per_day"]),
        confirm_over_chars=int(data["limits"]["confirm_over_chars"]),
    )


# --- text -------------------------------------------------------------------------------------

_LEADING = re.compile(
    r"^(?:[\s,，。.:：;；、!！~～\-—]+|匿名地?|实名|"
    r"(?:我要|我想|我)?(?:匿名地?|实名)?(?:提出|提|说|给工会提)?(?:个|一个|一条|条|点)?"
    r"(?:建议|意见|投诉|反映)(?:一下|一条|一个|个)?)"
)
_CUT_OFF_ENDINGS = (
    *"，,、：:；;（(“\"‘'《—-",
    *("和", "及", "与", "的", "因为", "但是", "而且", "所以", "如果"),
)


def strip_command(text: str) -> str:
    """The suggestion itself, with leading command words (建议/投诉/匿名 …) removed.

    The router should already strip them; this makes the handler robust if it did not.
    """
    text = text.strip()
    while True:
        stripped = _LEADING.sub("", text, count=1)
        if stripped == text:
            return text.strip()
        text = stripped


def looks_cut_off(text: str) -> bool:
    return text.endswith(_CUT_OFF_ENDINGS)


def _needs_confirmation(text: str) -> bool:
    return len(text) > config().confirm_over_chars or looks_cut_off(text)


# --- tickets and routing ------------------------------------------------------------------------


def next_ticket(session: Session, now: datetime) -> str:
    """JY + Shanghai date + - + daily sequence, atomically.

    One statement inserts the day's counter row or increments it and returns the new value:
    PostgreSQL takes a row lock, so concurrent submissions queue on it; SQLite serialises
    writers (BEGIN IMMEDIATE). The unique ticket column is the last line of defence.
    """
    day = local_day(now)
    dialect = session.get_bind().dialect.name
    ins = pg_insert(TicketCounter) if dialect == "postgresql" else sqlite_insert(TicketCounter)
    stmt = (
        ins.values(day=day, last=1)
        .on_conflict_do_update(index_elements=["day"], set_={"last": TicketCounter.last + 1})
        .returning(TicketCounter.last)
    )
    seq = session.execute(stmt).scalar_one()
    if seq > 9999:
        raise SuggestionError("今日建议单号已用完，请明天再提交。")
    return f"JY{day}-{seq:04d}"


def top_union(session: Session) -> Union | None:
    return session.scalar(select(Union).where(Union.parent_id.is_(None)).order_by(Union.id).limit(1))


def responsible_union(session: Session, user: User | None, brand: Brand | None) -> Union | None:
    """The brand's union when a brand is named, else the worker's union, else the top union."""
    if brand is not None:
        return brand.union
    if user is not None and user.union_id is not None:
        return session.get(Union, user.union_id)
    return top_union(session)


def _use_quota(session: Session, user: User, now: datetime, anonymous: bool) -> None:
    """One daily limit over named and anonymous filings together.

    Anonymous filings are counted under a keyed hash of (day, openid), never the user id: a
    user's named count that exceeds their named suggestions would otherwise show the filing.
    """
    day = local_day(now)
    named = session.get(SuggestionQuota, (user.id, day))
    anon_key = keyed("anon-quota", f"{day}:{user.openid}")
    anon = session.get(AnonymousQuota, (anon_key, day))
    used = (named.count if named else 0) + (anon.count if anon else 0)
    if used >= config().per_day:
        raise SuggestionError(T.DAILY_LIMIT.format(n=used))
    if anonymous:
        if anon is None:
            anon = AnonymousQuota(key_hash=anon_key, day=day, count=0)
            session.add(anon)
        anon.count += 1
    else:
        if named is None:
            named = SuggestionQuota(user_id=user.id, day=day, count=0)
            session.add(named)
        named.count += 1


def _at(s: Suggestion, now: datetime) -> datetime:
    """What a suggestion stores for ``now``: the day only when it is anonymous.

    An instant would be joinable to the author's other rows (their messages, votes, user row).
    """
    return day_stamp(now) if s.anonymous else now


def _due(anonymous: bool, now: datetime, days: int) -> datetime:
    """A deadline ``days`` working days on; for an anonymous suggestion, the end of that day
    counted from the filing day (an instant would be derived from the author's message time)."""
    if anonymous:
        return add_working_days(day_stamp(now), days) + timedelta(days=1)
    return add_working_days(now, days)


def validate_content(text: str) -> str:
    cfg = config()
    text = text.strip()
    if len(text) < cfg.min_chars:
        raise SuggestionError(T.TOO_SHORT.format(min=cfg.min_chars))
    if len(text) > cfg.max_chars:
        raise SuggestionError(T.TOO_LONG.format(max=cfg.max_chars, n=len(text)))
    return text


def submit(
    session: Session,
    user: User,
    content: str,
    now: datetime,
    *,
    anonymous: bool = False,
    brand: Brand | None = None,
) -> Suggestion:
    """File a suggestion. Anonymous ones keep no link to ``user`` (see ``file_suggestion``)."""
    return file_suggestion(session, user, content, now, anonymous=anonymous, brand=brand)[0]


def file_suggestion(
    session: Session,
    user: User,
    content: str,
    now: datetime,
    *,
    anonymous: bool = False,
    brand: Brand | None = None,
) -> tuple[Suggestion, str | None]:
    """File a suggestion; returns it and, for an anonymous one, its access code (shown once).

    Anonymous: no user, the code kept only as a keyed hash, and every time stored (created,
    updated, events, deadlines) is the day's noon, so no instant joins it to the author.
    """
    content = validate_content(content)
    union = responsible_union(session, user, brand)
    if union is None:
        raise SuggestionError(T.NO_UNION)
    _use_quota(session, user, now, anonymous)
    category, _scores = categorise(content, config().categories)
    at = day_stamp(now) if anonymous else now  # see _at
    ticket = next_ticket(session, now)
    code = new_access_code() if anonymous else None
    suggestion = Suggestion(
        ticket=ticket,
        user_id=None if anonymous else user.id,
        anonymous=anonymous,
        access_code_hash=hash_code(ticket, code) if code else None,
        content=content,
        category=category,
        brand_id=brand.id if brand else None,
        union_id=union.id,
        state=S.SUBMITTED,
        due_at=_due(anonymous, now, config().accept_working_days),
        created_at=at,
        updated_at=at,
    )
    session.add(suggestion)
    _record(suggestion, "submit", None, S.SUBMITTED, None, now, union_id=union.id)
    session.flush()
    return suggestion, code


def _record(
    s: Suggestion,
    action: str,
    from_state: SuggestionState | None,
    to_state: SuggestionState,
    actor: User | None,
    now: datetime,
    *,
    union_id: int | None = None,
    note: str | None = None,
) -> None:
    s.events.append(
        SuggestionEvent(
            action=action,
            from_state=from_state.value if from_state else None,
            to_state=to_state.value,
            actor_id=actor.id if actor else None,
            union_id=union_id if union_id is not None else s.union_id,
            note=note,
            at=_at(s, now),
        )
    )
    s.updated_at = _at(s, now)


# --- the state machine ------------------------------------------------------------------------

TRANSITIONS: dict[str, tuple[tuple[SuggestionState, ...], SuggestionState | None]] = {
    # action: (allowed from-states, to-state; None: unchanged)
    "accept": ((S.SUBMITTED,), S.ACCEPTED),
    "start": ((S.ACCEPTED,), S.IN_PROGRESS),
    "answer": ((S.ACCEPTED, S.IN_PROGRESS), S.ANSWERED),
    "reject": ((S.SUBMITTED,), S.REJECTED),
    "transfer": ((S.SUBMITTED, S.ACCEPTED, S.IN_PROGRESS), None),
    "rate": ((S.ANSWERED,), S.RATED),
}


def can_act(session: Session, actor: User, s: Suggestion) -> bool:
    """Admins act everywhere; a cadre acts on suggestions of their union or its subtree."""
    if actor.role == Role.ADMIN:
        return True
    if actor.role != Role.CADRE or actor.union_id is None:
        return False
    own = session.get(Union, actor.union_id)
    return own is not None and s.union.is_within(own)


def _check(session: Session, s: Suggestion, action: str, actor: User | None) -> SuggestionState | None:
    allowed, target = TRANSITIONS[action]
    if s.state not in allowed:
        raise SuggestionError(f"单号 {s.ticket} 当前状态为「{s.state.label}」，不能执行此操作。")
    if actor is not None and not can_act(session, actor, s):
        raise SuggestionError(f"您无权处理单号 {s.ticket} 的建议。")
    return target


def accept(session: Session, s: Suggestion, actor: User | None, now: datetime) -> Suggestion:
    target = _check(session, s, "accept", actor)
    assert target is not None
    prev, s.state = s.state, target
    s.due_at = _due(s.anonymous, now, config().answer_working_days)
    _record(s, "accept", prev, target, actor, now)
    session.flush()
    return s


def start(session: Session, s: Suggestion, actor: User | None, now: datetime) -> Suggestion:
    target = _check(session, s, "start", actor)
    assert target is not None
    prev, s.state = s.state, target
    _record(s, "start", prev, target, actor, now)
    session.flush()
    return s


def answer(
    session: Session, s: Suggestion, actor: User | None, text: str, now: datetime
) -> JobRequest | None:
    """Record the answer. Returns the push job for the caller to enqueue (None: anonymous)."""
    target = _check(session, s, "answer", actor)
    assert target is not None
    text = text.strip()
    if not text:
        raise SuggestionError("答复内容不能为空。")
    prev, s.state = s.state, target
    s.answer, s.answered_at, s.answer_delivered_at, s.due_at = text, _at(s, now), None, None
    _record(s, "answer", prev, target, actor, now, note=text)
    session.flush()
    if s.user_id is not None:
        owed.add(s.user_id)  # owed until delivered: this process looks for it at once
    if s.anonymous or s.user_id is None:
        return None  # anonymous authors read the answer when they query the ticket
    return JobRequest("suggestion_answer", {"suggestion_id": s.id})


def reject(session: Session, s: Suggestion, actor: User | None, reason: str, now: datetime) -> Suggestion:
    target = _check(session, s, "reject", actor)
    assert target is not None
    reason = reason.strip()
    if not reason:
        raise SuggestionError("不予受理必须填写原因。")
    prev, s.state = s.state, target
    s.reason, s.due_at = reason, None
    _record(s, "reject", prev, target, actor, now, note=reason)
    session.flush()
    return s


def transfer(
    session: Session,
    s: Suggestion,
    actor: User | None,
    union: Union,
    now: datetime,
    note: str | None = None,
) -> Suggestion:
    """Hand the suggestion to another union; its accept/answer clock restarts there."""
    _check(session, s, "transfer", actor)
    if union.id == s.union_id:
        raise SuggestionError("已经是该工会在办理，无需转办。")
    s.union_id, s.union = union.id, union
    days = config().accept_working_days if s.state == S.SUBMITTED else config().answer_working_days
    s.due_at = _due(s.anonymous, now, days)
    _record(s, "transfer", s.state, s.state, actor, now, union_id=union.id, note=note)
    session.flush()
    return s


RATINGS = ("satisfied", "basic", "unsatisfied")


def rate(session: Session, s: Suggestion, rating: str, now: datetime) -> Suggestion:
    """The author rates the answer; 不满意 reopens the suggestion once."""
    _check(session, s, "rate", None)
    if rating not in RATINGS:
        raise SuggestionError("评价只能是：满意、基本满意、不满意。")
    prev = s.state
    if rating == "unsatisfied" and s.reopen_count == 0:
        s.reopen_count = 1
        s.state = S.IN_PROGRESS
        s.due_at = _due(s.anonymous, now, config().answer_working_days)
        _record(s, "reopen", prev, S.IN_PROGRESS, None, now, note=rating)
    else:
        s.rating, s.state = rating, S.RATED
        _record(s, "rate", prev, S.RATED, None, now, note=rating)
    session.flush()
    return s


def escalate_overdue(session: Session, now: datetime) -> list[Suggestion]:
    """Move overdue suggestions to the parent union with a fresh deadline.

    Idempotent: an escalated suggestion gets a new deadline in the future, so a second run
    at the same time escalates nothing. Suggestions at the top union stay there (logged).
    Also purges daily-limit counters of past days and wrong-code attempts older than the hour.
    """
    session.execute(delete(SuggestionQuota).where(SuggestionQuota.day < local_day(now)))
    session.execute(delete(AnonymousQuota).where(AnonymousQuota.day < local_day(now)))
    session.execute(delete(CodeAttempt).where(CodeAttempt.at <= now - ATTEMPT_WINDOW))
    overdue = session.scalars(
        select(Suggestion)
        .where(
            Suggestion.due_at.is_not(None),
            Suggestion.due_at < now,
            Suggestion.state.in_((S.SUBMITTED, S.ACCEPTED, S.IN_PROGRESS)),
        )
        .order_by(Suggestion.id)
        .with_for_update(skip_locked=True)
    ).all()
    moved: list[Suggestion] = []
    for s in overdue:
        parent = s.union.parent
        days = config().accept_working_days if s.state == S.SUBMITTED else config().answer_working_days
        s.due_at = _due(s.anonymous, now, days)
        if parent is None:
            _record(s, "overdue", s.state, s.state, None, now, note="已是最高级工会，无法再上交")
            continue
        s.union_id, s.union = parent.id, parent
        s.escalations += 1
        _record(s, "escalate", s.state, s.state, None, now, union_id=parent.id, note="逾期未办，上交上级工会")
        moved.append(s)
    session.flush()
    return moved


# --- reading ----------------------------------------------------------------------------------


def find_ticket(session: Session, ticket: str) -> Suggestion | None:
    return session.scalar(select(Suggestion).where(Suggestion.ticket == ticket.upper()))


def describe(s: Suggestion) -> str:
    lines = [T.STATUS_HEADER.format(ticket=s.ticket, state=s.state.label)]
    lines.append(T.STATUS_LINE_CONTENT.format(content=_snippet(s.content, 100)))
    lines.append(T.STATUS_LINE_UNION.format(union=s.union.name))
    # Anonymous suggestions keep only their day (see _at): show the date, not a made-up 00:00.
    shown = show_day if s.anonymous else show_time
    lines.append(T.STATUS_LINE_CREATED.format(created=shown(s.created_at)))
    if s.due_at is not None:
        due = s.due_at - timedelta(days=1) if s.anonymous else s.due_at  # end of that day
        lines.append(T.STATUS_LINE_DUE.format(due=shown(due)))
    if s.state == S.REJECTED and s.reason:
        lines.append(T.STATUS_LINE_REASON.format(reason=s.reason))
    if s.answer and s.state in (S.ANSWERED, S.RATED):
        lines.append(T.STATUS_LINE_ANSWER.format(answer=s.answer))
    if s.rating:
        lines.append(T.STATUS_LINE_RATING.format(rating=T.RATING_LABELS[s.rating]))
    if s.state == S.ANSWERED:
        lines.append(T.STATUS_RATE_PROMPT)
    return "\n".join(lines)


def _snippet(text: str, n: int) -> str:
    return text if len(text) <= n else text[:n] + "…"


def my_suggestions(session: Session, user: User, limit: int = 10) -> list[Suggestion]:
    return list(
        session.scalars(
            select(Suggestion)
            .where(Suggestion.user_id == user.id)
            .order_by(Suggestion.id.desc())
            .limit(limit)
        )
    )


# --- chat -------------------------------------------------------------------------------------


def _brand_for(ctx: Context, intent: Intent | None, text: str) -> Brand | None:
    name = intent.brand if intent is not None else None
    if name is None:
        name = ctx.router.route(text).brand
    if name is None:
        return None
    return ctx.session.scalar(select(Brand).where(Brand.name == name))


def _file(ctx: Context, text: str, anonymous: bool, brand_name: str | None) -> Reply:
    brand = ctx.session.scalar(select(Brand).where(Brand.name == brand_name)) if brand_name else None
    try:
        s, code = file_suggestion(ctx.session, ctx.user, text, ctx.now, anonymous=anonymous, brand=brand)
    except SuggestionError as exc:
        return Reply(str(exc))
    ctx.end_flow()
    if anonymous:
        assert code is not None
        return Reply(T.FILED_ANONYMOUS.format(ticket=s.ticket, code=show_code(code)))
    text = T.FILED.format(
        ticket=s.ticket,
        category=s.category,
        union=s.union.name,
        accept_days=config().accept_working_days,
        how=delivery.how_answer_comes(ctx.channels),
    )
    offer = delivery.consent_offer(ctx.session, ctx.channels, ctx.user, ctx.now)
    return Reply(f"{text}\n{offer}" if offer else text)


_MY_SUGGESTIONS = re.compile(r"^\s*(?:查询|查看|查)?\s*我的(?:建议|意见|投诉)\s*$")


_ANONYMOUS = re.compile(r"^\s*(?:我要|我想|我)?匿名|^.{0,6}匿名(?:建议|投诉|意见|反映)")


def _is_anonymous(intent: Intent, raw: str) -> bool:
    return intent.anonymous or bool(_ANONYMOUS.match(raw))


def _flow(
    ctx: Context, flow: str, data: dict[str, Any], ttl: timedelta, conv: Conversation | None = None
) -> None:
    """Start or update a suggestion flow with its data sealed.

    The row names its user; in clear, an anonymous step would hold the text (or the ticket
    being rated) beside the user id. Named flows are sealed too, so the two look alike.
    """
    sealed = {"sealed": seal(data)}
    if conv is None:
        ctx.start_flow(flow, sealed, ttl)
    else:
        ctx.update_flow(conv, sealed, ttl)


def flow_data(conv: Conversation) -> dict[str, Any]:
    """A suggestion flow's data, unsealed ({} when it cannot be read)."""
    raw = conv.data or {}
    token = raw.get("sealed")
    if isinstance(token, str):
        return unseal(token) or {}
    return dict(raw)


@on_intent("suggest")
def suggest_intent(ctx: Context, inbound: Inbound, intent: Intent) -> Reply:
    raw = inbound.text
    if _MY_SUGGESTIONS.match(raw):
        # The keyword stub routes "我的建议" here; it is a status query, not a suggestion.
        return _my_list(ctx)
    anonymous = _is_anonymous(intent, raw)
    if anonymous:
        ctx.redact_inbound = True
    # A router that already stripped the command words gives text != raw; don't strip twice
    # (content may itself begin with a word like 意见箱).
    given = intent.text if intent.text is not None else raw
    text = strip_command(given) if given.strip() == raw.strip() else given.strip()
    if not text:
        _flow(ctx, FLOW, {"step": "content", "anonymous": anonymous}, FLOW_TTL)
        return Reply(T.ASK_CONTENT_ANONYMOUS if anonymous else T.ASK_CONTENT)
    return _take_content(ctx, text, anonymous, intent)


def _take_content(ctx: Context, text: str, anonymous: bool, intent: Intent | None) -> Reply:
    try:
        text = validate_content(text)
    except SuggestionError as exc:
        # Keep the dialogue open so the worker can simply type again.
        _flow(ctx, FLOW, {"step": "content", "anonymous": anonymous}, FLOW_TTL)
        return Reply(f"{exc}{T.LEAVE_HINT}")
    brand = _brand_for(ctx, intent, text)
    brand_name = brand.name if brand else None
    if _needs_confirmation(text):
        data = {"step": "confirm", "anonymous": anonymous, "text": text, "brand": brand_name}
        _flow(ctx, FLOW, data, FLOW_TTL)
        # The echo is shortened, never the instruction: the reply stays within 2048 bytes.
        return Reply(fit_echo(T.CONFIRM, text))
    return _file(ctx, text, anonymous, brand_name)


@on_flow(FLOW)
def suggest_flow(ctx: Context, inbound: Inbound, conv: Conversation) -> Reply | None:
    data = flow_data(conv)
    anonymous = bool(data.get("anonymous"))
    if anonymous:
        ctx.redact_inbound = True
    text = inbound.text
    if not text:
        return Reply(T.ASK_CONTENT_ANONYMOUS if anonymous else T.ASK_CONTENT)
    if data.get("step") == "confirm":
        answer_ = _normalise(text)
        if answer_ in ("1", "确认", "确定", "提交", "是", "好", "对"):
            return _file(ctx, str(data["text"]), anonymous, data.get("brand"))
        if answer_ in ("2", "重新输入", "重写", "修改", "否"):
            _flow(ctx, FLOW, {"step": "content", "anonymous": anonymous}, FLOW_TTL, conv)
            return Reply(T.ASK_CONTENT)
        return Reply(T.CONFIRM_HINT)
    return _take_content(ctx, strip_command(text), anonymous, None)


@flow_prompt(FLOW)
def suggest_prompt(ctx: Context, conv: Conversation) -> str:
    data = flow_data(conv)
    if data.get("step") == "confirm":
        return fit_echo(T.CONFIRM, str(data.get("text", "")))
    return T.ASK_CONTENT_ANONYMOUS if data.get("anonymous") else T.ASK_CONTENT


@on_click("MENU_SUGGEST")
def suggest_click(ctx: Context, inbound: Inbound) -> Reply:
    _flow(ctx, FLOW, {"step": "content", "anonymous": False}, FLOW_TTL)
    return Reply(T.ASK_CONTENT)


@on_click("MENU_MY_SUGGESTIONS")
def my_suggestions_click(ctx: Context, inbound: Inbound) -> Reply:
    return _my_list(ctx)


def _normalise(text: str) -> str:
    return text.strip().translate(_FULLWIDTH).strip("。.!！ ")


_FULLWIDTH = str.maketrans("０１２３４５６７８９，－—ＪＹｊｙ", "0123456789,--JYjy")

_TICKET = re.compile(r"JY\s*(\d{8})\s*-?\s*(\d{4})(?!\d)", re.IGNORECASE)
# 8 Crockford letters/digits (a hyphen or space allowed in the middle), or a legacy 4-digit code.
_CODE = re.compile(r"(?<![0-9A-Za-z])([0-9A-Za-z]{4}[\s-]?[0-9A-Za-z]{4}|\d{4})(?![0-9A-Za-z])")


def _parse_ticket(text: str) -> tuple[str | None, str | None]:
    """The ticket and, for anonymous ones, the access code written after it (any wording)."""
    text = text.translate(_FULLWIDTH)
    m = _TICKET.search(text)
    if m is None:
        return None, None
    code = _CODE.search(text, m.end())
    return f"JY{m.group(1)}-{m.group(2)}", normalise_code(code.group(1)) if code else None


def normalise_ticket(text: str) -> str | None:
    """A ticket typed into a form, in its canonical form (JY20261121-0042), or None."""
    m = _TICKET.fullmatch(text.strip().translate(_FULLWIDTH))
    return f"JY{m.group(1)}-{m.group(2)}" if m else None


def show_ticket(ctx: Context, ticket: str, code: str | None) -> Reply:
    s = find_ticket(ctx.session, ticket)
    if s is None:
        return Reply(T.STATUS_NOT_FOUND.format(ticket=ticket))
    if s.anonymous:
        ctx.redact_inbound = True  # the query itself must not tie the ticket to the asker
        if code is None:
            return Reply(T.STATUS_ANONYMOUS_NEED_CODE.format(ticket=s.ticket, state=s.state.label))
        if code_locked(ctx.session, ctx.user.openid, s.ticket, ctx.now):
            return Reply(T.CODE_LOCKED.format(minutes=int(ATTEMPT_WINDOW.total_seconds() // 60)))
        if not code_matches(s.ticket, code, s.access_code_hash):
            note_wrong_code(ctx.session, ctx.user.openid, s.ticket, ctx.now)
            return Reply(T.CODE_WRONG.format(ticket=s.ticket))
    elif s.user_id != ctx.user.id:
        return Reply(T.STATUS_OTHERS.format(ticket=s.ticket, state=s.state.label))
    if s.state == S.ANSWERED:
        _start_rating(ctx, s)
    mark_answer_read(ctx.session, s, ctx.now)
    return Reply(describe(s))


def mark_answer_read(
    session: Session, s: Suggestion, now: datetime, channel: DeliveryChannel = DeliveryChannel.PASSIVE
) -> None:
    """The author has read the answer (a query in chat, the page): it is no longer owed, and the
    dashboard's delivery record says how.

    Never for an anonymous suggestion: the instant of reading would tie it to the reader.
    """
    if s.state == S.ANSWERED and not s.anonymous and s.answer_delivered_at is None:
        delivery.mark_delivered(session, s, channel, now)


def _scopes(openid: str, ticket: str) -> tuple[str, str]:
    # Keyed hashes: the attempt rows name neither the follower nor the ticket to an insider.
    return "f:" + keyed("code-attempt", openid), "t:" + keyed("code-attempt", ticket.upper())


def code_locked(session: Session, openid: str, ticket: str, now: datetime) -> bool:
    """5 wrong codes per follower, and per ticket, within the hour: no more guesses until they age.

    The per-ticket limit expires with the hour, so guessers cannot lock the author out for good.
    The ticket need not exist: a lookup that counts only real tickets would tell which exist.
    """
    since = now - ATTEMPT_WINDOW
    for scope in _scopes(openid, ticket):
        n = session.scalar(
            select(func.count(CodeAttempt.id)).where(CodeAttempt.scope == scope, CodeAttempt.at > since)
        )
        if (n or 0) >= MAX_WRONG_ATTEMPTS:
            return True
    return False


def note_wrong_code(session: Session, openid: str, ticket: str, now: datetime) -> None:
    session.execute(delete(CodeAttempt).where(CodeAttempt.at <= now - ATTEMPT_WINDOW))
    for scope in _scopes(openid, ticket):
        session.add(CodeAttempt(scope=scope, at=now))
    session.flush()


def _start_rating(ctx: Context, s: Suggestion) -> None:
    # An anonymous rating needs the code that opened it: only its hash, sealed, is kept here.
    ttl = FLOW_TTL if s.anonymous else RATE_TTL
    _flow(ctx, RATE_FLOW, {"suggestion_id": s.id, "code": s.access_code_hash}, ttl)


def suggestion_status_reply(ctx: Context, inbound: Inbound, intent: Intent) -> Reply | None:
    """The reply to "查询 JY…" or "我的建议"; None when the message asks about something else."""
    ticket, code = _parse_ticket(inbound.text)
    ticket = ticket or intent.ticket
    if ticket:
        return show_ticket(ctx, ticket, code)
    if "建议" in inbound.text and not intent.brand:
        return _my_list(ctx)
    return None


MY_PAGE = "/h5/me/suggestions"


def _my_list(ctx: Context) -> Reply:
    rows = my_suggestions(ctx.session, ctx.user)
    line = link_line(ctx, T.MY_PAGE_LINK, MY_PAGE)
    if not rows:
        lines = [T.MY_NONE]
    else:
        lines = [T.MY_HEADER]
        lines += [
            T.MY_LINE.format(ticket=s.ticket, state=s.state.label, snippet=_snippet(s.content, 20))
            for s in rows
        ]
        lines.append(T.MY_TAIL)
    if line is not None:
        lines.append(line)
    return guarded(ctx, Reply("\n".join(lines)), line)


_RATING_WORDS = (("不满意", "unsatisfied"), ("基本满意", "basic"), ("满意", "satisfied"))
_RATING_NUMBERS = {"1": "satisfied", "2": "basic", "3": "unsatisfied"}


def parse_rating(text: str) -> str | None:
    t = _normalise(text)
    if t in _RATING_NUMBERS:
        return _RATING_NUMBERS[t]
    for word, value in _RATING_WORDS:
        if t == word or t.startswith(word):
            return value
    return None


@on_flow(RATE_FLOW)
def rate_flow(ctx: Context, inbound: Inbound, conv: Conversation) -> Reply | None:
    rating = parse_rating(inbound.text)
    if rating is None:
        return None  # not a rating: routed as usual; the rating stays open until it expires
    data = flow_data(conv)
    s = ctx.session.get(Suggestion, data.get("suggestion_id"))
    ctx.end_flow()
    if s is None:
        return None
    if s.anonymous:
        ctx.redact_inbound = True
        if not s.access_code_hash or data.get("code") != s.access_code_hash:
            return None
    elif s.user_id != ctx.user.id:
        return None
    if s.state != S.ANSWERED:
        return Reply(T.RATE_CLOSED)
    rated = rate(ctx.session, s, rating, ctx.now)
    return Reply(T.RATED if rated.rating is not None else T.REOPENED)


# --- delivery of answers ------------------------------------------------------------------------
# Which channel carries an answer, and the record of every attempt: handlers/delivery.py.


@job("suggestion_answer")
def push_answer(jctx: JobContext, suggestion_id: int) -> None:
    """Push an answer by the best channel the account has (see handlers/delivery.py); idempotent."""
    s = jctx.session.get(Suggestion, suggestion_id, with_for_update=True)
    if s is None or s.state != S.ANSWERED or s.answer_delivered_at is not None or s.user_id is None:
        return
    if s.anonymous:
        return  # never pushed (the database forbids an anonymous suggestion a user; checked all the same)
    user = jctx.session.get(User, s.user_id)
    if user is None:
        return
    if not user.subscribed:
        # Unfollowed: WeChat would refuse, and they asked us to stop. Delivered when they write.
        delivery.wait_for_next_message(jctx.session, s, delivery.answer_event_id(jctx.session, s), jctx.now)
        return
    within = within_service_window(user, jctx.now)
    done = delivery.deliver_answer(
        jctx.session, jctx.api, jctx.channels, s, user, jctx.now, within_window=within
    )
    if done is not None and done.prompted:
        _rating_after_push(jctx.session, user, s, jctx.now)


def _rating_after_push(session: Session, user: User, s: Suggestion, now: datetime) -> None:
    """The pushed answer asked for a rating: the worker's next "1/2/3" rates it, unless they are
    in another dialogue (which a push must not break)."""
    conv = session.scalar(select(Conversation).where(Conversation.user_id == user.id))
    if conv is None or conv.expires_at <= now or conv.flow == RATE_FLOW:
        if conv is None:
            conv = Conversation(user_id=user.id, flow=RATE_FLOW, data={}, expires_at=now)
            session.add(conv)
        conv.flow = RATE_FLOW
        conv.data = {"sealed": seal({"suggestion_id": s.id, "code": None})}
        conv.updated_at = now
        conv.expires_at = now + RATE_TTL
    session.flush()


@after_message
def owed_answers(ctx: Context, inbound: Inbound, reply: Reply) -> Reply:
    """The worker wrote: answers that could not reach them before go out now, pushed by
    customer-service message, or (an account without them) put into this very reply.

    Runs after the message is handled, and not at all for a message of an anonymous exchange
    (or one carrying its held reply): a delivery at this instant would show that the worker sent
    a message that otherwise keeps neither its time nor its sender.
    """
    if not owed.may_have(ctx.session, ctx.user.id):
        return reply
    if ctx.redact_inbound or has_held(ctx.session, ctx.user.openid, ctx.now):
        return reply
    ids = list(
        ctx.session.scalars(
            select(Suggestion.id)
            .where(
                Suggestion.user_id == ctx.user.id,
                Suggestion.state == S.ANSWERED,
                Suggestion.answer_delivered_at.is_(None),
            )
            .order_by(Suggestion.id)
        )
    )
    if not ids:
        return reply
    if not ctx.user.subscribed:
        # Marked unsubscribed by a refused push (43004): a message proves they follow again.
        ctx.user.subscribed, ctx.user.unsubscribed_at = True, None
    if ctx.channels.customer_service:
        for sid in ids:
            ctx.enqueue("suggestion_answer", suggestion_id=sid)
        return reply
    return _answer_in_reply(ctx, ids[0], reply)


def _answer_in_reply(ctx: Context, suggestion_id: int, reply: Reply) -> Reply:
    """One owed answer put into the passive reply (被动回复), if it fits beside the reply; the
    others follow with the next messages. A reply too full for it leaves a pointer, still owed."""
    if reply.articles:
        return reply  # a news reply carries no text: the answer waits for the next message
    s = ctx.session.get(Suggestion, suggestion_id, with_for_update=True)
    if s is None or s.answer_delivered_at is not None:
        return reply
    conv = ctx.conversation()
    rate_now = conv is None or conv.flow == RATE_FLOW  # no other dialogue to break into
    own = reply.text or ""
    template = T.ANSWER_PUSH if rate_now else T.ANSWER_PUSH_QUERY
    text = template.format(ticket=s.ticket, answer=s.answer)
    # The rating prompt comes last when it is the question; another dialogue's question otherwise.
    combined = "\n\n".join(x for x in ((own, text) if rate_now else (text, own)) if x)
    if len(combined.encode()) > PASSIVE_REPLY_BYTES:
        pointer = T.ANSWER_POINTER.format(ticket=s.ticket)
        both = "\n\n".join(x for x in (pointer, own) if x)
        return replace(reply, text=both) if len(both.encode()) <= PASSIVE_REPLY_BYTES else reply
    delivery.mark_delivered(ctx.session, s, DeliveryChannel.PASSIVE, ctx.now)
    if rate_now:
        _flow(ctx, RATE_FLOW, {"suggestion_id": s.id, "code": None}, RATE_TTL, None)
    return replace(reply, text=combined)


# A passive text reply's limit is 2048 bytes; the renderer would cut the end (the question) off.
PASSIVE_REPLY_BYTES = 2000


@before_message
def anonymous_dialogue(ctx: Context, inbound: Inbound) -> None:
    """While an anonymous dialogue is open, every message of it is redacted, whatever handles it.

    The flow handlers redact their own steps, but a 取消 that breaks out of the flow, or a reply
    the rating step declines, is handled elsewhere and would otherwise keep the sender's openid
    next to the anonymous exchange.
    """
    conv = ctx.conversation()
    if conv is None:
        return
    if conv.flow not in (FLOW, RATE_FLOW):
        return
    data = flow_data(conv)
    if (conv.flow == FLOW and data.get("anonymous")) or (
        conv.flow == RATE_FLOW and data.get("code") is not None
    ):
        ctx.redact_inbound = True


def pending_deliveries(session: Session, now: datetime) -> list[int]:
    """Answers still owed to named authors whose service window is open (for a sweep command)."""
    rows = session.execute(
        select(Suggestion.id, User)
        .join(User, User.id == Suggestion.user_id)
        .where(Suggestion.state == S.ANSWERED, Suggestion.answer_delivered_at.is_(None))
    ).all()
    return [sid for sid, user in rows if within_service_window(user, now)]
