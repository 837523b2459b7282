"""The campaign page: brand cards, rating and voting by the chat's rules (channel h5), and every
bad input answered with a Chinese page that records nothing."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import bot.pipeline
from config.recognition import load_config
from handlers.recognition.loader import load_campaign
from models.recognition import Campaign, RecognitionEvent
from tests.bot.h5.conftest import NOW, WECHAT_UA, WORKER_A, WORKER_B, Province
from tests.wechat_chat import Chat

UA = {"User-Agent": WECHAT_UA}


def _form(client: FlaskClient, campaign_id: int, brand_id: int) -> dict[str, str]:
    """The hidden fields of one brand's form on a freshly rendered page."""
    html = client.get(f"/h5/campaigns/{campaign_id}", headers=UA).get_data(as_text=True)
    card = html[html.index(f'id="b{brand_id}"') :]
    fields = dict(re.findall(r'name="(csrf_token|rt|brand_id)" value="([^"]*)"', card)[:3])
    assert set(fields) == {"csrf_token", "rt", "brand_id"}
    return fields


def _events(app: Flask, **where: object) -> list[RecognitionEvent]:
    with app.extensions["ghpp"].session_factory() as s:
        stmt = select(RecognitionEvent).order_by(RecognitionEvent.id)
        for k, v in where.items():
            stmt = stmt.where(getattr(RecognitionEvent, k) == v)
        return list(s.scalars(stmt))


def _rate(client: FlaskClient, c: Campaign, brand_id: int, score: object, **extra: str):
    data = {**_form(client, c.id, brand_id), "score": str(score), **extra}
    return client.post(f"/h5/campaigns/{c.id}/rate", data=data, headers=UA)


def test_the_page_shows_brand_cards_with_union_stage_and_a_short_description(
    province: Province, sign_in: Callable[..., FlaskClient]
) -> None:
    client = sign_in(WORKER_A)
    html = client.get(f"/h5/campaigns/{province.rating.id}", headers=UA).get_data(as_text=True)
    assert "甲县幸福驿站" in html and "CTYA总工会" in html and "培育创建" in html
    long_text = province.brands["驿站"].summary or ""
    assert long_text[:99] + "…" in html and long_text not in html  # 100 characters at most
    assert "给它打分" in html and 'name="score" value="5"' in html


def test_a_rating_on_the_page_is_recorded_as_the_chat_would_with_channel_h5(
    app: Flask, province: Province, sign_in: Callable[..., FlaskClient]
) -> None:
    client = sign_in(WORKER_A)
    brand = province.brands["驿站"]
    resp = _rate(client, province.rating, brand.id, 4)
    assert resp.status_code == 303 and "s=recorded" in resp.headers["Location"]
    (event,) = _events(app, kind="rating")
    assert (event.channel, event.q1, event.brand_id, event.grp) == ("h5", 4, brand.id, "W")
    assert event.started_at <= event.submitted_at
    page = client.get(resp.headers["Location"], headers=UA).get_data(as_text=True)
    assert "已记录" in page and "你的评分：4 分" in page


def test_a_page_rating_carries_its_web_signals_and_never_the_full_address(
    app: Flask, province: Province, sign_in: Callable[..., FlaskClient]
) -> None:
    from models.recognition_web import RecognitionWebSignal

    client = sign_in(WORKER_A)
    data = {**_form(client, province.rating.id, province.brands["驿站"].id), "score": "3"}
    client.post(
        f"/h5/campaigns/{province.rating.id}/rate",
        data=data,
        headers=UA,
        environ_base={"REMOTE_ADDR": "203.0.113.77"},
    )
    (event,) = _events(app, kind="rating")
    with app.extensions["ghpp"].session_factory() as s:
        (sig,) = s.scalars(select(RecognitionWebSignal)).all()
        assert sig.event_id == event.id
        assert sig.ip_prefix == "203.0.113.0/24" and sig.ua_family == "wechat-android"
        assert sig.device_hash and len(sig.device_hash) >= 16  # the page's device cookie, hashed
        assert sig.dwell_ms is not None and sig.dwell_ms >= 0
        assert "203.0.113.77" not in repr(vars(sig))


def test_a_double_tap_or_resent_form_counts_once(
    app: Flask, province: Province, sign_in: Callable[..., FlaskClient]
) -> None:
    client = sign_in(WORKER_A)
    brand = province.brands["驿站"]
    data = {**_form(client, province.rating.id, brand.id), "score": "5"}
    first = client.post(f"/h5/campaigns/{province.rating.id}/rate", data=data, headers=UA)
    second = client.post(f"/h5/campaigns/{province.rating.id}/rate", data=data, headers=UA)
    assert "s=recorded" in first.headers["Location"]
    assert "s=duplicate" in second.headers["Location"] or "s=same" in second.headers["Location"]
    assert len(_events(app, kind="rating")) == 1


