"""Reading the inbound audit log back, e.g. to evaluate the router on real messages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Brand, InboundMessage


@dataclass(frozen=True)
class LoggedText:
    text: str
    intent: str | None
    received_at: datetime


def logged_texts(
    session: Session, since: datetime | None = None, until: datetime | None = None
) -> list[LoggedText]:
    """Typed and spoken messages, oldest first; redacted ones (anonymous suggestions) never appear."""
    stmt = (
        select(InboundMessage)
        .where(InboundMessage.msg_type.in_(("text", "voice")), InboundMessage.redacted.is_(False))
        .order_by(InboundMessage.received_at, InboundMessage.id)
    )
    if since is not None:
        stmt = stmt.where(InboundMessage.received_at >= since)
    if until is not None:
        stmt = stmt.where(InboundMessage.received_at < until)
    rows = []
    for msg in session.scalars(stmt):
        text = " ".join((msg.content or "").split())  # one message per line, whatever was typed
        if text:
            intent = msg.intent if msg.intent and ":" not in msg.intent else None
            rows.append(LoggedText(text, intent, msg.received_at))
    return rows


def brand_catalogue_lines(session: Session) -> list[str]:
    """The brand catalogue in the router CLI's BRANDS.txt format (``name|alias|alias``)."""
    return ["|".join([b.name, *b.alias_names]) for b in session.scalars(select(Brand).order_by(Brand.id))]
