"""The H5 survey page end to end: sections and skip logic without JavaScript, resuming, the
response shared with the chat, one response per person, every kind of bad input (a Chinese
message, HTTP 400, nothing saved), the index fed as from the chat, and the chat's links."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from datetime import timedelta
from html import unescape
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

import bot.h5.web
import bot.pipeline
from bot.h5.web import SESSION_COOKIE
from handlers.actor import Actor
from handlers.context import Reply
from handlers.surveys.chat import LONG_SURVEY, begin
from handlers.surveys.operations import RESUME_WINDOW, set_open
from handlers.surveys.templates import parse_template, question_count, templates
from models import Conversation, SurveyResponse, User
from models.recognition import RecognitionEvent
from tests.bot.h5.conftest import NOW, WECHAT_UA, WORKER_A, WORKER_B, Province, query_of
from tests.factories import make_ctx, make_user
from tests.factories_voice import say
from tests.wechat_chat import Chat

KEY = "brand_recognition"
PAGE = f"/h5/surveys/{KEY}"
UA = {"User-Agent": WECHAT_UA}


# --- helpers --------------------------------------------------------------------------------------


def _get(client: FlaskClient, path: str = PAGE) -> str:
    resp = client.get(path, headers=UA)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_data(as_text=True)


def _hidden(html: str, name: str) -> str:
    m = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', html)
    assert m is not None, name
    return unescape(m.group(1))


def _keys(html: str) -> list[str]:
    return [k for k in _hidden(html, "steps").split(",") if k]


def _numbers(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<fieldset class="card q[^"]*" id="q(\d+)"', html)]


def _post(client: FlaskClient, html: str, answers: dict[str, Any], **form: str) -> Any:
    data: MultiDict[str, str] = MultiDict()
    for name in ("csrf_token", "rt", "steps"):
        data.add(name, form.pop(name) if name in form else _hidden(html, name))
    for key, value in answers.items():
        for v in value if isinstance(value, list) else [value]:
            data.add(f"a.{key}", str(v))
    return client.post(PAGE, data=data, headers=UA)


def _response(app: Flask, openid: str) -> SurveyResponse | None:
    with app.extensions["ghpp"].session_factory() as session:
        user = session.scalar(select(User).where(User.openid == openid))
        if user is None:
            return None
        response: SurveyResponse | None = session.scalar(
            select(SurveyResponse).where(SurveyResponse.user_id == user.id)
        )
        return response


def _code(resp: SurveyResponse, name: str) -> int:
    return next(i for i, item in enumerate(resp.plan["roster"], 1) if item["name"] == name)


def _none_code(resp: SurveyResponse) -> int:
    return len(resp.plan["roster"]) + 1


def _events(app: Flask, campaign_id: int) -> list[RecognitionEvent]:
    with app.extensions["ghpp"].session_factory() as session:
        return list(
            session.scalars(
                select(RecognitionEvent)
                .where(RecognitionEvent.campaign_id == campaign_id)
                .order_by(RecognitionEvent.id)
            )
        )


def _to_section(
    app: Flask, client: FlaskClient, province: Province, n: int, joined: int = 1
) -> tuple[str, int]:
    """Answer the sections before ``n`` on the page (驿站 ticked); the page of section ``n``."""
    html = _get(client)
    bid = province.brands["驿站"].id
    if n > 1:
        resp = _response(app, WORKER_A)
        assert resp is not None
        assert _post(client, html, {"aware": _code(resp, "甲县幸福驿站")}).status_code == 303
        html = _get(client)
    if n > 2:
        answers = {f"q1:{bid}": 5, f"q2:{bid}": "dk", "union_service": 4, "joined": joined}
        assert _post(client, html, answers).status_code == 303
        html = _get(client)
    return html, bid


def _home(app: Flask, monkeypatch: pytest.MonkeyPatch, **changes: Any) -> None:
    rt = app.extensions["ghpp"]
    monkeypatch.setattr(rt, "settings", dataclasses.replace(rt.settings, **changes))


# --- sections and skip logic ----------------------------------------------------------------------


def test_a_skipped_question_never_appears_and_is_not_stored(
    app: Flask, sign_in: Callable[..., FlaskClient], province: Province
) -> None:
    client = sign_in(WORKER_A, PAGE)
    html = _get(client)
    # The roster decides what follows (the brands to rate): a section of its own.
    assert _keys(html) == ["aware"] and "以下品牌您听说过哪些" in html and "以上都没听说过" in html
    resp = _response(app, WORKER_A)
    assert resp is not None and resp.channel == "h5" and resp.status == "in_progress"
    assert {i["name"] for i in resp.plan["roster"] if i["id"]} == {"甲县幸福驿站", "甲县职工书屋"}
    station = _code(resp, "甲县幸福驿站")
    assert _post(client, html, {"aware": station}).status_code == 303

    html = _get(client)
    bid = province.brands["驿站"].id
    # Up to and including 「joined」, which decides whether 「activity」 is asked.
    assert _keys(html) == [f"q1:{bid}", f"q2:{bid}", f"q3:{bid}", "union_service", "joined"]
    assert _numbers(html) == [2, 3, 4, 5, 6]
    assert "总体而言，您对「甲县幸福驿站」满意吗" in html and "说不清" in html and "已答 1 题" in html
    answers = {f"q1:{bid}": 5, f"q2:{bid}": "dk", "union_service": 4, "joined": 2}  # q3 optional: left empty
    assert _post(client, html, answers).status_code == 303

    html = _get(client)
    assert _keys(html) == ["channel", "comment"] and _numbers(html) == [7, 8]
    assert "哪类活动" not in html and "提交问卷" in html
    done = client.post(PAGE, data=MultiDict(), headers=UA)  # no CSRF token: refused, nothing saved
    assert done.status_code == 403
    assert _post(client, html, {"channel": 1, "comment": "希望多开展技能培训"}).status_code == 303

    page = _get(client)
    assert "✓ 已提交" in page and 'name="steps"' not in page
    resp = _response(app, WORKER_A)
    assert resp is not None and resp.status == "complete" and resp.submitted_at == NOW
    assert resp.answers == {
        "aware": [station],
        f"q1:{bid}": 5,
        f"q2:{bid}": "dk",
        f"q3:{bid}": None,
        "union_service": 4,
        "joined": 2,
        "channel": 1,
        "comment": "希望多开展技能培训",
    }
    assert resp.plan["history"] == list(resp.answers)


def test_the_page_and_the_chat_store_the_same_response_and_feed_the_index_alike(
    app: Flask, chat: Chat, sign_in: Callable[..., FlaskClient], province: Province
) -> None:
    with app.extensions["ghpp"].session_factory() as session, session.begin():
        session.add(User(openid="o-h5-a-chat", union_id=province.county_a.id, union_source="qrcode"))
    # The page.
    client = sign_in(WORKER_A, PAGE)
    html, bid = _to_section(app, client, province, 2)
    answers = {f"q1:{bid}": 5, f"q2:{bid}": "dk", "union_service": 4, "joined": 2}
    _post(client, html, answers)
    _post(client, _get(client), {"channel": 1, "comment": "希望多开展技能培训"})
    # The chat, the same answers.
    chat.say("o-h5-a-chat", "问卷")
    in_chat = _response(app, "o-h5-a-chat")
    assert in_chat is not None
    for text in (str(_code(in_chat, "甲县幸福驿站")), "5", "说不清", "跳过", "4", "2", "1"):
        chat.say("o-h5-a-chat", text)
    assert "感谢" in chat.say("o-h5-a-chat", "希望多开展技能培训")

    on_page, in_chat = _response(app, WORKER_A), _response(app, "o-h5-a-chat")
    assert on_page is not None and in_chat is not None and in_chat.status == "complete"
    assert on_page.answers == in_chat.answers | {"aware": on_page.answers["aware"]}
    assert (on_page.channel, in_chat.channel) == ("h5", "neutral_open")
    # To the index the page is the organiser's open survey too: its roster counts for awareness.
    events = _events(app, province.rating.id)
    by_identity: dict[str, list[tuple[Any, ...]]] = {}
    for e in events:
        by_identity.setdefault(e.identity_hash, []).append(
            (e.kind, e.grp, e.channel, e.union_path, e.brand_id, e.q1, e.q2, e.q3, e.payload.get("aware"))
        )
    assert len(by_identity) == 2
    page_events, chat_events = by_identity.values()
    assert page_events == chat_events
    assert ("roster_ballot", "W", "neutral_open", province.county_a.path, None, None, None, None, [bid]) in (
        page_events
    )
    assert ("rating", "W", "neutral_open", province.county_a.path, bid, 5, None, None, None) in page_events


# --- resuming, and the chat ------------------------------------------------------------------------


def test_leaving_and_coming_back_continues_where_the_worker_left(
    app: Flask,
    client: FlaskClient,
    sign_in: Callable[..., FlaskClient],
    province: Province,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sign_in(WORKER_A, PAGE)
    html, _bid = _to_section(app, client, province, 2)
    client.delete_cookie(SESSION_COOKIE, path="/h5")  # the worker left: the session is gone
    gone = client.get(PAGE, headers=UA)
    assert gone.status_code == 302 and query_of(gone.headers["Location"])["next"] == PAGE
    sign_in(WORKER_A, PAGE)
    back = _get(client)
    assert "欢迎回来" in back and _keys(back) == _keys(html) and _numbers(back) == [2, 3, 4, 5, 6]
    # After 24 hours, as in the chat, the response starts afresh (one response, same roster rule).
    monkeypatch.setattr(bot.h5.web, "utcnow", lambda: NOW + RESUME_WINDOW + timedelta(minutes=1))
    later = _get(client)
    assert _keys(later) == ["aware"]
    with app.extensions["ghpp"].session_factory() as session:
        assert len(session.scalars(select(SurveyResponse)).all()) == 1


def test_chat_and_page_continue_one_response(
    app: Flask, chat: Chat, sign_in: Callable[..., FlaskClient], province: Province
) -> None:
    bid = province.brands["驿站"].id
    assert "以下品牌您听说过哪些" in chat.say(WORKER_A, "问卷")
    resp = _response(app, WORKER_A)
    assert resp is not None
    chat.say(WORKER_A, str(_code(resp, "甲县幸福驿站")))  # question 1
    chat.say(WORKER_A, "4")  # 2
    assert "推荐" in chat.say(WORKER_A, "3")  # 3; the chat now asks question 4

    client = sign_in(WORKER_A, PAGE)
    html = _get(client)
    assert "欢迎回来" in html
    assert _keys(html) == [f"q3:{bid}", "union_service", "joined"] and _numbers(html) == [4, 5, 6]
    assert _post(client, html, {f"q3:{bid}": 8, "union_service": 5, "joined": 1}).status_code == 303
    third = _get(client)
    assert _keys(third) == ["activity", "channel", "comment"]

    # Back in the chat: the reply meant for question 4 is not taken as question 7's answer.
    reply = chat.say(WORKER_A, "2")
    assert "网页上接着作答" in reply and "哪类活动" in reply
    resp = _response(app, WORKER_A)
    assert resp is not None and "activity" not in resp.answers and resp.answers[f"q3:{bid}"] == 8
    assert "渠道" in chat.say(WORKER_A, "1,2")  # question 7, answered in the chat

    # The page still shows questions 7–9: its form is refused (409), nothing of it saved.
    stale = _post(client, third, {"activity": [1], "channel": 2, "comment": "页面上的意见"})
    assert stale.status_code == 409
    body = stale.get_data(as_text=True)
    assert "进度已在别处更新" in body and _keys(body) == ["channel", "comment"]
    resp = _response(app, WORKER_A)
    assert resp is not None and resp.answers["activity"] == [1, 2] and "channel" not in resp.answers
    assert _post(client, body, {"channel": 2}).status_code == 303  # comment is optional
    resp = _response(app, WORKER_A)
    assert resp is not None and resp.status == "complete" and resp.answers["comment"] is None
    with app.extensions["ghpp"].session_factory() as session:
        assert session.scalar(select(Conversation)) is None  # the chat stopped asking
    assert "已经完成" in chat.say(WORKER_A, "问卷")


def test_one_response_per_person(
    app: Flask, chat: Chat, sign_in: Callable[..., FlaskClient], province: Province
) -> None:
    client = sign_in(WORKER_A, PAGE)
    html, _bid = _to_section(app, client, province, 3, joined=2)
    _post(client, html, {"channel": 3})
    assert "已提交" in _get(client)
    before = _response(app, WORKER_A)
    assert before is not None and before.status == "complete"
    again = _post(client, html, {"channel": 1, "comment": "再交一次"})
    assert again.status_code == 403 and "每人只能提交一次" in again.get_data(as_text=True)
    assert "已经完成" in chat.say(WORKER_A, "问卷")
    after = _response(app, WORKER_A)
    assert after is not None and after.answers == before.answers and after.updated_at == before.updated_at
    with app.extensions["ghpp"].session_factory() as session:
        assert len(session.scalars(select(SurveyResponse)).all()) == 1
    assert len([e for e in _events(app, province.rating.id) if e.kind == "roster_ballot"]) == 1


def test_a_closed_survey_shows_so_and_records_nothing(
    app: Flask, sign_in: Callable[..., FlaskClient], province: Province
) -> None:
    client = sign_in(WORKER_A, PAGE)
    html = _get(client)
    with app.extensions["ghpp"].session_factory() as session, session.begin():
        set_open(session, templates()[KEY], False, NOW, Actor.system("test"))
    closed = _get(client)
    assert "该问卷已结束" in closed and 'name="steps"' not in closed
    resp = _response(app, WORKER_A)
    assert resp is not None
    refused = _post(client, html, {"aware": _code(resp, "甲县幸福驿站")})
    assert refused.status_code == 403 and "未作记录" in refused.get_data(as_text=True)
    after = _response(app, WORKER_A)
    assert after is not None and after.answers == {}
    assert client.get("/h5/surveys/no_such_survey", headers=UA).status_code == 404


# --- bad input: a Chinese message, HTTP 400, nothing saved -----------------------------------------


def _bad(resp: SurveyResponse, bid: int, case: str) -> tuple[int, dict[str, Any], str]:
    station, none = _code(resp, "甲县幸福驿站"), _none_code(resp)
    ok2 = {f"q1:{bid}": 5, f"q2:{bid}": 4, "union_service": 4, "joined": 1}
    cases: dict[str, tuple[int, dict[str, Any], str]] = {
        "outside_options": (1, {"aware": 9}, "第 1 题的答案不在选项中"),
        "not_a_number": (1, {"aware": "甲县幸福驿站"}, "第 1 题的答案不在选项中"),
        "none_and_a_brand": (
            1,
            {"aware": [station, none]},
            "第 1 题选了「以上都没听说过」，就不能再选其他品牌",
        ),
        "nothing_ticked": (1, {}, "第 1 题是必答题"),
        "missing_required": (2, ok2 | {"union_service": ""}, "第 5 题是必答题"),
        "scale_out_of_range": (2, ok2 | {f"q1:{bid}": 6}, "第 2 题请选择 1～5 之间的分数"),
        "dont_know_not_offered": (2, ok2 | {"union_service": "dk"}, "第 5 题请选择 1～5 之间的分数"),
        "two_answers_to_one": (2, ok2 | {"joined": [1, 2]}, "第 6 题的答案不在选项中"),
        "forged_question_id": (2, ok2 | {"activity": 1}, "有不属于本页的题目"),
        "unknown_question_id": (2, ok2 | {"evil": 1}, "有不属于本页的题目"),
        "too_many_choices": (3, {"activity": [1, 2, 3], "channel": 1}, "第 7 题最多选 2 项，你选了 3 项"),
        "text_over_limit": (
            3,
            {"activity": [1], "channel": 1, "comment": "长" * 201},
            "最多 200 字，你写了 201 字",
        ),
    }
    return cases[case]


@pytest.mark.parametrize(
    "case",
    [
        "outside_options",
        "not_a_number",
        "none_and_a_brand",
        "nothing_ticked",
        "missing_required",
        "scale_out_of_range",
        "dont_know_not_offered",
        "two_answers_to_one",
        "forged_question_id",
        "unknown_question_id",
        "too_many_choices",
        "text_over_limit",
    ],
)
def test_bad_input_is_refused_whole_with_a_clear_message(
    app: Flask, sign_in: Callable[..., FlaskClient], province: Province, case: str
) -> None:
    client = sign_in(WORKER_A, PAGE)
    _get(client)  # the response and its roster: the codes below refer to it
    resp = _response(app, WORKER_A)
    assert resp is not None
    n, answers, message = _bad(resp, province.brands["驿站"].id, case)
    html, _bid = _to_section(app, client, province, n)
    before = _response(app, WORKER_A)
    assert before is not None
    got = _post(client, html, answers)
    assert got.status_code == 400
    body = got.get_data(as_text=True)
    assert message in body and "本次提交未保存" in body
    assert _keys(body) == _keys(html)  # the same questions again, to correct
    after = _response(app, WORKER_A)
    assert after is not None
    assert (after.answers, after.plan, after.updated_at) == (before.answers, before.plan, before.updated_at)
    if case == "text_over_limit":
        assert "长" * 201 in body  # what was typed is kept for correcting


# --- the chat's links to the page ---------------------------------------------------------------------


def test_the_chat_offers_the_page_for_a_long_survey(
    app: Flask, chat: Chat, monkeypatch: pytest.MonkeyPatch, province: Province
) -> None:
    assert question_count(templates()[KEY]) >= LONG_SURVEY
    plain = chat.say(WORKER_B, "问卷")
    assert "以下品牌您听说过哪些" in plain and "http" not in plain  # no public address: no link
    _home(app, monkeypatch, public_base_url="https://gh.example.cn")
    reply = chat.say(WORKER_A, "问卷")
    assert "也可以在网页上填写" in reply and f"https://gh.example.cn{PAGE}" in reply
    assert "以下品牌您听说过哪些" in reply and "enter?t=" not in reply


def test_without_web_sign_in_the_link_is_a_one_time_chat_link(
    app: Flask, chat: Chat, client: FlaskClient, monkeypatch: pytest.MonkeyPatch, province: Province
) -> None:
    rt = app.extensions["ghpp"]
    _home(app, monkeypatch, public_base_url="https://gh.example.cn")
    monkeypatch.setattr(rt, "capabilities", dataclasses.replace(rt.capabilities, oauth=False))
    reply = chat.say(WORKER_A, "问卷")
    m = re.search(r"https://gh\.example\.cn(/h5/enter\?t=[\w.\-]+)", reply)
    assert m is not None and "只能用一次" in reply
    entered = client.get(m.group(1), headers=UA)
    assert entered.status_code == 302 and entered.headers["Location"].endswith(PAGE)
    page = _get(client)
    assert _keys(page) == ["aware"]
    resp = _response(app, WORKER_A)
    assert resp is not None and resp.channel == "neutral_open"  # begun in the chat: its channel
    again = client.get(m.group(1), headers=UA)
    assert again.status_code == 400 and "只能用一次" in again.get_data(as_text=True)


@dataclasses.dataclass
class _Links:
    signs_in: bool
    asked: list[tuple[str, str]] = dataclasses.field(default_factory=list)

    def url(self, openid: str, path: str) -> str | None:
        self.asked.append((openid, path))
        return f"https://gh.example.cn{path}"


def test_a_short_survey_gets_no_link_and_a_one_time_link_stays_out_of_pushes(session, monkeypatch) -> None:
    short = parse_template(
        {
            "key": "short",
            "title": "食堂满意度",
            "questions": [{"id": "a", "type": "scale", "text": "满意吗？"}],
        }
    )
    user = make_user(session)
    ctx = make_ctx(session, user, NOW)
    ctx.page_links = links = _Links(signs_in=True)
    reply = begin(ctx, short)
    assert "网页" not in (reply.text or "") and links.asked == [] and not reply.private
    long_ = templates()[KEY]
    ctx = make_ctx(session, make_user(session), NOW)
    ctx.page_links = _Links(signs_in=True)
    reply = begin(ctx, long_)
    # A reply carrying a sign-in link is private: sealed in the reply cache, held (not pushed) if late.
    assert "https://gh.example.cn/h5/surveys/brand_recognition" in (reply.text or "") and reply.private
    ctx = make_ctx(session, make_user(session), NOW)
    ctx.page_links = _Links(signs_in=False)
    assert not begin(ctx, long_).private


def test_the_pages_command_sends_the_link_to_the_pages(
    app: Flask, chat: Chat, monkeypatch: pytest.MonkeyPatch, province: Province
) -> None:
    assert "网页版暂未开放" in chat.say(WORKER_A, "页面")
    _home(app, monkeypatch, public_base_url="https://gh.example.cn")
    assert "https://gh.example.cn/h5/" in chat.say(WORKER_A, "页面")
    chat.say(WORKER_A, "问卷")
    inside = chat.say(WORKER_A, "打开网页")  # a command: it leaves the survey, whose answers stay
    assert "已退出「填写问卷」" in inside and "https://gh.example.cn/h5/" in inside
    assert "欢迎回来" in chat.say(WORKER_A, "问卷")


def test_the_pages_command_through_dispatch_is_not_an_answer(session) -> None:
    user = make_user(session)
    reply, ctx = say(session, user, "页面", NOW)
    assert isinstance(reply, Reply) and ctx.intent_name == "command:pages_command"


def test_a_1_mb_survey_form_is_refused_with_a_chinese_page_and_nothing_saved(
    app: Flask, sign_in: Callable[..., FlaskClient], province: Province
) -> None:
    client = sign_in(WORKER_A, PAGE)
    html = _get(client)
    before = _response(app, WORKER_A)
    assert before is not None
    data: MultiDict[str, str] = MultiDict(
        {name: _hidden(html, name) for name in ("csrf_token", "rt", "steps")}
    )
    data.add("a.aware", "1")
    data.add("a.comment", "长" * 350_000)  # about 1 MB once encoded
    resp = client.post(PAGE, data=data, headers=UA)
    assert resp.status_code == 413 and "提交的内容太大" in resp.get_data(as_text=True)
    after = _response(app, WORKER_A)
    assert after is not None and (after.answers, after.updated_at) == (before.answers, before.updated_at)
