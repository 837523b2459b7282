"""How an answer reaches a named worker: the channel, a record of every attempt, the receipts.

Channels, in order, each only when the account may use it (``Channels``, from bot/capabilities.py):

1. within 48 hours of the worker's last message, a customer-service message (客服消息), in full;
2. a template message (模板消息): the ticket, the answer's first characters and its time, each
   keyword at most 20 characters (cut with "…"), no colour, no remark; once per answer, and never
   to a worker whose receipt said they refuse this account's template messages;
3. a one-time subscription message (一次性订阅消息) the worker granted and has not used, once per
   answer;
4. otherwise the answer waits for the worker's next message (下次留言时送达): pushed then by
   customer-service message, or put before the passive reply (被动回复) when the account has none.

Anonymous answers are never pushed by any channel: the suggestion holds no user, and a template or
subscription message would tie its ticket to an openid in WeChat's records. They are read by
ticket and access code, as before.

Errors WeChat gives, recorded on the attempt's row:
- 43004 (the worker does not follow the account): the worker is marked unsubscribed and the answer
  waits for their next message (a message proves they follow again);
- 40037 (invalid template id): an operator line in the log, then the next channel;
- 45009 / 45047 (daily quota / customer-service message limit): the next channel, then the next
  message. No retry of a quota later: it returns only the next day, and the worker's next message
  always delivers the answer;
- any other refusal: the next channel.
Network errors and WeChat's -1 (busy) are raised for the job queue's retries (10 s, 60 s, 300 s);
those attempts leave no row (their transaction is rolled back), the answer stays owed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from config import voice_texts as T
from handlers.clock import show_time
from handlers.context import EMPTY, Context, Reply
from handlers.inbound import Inbound
from handlers.ports import Channels, WeChatApi, WeChatApiError
from handlers.rare_rows import RareKeys
from handlers.registry import on_event
from models import Suggestion, SuggestionEvent, SuggestionState, User
from models.delivery import AnswerDelivery, DeliveryChannel, DeliveryStatus, SubscribeGrant

log = logging.getLogger(__name__)

C, St = DeliveryChannel, DeliveryStatus
# The scene of our consent link and of the subscription message it allows (WeChat: 0–10000).
SUBSCRIBE_SCENE = 1000
KEYWORD_MAX_CHARS = 20  # a template keyword's value (WeChat's rule since 2023)
SUBSCRIBE_TITLE_MAX = 15
SUBSCRIBE_CONTENT_MAX = 200
TEMPLATE_SOURCES = ("ticket", "answer", "time", "union", "content")

NOT_FOLLOWING = 43004
BAD_TEMPLATE = 40037
# Quotas: retryable to the API client, but they come back only the next day.
QUOTA_ERRORS = frozenset({45009, 45047})
USER_REFUSED = 43101  # a subscription message without (or past) the worker's consent
RECEIPT_SUCCESS = "success"


def _owed_user_ids(session: Session) -> list[int]:
    stmt = select(Suggestion.user_id).where(
        Suggestion.state == SuggestionState.ANSWERED,
        Suggestion.answer_delivered_at.is_(None),
        Suggestion.user_id.is_not(None),
    )
    return list(session.scalars(stmt.distinct()))


# Owed answers are rare: who has one is read for everyone every half minute, not per message.
owed = RareKeys(_owed_user_ids, ttl_s=30.0)


# --- text ---------------------------------------------------------------------------------------


def cut(text: str, limit: int) -> str:
    """``text`` on one line, at most ``limit`` characters, cut with "…"."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def template_data(fields: tuple[tuple[str, str], ...], s: Suggestion) -> dict[str, dict[str, str]]:
    """The template message's keywords: values only (no colour), each within 20 characters."""
    values = {
        "ticket": s.ticket,
        "answer": s.answer or "",
        "time": show_time(s.answered_at) if s.answered_at else "",
        "union": s.union.name,
        "content": s.content,
    }
    return {key: {"value": cut(values[source], KEYWORD_MAX_CHARS)} for key, source in fields}


def parse_template_fields(spec: str) -> tuple[tuple[str, str], ...]:
    """``"character_string1:ticket,thing2:answer,time3:time"`` → pairs; ValueError (Chinese) if bad."""
    pairs: list[tuple[str, str]] = []
    for part in spec.split(","):
        key, sep, source = (x.strip() for x in part.partition(":"))
        if not part.strip():
            continue
        if not sep or not key or source not in TEMPLATE_SOURCES:
            raise ValueError(
                "配置项 GHPP_TEMPLATE_ANSWER_FIELDS 格式错误：应为「关键词:内容」逗号分隔，"
                f"内容可选 {'、'.join(TEMPLATE_SOURCES)}，"
                "如 character_string1:ticket,thing2:answer,time3:time。"
            )
        pairs.append((key, source))
    if not pairs:
        raise ValueError("配置项 GHPP_TEMPLATE_ANSWER_FIELDS 为空：至少要有一个关键词。")
    return tuple(pairs)


