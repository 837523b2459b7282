"""Replay protection for signed WeChat requests: every (timestamp, nonce) is used up once.

Redis (or the in-process store) holds the used pairs; when it is unreachable the database's
``used_nonce`` table does, so the check is never skipped. The value kept is the request
body's hash: WeChat's retry of a delivery may reuse its nonce, and a retry carries the same
body, so it is let through to the pipeline (whose duplicate filter answers it); a different
body under a used nonce is a replay and refused.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import logging
import time
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.store import Store, StoreUnavailable
from handlers.retention import purge_expired_nonces
from models import utcnow
from models.inbound import UsedNonce

log = logging.getLogger(__name__)

MAX_NONCE_LENGTH = 128


class Verdict(enum.Enum):
    FRESH = "fresh"  # first use of this nonce
    RETRY = "retry"  # nonce used before, by the same body
    REPLAY = "replay"  # nonce used before, by another body
    STALE = "stale"  # timestamp outside the window (or unusable parameters)

    @property
    def accepted(self) -> bool:
        return self in (Verdict.FRESH, Verdict.RETRY)


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


class ReplayGuard:
    def __init__(self, store: Store, session_factory: sessionmaker[Session], window_s: int) -> None:
        self.store = store
        self.session_factory = session_factory
        self.window_s = window_s

    def check(self, timestamp: str, nonce: str, digest: str, now: float | None = None) -> Verdict:
        """Use up (timestamp, nonce) for a request whose body hashes to ``digest``."""
        now = time.time() if now is None else now
        if not timestamp.isdigit() or abs(now - int(timestamp)) > self.window_s:
            log.warning("stale timestamp %r", timestamp[:20])
            return Verdict.STALE
        if not nonce or len(nonce) > MAX_NONCE_LENGTH:
            return Verdict.STALE
        key = f"nonce:{timestamp}:{nonce}"
        try:
            if self.store.set_if_absent(key, digest, ttl_s=2 * self.window_s):
                return Verdict.FRESH
            seen = self.store.get(key)
        except StoreUnavailable:
            return self._check_database(int(timestamp), nonce, digest)
        return self._compare(seen, digest)

    @staticmethod
    def _compare(seen: str | None, digest: str) -> Verdict:
        if seen is not None and hmac.compare_digest(seen, digest):
            log.info("same nonce, same body: a WeChat retry, handed to the duplicate filter")
            return Verdict.RETRY
        log.warning("nonce reused with another body: replay refused")
        return Verdict.REPLAY

    def _check_database(self, timestamp: int, nonce: str, digest: str) -> Verdict:
        now = utcnow()
        try:
            with self.session_factory() as session, session.begin():
                # Expired rows go on the way: the table stays as small as one window's traffic.
                purge_expired_nonces(session, now)
                session.add(
                    UsedNonce(
                        timestamp=timestamp,
                        nonce=nonce,
                        body_hash=digest,
                        expires_at=now + timedelta(seconds=2 * self.window_s),
                    )
                )
        except IntegrityError:
            with self.session_factory() as session:
                row = session.get(UsedNonce, (timestamp, nonce))
                return self._compare(row.body_hash if row is not None else None, digest)
        log.warning("store unavailable; nonce recorded in the database")
        return Verdict.FRESH
