"""The H5 "my suggestions" page and the anonymous ticket lookup: a named worker's tickets with
history and the union's answer (read = delivered), anonymous tickets never listed, reachable only
by ticket + code under the chat's wrong-code limit, a wrong code telling nothing, and nothing
stored that ties the reader's openid to an anonymous ticket."""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Callable
from html import unescape
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, select

import models
from handlers import delivery
from handlers.actor import SYSTEM
from handlers.anonymity import MAX_WRONG_ATTEMPTS, show_code
from handlers.suggestions import operations as sg
from models import Suggestion, User
from tests.bot.h5.conftest import NOW, WECHAT_UA, WORKER_A, WORKER_B, Province
from tests.wechat_chat import Chat

MY = "/h5/me/suggestions"
LOOKUP = "/h5/suggestions/lookup"
UA = {"User-Agent": WECHAT_UA}


@dataclasses.dataclass
class Filed:
    named: str  # tickets
    answered: str
    anonymous: str
    code: str


@pytest.fixture
def filed(app: Flask, province: Province) -> Filed:
    """Worker A's suggestions: one just filed, one transferred and answered; one anonymous, answered."""
    with app.extensions["ghpp"].session_factory() as session, session.begin():
        author = session.scalar(select(User).where(User.openid == WORKER_A))
        assert author is not None
        early = NOW.replace(hour=0, minute=30)
        named = sg.submit(session, author, "食堂的饭菜太咸了，希望少放盐。", early)
        answered = sg.submit(session, author, "车间空调坏了一个月，夏天太热。", early)
        sg.accept(session, answered, SYSTEM, early)
        county_b = session.get(models.Union, province.county_b.id)
        assert county_b is not None
        sg.transfer(session, answered, SYSTEM, county_b, early, note="内部：请乙县跟进")
        sg.answer(session, answered, SYSTEM, "已联系厂家，本周内修好。", early)
        anon, code = sg.file_suggestion(session, author, "班组长长期克扣加班费。", early, anonymous=True)
        sg.accept(session, anon, SYSTEM, early)
        sg.answer(session, anon, SYSTEM, "已转劳动监察部门核查。", early)
        assert code is not None
        return Filed(named.ticket, answered.ticket, anon.ticket, code)


def _suggestion(app: Flask, ticket: str) -> Suggestion:
    with app.extensions["ghpp"].session_factory() as session:
        s: Suggestion | None = session.scalar(select(Suggestion).where(Suggestion.ticket == ticket))
        assert s is not None
        return s


def _hidden(html: str, name: str) -> str:
    m = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert m is not None, name
    return unescape(m.group(1))


def _lookup(client: FlaskClient, ticket: str, code: str) -> Any:
    form = client.get(LOOKUP, headers=UA).get_data(as_text=True)
    data = {
        "csrf_token": _hidden(form, "csrf_token"),
        "rt": _hidden(form, "rt"),
        "ticket": ticket,
        "code": code,
    }
    return client.post(LOOKUP, data=data, headers=UA)


def _alert(resp: Any) -> str:
    m = re.search(r'role="alert">([^<]*)<', resp.get_data(as_text=True))
    assert m is not None
    return m.group(1)


# --- a named worker's page ------------------------------------------------------------------------


def test_a_named_worker_sees_state_history_and_the_answer_and_reading_it_delivers_it(
    app: Flask, sign_in: Callable[..., FlaskClient], filed: Filed
) -> None:
    assert _suggestion(app, filed.answered).answer_delivered_at is None
    client = sign_in(WORKER_A, MY)
    page = client.get(MY, headers=UA)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert filed.named in html and filed.answered in html
    assert "食堂的饭菜太咸了" in html and "已提交" in html
    assert "已答复" in html and "已联系厂家，本周内修好。" in html
    # The history: every step, where it went, but not the unions' working note on the transfer.
    for step in ("提交", "受理", "转办", "答复"):
        assert f"{step}（" in html
    assert "CTYB总工会" in html and "请乙县跟进" not in html
    assert "2026-06-01 08:30" in html  # named: shown to the minute, Beijing time
    # Read on the page: no longer owed, so the push job and the next message deliver nothing.
    assert _suggestion(app, filed.answered).answer_delivered_at == NOW
    assert _suggestion(app, filed.named).answer_delivered_at is None
    with app.extensions["ghpp"].session_factory() as session, session.begin():
        assert delivery._owed_user_ids(session) == []
        rows = delivery.deliveries(
            session, session.scalars(select(Suggestion).where(Suggestion.ticket == filed.answered)).one()
        )
        assert [(r["channel_label"], r["status_label"]) for r in rows][-1:] == [("网页查看", "已送达")]