def test_a_page_rating_and_a_chat_rating_by_the_same_worker_leave_one_counted_rating(
    app: Flask,
    client: FlaskClient,
    wechat,
    province: Province,
    sign_in: Callable[..., FlaskClient],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bot.pipeline, "utcnow", lambda: NOW)
    sign_in(WORKER_A)
    brand = province.brands["驿站"]
    _rate(client, province.rating, brand.id, 2)
    chat = Chat(client, wechat)
    reply = chat.say(WORKER_A, f"给{brand.name}打5分")
    if "哪" in reply and "1" in reply:  # asked which campaign: the province-wide one is listed first
        reply = chat.say(WORKER_A, "1")
    ratings = _events(app, kind="rating")
    assert [(e.channel, e.q1) for e in ratings] == [("h5", 2), ("self", 5)], reply
    with app.extensions["ghpp"].session_factory() as s:
        c = s.get(Campaign, province.rating.id)
        assert c is not None
        loaded = load_campaign(s, c, load_config())
    assert loaded.counts[brand.id].ratings == 1
    (cell_input,) = [i for i in loaded.inputs if i.brand_id == brand.id]
    assert cell_input is not None


def test_vote_up_to_k_then_refused_with_nothing_recorded(
    app: Flask, province: Province, sign_in: Callable[..., FlaskClient]
) -> None:
    client = sign_in(WORKER_A)
    c = province.vote  # K = 1
    one, two = province.brands["驿站"], province.brands["书屋"]
    ok = client.post(f"/h5/campaigns/{c.id}/vote", data=_form(client, c.id, one.id), headers=UA)
    assert "s=recorded" in ok.headers["Location"]
    html = client.get(f"/h5/campaigns/{c.id}", headers=UA).get_data(as_text=True)
    assert "已投 1 / 1 票" in html and "✓ 已投票" in html
    # The button is disabled now; a crafted post is still refused.
    form = re.findall(r'name="(csrf_token|rt)" value="([^"]*)"', html)[:2]
    over = client.post(f"/h5/campaigns/{c.id}/vote", data={**dict(form), "brand_id": str(two.id)}, headers=UA)
    assert "s=full" in over.headers["Location"]
    again = client.post(
        f"/h5/campaigns/{c.id}/vote", data={**dict(form), "brand_id": str(one.id)}, headers=UA
    )
    assert "s=already" in again.headers["Location"] or "s=full" in again.headers["Location"]
    assert len(_events(app, kind="support_vote")) == 1


def test_a_closed_campaign_shows_closed_and_records_nothing(
    app: Flask, province: Province, sign_in: Callable[..., FlaskClient]
) -> None:
    client = sign_in(WORKER_A)
    c = province.closed
    html = client.get(f"/h5/campaigns/{c.id}", headers=UA).get_data(as_text=True)
    assert "本次活动已结束" in html and "<fieldset disabled>" in html
    resp = _rate(client, c, province.brands["驿站"].id, 5)
    assert "s=closed" in resp.headers["Location"]
    assert "未作记录" in client.get(resp.headers["Location"], headers=UA).get_data(as_text=True)
    assert _events(app) == []


def test_another_countys_campaign_is_refused_on_the_page_and_on_post(
    app: Flask, province: Province, sign_in: Callable[..., FlaskClient]
) -> None:
    client = sign_in(WORKER_A)
    c = province.county_b_rating
    page = client.get(f"/h5/campaigns/{c.id}", headers=UA)
    assert page.status_code == 403 and "不在本次活动范围内" in page.get_data(as_text=True)
    # A form from the province page, re-aimed at the county-B campaign: the render token is for
    # another page, so it is refused before anything is looked at.
    form = _form(client, province.rating.id, province.brands["乐学"].id)
    resp = client.post(f"/h5/campaigns/{c.id}/rate", data={**form, "score": "5"}, headers=UA)
    assert resp.status_code == 403
    assert _events(app) == []


def test_a_blind_campaign_shows_no_counts(
    app: Flask, province: Province, sign_in: Callable[..., FlaskClient]
) -> None:
    client = sign_in(WORKER_A)
    c = province.blind
    client.post(
        f"/h5/campaigns/{c.id}/vote", data=_form(client, c.id, province.brands["驿站"].id), headers=UA
    )
    html = client.get(f"/h5/campaigns/{c.id}", headers=UA).get_data(as_text=True)
    assert "结果在活动结束后公布" in html and "已获" not in html
    open_html = client.get(f"/h5/campaigns/{province.vote.id}", headers=UA).get_data(as_text=True)
    assert "已获 0 票" in open_html


@pytest.mark.parametrize("score", ["0", "6", "abc", "", "4.5", "５"])
def test_a_score_outside_1_to_5_gets_a_chinese_page_and_nothing_recorded(
    app: Flask, province: Province, sign_in: Callable[..., FlaskClient], score: str
) -> None:
    client = sign_in(WORKER_A)
    resp = _rate(client, province.rating, province.brands["驿站"].id, score)
    assert resp.status_code == 400
    assert "1–5 分" in resp.get_data(as_text=True)
    assert _events(app) == []


