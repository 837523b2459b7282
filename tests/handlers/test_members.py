"""First contact: a follower is created once, even when their first two messages race."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from handlers.members import resolve_user
from models import Role, User
from tests.conftest import need

T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)


def test_first_contact_creates_the_follower_once(session: Session) -> None:
    first = resolve_user(session, "o-new-follower", T0)
    again = resolve_user(session, "o-new-follower", T0)
    assert first is again
    assert (first.role, first.subscribed, first.first_seen_at) == (Role.WORKER, True, T0)
    assert session.scalar(select(func.count()).select_from(User)) == 1


def _wait_for_lock_waiter(engine: Engine, timeout_s: float = 10) -> bool:
    """True once another backend is blocked on a lock while inserting a follower."""
    deadline = time.monotonic() + timeout_s
    with engine.connect() as conn:
        while time.monotonic() < deadline:
            waiting = conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND query ILIKE '%insert into wechat_user%'"
                )
            ).scalar()
            if waiting:
                return True
            conn.rollback()
            time.sleep(0.05)
    return False


@pytest.mark.postgres
def test_two_simultaneous_first_messages_both_succeed(engine: Engine, clean_db: Engine) -> None:
    need("postgres")  # two connections racing; SQLite's single writer cannot race
    openid = "o-racing-follower"
    first_inserted, release_first = threading.Event(), threading.Event()
    results: dict[str, int] = {}
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with Session(engine) as s, s.begin():
                results["first"] = resolve_user(s, openid, T0).id
                first_inserted.set()
                release_first.wait(10)  # the rest of the first message's transaction
        except BaseException as exc:  # noqa: BLE001  (reported by the assertion below)
            errors.append(exc)
            first_inserted.set()

    def second() -> None:
        try:
            with Session(engine) as s, s.begin():
                # Before: SELECT found nothing (uncommitted), INSERT waited, then UniqueViolation.
                results["second"] = resolve_user(s, openid, T0).id
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    t1 = threading.Thread(target=first)
    t1.start()
    assert first_inserted.wait(10)
    t2 = threading.Thread(target=second)
    t2.start()
    try:
        assert _wait_for_lock_waiter(engine), "the second insert should wait for the first"
    finally:
        release_first.set()
        t1.join(10)
        t2.join(10)
    assert errors == []
    assert results["first"] == results["second"]
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(User).where(User.openid == openid)) == 1
