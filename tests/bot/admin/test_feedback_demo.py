"""The demo's suggestions and survey answers: demo mode only, added once, visible in the dashboard."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from flask import Flask
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from bot.admin.accounts import create_account
from bot.store import Store
from config.settings import Settings
from handlers.demo import load_demo
from models import Suggestion, SurveyResponse, Union
from models.admin import AdminRole
from tests.bot.admin.conftest import PASSWORD, login


def test_feedback_demo_only_in_demo_mode_and_once(
    app: Flask, settings: Settings, clean_db: Engine, store: Store
) -> None:
    refused = app.test_cli_runner().invoke(args=["voice-demo"])
    assert refused.exit_code != 0 and "仅在演示模式" in refused.output

    from bot import create_app

    demo_app = create_app(
        dataclasses.replace(settings, extra={"GHPP_SIMULATE_WECHAT": "1"}), engine=clean_db, store=store
    )
    factory = demo_app.extensions["ghpp"].session_factory
    with factory() as db, db.begin():
        load_demo(db)
        province = db.scalar(select(Union).where(Union.code == "SD"))
        assert province is not None
        create_account(db, province, "admin", AdminRole.ADMIN, PASSWORD, actor_name="测试")
    runner = demo_app.test_cli_runner()
    first = runner.invoke(args=["voice-demo"])
    assert first.exit_code == 0 and "已添加演示建议 9 条、问卷答卷 12 份" in first.output, first.output
    again = runner.invoke(args=["voice-demo"])
    assert again.exit_code == 0 and "未重复添加" in again.output
    with factory() as db:
        assert db.scalar(select(func.count(Suggestion.id))) == 9
        assert db.scalar(select(func.count(SurveyResponse.id))) == 12
        states = {s.state.value for s in db.scalars(select(Suggestion))}
        assert states == {"submitted", "accepted", "answered", "rejected"}
    client = demo_app.test_client()
    assert login(client, "admin").status_code == 302
    assert "共 9 条建议" in client.get("/admin/suggestions/").get_data(as_text=True)
    assert 'id="survey-n">12<' in client.get("/admin/surveys/brand_recognition").get_data(as_text=True)


def test_demo_suggestions_fall_in_the_current_month_on_any_day(db: Session) -> None:
    """The topics page shows the current month; on the 1st the demo must still fill it."""
    from handlers.feedback_demo import load_feedback_demo

    load_demo(db)
    # 00:30 on 1 December in Shanghai: the worst case, half an hour into the month.
    now = datetime(2026, 11, 30, 16, 30, tzinfo=UTC)
    load_feedback_demo(db, now)
    month_start = datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    rows = list(db.scalars(select(Suggestion)))
    assert len(rows) == 9
    for s in rows:
        created = s.created_at if s.created_at.tzinfo else s.created_at.replace(tzinfo=UTC)
        assert month_start <= created < now
        for entry in s.events:
            at = entry.at if entry.at.tzinfo else entry.at.replace(tzinfo=UTC)
            assert at <= now  # nothing the union did lies in the future
