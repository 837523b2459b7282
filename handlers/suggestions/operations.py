"""Suggestions (建议 / 意见 / 投诉): filing, routing, and every change of state, each recorded as a
``SuggestionEvent``.

The union's actions (accept, start, answer, transfer, reject) take the acting ``Actor``: a WeChat
cadre or admin (``user_actor``; checked by ``states.can_act``, and their user id recorded), the
dashboard (``Actor.admin``: authority is the account's scope, the write is in its audit log) or
the system. Neither records an id. The author's own acts (filing, rating) record no actor at all.
Anonymous suggestions store no user and set ``ctx.redact_inbound`` on every message of their
dialogue, so nothing ties them to an openid.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from config import voice_texts as T
from config.suggestions import default_config as config
from handlers import delivery
from handlers.actor import Actor, ActorKind
from handlers.anonymity import ATTEMPT_WINDOW, day_stamp, hash_code, keyed, new_access_code
from handlers.clock import add_working_days, local_day
from handlers.context import JobRequest
from handlers.delivery import owed
from handlers.suggestions.errors import SuggestionError
from handlers.suggestions.numbering import next_ticket
from handlers.suggestions.states import OPEN_STATES, RATINGS, check
from models import Brand, Role, Suggestion, SuggestionEvent, SuggestionState, Union, User
from models.delivery import DeliveryChannel
from models.voice import AnonymousQuota, CodeAttempt, SuggestionQuota
from nlp.keywords import categorise

S = SuggestionState


def user_actor(user: User) -> Actor:
    """A WeChat user acting on a suggestion: a cadre or admin acts for a union; anyone else is a
    worker (whom ``can_act`` refuses)."""
    if user.role == Role.ADMIN:
        return Actor.cadre(user.id, "管理员")
    if user.role == Role.CADRE:
        return Actor.cadre(user.id, "工会干部")
    return Actor.worker(user.id)


# --- filing -----------------------------------------------------------------------------------


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
    actor: Actor | None,
    now: datetime,
    *,
    union_id: int | None = None,
    note: str | None = None,
) -> None:
    """Append the event. ``actor`` None: the author, who is never recorded as the actor."""
    s.events.append(
        SuggestionEvent(
            action=action,
            from_state=from_state.value if from_state else None,
            to_state=to_state.value,
            actor_id=_actor_id(actor),
            union_id=union_id if union_id is not None else s.union_id,
            note=note,
            at=_at(s, now),
        )
    )
    s.updated_at = _at(s, now)


def _actor_id(actor: Actor | None) -> int | None:
    # A cadre's or WeChat admin's user id; the dashboard and the system have none, and a worker
    # (the author) is never recorded: an anonymous suggestion would be tied to them.
    if actor is None or actor.kind is ActorKind.WORKER:
        return None
    return actor.user_id


# --- the union's actions ----------------------------------------------------------------------


def accept(session: Session, s: Suggestion, actor: Actor, now: datetime) -> Suggestion:
    target = check(session, s, "accept", actor)
    assert target is not None
    prev, s.state = s.state, target
    s.due_at = _due(s.anonymous, now, config().answer_working_days)
    _record(s, "accept", prev, target, actor, now)
    session.flush()
    return s


def start(session: Session, s: Suggestion, actor: Actor, now: datetime) -> Suggestion:
    target = check(session, s, "start", actor)
    assert target is not None
    prev, s.state = s.state, target
    _record(s, "start", prev, target, actor, now)
    session.flush()
    return s


def answer(session: Session, s: Suggestion, actor: Actor, text: str, now: datetime) -> JobRequest | None:
    """Record the answer. Returns the push job for the caller to enqueue (None: anonymous)."""
    target = check(session, s, "answer", actor)
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


def reject(session: Session, s: Suggestion, actor: Actor, reason: str, now: datetime) -> Suggestion:
    target = check(session, s, "reject", actor)
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
    actor: Actor,
    union: Union,
    now: datetime,
    note: str | None = None,
) -> Suggestion:
    """Hand the suggestion to another union; its accept/answer clock restarts there."""
    check(session, s, "transfer", actor)
    if union.id == s.union_id:
        raise SuggestionError("已经是该工会在办理，无需转办。")
    s.union_id, s.union = union.id, union
    days = config().accept_working_days if s.state == S.SUBMITTED else config().answer_working_days
    s.due_at = _due(s.anonymous, now, days)
    _record(s, "transfer", s.state, s.state, actor, now, union_id=union.id, note=note)
    session.flush()
    return s


def escalate_overdue(session: Session, actor: Actor, now: datetime) -> list[Suggestion]:
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
            Suggestion.state.in_(OPEN_STATES),
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
            _record(s, "overdue", s.state, s.state, actor, now, note="已是最高级工会，无法再上交")
            continue
        s.union_id, s.union = parent.id, parent
        s.escalations += 1
        note = "逾期未办，上交上级工会"
        _record(s, "escalate", s.state, s.state, actor, now, union_id=parent.id, note=note)
        moved.append(s)
    session.flush()
    return moved


# --- the author's acts ------------------------------------------------------------------------


def rate(session: Session, s: Suggestion, rating: str, now: datetime) -> Suggestion:
    """The author rates the answer; 不满意 reopens the suggestion once."""
    check(session, s, "rate", None)
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


def mark_answer_read(
    session: Session, s: Suggestion, now: datetime, channel: DeliveryChannel = DeliveryChannel.PASSIVE
) -> None:
    """The author has read the answer (a query in chat, the page): it is no longer owed, and the
    dashboard's delivery record says how.

    Never for an anonymous suggestion: the instant of reading would tie it to the reader.
    """
    if s.state == S.ANSWERED and not s.anonymous and s.answer_delivered_at is None:
        delivery.mark_delivered(session, s, channel, now)
