"""How an answer reaches its worker, end to end against the WeChat stub: signed and encrypted
webhook requests, the push job, template receipts, one-time subscription consent, and the
accounts that may not push at all. The clock is frozen (NOW), moved past the 48-hour window."""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from flask import Flask
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.jobs import InlineQueue
from config.settings import Settings
from handlers.actor import SYSTEM
from handlers.context import JobRequest
from handlers.suggestions import operations as sg
from models import Suggestion, Union, UnionKind, User
from models.delivery import AnswerDelivery, SubscribeGrant
from models.union import assign_path
from tests.wechat_chat import Chat
from tests.wechat_protocol import WeChatServer, message_xml
from tests.wechat_stub import WeChatStub

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # a Monday, 10:00 in Shanghai
LATER = NOW + timedelta(days=3)  # past the 48-hour customer-service window
WORKER = "o-delivery-worker"
TEMPLATE_ID = "TPL-ANSWER-0001"
ONCE_ID = "TPL-ONCE-0001"
SERVICE = {
    "account_type": "service",
    "account_verified": True,
    "template_answer_id": TEMPLATE_ID,
    "subscribe_template_id": ONCE_ID,
    "public_base_url": "https://ghpp.example.cn",
}
ANSWER = "已协调食堂从下周一起每天增加两个窗口，并增加清淡菜品的比例，欢迎继续提出意见。"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> dict[str, datetime]:
    now = {"now": NOW}
    for target in ("bot.pipeline.utcnow", "bot.jobs.utcnow", "bot.subscribe_web.utcnow"):
        monkeypatch.setattr(target, lambda: now["now"])
    return now


@pytest.fixture
def make_app(settings: Settings, clean_db: Engine, store, clock):
    """An app for an account of the given kind; jobs run synchronously after commit."""

    def build(**changes: Any) -> Flask:
        from bot import create_app

        holder: dict[str, Any] = {}
        queue = InlineQueue(lambda: holder["rt"], synchronous=True, retry_delays_s=(0, 0, 0))
        # Not a test of the reply budget: a loaded machine must not turn a reply into 「已收到」.
        changes.setdefault("reply_budget_s", 30.0)
        app = create_app(replace(settings, **changes), engine=clean_db, store=store, queue=queue)
        holder["rt"] = app.extensions["ghpp"]
        app.config["TESTING"] = True
        with Session(clean_db) as session, session.begin():
            if session.scalar(select(Union.id)) is None:
                top = Union(code="TOP", name="市总工会", kind=UnionKind.CITY)
                session.add(top)
                session.flush()
                assign_path(session, top)
        return app

    return build


def file(
    chat: Chat, openid: str = WORKER, text: str = "建议：食堂的饭菜太咸了，希望改进口味"
) -> tuple[int, str]:
    reply = chat.say(openid, text)
    m = re.search(r"JY\d{8}-\d{4}", reply)
    assert m, reply
    with Session(_engine(chat)) as session:
        sid = session.scalar(select(Suggestion.id).where(Suggestion.ticket == m.group(0)))
    assert sid is not None
    return sid, reply


def _engine(chat: Chat) -> Engine:
    engine: Engine = chat.client.application.extensions["ghpp"].engine
    return engine


def answer(app: Flask, sid: int, at: datetime, text: str = ANSWER) -> None:
    """Accept and answer as the dashboard does; the push job runs right after the commit."""
    rt = app.extensions["ghpp"]
    with rt.session_factory() as session, session.begin():
        s = session.get(Suggestion, sid)
        assert s is not None
        sg.accept(session, s, SYSTEM, at)
        job = sg.answer(session, s, SYSTEM, text, at)
        ids = rt.queue.stage(session, [job] if job is not None else [])
    rt.queue.dispatch(ids)


def rows(app: Flask, sid: int) -> list[tuple[str, str, int | None]]:
    with app.extensions["ghpp"].session_factory() as session:
        found = session.scalars(
            select(AnswerDelivery).where(AnswerDelivery.suggestion_id == sid).order_by(AnswerDelivery.id)
        )
        return [(r.channel.value, r.status.value, r.errcode) for r in found]


