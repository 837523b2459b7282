"""Opening an anonymous ticket with its access code: the wrong-code limits the chat and the page
share. The attempt rows hold keyed hashes only, so they name neither the follower nor the ticket."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from handlers.anonymity import ATTEMPT_WINDOW, MAX_WRONG_ATTEMPTS, keyed
from models.voice import CodeAttempt


def _scopes(openid: str, ticket: str) -> tuple[str, str]:
    # Keyed hashes: the attempt rows name neither the follower nor the ticket to an insider.
    return "f:" + keyed("code-attempt", openid), "t:" + keyed("code-attempt", ticket.upper())


def code_locked(session: Session, openid: str, ticket: str, now: datetime) -> bool:
    """5 wrong codes per follower, and per ticket, within the hour: no more guesses until they age.

    The per-ticket limit expires with the hour, so guessers cannot lock the author out for good.
    The ticket need not exist: a lookup that counts only real tickets would tell which exist.
    """
    since = now - ATTEMPT_WINDOW
    for scope in _scopes(openid, ticket):
        n = session.scalar(
            select(func.count(CodeAttempt.id)).where(CodeAttempt.scope == scope, CodeAttempt.at > since)
        )
        if (n or 0) >= MAX_WRONG_ATTEMPTS:
            return True
    return False


def note_wrong_code(session: Session, openid: str, ticket: str, now: datetime) -> None:
    session.execute(delete(CodeAttempt).where(CodeAttempt.at <= now - ATTEMPT_WINDOW))
    for scope in _scopes(openid, ticket):
        session.add(CodeAttempt(scope=scope, at=now))
    session.flush()
