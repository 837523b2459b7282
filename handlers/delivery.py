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

What each channel sends is ``delivery_messages``; which channels may be tried (and the
subscription grants) is ``delivery_channels``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from config import voice_texts as T
from handlers.context import EMPTY, Context, Reply
from handlers.delivery_channels import has_unused_grant, plan, refuses_templates, tried_channels, unused_grant
from handlers.delivery_messages import send
from handlers.inbound import Inbound
from handlers.ports import Channels, WeChatApi, WeChatApiError
from handlers.rare_rows import RareKeys
from handlers.registry import Routes
from models import Suggestion, SuggestionEvent, SuggestionState, User
from models.delivery import AnswerDelivery, DeliveryChannel, DeliveryStatus

routes = Routes()

log = logging.getLogger(__name__)

C, St = DeliveryChannel, DeliveryStatus

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
    tried = tried_channels(session, event_id, s)
    refuses = channels.template and refuses_templates(session, user)
    grant = unused_grant(session, user, channels) if channels.subscribe_message else None
    order = plan(
        channels,
        within_window=within_window,
        tried=tried,
        refuses_templates=refuses,
        has_grant=grant is not None,
    )
    for channel in order:
        try:
            msgid = send(api, channels, channel, s, user)
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


@routes.event("templatesendjobfinish")
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


# --- what the worker is told when filing ------------------------------------------------------------


def consent_offer(session: Session, channels: Channels, user: User, now: datetime) -> str | None:
    """The line offering the consent link after a named filing; None when it cannot help."""
    if not channels.subscribe_message or channels.consent is None:
        return None
    if has_unused_grant(session, user, channels):
        return None  # one is waiting to be used already
    return T.SUBSCRIBE_OFFER.format(url=channels.consent.consent_url(user.openid, now))


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
