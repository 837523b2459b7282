"""Retention finding: ``retention_months`` was read and never used. Inbound message content
older than it is purged (counts and intents kept), by a job and by ``flask retention purge``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.jobs import execute
from config.recognition import load_config
from handlers.retention import PURGE_JOB, months_before, purge_inbound_content
from models import InboundMessage, utcnow
from models.admin import AuditEntry, append_audit
from tests.factories import standard_registry

NOW = datetime(2026, 6, 15, 8, 0, tzinfo=UTC)


def _message(session: Session, n: int, received_at: datetime) -> InboundMessage:
    row = InboundMessage(
        dedupe_key=f"ret-{n}",
        openid=f"o-{n}",
        msg_type="text",
        msg_id=str(n),
        content=f"第 {n} 条消息",
        intent="help",
        received_at=received_at,
    )
    session.add(row)
    session.flush()
    return row


def test_months_before_clamps_the_day() -> None:
    assert months_before(datetime(2026, 3, 31, tzinfo=UTC), 1) == datetime(2026, 2, 28, tzinfo=UTC)
    assert months_before(datetime(2024, 3, 31, tzinfo=UTC), 1) == datetime(2024, 2, 29, tzinfo=UTC)
    assert months_before(datetime(2026, 1, 15, tzinfo=UTC), 12) == datetime(2025, 1, 15, tzinfo=UTC)


def test_old_content_is_purged_and_counts_kept(session: Session) -> None:
    old = _message(session, 1, NOW - timedelta(days=400))
    edge = _message(session, 2, months_before(NOW, 12) + timedelta(seconds=1))
    recent = _message(session, 3, NOW - timedelta(days=10))
    dry = purge_inbound_content(session, NOW, 12, dry_run=True)
    assert dry.messages == 1 and dry.cutoff == datetime(2025, 6, 15, 8, 0, tzinfo=UTC)
    session.refresh(old)
    assert old.content is not None  # a dry run changes nothing
    assert purge_inbound_content(session, NOW, 12).messages == 1
    for row in (old, edge, recent):
        session.refresh(row)
    assert (old.content, old.msg_id, old.intent, old.msg_type) == (None, None, "help", "text")  # type: ignore[comparison-overlap]  # refreshed after the purge
    assert edge.content == "第 2 条消息" and recent.content == "第 3 条消息"
    assert purge_inbound_content(session, NOW, 12).messages == 0  # nothing left to do


def test_the_job_and_the_cli_use_retention_months(app: Flask, clean_db: Engine) -> None:
    months = load_config().retention_months
    rt = app.extensions["ghpp"]
    now = utcnow()
    with rt.session_factory() as s, s.begin():
        _message(s, 11, months_before(now, months) - timedelta(days=2))
        _message(s, 12, months_before(now, months) - timedelta(days=1))
        _message(s, 13, now - timedelta(days=1))
        old_entry = AuditEntry(
            actor="测试", action="test.old", target_type="thing", created_at=now - timedelta(days=800)
        )
        append_audit(s, old_entry)
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["retention", "purge", "--dry-run"])
    assert dry.exit_code == 0 and "有 2 条" in dry.output and "未做任何修改" in dry.output
    assert PURGE_JOB in standard_registry().jobs
    execute(rt, PURGE_JOB, {})  # the scheduled form
    with rt.session_factory() as s:
        contents = dict(s.execute(select(InboundMessage.dedupe_key, InboundMessage.content)).tuples().all())
        assert s.scalar(select(AuditEntry.action)) == "test.old"  # audit entries are kept regardless
    assert contents == {"ret-11": None, "ret-12": None, "ret-13": "第 13 条消息"}
    again = runner.invoke(args=["retention", "purge"])
    assert again.exit_code == 0 and "已清除 0 条" in again.output