def test_an_unknown_brand_or_a_wrong_kind_of_post_records_nothing(
    app: Flask, province: Province, sign_in: Callable[..., FlaskClient]
) -> None:
    client = sign_in(WORKER_A)
    c = province.rating
    form = _form(client, c.id, province.brands["驿站"].id)
    for brand_id in ("999999", "-1", "1e3", "x" * 50):
        resp = client.post(
            f"/h5/campaigns/{c.id}/rate", data={**form, "brand_id": brand_id, "score": "3"}, headers=UA
        )
        assert resp.status_code == 400 and "候选品牌" in resp.get_data(as_text=True)
    wrong = client.post(f"/h5/campaigns/{c.id}/vote", data=form, headers=UA)
    assert wrong.status_code == 400
    assert client.post("/h5/campaigns/999/rate", data=form, headers=UA).status_code in (403, 404)
    assert _events(app) == []


def test_a_1_mb_form_is_refused_with_a_chinese_page(
    app: Flask, province: Province, sign_in: Callable[..., FlaskClient]
) -> None:
    client = sign_in(WORKER_A)
    form = _form(client, province.rating.id, province.brands["驿站"].id)
    resp = client.post(
        f"/h5/campaigns/{province.rating.id}/rate",
        data={**form, "score": "5", "pad": "x" * 1_000_000},
        headers=UA,
    )
    assert resp.status_code == 413
    assert "提交的内容太大" in resp.get_data(as_text=True)
    assert _events(app) == []


def test_a_form_from_another_workers_session_is_refused(
    app: Flask, province: Province, sign_in: Callable[..., FlaskClient]
) -> None:
    client = sign_in(WORKER_A)
    foreign = _form(client, province.rating.id, province.brands["驿站"].id)
    client.delete_cookie("ghpp_h5", path="/h5")
    sign_in(WORKER_B)  # the same browser, now someone else's session
    resp = client.post(f"/h5/campaigns/{province.rating.id}/rate", data={**foreign, "score": "5"}, headers=UA)
    assert resp.status_code == 403 and "未作记录" in resp.get_data(as_text=True)
    # A's render token with B's own CSRF token: still refused (bound to A's sign-in).
    own = _form(client, province.rating.id, province.brands["驿站"].id)
    mixed = {**foreign, "csrf_token": own["csrf_token"], "score": "5"}
    resp = client.post(f"/h5/campaigns/{province.rating.id}/rate", data=mixed, headers=UA)
    assert resp.status_code == 403
    assert _events(app) == []


def test_a_post_without_a_session_records_nothing(app: Flask, province: Province) -> None:
    client = app.test_client()
    resp = client.post(
        f"/h5/campaigns/{province.rating.id}/rate", data={"score": "5", "brand_id": "1"}, headers=UA
    )
    assert resp.status_code == 403 and "登录已过期" in resp.get_data(as_text=True)
    assert _events(app) == []


def test_a_visitor_who_never_followed_is_s_and_starts_unsubscribed(
    app: Flask, province: Province, sign_in: Callable[..., FlaskClient]
) -> None:
    from models import User

    client = sign_in("o-never-followed")
    resp = _rate(client, province.rating, province.brands["书屋"].id, 3)
    assert "s=recorded" in resp.headers["Location"]
    (event,) = _events(app)
    assert event.grp == "S"
    with app.extensions["ghpp"].session_factory() as s:
        user = s.scalar(select(User).where(User.openid == "o-never-followed"))
        assert user is not None and user.subscribed is False


def test_unknown_h5_pages_get_a_chinese_404(client: FlaskClient) -> None:
    resp = client.get("/h5/no-such-page", headers=UA)
    assert resp.status_code == 404 and "页面不存在" in resp.get_data(as_text=True)


def test_no_counts_leak_between_sessions_in_the_database(app: Flask, province: Province) -> None:
    with Session(app.extensions["ghpp"].engine) as s:
        assert s.scalar(select(func.count()).select_from(RecognitionEvent)) == 0


def test_the_chat_list_links_the_campaign_page_where_the_brands_can_be_seen(
    app: Flask,
    client: FlaskClient,
    wechat,
    province: Province,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import dataclasses

    monkeypatch.setattr(bot.pipeline, "utcnow", lambda: NOW)
    chat = Chat(client, wechat)
    plain = chat.say(WORKER_A, "候选品牌")
    assert "甲县幸福驿站" in plain and "http" not in plain  # no public address: no link
    rt = app.extensions["ghpp"]
    monkeypatch.setattr(
        rt, "settings", dataclasses.replace(rt.settings, public_base_url="https://gh.example.cn")
    )
    reply = chat.say(WORKER_A, "候选品牌")
    assert "介绍和照片" in reply and re.search(r"https://gh\.example\.cn/h5/campaigns/\d+", reply)
    assert len(reply.encode()) <= 2048
