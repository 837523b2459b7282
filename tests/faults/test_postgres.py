"""PostgreSQL drops the connection in the middle of a rating: nothing half-written, a friendly
answer, and the pool serves the next message (the user's retry counts once)."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine, event, func, select, text
from sqlalchemy.orm import Session

from config import texts
from handlers.recognition.campaigns import create_campaign
from models import InboundMessage, User, utcnow
from models.recognition import RecognitionEvent
from tests.factories import make_brand, make_union
from tests.faults.conftest import post_text
from tests.wechat_protocol import WeChatServer

pytestmark = pytest.mark.postgres

_ids = itertools.count(7_300_000)


def _count(engine: Engine, model: type) -> int:
    with Session(engine) as s:
        return int(s.scalar(select(func.count()).select_from(model)))


def test_connection_killed_mid_rating_leaves_nothing_half_written(
    app: Flask, clean_db: Engine, wechat: WeChatServer
) -> None:
    with Session(clean_db) as s, s.begin():
        make_brand(s, union=make_union(s), name="工惠乐学")
        # Open since yesterday, whatever today is: the webhook uses the real clock.
        create_campaign(s, "职工满意度测评", "rating", "all", utcnow() - timedelta(days=1))
    killed: list[int] = []

    def kill_own_backend(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if killed or not statement.lstrip().upper().startswith("INSERT INTO RECOGNITION_EVENT"):
            return
        pid = conn.connection.dbapi_connection.info.backend_pid
        with clean_db.connect() as admin:  # another pooled connection pulls the plug on this one
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            admin.commit()
        killed.append(pid)

    event.listen(clean_db, "before_cursor_execute", kill_own_backend)
    client = app.test_client()
    msg_id = next(_ids)
    try:
        reply, elapsed = post_text(client, wechat, "o-rater", "工惠乐学 5分", msg_id)
    finally:
        event.remove(clean_db, "before_cursor_execute", kill_own_backend)
    assert killed, "the rating insert was never reached"
    assert "系统暂时繁忙" in reply and reply == texts.INTERNAL_ERROR and elapsed < 5
    # The whole transaction went: no rating, no audit record, not even the new follower.
    assert (_count(clean_db, RecognitionEvent), _count(clean_db, InboundMessage), _count(clean_db, User)) == (
        0,
        0,
        0,
    )
    # The user (or WeChat) tries again: the pool hands out a live connection and it counts once.
    again, _ = post_text(client, wechat, "o-rater", "工惠乐学 5分", msg_id)
    assert "5分" in again and again != texts.INTERNAL_ERROR
    post_text(client, wechat, "o-rater", "工惠乐学 5分", msg_id)  # a late duplicate changes nothing
    assert _count(clean_db, RecognitionEvent) == 1 and _count(clean_db, InboundMessage) == 1
