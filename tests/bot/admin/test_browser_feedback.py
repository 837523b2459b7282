"""End to end in headless Chromium: open the suggestions inbox, answer a suggestion (the worker
gets one push), see its state change; the topics and survey charts drawn. Screenshots go to
test-artifacts/."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from config.settings import PROJECT_ROOT
from handlers.clock import SHANGHAI
from handlers.suggestions import operations as ops
from models import SurveyResponse, Union, utcnow
from tests.bot.admin.test_browser import PASSWORD, browser, live_server, shoot  # noqa: F401
from tests.factories import make_user
from tests.wechat_stub import WeChatStub

pytestmark = pytest.mark.browser

WORKER_OPENID = "o-browser-worker-01"


def _artifact(page: Any, name: str) -> None:
    target = PROJECT_ROOT / "test-artifacts"
    target.mkdir(exist_ok=True)
    page.screenshot(path=str(target / f"{name}.png"), full_page=True)


@pytest.fixture
def feedback_demo(app: Flask, live_server: str) -> tuple[str, str]:  # noqa: F811
    now = utcnow()
    with app.extensions["ghpp"].session_factory() as db, db.begin():
        plant = db.scalar(select(Union).where(Union.code == "BZ-BC-001"))
        hospital = db.scalar(select(Union).where(Union.code == "BZ-BC-002"))
        assert plant is not None and hospital is not None
        worker = make_user(db, openid=WORKER_OPENID, union_id=plant.id, last_message_at=now)
        colleague = make_user(db, openid="o-browser-worker-02", union_id=hospital.id, last_message_at=now)
        ops.submit(db, worker, "食堂的饭菜品种太少，希望增加几个窗口，晚班也能吃上热饭", now)
        ops.submit(db, colleague, "夜班护士的休息室太小，希望改善值班休息条件", now)
        ops.submit(db, worker, "车间夏天太热，防暑降温用品发放不及时", now, anonymous=True)
        ops.submit(db, colleague, "希望工会多组织技能培训和岗位练兵活动", now)
        ops.submit(db, colleague, "食堂晚班不供应热饭，夜班职工只能吃泡面", now)
        ops.submit(db, worker, "技能培训名额太少，希望增加培训班次", now)
        # Overdue by its deadline, filed at the same instant as the rest: a filing date days back
        # would fall in the previous month early in a month and change the month's topics.
        late = ops.submit(db, worker, "劳保手套质量差，一周就磨破了，希望更换供应商", now)
        late.due_at = now - timedelta(days=2)
        for i in range(6):
            user = make_user(db, openid=f"o-browser-resp-{i}", union_id=plant.id)
            answers: dict[str, Any] = {
                "aware": [],
                "union_service": [5, 4, 4, 3, 5, 2][i],
                "joined": 1 if i % 2 == 0 else 2,
                "channel": 1 + i % 3,
                "comment": "希望多开展技能培训" if i < 3 else None,
            }
            if i % 2 == 0:
                answers["activity"] = [1, 2]
            db.add(
                SurveyResponse(
                    survey_key="brand_recognition",
                    user_id=user.id,
                    respondent_code=f"RB{i:04d}",
                    status="complete",
                    answers=answers,
                    plan={"roster": [], "rated": [], "history": []},
                    started_at=now,
                    updated_at=now,
                    submitted_at=now,
                )
            )
    return live_server, now.astimezone(SHANGHAI).strftime("%Y-%m")


def test_answer_a_suggestion_in_the_browser(
    feedback_demo: tuple[str, str],
    browser: Any,  # noqa: F811
    wechat_stub: WeChatStub,
) -> None:
    server, month = feedback_demo
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{server}/admin/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server}/admin/")
    # The overview's overdue panel lists the late suggestion.
    assert page.locator("#panel-overdue_suggestions table.data tbody tr").count() == 1

    page.click("nav.mainnav >> text=职工建议")
    page.wait_for_url(f"{server}/admin/suggestions/")
    assert page.locator("table.data tbody tr").count() == 7
    shoot(page, "suggestions")

    page.locator("table.data tbody tr", has_text="食堂的饭菜品种太少").locator("a").click()
    assert page.locator("#suggestion-state").inner_text() == "已提交"
    page.click("#actions button >> text=受理")
    page.wait_for_selector("text=已受理。")
    assert page.locator("#suggestion-state").inner_text() == "已受理"
    page.fill("textarea[name=answer]", "已与食堂协商，下周一起增加两个窗口，晚班供应热饭。")
    page.click("#actions button >> text=答复")
    page.wait_for_selector("text=答复将推送给职工。")
    assert page.locator("#suggestion-state").inner_text() == "已答复"
    assert "晚班供应热饭" in page.locator("#suggestion-answer").inner_text()
    calls = wechat_stub.calls_to("message/custom/send")
    assert len(calls) == 1 and WORKER_OPENID in str(calls[0].body)
    _artifact(page, "suggestion-answered")

    # The month of the fixture's own instant, named explicitly: the page's default month is the
    # server's today, which may already be the next month when the test runs at midnight.
    page.goto(f"{server}/admin/suggestions/topics?month={month}")
    page.wait_for_selector("#topic-categories canvas")
    page.wait_for_selector("#topic-keywords canvas")
    # The bars carry the same numbers as the table beside them.
    bars = page.evaluate(
        "() => { const o = echarts.getInstanceByDom(document.getElementById('topic-categories')).getOption();"
        " return o.yAxis[0].data.map((name, i) => [name, o.series[0].data[i]]); }"
    )
    cells = page.locator("#topic-categories ~ .table-wrap tbody tr").all_inner_texts()
    assert [f"{name}\t{value}" for name, value in bars] == cells
    assert sum(v for _n, v in bars) == 7
    shoot(page, "suggestion-topics")

    page.goto(f"{server}/admin/surveys/brand_recognition")
    assert page.locator("#survey-n").inner_text() == "6"
    page.wait_for_selector(".chart canvas")
    _artifact(page, "survey-results")
    assert errors == []
    context.close()
