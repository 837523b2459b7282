"""路由标注 in headless Chromium: open the page from the menu, label a message with one click,
change the label, download the export. Screenshot to test-artifacts/."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from handlers.router_learning import note_follow_up
from models import InboundMessage, Union
from nlp.examples import read_examples
from tests.bot.admin.test_browser import PASSWORD, browser, live_server, shoot  # noqa: F401
from tests.factories import make_user

pytestmark = pytest.mark.browser

FIXED = datetime(2026, 11, 20, 1, 30, tzinfo=UTC)  # 09:30 in Beijing
OPENIDS = ("o-browser-learn-01", "o-browser-learn-02")


@pytest.fixture
def messages(app: Flask, live_server: str) -> str:  # noqa: F811
    with app.extensions["ghpp"].session_factory() as db, db.begin():
        plant = db.scalar(select(Union).where(Union.code == "BZ-BC-001"))
        assert plant is not None
        for openid in OPENIDS:
            make_user(db, openid=openid, union_id=plant.id)
        rows = [
            (OPENIDS[0], "工惠乐学", "vote", 0.6, 0),
            (OPENIDS[0], "工惠乐学进展到哪一步了", "vote", 1.0, 600),
            (OPENIDS[0], "查询 工惠乐学", "status", 1.0, 630),
            (OPENIDS[1], "今天食堂几点开门", "unknown", 0.2, 900),
            (OPENIDS[1], "我要提建议", "suggest", 1.0, 1200),
            (OPENIDS[1], "取消", "cancel", None, 1210),
        ]
        for n, (openid, text, intent, conf, at) in enumerate(rows):
            m = InboundMessage(
                dedupe_key=f"browser-learn-{n}",
                openid=openid,
                msg_type="text",
                content=text,
                intent=intent,
                intent_confidence=conf,
                received_at=FIXED + timedelta(seconds=at),
            )
            db.add(m)
            db.flush()
            note_follow_up(db, m)
    return live_server


def test_label_in_one_click_and_download(messages: str, browser: Any, tmp_path: Path) -> None:  # noqa: F811
    server = messages
    context = browser.new_context(
        viewport={"width": 1280, "height": 860}, accept_downloads=True, locale="zh-CN"
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{server}/admin/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server}/admin/")

    page.click("nav.mainnav >> text=路由标注")
    page.wait_for_url(f"{server}/admin/learning/")
    rows = page.locator("table.learning tbody tr")
    assert rows.count() == 4  # low, rephrased, unknown, cancelled
    row = page.locator("table.learning tbody tr", has_text="工惠乐学进展到哪一步了")
    assert "一分钟内换了说法" in row.inner_text() and "随后改说：查询 工惠乐学" in row.inner_text()

    row.locator("button", has_text="查询进展").click()
    page.wait_for_selector(".flash-success")
    assert "已标注为「查询进展」" in page.locator(".flash-success").inner_text()
    row = page.locator("table.learning tbody tr", has_text="工惠乐学进展到哪一步了")
    assert row.locator("button.chosen").inner_text() == "查询进展"
    page.locator("table.learning tbody tr", has_text="今天食堂几点开门").locator(
        "button", has_text="帮助"
    ).click()
    page.wait_for_selector(".flash-success")
    row = page.locator("table.learning tbody tr", has_text="今天食堂几点开门")
    row.locator("button", has_text="都不是").click()  # changed: one label per message
    page.wait_for_selector(".flash-success")
    row = page.locator("table.learning tbody tr", has_text="今天食堂几点开门")
    assert row.locator("button.chosen").inner_text() == "都不是（未理解）"
    shoot(page, "learning")

    with page.expect_download() as download_info:
        page.click("a.button >> text=已标注的消息")
    target = tmp_path / "labels.txt"
    download_info.value.save_as(str(target))
    examples, _brands = read_examples(target)
    assert {(e.intent, e.message) for e in examples} == {
        ("status", "工惠乐学进展到哪一步了"),
        ("unknown", "今天食堂几点开门"),
    }
    body = target.read_bytes()
    assert not any(openid.encode() in body for openid in OPENIDS)
    assert errors == []
    context.close()
