"""Delivering answers: the push job, and answers still owed when the worker next writes.

Which channel carries an answer, and the record of every attempt: handlers/delivery.py.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from config import voice_texts as T
from handlers import delivery
from handlers.anonymity import seal
from handlers.context import Context, Reply
from handlers.delivery import owed
from handlers.held_replies import has_held
from handlers.inbound import Inbound
from handlers.notify import within_service_window
from handlers.registry import JobContext, Routes
from handlers.suggestions.flows import RATE_FLOW, RATE_TTL, start_flow
from models import Conversation, Suggestion, SuggestionState, User
from models.delivery import DeliveryChannel

routes = Routes()

S = SuggestionState
# A passive text reply's limit is 2048 bytes; the renderer would cut the end (the question) off.
PASSIVE_REPLY_BYTES = 2000


@routes.job("suggestion_answer")
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


@routes.after_message
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
        start_flow(ctx, RATE_FLOW, {"suggestion_id": s.id, "code": None}, RATE_TTL, None)
    return replace(reply, text=combined)
