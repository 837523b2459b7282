"""The H5 pages on a phone (390×844) in headless Chromium, signed in through the stub's real
redirect dance: rate, vote, a blind campaign, another county's campaign refused; no script needed,
nothing loaded from another host. Screenshots go to test-artifacts/."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from flask import Flask

from handlers.programme.storage import LocalStorage, photo_key
from models.programme import Photo, PhotoStatus
from tests.bot.admin.test_browser import _require_browser, browser, shoot  # noqa: F401
from tests.bot.h5.conftest import NOW, WECHAT_UA, WORKER_A, Province
from tests.live_server import serving
from tests.wechat_stub import WeChatStub

pytestmark = pytest.mark.browser


def _photo(tint: tuple[int, int, int]) -> bytes:
    from PIL import Image

    img = Image.new("RGB", (1200, 800), tint)
    for x in range(0, 1200, 40):
        for y in range(0, 800, 40):
            img.putpixel((x, y), (255, 255, 255))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85)
    return out.getvalue()


def _gallery(app: Flask, province: Province) -> None:
    storage = LocalStorage(Path(app.extensions["ghpp"].job_options["media_dir"]))
    with app.extensions["ghpp"].session_factory() as db, db.begin():
        for i, (name, tint) in enumerate(
            (("驿站", (200, 90, 60)), ("驿站", (60, 140, 200)), ("书屋", (90, 170, 90)))
        ):
            content = _photo(tint)
            sha = hashlib.sha256(content).hexdigest()
            key = photo_key(sha, "jpg")
            storage.put(key, content, "image/jpeg")
            db.add(
                Photo(
                    media_id=f"h5-media-{i}",
                    brand_id=province.brands[name].id,
                    captured_at=NOW - timedelta(days=3 - i),
                    status=PhotoStatus.STORED,
                    sha256=sha,
                    size=len(content),
                    content_type="image/jpeg",
                    storage_key=key,
                    stored_at=NOW,
                )
            )


@pytest.fixture
def live(app: Flask, province: Province) -> Iterator[str]:
    _require_browser()
    _gallery(app, province)
    with serving(app) as url:
        yield url


def _phone(browser: Any, hosts: set[str]) -> Any:  # noqa: F811
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        java_script_enabled=False,
        user_agent=WECHAT_UA,
        locale="zh-CN",
    )
    context.on("request", lambda req: hosts.add(urlparse(req.url).netloc))
    return context


def test_rate_vote_blind_and_refused_on_a_phone(
    live: str,
    browser: Any,  # noqa: F811
    province: Province,
    wechat_stub: WeChatStub,
) -> None:
    wechat_stub.sign_in_as(WORKER_A)
    hosts: set[str] = set()
    context = _phone(browser, hosts)
    page = context.new_page()

    # Signed in by the redirect dance: our page → WeChat's authorize (the stub) → our callback.
    page.goto(f"{live}/h5/campaigns/{province.rating.id}")
    # (The browser keeps the authorize URL's #wechat_redirect across redirects; WeChat drops it.)
    assert page.url.split("#")[0] == f"{live}/h5/campaigns/{province.rating.id}"
    assert page.locator("h1").inner_text() == "省级满意度测评"
    card = page.locator(f"#b{province.brands['驿站'].id}")
    assert card.locator(".photos img").count() == 2
    assert card.locator(".photos img").first.evaluate("img => img.naturalWidth") == 480
    shoot(page, "h5-campaign-rate")
    card.locator("label:has-text('4')").click()
    card.locator("button:has-text('提交评分')").click()
    assert "已记录" in page.locator(".notice").inner_text()
    assert "你的评分：4 分" in page.locator(f"#b{province.brands['驿站'].id}").inner_text()
    shoot(page, "h5-campaign-rated")

    page.goto(f"{live}/h5/campaigns/{province.vote.id}")
    page.locator(f"#b{province.brands['书屋'].id} button:has-text('投它一票')").click()
    assert "已投 1 / 1 票" in page.locator("#votes-left").inner_text()
    assert page.locator(f"#b{province.brands['驿站'].id} button").is_disabled()
    shoot(page, "h5-campaign-voted")

    page.goto(f"{live}/h5/campaigns/{province.blind.id}")
    assert "结果在活动结束后公布" in page.content() and "已获" not in page.content()
    shoot(page, "h5-campaign-blind")

    response = page.goto(f"{live}/h5/campaigns/{province.county_b_rating.id}")
    assert response is not None and response.status == 403
    assert "不在本次活动范围内" in page.locator("h1").inner_text()
    shoot(page, "h5-campaign-refused")

    stub_host = urlparse(wechat_stub.base_url).netloc
    assert hosts <= {urlparse(live).netloc, stub_host}, hosts  # no external host
    context.close()


def test_the_first_page_fits_the_budget_and_names_no_other_host(
    app: Flask, province: Province, sign_in: Any
) -> None:
    client = sign_in(WORKER_A)
    html = client.get(f"/h5/campaigns/{province.rating.id}", headers={"User-Agent": WECHAT_UA}).get_data()
    css_resp = client.get("/h5/static/h5.css")
    css = css_resp.get_data()
    css_resp.close()
    assert len(html) + len(css) < 100 * 1024
    assert b"http://" not in html and b"https://" not in html
    assert b"<script" not in html  # the basics need no JavaScript


def test_survey_with_a_skip_resume_and_my_suggestions_on_a_phone(
    live: str,
    browser: Any,  # noqa: F811
    app: Flask,
    province: Province,
    wechat_stub: WeChatStub,
) -> None:
    from handlers.actor import SYSTEM
    from handlers.suggestions import operations as sg
    from models import User

    with app.extensions["ghpp"].session_factory() as session, session.begin():
        author = session.query(User).filter_by(openid=WORKER_A).one()
        early = NOW - timedelta(days=2)
        sg.submit(session, author, "食堂的饭菜太咸了，希望少放盐。", early)
        answered = sg.submit(session, author, "车间空调坏了一个月，夏天太热。", early)
        sg.accept(session, answered, SYSTEM, early)
        sg.answer(session, answered, SYSTEM, "已联系厂家，本周内修好。", early + timedelta(hours=20))

    wechat_stub.sign_in_as(WORKER_A)
    hosts: set[str] = set()
    context = _phone(browser, hosts)
    page = context.new_page()
    survey = f"{live}/h5/surveys/brand_recognition"
    page.goto(survey)
    assert "以下品牌您听说过哪些" in page.content()
    shoot(page, "h5-survey-roster")
    page.locator("label.choice:has-text('甲县幸福驿站') input").check()
    page.locator("button[type=submit]").click()
    # Section 2: the brand's ratings up to the question that decides the skip.
    assert "总体而言，您对「甲县幸福驿站」满意吗" in page.content()
    page.locator("input[name^='a.q1:'][value='5']").check()
    page.locator("input[name^='a.q2:'][value='4']").check()
    page.locator("input[name='a.union_service'][value='4']").check()
    page.locator("input[name='a.joined'][value='2']").check()  # 没参加过: the activity question is skipped
    shoot(page, "h5-survey-skip")
    page.locator("button[type=submit]").click()
    assert "哪类活动" not in page.content() and "提交问卷" in page.content()

    # Leave, come back: the page continues where it was (saved per section).
    page.goto(f"{live}/h5/")
    page.goto(survey)
    assert "提交问卷" in page.content() and "以下品牌您听说过哪些" not in page.content()
    shoot(page, "h5-survey-resume")

    page.goto(f"{live}/h5/me/suggestions")
    text = page.content()
    assert "已联系厂家，本周内修好。" in text and "食堂的饭菜太咸了" in text
    shoot(page, "h5-my-suggestions")
    stub_host = urlparse(wechat_stub.base_url).netloc
    assert hosts <= {urlparse(live).netloc, stub_host}, hosts
    context.close()
