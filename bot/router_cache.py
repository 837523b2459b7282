"""The pipeline's router cache, and the Session listener that notes a change to the brand catalogue."""

from __future__ import annotations

import threading
import time

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, selectinload

from models import Brand, BrandAlias
from nlp import BrandEntry, Router


class RouterCache:
    """The router for the current brand catalogue, rebuilt only when the catalogue changes.

    The catalogue's signature is read at most every ``ttl_s`` (not once per message); a change
    committed in this process is seen at once (``catalogue_changed``), one made by another
    process within ``ttl_s``.
    """

    def __init__(self, ttl_s: float = 5.0) -> None:
        self._lock = threading.Lock()
        self._signature: tuple[object, ...] | None = None
        self._router: Router | None = None
        self.ttl_s = ttl_s
        self._checked_at = -float("inf")
        self._version = -1

    def get(self, session: Session) -> Router:
        with self._lock:
            fresh = time.monotonic() - self._checked_at < self.ttl_s and self._version == _catalogue_version
            if self._router is not None and fresh:
                return self._router
        version = _catalogue_version
        signature = tuple(
            session.execute(
                select(
                    func.count(Brand.id),
                    func.max(Brand.id),
                    func.max(Brand.updated_at),
                    select(func.count(BrandAlias.id)).scalar_subquery(),
                    select(func.max(BrandAlias.id)).scalar_subquery(),
                )
            ).one()
        )
        with self._lock:
            if self._router is not None and signature == self._signature:
                self._checked_at, self._version = time.monotonic(), version
                return self._router
        brands = session.scalars(select(Brand).options(selectinload(Brand.aliases)).order_by(Brand.id)).all()
        router = Router([BrandEntry(b.name, tuple(b.alias_names)) for b in brands])
        with self._lock:
            self._router, self._signature = router, signature
            self._checked_at, self._version = time.monotonic(), version
        return router


# Bumped when a session of this process commits a change to a brand or an alias.
_catalogue_version = 0


def _note_catalogue_change(session: Session, _context: object, _instances: object) -> None:
    if any(isinstance(o, (Brand, BrandAlias)) for o in (*session.new, *session.dirty, *session.deleted)):
        session.info["catalogue_changed"] = True


def catalogue_changed(session: Session) -> None:
    global _catalogue_version
    if session.info.pop("catalogue_changed", False):
        _catalogue_version += 1


event.listen(Session, "before_flush", _note_catalogue_change)
event.listen(Session, "after_commit", catalogue_changed)