def suggestion(app: Flask, sid: int) -> Suggestion:
    with app.extensions["ghpp"].session_factory() as session:
        s: Suggestion | None = session.get(Suggestion, sid)
        assert s is not None
        session.expunge(s)
        return s


def receipt(app: Flask, wechat: WeChatServer, msgid: str, status: str, create_time: int) -> str:
    """A TEMPLATESENDJOBFINISH event, signed and encrypted as WeChat sends it; the raw reply."""
    fields: dict[str, str | int] = {
        "FromUserName": WORKER,
        "CreateTime": create_time,
        "MsgType": "event",
        "Event": "TEMPLATESENDJOBFINISH",
        "MsgID": int(msgid),
        "Status": status,
    }
    req = wechat.sign(message_xml(fields))
    resp = app.test_client().post(f"/wechat?{req.query}", data=req.body, content_type="text/xml")
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


def consent_query(reply: str) -> dict[str, str]:
    m = re.search(r'<a href="([^"]+)">', reply)
    assert m, reply
    url = urlparse(m.group(1))
    assert (url.netloc, url.path, url.fragment) == ("mp.weixin.qq.com", "/mp/subscribemsg", "wechat_redirect")
    return {k: v[0] for k, v in parse_qs(url.query).items()}


def callback(
    app: Flask, openid: str, q: dict[str, str], action: str = "confirm", **over: str
) -> tuple[int, str]:
    args = {
        "openid": openid,
        "template_id": q["template_id"],
        "action": action,
        "scene": q["scene"],
        "reserved": q["reserved"],
        **over,
    }
    resp = app.test_client().get("/h5/subscribe/callback?" + urlencode(args))
    return resp.status_code, resp.get_data(as_text=True)


def grants(app: Flask) -> list[tuple[int, str, bool]]:
    with app.extensions["ghpp"].session_factory() as session:
        return [
            (g.user_id, g.template_id, g.used_at is not None) for g in session.scalars(select(SubscribeGrant))
        ]


# --- template messages and their receipts ---------------------------------------------------------


def test_template_message_after_48_hours_and_its_receipt(
    make_app, wechat, wechat_stub: WeChatStub, clock
) -> None:
    app = make_app(**SERVICE)
    chat = Chat(app.test_client(), wechat)
    sid, _ = file(chat)
    clock["now"] = LATER
    answer(app, sid, LATER)

    assert wechat_stub.calls_to("message/custom/send") == []  # outside the window
    [call] = wechat_stub.calls_to("message/template/send")
    body = call.body
    assert body["touser"] == WORKER and body["template_id"] == TEMPLATE_ID
    # Tapping it opens the worker's suggestions page (web sign-in identifies them there).
    assert body["url"] == "https://ghpp.example.cn/h5/me/suggestions"
    data = body["data"]
    assert set(data) == {"character_string1", "thing2", "time3"}  # no first, no remark
    assert all(set(v) == {"value"} for v in data.values())  # no colour
    assert all(len(v["value"]) <= 20 for v in data.values())
    assert data["character_string1"]["value"].startswith("JY20261123-")
    assert data["thing2"]["value"] == ANSWER[:19] + "…"
    assert data["time3"]["value"] == "2026-11-26 10:00"
    assert rows(app, sid) == [("template", "sent", None)]
    assert suggestion(app, sid).answer_delivered_at == LATER

    with app.extensions["ghpp"].session_factory() as session:
        msgid = session.scalar(select(AnswerDelivery.msgid))
    assert msgid is not None
    clock["now"] = LATER + timedelta(seconds=5)
    stamp = int(LATER.timestamp()) + 5
    assert receipt(app, wechat, msgid, "success", stamp) == "success"  # no reply text
    with app.extensions["ghpp"].session_factory() as session:
        row = session.scalar(select(AnswerDelivery))
        assert row is not None and row.status.value == "delivered" and row.detail == "success"
        assert row.finished_at == LATER + timedelta(seconds=5)


