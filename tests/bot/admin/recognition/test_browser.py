"""End to end in headless Chromium: the 社会认可度 page of a campaign with the interval chart and
the quadrant drawn, the disclosure shown. Screenshots go to test-artifacts/."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from bot.admin.accounts import create_account
from handlers.recognition.fraud import _write
from models import Brand, Union, utcnow
from models.admin import AdminRole
from models.recognition import FlagStatus, RecognitionEvent
from tests.bot.admin.test_browser import PASSWORD, browser, live_server, shoot  # noqa: F401
from tests.factories import make_legacy_campaign

pytestmark = pytest.mark.browser


@pytest.fixture
def campaign_demo(app: Flask, live_server: str) -> tuple[str, int]:  # noqa: F811
    """A rating campaign over six demo brands with W, S and G answers of different sizes."""
    rnd = random.Random(7)
    t0 = utcnow() - timedelta(days=3)
    with app.extensions["ghpp"].session_factory() as db, db.begin():
        brands = list(db.scalars(select(Brand).order_by(Brand.id).limit(6)))
        # Province and city brands together: a campaign made before cohorts (the chart is the point).
        c = make_legacy_campaign(db, "2026年度工作品牌满意度测评", "rating", brands, t0)
        c.union_id = db.scalar(select(Union.id).where(Union.code == "SD"))
        n = 0

        def add(**kw: Any) -> None:
            nonlocal n
            n += 1
            fields: dict[str, Any] = {
                "event_key": f"browser-{n}",
                "campaign_id": c.id,
                "grp": "W",
                "union_path": None,
                "identity_first_seen_at": t0 - timedelta(days=400),
                "channel": "neutral_open",
                "src_brand_id": None,
                "payload": {},
                "started_at": t0,
                "submitted_at": t0 + timedelta(minutes=n),
            }
            fields.update(kw)
            db.add(RecognitionEvent(**fields))

        ids = [b.id for b in brands]
        for i in range(240):
            grp = "W" if i % 2 else "S"
            ident = f"br-{i}"
            aware = [b for k, b in enumerate(ids) if rnd.random() < 0.75 - 0.1 * k]
            add(kind="roster_ballot", identity_hash=ident, grp=grp, payload={"shown": ids, "aware": aware})
            for k, b in enumerate(ids):
                if b in aware and rnd.random() < [0.8, 0.6, 0.5, 0.35, 0.2, 0.03][k]:
                    base = [4.4, 3.6, 4.0, 3.0, 3.8, 4.0][k]
                    q1 = min(5, max(1, round(rnd.gauss(base, 0.8))))
                    add(kind="rating", identity_hash=ident, grp=grp, brand_id=b, q1=q1)
        for g in range(6):
            for k, b in enumerate(ids[:4]):
                add(
                    kind="review_score",
                    identity_hash=f"gov-{g}",
                    grp="G",
                    brand_id=b,
                    q1=4 - k % 2,
                    payload={"items": [4 - k % 2]},
                )
        for k, b in enumerate(ids):
            for v in range([5, 40, 12, 3, 60, 0][k]):
                add(kind="support_vote", identity_hash=f"vote-{k}-{v}", brand_id=b)
        # A burst of new followers' 1-point ratings on one brand, flagged by the burst rule.
        burst = []
        for k in range(6):
            ev = RecognitionEvent(
                event_key=f"burst-{k}", campaign_id=c.id, kind="rating", identity_hash=f"burst-{k}",
                grp="S", union_path=None, identity_first_seen_at=t0, channel="brand", src_brand_id=ids[1],
                brand_id=ids[1], q1=1, payload={}, started_at=t0, submitted_at=t0 + timedelta(seconds=k),
            )  # fmt: skip
            db.add(ev)
            burst.append(ev)
        db.flush()
        for ev in burst:
            _write(db, ev.id, "B1", "B1@v1", 1, FlagStatus.SUSPECT, {}, "system",
                   "10 分钟内同一品牌集中出现新关注用户的评价", "raise", t0)  # fmt: skip
        # A second organiser's admin: flag decisions need two adjudicators.
        sd = db.scalar(select(Union).where(Union.code == "SD"))
        assert sd is not None
        create_account(db, sd, "admin2", AdminRole.ADMIN, PASSWORD, actor_name="测试")
        cid = c.id
    return live_server, cid


def test_recognition_page_draws_the_interval_chart(campaign_demo: tuple[str, int], browser: Any) -> None:  # noqa: F811
    server, cid = campaign_demo
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{server}/admin/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server}/admin/")
    assert "2026年度工作品牌满意度测评" in page.locator("#panel-campaigns").inner_text()

    page.click("nav.mainnav >> text=评选与社会认可度")
    page.click("text=2026年度工作品牌满意度测评")
    page.wait_for_url(f"{server}/admin/campaigns/{cid}")
    page.wait_for_selector("#ri-interval canvas")
    page.wait_for_selector("#ri-quadrant canvas")
    legend = page.evaluate(
        "() => echarts.getInstanceByDom(document.getElementById('ri-interval')).getOption().legend[0].data"
    )
    assert legend == ["社会认可度", "95%可信区间"]
    # The chart's points are the table's numbers.
    points = page.evaluate(
        "() => echarts.getInstanceByDom(document.getElementById('ri-interval')).getOption()"
        ".series[1].data.map(p => p[0].toFixed(1))"
    )
    cells = page.locator("#ranking tbody tr td:nth-child(3)").all_inner_texts()
    assert points[: len(cells)] == cells
    assert "方法版本 v" in page.locator("#disclosure").first.inner_text()
    assert "参与热度（不计入社会认可度）" in page.locator("#heat").inner_text()
    assert not errors, errors
    shoot(page, "recognition")
    page.goto(f"{server}/admin/campaigns/{cid}/flags")
    assert page.locator("#flags tbody tr").count() == 6
    assert "burst-" not in page.content()  # no identities on the page
    first = page.locator("#flags tbody tr").first
    first.locator("input[name=reason]").fill("经电话核实为真实职工")
    first.locator("button >> text=恢复计入").click()
    page.wait_for_selector("text=需另一位复核人")
    assert page.locator("#flags tbody tr", has_text="admin：恢复计入").count() == 1
    assert page.locator("#flags tbody tr", has_text="已恢复计入").count() == 0
    # The second adjudicator agrees: now the flag is restored.
    second = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN").new_page()
    second.goto(f"{server}/admin/login")
    second.fill("input[name=username]", "admin2")
    second.fill("input[name=password]", PASSWORD)
    second.click("button[type=submit]")
    second.wait_for_url(f"{server}/admin/")
    second.goto(f"{server}/admin/campaigns/{cid}/flags")
    row = second.locator("#flags tbody tr", has_text="admin：恢复计入")
    row.locator("input[name=reason]").fill("同意，已电话核实")
    row.locator("button >> text=恢复计入").click()
    second.wait_for_selector("text=已生效")
    page = second
    assert page.locator("#flags tbody tr", has_text="已恢复计入").count() == 1
    shoot(page, "recognition-flags")
    assert not errors, errors
