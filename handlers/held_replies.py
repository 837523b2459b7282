"""Late replies to anonymous exchanges: held for the sender's next message, never pushed.

A push would put the ticket and access code beside the openid in the job payload, the worker's
log and the WeChat API call log. The held row is keyed by an HMAC of the openid and its text is
sealed, so the database alone ties nothing to anyone.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from handlers.anonymity import keyed, seal, unseal
from handlers.rare_rows import RareKeys
from models.inbound import HeldReply

HOLD_TTL = timedelta(days=2)


def _key(openid: str) -> str:
    return keyed("held-reply", openid)


def hold_reply(session: Session, openid: str, text: str, now: datetime) -> None:
    session.execute(delete(HeldReply).where(HeldReply.expires_at <= now))  # anyone's, unfetched
    session.add(HeldReply(key_hash=_key(openid), sealed=seal({"text": text}), expires_at=now + HOLD_TTL))
    session.flush()
    _holders.add(_key(openid))


def _held_keys(session: Session) -> list[str]:
    return list(session.scalars(select(HeldReply.key_hash).distinct()))


# Held replies are rare: who has one is read for everyone every few seconds, not per message.
_holders = RareKeys(_held_keys, ttl_s=10.0)


def has_held(session: Session, openid: str, now: datetime) -> bool:
    """Whether a late reply is held for ``openid`` (its next message will carry it, redacted)."""
    if not _holders.may_have(session, _key(openid)):
        return False
    stmt = select(HeldReply.id).where(HeldReply.key_hash == _key(openid), HeldReply.expires_at > now)
    return session.scalar(stmt.limit(1)) is not None


def take_held(session: Session, openid: str, now: datetime) -> list[str]:
    """The held texts for ``openid`` (oldest first), removed. One indexed read per message;
    writes only when something was held."""
    if not _holders.may_have(session, _key(openid)):
        return []
    rows = session.scalars(
        select(HeldReply).where(HeldReply.key_hash == _key(openid)).order_by(HeldReply.id)
    ).all()
    texts: list[str] = []
    for row in rows:
        if row.expires_at <= now:
            session.delete(row)
            continue
        data = unseal(row.sealed)
        if data is not None and isinstance(data.get("text"), str):
            texts.append(data["text"])
        session.delete(row)
    session.flush()
    return texts