def _template_sent(make_app, wechat, clock):
    """A service account answered a worker's suggestion after 48 h: one template message sent."""
    app = make_app(**SERVICE)
    chat = Chat(app.test_client(), wechat)
    sid, _ = file(chat)
    clock["now"] = LATER
    answer(app, sid, LATER)
    with app.extensions["ghpp"].session_factory() as session:
        msgid = session.scalar(select(AnswerDelivery.msgid))
    return app, chat, sid, msgid


def test_a_retried_receipt_counts_once(make_app, wechat, wechat_stub: WeChatStub, clock) -> None:
    """WeChat resends the event (the same one, or after a while): the row and the fallback change once."""
    app, chat, sid, msgid = _template_sent(make_app, wechat, clock)
    assert msgid is not None
    stamp = int(LATER.timestamp()) + 5
    clock["now"] = LATER + timedelta(seconds=5)
    assert receipt(app, wechat, msgid, "failed:user block", stamp) == "success"
    clock["now"] = LATER + timedelta(seconds=20)
    assert receipt(app, wechat, msgid, "failed:user block", stamp) == "success"  # the same event again
    assert receipt(app, wechat, msgid, "failed:user block", stamp + 15) == "success"  # resent later
    assert receipt(app, wechat, msgid, "success", stamp + 30) == "success"  # a contradicting late one
    # Blocked once; the answer went back to owed once: one waiting row (no grant, no window).
    assert rows(app, sid) == [("template", "blocked", None), ("next_message", "waiting", None)]
    with app.extensions["ghpp"].session_factory() as session:
        row = session.scalar(select(AnswerDelivery).where(AnswerDelivery.channel == "template"))
        assert row is not None and row.finished_at == LATER + timedelta(seconds=5)
    assert suggestion(app, sid).answer_delivered_at is None
    assert len(wechat_stub.calls_to("message/template/send")) == 1

    # The worker writes: the answer goes out by customer-service message, once.
    clock["now"] = LATER + timedelta(hours=1)
    chat.say(WORKER, "你好")
    [cs] = wechat_stub.calls_to("message/custom/send")
    assert ANSWER in cs.body["text"]["content"]
    assert rows(app, sid)[1:] == [("next_message", "done", None), ("customer_service", "sent", None)]
    # A worker who refuses template messages gets none for the next answer either.
    sid2, _ = file(chat, text="建议：班车发车时间太早，希望推迟半小时")
    clock["now"] = LATER + timedelta(days=3)
    answer(app, sid2, clock["now"])
    assert len(wechat_stub.calls_to("message/template/send")) == 1
    assert rows(app, sid2) == [("next_message", "waiting", None)]


def test_receipt_for_another_followers_message_changes_nothing(make_app, wechat, clock) -> None:
    app, _chat, sid, msgid = _template_sent(make_app, wechat, clock)
    fields: dict[str, str | int] = {
        "FromUserName": "o-someone-else",
        "CreateTime": int(LATER.timestamp()),
        "MsgType": "event",
        "Event": "TEMPLATESENDJOBFINISH",
        "MsgID": int(msgid or 0),
        "Status": "failed: system failed",
    }
    req = wechat.sign(message_xml(fields))
    app.test_client().post(f"/wechat?{req.query}", data=req.body, content_type="text/xml")
    assert rows(app, sid) == [("template", "sent", None)]


def test_43004_marks_the_worker_unsubscribed_and_the_answer_waits(
    make_app, wechat, wechat_stub: WeChatStub, clock
) -> None:
    app = make_app(**SERVICE)
    chat = Chat(app.test_client(), wechat)
    sid, _ = file(chat)
    clock["now"] = LATER
    wechat_stub.fail("message/template/send", "errcode", 43004)
    answer(app, sid, LATER)
    assert rows(app, sid) == [("template", "failed", 43004), ("next_message", "waiting", None)]
    with app.extensions["ghpp"].session_factory() as session:
        user = session.scalar(select(User).where(User.openid == WORKER))
        assert user is not None and not user.subscribed and user.unsubscribed_at == LATER
    # Followed again and wrote: the message proves it, the answer goes out in full.
    clock["now"] = LATER + timedelta(hours=2)
    chat.say(WORKER, "我又关注了")
    assert len(wechat_stub.calls_to("message/custom/send")) == 1
    assert rows(app, sid)[1:] == [("next_message", "done", None), ("customer_service", "sent", None)]
    with app.extensions["ghpp"].session_factory() as session:
        user = session.scalar(select(User).where(User.openid == WORKER))
        assert user is not None and user.subscribed


