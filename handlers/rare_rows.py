"""Rows most messages have none of (held replies, owed answers): known for everyone at once.

Every message used to ask the database whether its sender has such a row; almost always the
answer is no. A ``RareKeys`` reads the keys that have one, for everyone, at most every
``ttl_s`` per process, so the common message costs no query. A row added in this process is
known at once (``add``); one added by another process within ``ttl_s``, and its message is
then answered on the sender's next message instead.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable

from sqlalchemy.orm import Session

_ALL: list[RareKeys] = []


class RareKeys:
    def __init__(self, load: Callable[[Session], Iterable[object]], ttl_s: float) -> None:
        self._load, self.ttl_s = load, ttl_s
        self._keys: set[object] = set()
        self._loaded_at = -float("inf")
        self._lock = threading.Lock()
        _ALL.append(self)

    def may_have(self, session: Session, key: object) -> bool:
        with self._lock:
            fresh = time.monotonic() - self._loaded_at < self.ttl_s
            if fresh:
                return key in self._keys
        keys = set(self._load(session))
        with self._lock:
            self._keys, self._loaded_at = keys, time.monotonic()
        return key in keys

    def add(self, key: object) -> None:
        with self._lock:
            self._keys.add(key)


def forget_all() -> None:
    """Tests: every set is read again at its next use."""
    for keys in _ALL:
        with keys._lock:
            keys._keys, keys._loaded_at = set(), -float("inf")