def test_the_worker_rates_the_answer_on_the_page(
    app: Flask, sign_in: Callable[..., FlaskClient], filed: Filed
) -> None:
    client = sign_in(WORKER_A, MY)
    html = client.get(MY, headers=UA).get_data(as_text=True)
    sid = _suggestion(app, filed.answered).id
    data = {"csrf_token": _hidden(html, "csrf_token"), "rt": _hidden(html, "rt"), "rating": "satisfied"}
    done = client.post(f"{MY}/{sid}/rate", data=data, headers=UA)
    assert done.status_code == 303
    after = client.get(done.headers["Location"], headers=UA).get_data(as_text=True)
    assert "感谢您的评价" in after and "你的评价：满意" in after
    assert _suggestion(app, filed.answered).state.label == "已评价"
    # Someone else's suggestion, or a made-up rating: refused, nothing recorded.
    with app.extensions["ghpp"].session_factory() as session, session.begin():
        worker_b = session.scalar(select(User).where(User.openid == WORKER_B))
        assert worker_b is not None
        own = sg.submit(session, worker_b, "宿舍热水经常没有。", NOW)
        sg.accept(session, own, SYSTEM, NOW)
        sg.answer(session, own, SYSTEM, "已安排维修。", NOW)
    other = sign_in(WORKER_B, MY)
    html_b = other.get(MY, headers=UA).get_data(as_text=True)
    data_b = {
        "csrf_token": _hidden(html_b, "csrf_token"),
        "rt": _hidden(html_b, "rt"),
        "rating": "unsatisfied",
    }
    assert other.post(f"{MY}/{sid}/rate", data=data_b, headers=UA).status_code == 404
    assert other.post(f"{MY}/{sid}/rate", data=data_b | {"rating": "great"}, headers=UA).status_code == 400
    assert _suggestion(app, filed.answered).rating == "satisfied"


def test_an_anonymous_suggestion_is_never_listed(
    app: Flask, sign_in: Callable[..., FlaskClient], filed: Filed
) -> None:
    client = sign_in(WORKER_A, MY)
    html = client.get(MY, headers=UA).get_data(as_text=True)
    assert filed.anonymous not in html and "克扣加班费" not in html and "劳动监察" not in html
    assert "用单号和查询码查询" in html


# --- the anonymous lookup ---------------------------------------------------------------------------


def test_an_anonymous_ticket_opens_only_with_its_code(
    app: Flask, sign_in: Callable[..., FlaskClient], filed: Filed
) -> None:
    before = _suggestion(app, filed.anonymous)
    client = sign_in(WORKER_B, LOOKUP)  # any signed-in follower: the code is what proves it
    typed = filed.anonymous.lower().replace("-", " ")
    found = _lookup(client, typed, show_code(filed.code).lower())
    assert found.status_code == 200
    html = found.get_data(as_text=True)
    assert "班组长长期克扣加班费。" in html and "已转劳动监察部门核查。" in html and "已答复" in html
    assert "2026-06-01" in html and "08:30" not in html and "00:00" not in html  # its day only
    after = _suggestion(app, filed.anonymous)
    # Reading records nothing on it: no delivery time, no change at all.
    assert after.answer_delivered_at is None and after.updated_at == before.updated_at