def test_40037_is_recorded_logged_for_the_operator_and_falls_back(
    make_app, wechat, wechat_stub: WeChatStub, clock, caplog
) -> None:
    app = make_app(**SERVICE)
    chat = Chat(app.test_client(), wechat)
    sid, _ = file(chat)
    clock["now"] = LATER
    wechat_stub.fail("message/template/send", "errcode", 40037)
    with caplog.at_level(logging.ERROR, logger="handlers.delivery"):
        answer(app, sid, LATER)
    assert rows(app, sid) == [("template", "failed", 40037), ("next_message", "waiting", None)]
    lines = [r.getMessage() for r in caplog.records if r.name == "handlers.delivery"]
    assert any("模板 ID 无效（40037）" in line and "WECHAT_TEMPLATE_ANSWER_ID" in line for line in lines)
    assert not any(WORKER in line for line in lines)
    assert suggestion(app, sid).answer_delivered_at is None


def test_45009_quota_falls_back_to_the_workers_grant_then_to_the_next_message(
    make_app, wechat, wechat_stub: WeChatStub, clock
) -> None:
    app = make_app(**SERVICE)
    chat = Chat(app.test_client(), wechat)
    sid, reply = file(chat)
    assert callback(app, WORKER, consent_query(reply))[0] == 200
    clock["now"] = LATER
    wechat_stub.fail("message/template/send", "errcode", 45009, times=2)
    answer(app, sid, LATER)
    assert rows(app, sid) == [("template", "failed", 45009), ("subscribe", "sent", None)]
    [once] = wechat_stub.calls_to("message/template/subscribe")
    assert once.body["template_id"] == ONCE_ID and once.body["scene"] == "1000"
    # The next answer: the quota again, no grant left: it waits for the worker's next message.
    sid2, _ = file(chat, text="建议：班车发车时间太早，希望推迟半小时")
    clock["now"] = LATER + timedelta(days=3)
    answer(app, sid2, clock["now"])
    assert rows(app, sid2) == [("template", "failed", 45009), ("next_message", "waiting", None)]
    assert len(wechat_stub.calls_to("message/template/subscribe")) == 1


# --- one-time subscription messages ---------------------------------------------------------------

SUBSCRIPTION = {**SERVICE, "account_type": "subscription"}  # verified: CS and subscription, no template


def test_subscription_message_is_used_once_only(make_app, wechat, wechat_stub: WeChatStub, clock) -> None:
    app = make_app(**SUBSCRIPTION)
    chat = Chat(app.test_client(), wechat)
    sid, reply = file(chat)
    assert "允许发送一次答复提醒" in reply
    q = consent_query(reply)
    assert q["appid"] == app.extensions["ghpp"].settings.wechat_appid and q["template_id"] == ONCE_ID
    assert q["redirect_url"] == "https://ghpp.example.cn/h5/subscribe/callback"
    assert re.fullmatch(r"[A-Za-z0-9]{1,128}", q["reserved"])  # what WeChat allows in reserved
    status, page = callback(app, WORKER, q)
    assert status == 200 and "已允许" in page
    assert callback(app, WORKER, q)[0] == 200  # the page reloaded: still one grant
    assert [(g[1], g[2]) for g in grants(app)] == [(ONCE_ID, False)]
    sid2, reply2 = file(chat, text="建议：班车发车时间太早，希望推迟半小时")
    assert "<a href" not in reply2  # a grant is waiting already

    clock["now"] = LATER
    answer(app, sid, LATER)
    answer(app, sid2, LATER)
    assert wechat_stub.calls_to("message/template/send") == []  # a subscription account has none
    [once] = wechat_stub.calls_to("message/template/subscribe")
    body = once.body
    assert body["touser"] == WORKER and body["title"] == "建议答复提醒" and len(body["title"]) <= 15
    content = body["data"]["content"]["value"]
    assert ANSWER in content and len(content) <= 200 and set(body["data"]["content"]) == {"value"}
    assert "url" not in body  # a subscription account has no web sign-in: a link would not sign them in
    assert rows(app, sid) == [("subscribe", "sent", None)]
    assert rows(app, sid2) == [("next_message", "waiting", None)]
    assert [g[2] for g in grants(app)] == [True]
    # The pushed answer asked for a rating: the worker's "1" rates it.
    clock["now"] = LATER + timedelta(hours=1)
    assert "感谢您的评价" in chat.say(WORKER, "1")
    assert suggestion(app, sid).rating == "satisfied"


