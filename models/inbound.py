"""Every inbound WeChat message, kept for audit and router evaluation."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

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
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    latency_ms: Mapped[int | None]
    redacted: Mapped[bool] = mapped_column(default=False)

    def redact(self) -> None:
        """Cut the tie between this message and its sender (anonymous suggestions)."""
        # The dedupe key stays: it is a keyed hash (see bot.pipeline.hashed_key), still needed to stop
        # a retried delivery, and without the MsgId it cannot be recomputed from an openid.
        self.openid = None
        self.content = None
        self.msg_id = None
        self.redacted = True


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
