"""Which channels may carry an answer now: the plan in order, what was tried for this answer, a
worker's refusal of template messages, and the one-time subscription grants workers give."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from handlers.ports import Channels
from models import Suggestion, User
from models.delivery import AnswerDelivery, DeliveryChannel, DeliveryStatus, SubscribeGrant

C, St = DeliveryChannel, DeliveryStatus


def tried_channels(session: Session, event_id: int | None, s: Suggestion) -> set[DeliveryChannel]:
    rows = session.scalars(
        select(AnswerDelivery.channel).where(
            AnswerDelivery.suggestion_id == s.id, AnswerDelivery.answer_event_id == event_id
        )
    )
    return set(rows)


def refuses_templates(session: Session, user: User) -> bool:
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


def unused_grant(session: Session, user: User, channels: Channels) -> SubscribeGrant | None:
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


# --- one-time subscription grants -----------------------------------------------------------------


def has_unused_grant(session: Session, user: User, channels: Channels) -> bool:
    stmt = select(SubscribeGrant.id).where(
        SubscribeGrant.user_id == user.id,
        SubscribeGrant.used_at.is_(None),
        SubscribeGrant.template_id == channels.subscribe_template_id,
    )
    return session.scalar(stmt.limit(1)) is not None


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