def test_cancelled_consent_records_nothing(make_app, wechat, clock) -> None:
    app = make_app(**SUBSCRIPTION)
    chat = Chat(app.test_client(), wechat)
    _sid, reply = file(chat)
    status, page = callback(app, WORKER, consent_query(reply), action="cancel")
    assert status == 200 and "已取消" in page
    assert grants(app) == []


def test_a_forged_consent_callback_records_nothing(make_app, wechat, clock) -> None:
    app = make_app(**SUBSCRIPTION)
    chat = Chat(app.test_client(), wechat)
    _sid, reply = file(chat)
    chat.say("o-intruder", "你好")  # a follower too
    q = consent_query(reply)
    flipped = q["reserved"][:-1] + ("0" if q["reserved"][-1] != "0" else "1")
    forged = [
        {"openid": "o-intruder"},  # someone else's link
        {"reserved": flipped},  # tampered
        {"reserved": "1795000000abcdefabcdef" + "0" * 32},  # made up
        {"reserved": ""},
        {"template_id": "TPL-OTHER"},
        {"scene": "7"},
    ]
    for over in forged:
        status, page = callback(app, over.pop("openid", WORKER), q, **over)
        assert status == 403 and "授权链接无效或已过期" in page, over
    clock["now"] = NOW + timedelta(days=8)  # the link has expired
    status, _ = callback(app, WORKER, q)
    assert status == 403
    assert grants(app) == []


def test_consent_for_an_unknown_openid_records_nothing(make_app, wechat, clock) -> None:
    """A genuine link whose follower has since been erased (删除我的信息): nothing to record."""
    app = make_app(**SUBSCRIPTION)
    link = app.extensions["ghpp"].consent_links.consent_url("o-never-followed", NOW)
    q = {k: v[0] for k, v in parse_qs(urlparse(link).query).items()}
    assert callback(app, "o-never-followed", q)[0] == 403
    assert grants(app) == []


# --- anonymous answers ----------------------------------------------------------------------------


def test_anonymous_answers_are_never_pushed_by_template_or_subscription(
    make_app, wechat, wechat_stub: WeChatStub, clock
) -> None:
    app = make_app(**SERVICE)
    chat = Chat(app.test_client(), wechat)
    reply = chat.say(WORKER, "匿名建议：车间主任经常拖欠加班费")
    assert "<a href" not in reply  # no consent link for an anonymous filing
    found = re.search(r"JY\d{8}-\d{4}", reply)
    assert found is not None
    ticket = found.group(0)
    _named, named_reply = file(chat)
    assert callback(app, WORKER, consent_query(named_reply))[0] == 200  # the worker has a grant
    with Session(_engine(chat)) as session:
        sid = session.scalar(select(Suggestion.id).where(Suggestion.ticket == ticket))
    assert sid is not None
    clock["now"] = LATER
    answer(app, sid, LATER)  # answer() asks for no push …
    app.extensions["ghpp"].queue.enqueue(JobRequest("suggestion_answer", {"suggestion_id": sid}))  # … forced
    clock["now"] = LATER + timedelta(hours=1)
    chat.say(WORKER, "你好")
    assert wechat_stub.calls_to("message/template/send") == []
    assert wechat_stub.calls_to("message/template/subscribe") == []
    assert wechat_stub.calls_to("message/custom/send") == []
    assert rows(app, sid) == []  # no record ties the answer to anyone
    assert [g[2] for g in grants(app)] == [False]