def subscribe_content(s: Suggestion) -> str:
    """The subscription message's text (at most 200 characters): the answer cut to fit."""
    room = SUBSCRIBE_CONTENT_MAX - len(T.SUBSCRIBE_CONTENT.format(ticket=s.ticket, answer=""))
    return T.SUBSCRIBE_CONTENT.format(ticket=s.ticket, answer=cut(s.answer or "", max(room, 1)))


# --- records ------------------------------------------------------------------------------------


def answer_event_id(session: Session, s: Suggestion) -> int | None:
    """The event of the answer being delivered (the latest; a reopened suggestion has two)."""
    return session.scalar(
        select(func.max(SuggestionEvent.id)).where(
            SuggestionEvent.suggestion_id == s.id, SuggestionEvent.action == "answer"
        )
    )


def _record(
    session: Session,
    s: Suggestion,
    event_id: int | None,
    channel: DeliveryChannel,
    status: DeliveryStatus,
    now: datetime,
    *,
    msgid: str | None = None,
    errcode: int | None = None,
    detail: str | None = None,
) -> AnswerDelivery:
    # Still open: a waiting row, and a template message until its receipt comes.
    open_ = status is St.WAITING or (channel is C.TEMPLATE and status is St.SENT)
    row = AnswerDelivery(
        suggestion_id=s.id,
        answer_event_id=event_id,
        channel=channel,
        status=status,
        msgid=msgid,
        errcode=errcode,
        detail=detail[:200] if detail else None,
        created_at=now,
        finished_at=None if open_ else now,
    )
    session.add(row)
    return row


def _close_waiting(session: Session, s: Suggestion, now: datetime) -> None:
    session.execute(
        update(AnswerDelivery)
        .where(AnswerDelivery.suggestion_id == s.id, AnswerDelivery.status == St.WAITING)
        .values(status=St.DONE, finished_at=now)
    )


def wait_for_next_message(session: Session, s: Suggestion, event_id: int | None, now: datetime) -> None:
    """No channel now: the answer waits for the worker's next message (one waiting row)."""
    waiting = session.scalar(
        select(AnswerDelivery.id).where(
            AnswerDelivery.suggestion_id == s.id, AnswerDelivery.status == St.WAITING
        )
    )
    if waiting is None:
        _record(session, s, event_id, C.NEXT_MESSAGE, St.WAITING, now)
    if s.user_id is not None:
        owed.add(s.user_id)
    session.flush()


def mark_delivered(
    session: Session, s: Suggestion, channel: DeliveryChannel, now: datetime, *, msgid: str | None = None
) -> None:
    status = St.DELIVERED if channel in (C.PASSIVE, C.PAGE) else St.SENT
    _record(session, s, answer_event_id(session, s), channel, status, now, msgid=msgid)
    _close_waiting(session, s, now)
    s.answer_delivered_at = now
    session.flush()


# --- choosing and trying the channels -------------------------------------------------------------


@dataclass(frozen=True)
class Delivered:
    channel: DeliveryChannel
    # The message asked for the rating (1 满意 …): a rating dialogue may start.
    prompted: bool


def _tried(session: Session, event_id: int | None, s: Suggestion) -> set[DeliveryChannel]:
    rows = session.scalars(
        select(AnswerDelivery.channel).where(
            AnswerDelivery.suggestion_id == s.id, AnswerDelivery.answer_event_id == event_id
        )
    )
    return set(rows)


def _refuses_templates(session: Session, user: User) -> bool:
    stmt = (
        select(AnswerDelivery.id)
        .join(Suggestion, Suggestion.id == AnswerDelivery.suggestion_id)
        .where(
            Suggestion.user_id == user.id,
            AnswerDelivery.channel == C.TEMPLATE,
            AnswerDelivery.status == St.BLOCKED,
        )
        .limit(1)
    )
    return session.scalar(stmt) is not None


