"""Every inbound WeChat message, kept for audit and router evaluation, and the labels staff give
to the messages the router got wrong (the router's learning loop)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, utcnow


class InboundMessage(Base):
    __tablename__ = "inbound_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    # sender + MsgId, or sender + CreateTime + Event (+ EventKey): the last line of defence
    # against double processing when Redis is unavailable.
    dedupe_key: Mapped[str] = mapped_column(String(255), unique=True)
    # Nulled (with content) by ``redact()`` when a message must not stay tied to its sender.
    openid: Mapped[str | None] = mapped_column(String(64), index=True)
    msg_type: Mapped[str] = mapped_column(String(32))
    event: Mapped[str | None] = mapped_column(String(64))
    msg_id: Mapped[str | None] = mapped_column(String(64))
    content: Mapped[str | None] = mapped_column(Text)
    intent: Mapped[str | None] = mapped_column(String(32))
    # The router's confidence in ``intent``; None when the router was not asked (flow answers,
    # events, media).
    intent_confidence: Mapped[float | None]
    # Set on a routed message when the sender's next message, within a minute, was 取消
    # ("cancel") or the request said another way ("rephrase"): a hint that the router was wrong.
    followed_by: Mapped[str | None] = mapped_column(String(16))
    follow_up_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_message.id", ondelete="SET NULL"))
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    latency_ms: Mapped[int | None]
    redacted: Mapped[bool] = mapped_column(default=False)

    def redact(self, day_stamp: datetime | None = None) -> None:
        """Cut the tie between this message and its sender (anonymous suggestions)."""
        # The dedupe key stays: it is a keyed hash (see bot.pipeline.hashed_key), still needed to stop
        # a retried delivery, and without the MsgId it cannot be recomputed from an openid.
        self.openid = None
        self.content = None
        self.msg_id = None
        # Nothing that would put the message on the router's review page either.
        self.intent_confidence = None
        self.followed_by = None
        self.follow_up_id = None
        self.redacted = True
        # The instant would match the sender's other rows (first_seen_at, …): keep only the day.
        if day_stamp is not None:
            self.received_at = day_stamp
        self.latency_ms = None


class HeldReply(Base):
    """A late reply to an anonymous exchange, kept for the sender to fetch instead of pushed.

    A push would write the ticket and access code beside the openid in the job payload and the
    WeChat API call log. The key is a keyed hash of the openid; the text is sealed (AES-GCM,
    key from SECRET_KEY), so the row alone ties nothing to anyone.
    """

    __tablename__ = "held_reply"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), index=True)
    sealed: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class InboundLabel(Base):
    """The intent a staff member says a logged message meant (one label per message, changeable)."""

    __tablename__ = "inbound_label"

    id: Mapped[int] = mapped_column(primary_key=True)
    inbound_id: Mapped[int] = mapped_column(ForeignKey("inbound_message.id", ondelete="CASCADE"), unique=True)
    intent: Mapped[str] = mapped_column(String(32))
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("admin_account.id", ondelete="SET NULL"), index=True
    )
    # Copied so the label still says who gave it after the account is gone or renamed.
    labelled_by: Mapped[str] = mapped_column(String(64))
    labelled_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    message: Mapped[InboundMessage] = relationship()


class UsedNonce(Base):
    """A (timestamp, nonce) pair WeChat signed, kept while Redis is unavailable (replay guard).

    The body hash tells WeChat's retry of the same delivery (same body) from a replay that
    carries a captured signature with a different body. Rows expire after twice the window.
    """

    __tablename__ = "used_nonce"

    timestamp: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    nonce: Mapped[str] = mapped_column(String(128), primary_key=True)
    body_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(index=True)