# --- accounts that cannot push --------------------------------------------------------------------


@pytest.mark.parametrize(
    "account",
    [
        pytest.param({**SERVICE, "account_type": "subscription"}, id="verified-subscription"),
        pytest.param({**SERVICE, "account_verified": False}, id="unverified-service"),
        pytest.param(
            {**SERVICE, "account_type": "subscription", "account_verified": False}, id="unverified-sub"
        ),
    ],
)
def test_accounts_without_template_messages_never_call_template_send(
    make_app, wechat, wechat_stub: WeChatStub, clock, account
) -> None:
    app = make_app(**account)
    caps = app.extensions["ghpp"].capabilities
    assert not caps.template and any("不能发送模板消息" in line for line in caps.startup_lines())
    chat = Chat(app.test_client(), wechat)
    sid, _ = file(chat)
    clock["now"] = LATER
    answer(app, sid, LATER)
    assert wechat_stub.calls_to("message/template/send") == []
    assert rows(app, sid) == [("next_message", "waiting", None)]


def test_an_unverified_account_delivers_in_the_reply_to_the_next_message(
    make_app, wechat, wechat_stub: WeChatStub, clock
) -> None:
    app = make_app(**{**SERVICE, "account_verified": False})
    chat = Chat(app.test_client(), wechat)
    sid, reply = file(chat)
    assert "下次给公众号发消息时即可收到答复" in reply and "<a href" not in reply
    clock["now"] = NOW + timedelta(hours=1)
    answer(app, sid, clock["now"])  # within 48 hours, but customer-service messages are not allowed
    assert rows(app, sid) == [("next_message", "waiting", None)]
    clock["now"] = NOW + timedelta(hours=2)
    reply = chat.say(WORKER, "帮助")
    assert "使用说明" in reply and ANSWER in reply and reply.index("使用说明") < reply.index(ANSWER)
    assert reply.rstrip().endswith("请对答复进行评价：回复 1 满意，2 基本满意，3 不满意。")
    assert rows(app, sid) == [("next_message", "done", None), ("passive", "delivered", None)]
    assert "再次答复" in chat.say(WORKER, "3")  # rated from the reply: 不满意 reopens it
    for endpoint in ("message/custom/send", "message/template/send", "message/template/subscribe"):
        assert wechat_stub.calls_to(endpoint) == []


def test_a_late_reply_on_an_unverified_account_waits_for_the_next_message(
    make_app, wechat, wechat_stub: WeChatStub, clock
) -> None:
    app = make_app(**{**SERVICE, "account_verified": False})
    rt = app.extensions["ghpp"]
    rt.queue.enqueue(JobRequest("send_text", {"openid": WORKER, "text": "迟到的回复"}))
    assert wechat_stub.calls_to("message/custom/send") == []
    assert "迟到的回复" in Chat(app.test_client(), wechat).say(WORKER, "你好")


def test_two_receipts_in_the_same_second_are_both_read(make_app, wechat, clock) -> None:
    """Events are deduplicated on sender and CreateTime; a receipt adds the MsgID it reports on."""
    app = make_app(**SERVICE)
    chat = Chat(app.test_client(), wechat)
    first, _ = file(chat)
    second, _ = file(chat, text="建议：班车发车时间太早，希望推迟半小时")
    clock["now"] = LATER
    answer(app, first, LATER)
    answer(app, second, LATER)
    with app.extensions["ghpp"].session_factory() as session:
        msgids = list(session.scalars(select(AnswerDelivery.msgid).order_by(AnswerDelivery.id)))
    assert len(set(msgids)) == 2
    stamp = int(LATER.timestamp()) + 3
    for msgid in msgids:
        assert msgid is not None and receipt(app, wechat, msgid, "success", stamp) == "success"
    assert rows(app, first) == rows(app, second) == [("template", "delivered", None)]
