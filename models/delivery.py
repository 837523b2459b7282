"""How answers reached their (named) authors: one row per attempt, and one-time subscription grants.

Anonymous suggestions never have a row here: their answers are read by ticket and access code.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, str_enum, utcnow
from models.voice import Suggestion


class DeliveryChannel(enum.StrEnum):
    PASSIVE = "passive"  # 被动回复: put before the reply to the worker's next message
    CUSTOMER_SERVICE = "customer_service"  # 客服消息 (within 48 h of the worker's last message)
    TEMPLATE = "template"  # 模板消息
    SUBSCRIBE = "subscribe"  # 一次性订阅消息
    NEXT_MESSAGE = "next_message"  # 下次留言时送达: no channel now, waiting for the worker
    PAGE = "page"  # 网页查看: the worker read it on the H5 "my suggestions" page


class DeliveryStatus(enum.StrEnum):
    SENT = "sent"  # WeChat accepted it (a template message then waits for its receipt)
    DELIVERED = "delivered"  # shown in a reply, or the template's receipt said success
    FAILED = "failed"  # WeChat refused it (errcode) or its receipt said failed
    BLOCKED = "blocked"  # the template's receipt: the worker refuses this account's template messages
    WAITING = "waiting"  # a NEXT_MESSAGE row still waiting
    DONE = "done"  # a NEXT_MESSAGE row whose answer went out since (the row after it says how)


class AnswerDelivery(Base):
    __tablename__ = "answer_delivery"

    id: Mapped[int] = mapped_column(primary_key=True)
    suggestion_id: Mapped[int] = mapped_column(ForeignKey("suggestion.id", ondelete="CASCADE"), index=True)
    # The answer this attempt carried (a reopened suggestion is answered again).
    answer_event_id: Mapped[int | None] = mapped_column(
        ForeignKey("suggestion_event.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[DeliveryChannel] = mapped_column(str_enum(DeliveryChannel, 20))
    status: Mapped[DeliveryStatus] = mapped_column(str_enum(DeliveryStatus, 16))
    # Template messages: WeChat's msgid, which its TEMPLATESENDJOBFINISH event names.
    msgid: Mapped[str | None] = mapped_column(String(32), index=True)
    errcode: Mapped[int | None]
    # WeChat's errmsg, or the receipt's Status ("failed:user block" …), as given.
    detail: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When the outcome was known: the receipt of a template message, the send of the others.
    finished_at: Mapped[datetime | None]

    suggestion: Mapped[Suggestion] = relationship()


class SubscribeGrant(Base):
    """A worker's consent to one subscription message (一次性订阅消息): usable once."""

    __tablename__ = "subscribe_grant"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("wechat_user.id", ondelete="CASCADE"), index=True)
    template_id: Mapped[str] = mapped_column(String(64))
    scene: Mapped[int]
    # sha256 of the consent link's signed ``reserved``: the same callback twice records one grant.
    reserved_hash: Mapped[str] = mapped_column(String(64), unique=True)
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None]