def test_a_wrong_code_reveals_nothing_not_even_whether_the_ticket_exists(
    app: Flask, sign_in: Callable[..., FlaskClient], filed: Filed
) -> None:
    client = sign_in(WORKER_B, LOOKUP)
    wrong = _lookup(client, filed.anonymous, "0000-0000")
    unknown = _lookup(client, "JY20260601-0999", filed.code)
    named = _lookup(client, filed.named, filed.code)  # a named ticket has no code
    for resp in (wrong, unknown, named):
        assert resp.status_code == 400
        assert "班组长" not in resp.get_data(as_text=True) and "已答复" not in resp.get_data(as_text=True)
    assert _alert(wrong) == _alert(unknown) == _alert(named)
    assert "单号或查询码不对" in _alert(wrong)
    bad = _lookup(client, "JY-abc", filed.code)
    assert bad.status_code == 400 and "单号格式不对" in _alert(bad)


def test_wrong_codes_are_limited_like_the_chat_for_real_and_unknown_tickets_alike(
    app: Flask, sign_in: Callable[..., FlaskClient], filed: Filed
) -> None:
    guesser = sign_in(WORKER_B, LOOKUP)
    for _ in range(MAX_WRONG_ATTEMPTS):
        assert _lookup(guesser, filed.anonymous, "0000-0000").status_code == 400
    locked = _lookup(guesser, filed.anonymous, filed.code)  # even the right code, now
    assert locked.status_code == 429 and "60 分钟后再试" in _alert(locked)
    assert "班组长" not in locked.get_data(as_text=True)
    # An unknown ticket locks the same way for the same guesser: the limit says nothing either.
    assert _lookup(guesser, "JY20260601-0999", "0000-0000").status_code == 429


def test_the_per_ticket_limit_also_holds_across_followers(
    app: Flask, client: FlaskClient, sign_in: Callable[..., FlaskClient], filed: Filed, chat: Chat
) -> None:
    # Wrong codes typed in the chat count for the page too: one limit, the chat's.
    for i in range(MAX_WRONG_ATTEMPTS):
        chat.say(f"o-guesser-{i}", f"查询 {filed.anonymous} 0000-000{i}")
    page = sign_in(WORKER_A, LOOKUP)
    assert _lookup(page, filed.anonymous, filed.code).status_code == 429


def test_the_lookup_stores_nothing_that_ties_the_reader_to_the_ticket(
    app: Flask, clean_db: Engine, sign_in: Callable[..., FlaskClient], filed: Filed, caplog: Any
) -> None:
    caplog.set_level(logging.DEBUG)
    reader = "o-h5-reader-5d1c"  # signed in, never wrote to the account
    client = sign_in(reader, LOOKUP)
    assert _lookup(client, filed.anonymous, "0000-0000").status_code == 400
    assert _lookup(client, filed.anonymous, filed.code).status_code == 200
    ticket, code = filed.anonymous, filed.code
    for table in models.Base.metadata.sorted_tables:
        with clean_db.connect() as conn:
            for row in conn.execute(table.select()):
                text = repr(dict(row._mapping))
                assert reader not in text, (table.name, text)  # no user row, no attempt in clear
                if not code.isdigit():  # eight digits could turn up inside any hex digest
                    assert code not in text and show_code(code) not in text, table.name
                if ticket in text:
                    assert table.name == "suggestion", (table.name, text)
    log = caplog.text
    assert reader not in log and ticket not in log and code not in log


# --- the chat's link ---------------------------------------------------------------------------------


def test_my_suggestions_in_chat_links_to_the_page(
    app: Flask, chat: Chat, filed: Filed, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "http" not in chat.say(WORKER_A, "我的建议")
    rt = app.extensions["ghpp"]
    monkeypatch.setattr(
        rt, "settings", dataclasses.replace(rt.settings, public_base_url="https://gh.example.cn")
    )
    reply = chat.say(WORKER_A, "我的建议")
    assert filed.named in reply and f"https://gh.example.cn{MY}" in reply
    # None filed yet: the page still has the anonymous lookup.
    assert "https://gh.example.cn/h5/me/suggestions" in chat.say(WORKER_B, "我的建议")
