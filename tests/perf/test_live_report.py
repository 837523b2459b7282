"""「查询 品牌」 and the dashboard read the stored live report; only the background job computes it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from handlers.recognition import live, report
from models import Brand, OutboxJob, User, utcnow
from models.recognition import Campaign, LiveReport
from tests.bot.chat_world import seed
from tests.perf.sqlcount import counting
from tests.wechat_chat import Chat


def _no_compute(*_args: Any, **_kwargs: Any) -> Any:
    raise AssertionError("the report was computed on the request path")


def _stored(engine: Engine) -> list[tuple[int, int, int, list[tuple[str, int]]]]:
    """What the live report rows hold (for an assertion's message)."""
    import json

    with Session(engine) as s:
        return [
            (
                r.campaign_id,
                r.event_watermark,
                r.flag_watermark,
                [(b["brand"], b["ratings"]) for b in json.loads(r.body)["brands"]] if r.body else [],
            )
            for r in s.scalars(select(LiveReport))
        ]


def _rate(chat: Chat, n: int, score: int = 5) -> None:
    """Ratings from ``n`` workers bound to the brand's union long ago (group W, enough to show)."""
    with Session(chat.client.application.extensions["ghpp"].engine) as s, s.begin():
        union_id = s.scalar(select(Brand.union_id).where(Brand.name == "工惠乐学"))
        for i in range(n):
            if s.scalar(select(User.id).where(User.openid == f"o-live-{i}")) is None:
                s.add(
                    User(
                        openid=f"o-live-{i}",
                        union_id=union_id,
                        union_source="member",
                        first_seen_at=utcnow() - timedelta(days=90),
                    )
                )
    for i in range(n):
        assert "已记录" in chat.say(f"o-live-{i}", f"工惠乐学 {score - i % 2}分")


def test_status_query_answers_from_the_stored_report_without_computing(
    client, wechat, clean_db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(clean_db)
    chat = Chat(client, wechat)
    _rate(chat, 40)  # each rating's refresh job runs synchronously in tests
    with Session(clean_db) as s:
        stored = s.scalar(select(LiveReport))
        assert stored is not None and stored.event_watermark > 0
    monkeypatch.setattr(report, "compute_report", _no_compute)
    monkeypatch.setattr(live, "compute_report", _no_compute)
    with counting(clean_db) as n:
        reply = chat.say("o-live-asker", "查询 工惠乐学")
    assert "社会认可度" in reply and "品牌满意度测评，实时" in reply, (reply, _stored(clean_db))
    assert "实时数据更新于" not in reply  # just computed: no note on its age
    assert not any("recognition_event" in sql for sql in n.sql), n  # no event was read


def test_a_stale_report_says_how_old_it_is(
    client, wechat, clean_db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(clean_db)
    chat = Chat(client, wechat)
    _rate(chat, 40)
    from handlers.recognition import queries

    later = utcnow() + timedelta(minutes=7)
    monkeypatch.setattr(queries, "utcnow", lambda: later)
    reply = chat.say("o-live-asker", "查询 工惠乐学")
    assert "实时数据更新于" in reply and "约 7 分钟前" in reply, (reply, _stored(clean_db))


def test_before_the_first_refresh_a_status_query_shows_no_figures_and_computes_nothing(
    client, wechat, clean_db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(clean_db)
    chat = Chat(client, wechat)
    monkeypatch.setattr(live, "refresh", lambda *a, **k: False)  # the worker has not run yet
    _rate(chat, 3)
    monkeypatch.setattr(report, "compute_report", _no_compute)
    monkeypatch.setattr(live, "compute_report", _no_compute)
    reply = chat.say("o-live-asker", "查询 工惠乐学")
    assert "工惠乐学" in reply and "系统" not in reply, reply


def test_a_burst_of_ratings_asks_for_one_refresh_per_interval(
    client, wechat, clean_db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(clean_db)
    monkeypatch.setattr(live, "REFRESH_EVERY_S", 10.0)
    chat = Chat(client, wechat)
    _rate(chat, 5)
    with Session(clean_db) as s:
        asked = s.scalar(select(func.count(OutboxJob.id)).where(OutboxJob.name == live.REFRESH_JOB))
    assert asked == 1


def test_a_refresh_with_nothing_new_does_not_recompute(
    client, wechat, clean_db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(clean_db)
    _rate(Chat(client, wechat), 2)
    monkeypatch.setattr(live, "compute_report", _no_compute)
    with Session(clean_db) as s, s.begin():
        campaign = s.scalar(select(Campaign).where(Campaign.name == "品牌满意度测评"))
        assert campaign is not None
        assert live.refresh(s, campaign, utcnow()) is False