def _grant(session: Session, user: User, channels: Channels) -> SubscribeGrant | None:
    stmt = (
        select(SubscribeGrant)
        .where(
            SubscribeGrant.user_id == user.id,
            SubscribeGrant.used_at.is_(None),
            SubscribeGrant.template_id == channels.subscribe_template_id,
        )
        .order_by(SubscribeGrant.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    return session.scalar(stmt)


def plan(
    channels: Channels,
    *,
    within_window: bool,
    tried: set[DeliveryChannel],
    refuses_templates: bool,
    has_grant: bool,
) -> list[DeliveryChannel]:
    """The channels to try, in order; features the account cannot use are never in it."""
    out: list[DeliveryChannel] = []
    if channels.customer_service and within_window:
        out.append(C.CUSTOMER_SERVICE)
    if channels.template and channels.template_id and C.TEMPLATE not in tried and not refuses_templates:
        out.append(C.TEMPLATE)
    if (
        channels.subscribe_message
        and channels.subscribe_template_id
        and C.SUBSCRIBE not in tried
        and has_grant
    ):
        out.append(C.SUBSCRIBE)
    return out


def deliver_answer(
    session: Session,
    api: WeChatApi,
    channels: Channels,
    s: Suggestion,
    user: User,
    now: datetime,
    *,
    within_window: bool,
) -> Delivered | None:
    """Try the channels in order, recording each attempt; None: the answer waits for the next message.

    The caller has locked ``s`` and checked it is owed to ``user`` (named, answered, undelivered).
    """
    if s.anonymous or s.user_id != user.id:
        return None  # never pushed (see the module doc); the caller's check, made again here
    event_id = answer_event_id(session, s)
    tried = _tried(session, event_id, s)
    refuses = channels.template and _refuses_templates(session, user)
    grant = _grant(session, user, channels) if channels.subscribe_message else None
    order = plan(
        channels,
        within_window=within_window,
        tried=tried,
        refuses_templates=refuses,
        has_grant=grant is not None,
    )
    for channel in order:
        try:
            msgid = _send(api, channels, channel, s, user)
        except WeChatApiError as exc:
            if exc.retryable and exc.errcode not in QUOTA_ERRORS:
                raise  # network, -1: the job queue retries; this transaction keeps nothing
            _record(session, s, event_id, channel, St.FAILED, now, errcode=exc.errcode, detail=exc.errmsg)
            _explain(exc, channel, s)
            if channel is C.SUBSCRIBE and grant is not None and exc.errcode == USER_REFUSED:
                grant.used_at = now  # WeChat no longer honours it
            if exc.errcode == NOT_FOLLOWING:
                user.subscribed = False
                user.unsubscribed_at = user.unsubscribed_at or now
                break  # nothing reaches a non-follower; their next message (after following) will
            continue
        if channel is C.SUBSCRIBE and grant is not None:
            grant.used_at = now
        mark_delivered(session, s, channel, now, msgid=msgid)
        return Delivered(channel, prompted=channel in (C.CUSTOMER_SERVICE, C.SUBSCRIBE))
    wait_for_next_message(session, s, event_id, now)
    return None


def _send(
    api: WeChatApi, channels: Channels, channel: DeliveryChannel, s: Suggestion, user: User
) -> str | None:
    if channel is C.CUSTOMER_SERVICE:
        api.send_text(user.openid, T.ANSWER_PUSH.format(ticket=s.ticket, answer=s.answer))
        return None
    if channel is C.TEMPLATE:
        assert channels.template_id is not None
        msgid = api.send_template(
            user.openid,
            channels.template_id,
            template_data(channels.template_fields, s),
            url=channels.answer_page_url,
        )
        return str(msgid) if msgid is not None else None
    assert channel is C.SUBSCRIBE and channels.subscribe_template_id is not None
    api.send_subscribe_message(
        user.openid,
        channels.subscribe_template_id,
        SUBSCRIBE_SCENE,
        T.SUBSCRIBE_TITLE[:SUBSCRIBE_TITLE_MAX],
        subscribe_content(s),
        url=channels.answer_page_url,
    )
    return None


def _explain(exc: WeChatApiError, channel: DeliveryChannel, s: Suggestion) -> None:
    """The operator's log line (Chinese): what WeChat refused and what happens to the answer."""
    what = T.DELIVERY_CHANNEL_LABELS[channel.value]
    if exc.errcode == BAD_TEMPLATE:
        log.error(
            "模板消息发送失败：模板 ID 无效（40037）。请在公众平台「模板消息」中核对 "
            "WECHAT_TEMPLATE_ANSWER_ID；建议 %s 的答复改用其他方式或在职工下次留言时送达。",
            s.id,
        )
    elif exc.errcode in QUOTA_ERRORS:
        log.warning(
            "%s发送失败：接口调用已达上限（%s），明天恢复；"
            "建议 %s 的答复改用其他方式或在职工下次留言时送达。",
            what,
            exc.errcode,
            s.id,
        )
    elif exc.errcode == NOT_FOLLOWING:
        log.info("%s发送失败：职工已取消关注（43004）；建议 %s 的答复在其下次留言时送达。", what, s.id)
    else:
        log.warning(
            "%s发送失败（错误码 %s：%s）；建议 %s 的答复改用其他方式。", what, exc.errcode, exc.errmsg, s.id
        )


# --- a template message's receipt -----------------------------------------------------------------


@on_event("templatesendjobfinish")
def template_finished(ctx: Context, inbound: Inbound) -> Reply:
    """TEMPLATESENDJOBFINISH: WeChat's receipt of a template message; updates its row once.

    WeChat retries the event: a row whose receipt is in already is left as it is. A failed
    receipt puts the answer back to owed and asks for the next channel. Never a reply.
    """
    msgid = (inbound.extra.get("MsgID") or "").strip()
    status = (inbound.extra.get("Status") or "").strip()
    if not msgid or not status:
        return EMPTY
    rows = ctx.session.scalars(
        select(AnswerDelivery)
        .join(Suggestion, Suggestion.id == AnswerDelivery.suggestion_id)
        .where(
            AnswerDelivery.channel == C.TEMPLATE,
            AnswerDelivery.msgid == msgid,
            Suggestion.user_id == ctx.user.id,  # the receipt comes from the worker it was sent to
        )
    ).all()
    for row in rows:
        if row.status is not St.SENT:
            continue  # a retried receipt: counted once
        row.detail, row.finished_at = status[:200], ctx.now
        if status == RECEIPT_SUCCESS:
            row.status = St.DELIVERED
            continue
        row.status = St.BLOCKED if "block" in status else St.FAILED
        s = row.suggestion
        current = row.answer_event_id == answer_event_id(ctx.session, s)
        if s.state == SuggestionState.ANSWERED and s.answer_delivered_at is not None and current:
            s.answer_delivered_at = None  # not delivered after all: owed again
            if s.user_id is not None:
                owed.add(s.user_id)
            ctx.enqueue("suggestion_answer", suggestion_id=s.id)
    ctx.session.flush()
    return EMPTY


# --- one-time subscription grants -----------------------------------------------------------------


def has_unused_grant(session: Session, user: User, channels: Channels) -> bool:
    stmt = select(SubscribeGrant.id).where(
        SubscribeGrant.user_id == user.id,
        SubscribeGrant.used_at.is_(None),
        SubscribeGrant.template_id == channels.subscribe_template_id,
    )
    return session.scalar(stmt.limit(1)) is not None


def consent_offer(session: Session, channels: Channels, user: User, now: datetime) -> str | None:
    """The line offering the consent link after a named filing; None when it cannot help."""
    if not channels.subscribe_message or channels.consent is None:
        return None
    if has_unused_grant(session, user, channels):
        return None  # one is waiting to be used already
    return T.SUBSCRIBE_OFFER.format(url=channels.consent.consent_url(user.openid, now))


def record_grant(
    session: Session, openid: str, template_id: str, scene: int, reserved_hash: str, now: datetime
) -> bool:
    """Record a confirmed consent (the callback was verified by the caller). False: no such
    follower. The same consent link twice records one grant (``reserved_hash`` is unique)."""
    user = session.scalar(select(User).where(User.openid == openid))
    if user is None:
        return False
    if session.scalar(select(SubscribeGrant.id).where(SubscribeGrant.reserved_hash == reserved_hash)):
        return True
    try:
        with session.begin_nested():
            session.add(
                SubscribeGrant(
                    user_id=user.id,
                    template_id=template_id,
                    scene=scene,
                    reserved_hash=reserved_hash,
                    granted_at=now,
                )
            )
    except IntegrityError:
        pass  # the same callback, recorded at this moment by another request
    return True


def how_answer_comes(channels: Channels) -> str:
    """FILED's last sentence: pushed, or with the worker's next message only."""
    pushed = channels.customer_service or channels.template or channels.subscribe_message
    return T.HOW_PUSHED if pushed else T.HOW_NEXT_MESSAGE


# --- the dashboard --------------------------------------------------------------------------------


def errcode_label(errcode: int | None) -> str:
    if errcode is None:
        return ""
    return T.DELIVERY_ERRCODE_LABELS.get(errcode) or T.DELIVERY_ERRCODE_UNKNOWN.format(errcode=errcode)


def deliveries(session: Session, s: Suggestion) -> list[dict[str, object]]:
    """Every attempt for ``s``, oldest first, labelled in Chinese (none for anonymous ones)."""
    rows = session.scalars(
        select(AnswerDelivery).where(AnswerDelivery.suggestion_id == s.id).order_by(AnswerDelivery.id)
    )
    out: list[dict[str, object]] = []
    for row in rows:
        note = errcode_label(row.errcode)
        if row.channel is C.TEMPLATE and row.detail and row.errcode is None:
            note = T.DELIVERY_RECEIPT_LABELS.get(row.detail, row.detail)
        out.append(
            {
                "answer_event_id": row.answer_event_id,
                "channel": row.channel.value,
                "channel_label": T.DELIVERY_CHANNEL_LABELS[row.channel.value],
                "status": row.status.value,
                "status_label": T.DELIVERY_STATUS_LABELS[row.status.value],
                "at": row.created_at,
                "finished_at": row.finished_at,
                "errcode": row.errcode,
                "note": note,
            }
        )
    return out
