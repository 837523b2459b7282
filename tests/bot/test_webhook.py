"""The /wechat endpoint, driven by requests signed and encrypted the way WeChat does it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import func, select

from config import texts
from handlers.context import Reply
from models import InboundMessage, Union, User
from tests.conftest import TEST_AES_KEY
from tests.wechat_protocol import (
    WeChatServer,
    event_fields,
    message_xml,
    new_aes_key,
    sha1_signature,
    text_fields,
)

_ids = iter(range(10_000, 10**9))


def post(client, req):
    return client.post(f"/wechat?{req.query}", data=req.body, content_type="text/xml")


def count(app, model) -> int:
    rt = app.extensions["ghpp"]
    with rt.session_factory() as s:
        return int(s.scalar(select(func.count()).select_from(model)))


@pytest.fixture
def echo_handler(app: Flask, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Replace the help handler by one that echoes the text and counts its calls."""
    seen: list[str] = []

    def echo(ctx, inbound, intent):
        seen.append(inbound.text)
        return Reply(f"你说：{inbound.content}")

    monkeypatch.setitem(app.extensions["ghpp"].registry.intents, "unknown", echo)
    return seen


# --- handshake and signatures -------------------------------------------------------------


def test_handshake_echoes_echostr(client, wechat: WeChatServer) -> None:
    resp = client.get(f"/wechat?{wechat.handshake('1234567890')}")
    assert resp.status_code == 200 and resp.get_data(as_text=True) == "1234567890"


def test_trailing_slash_is_served_without_redirect(client, wechat: WeChatServer) -> None:
    resp = client.get(f"/wechat/?{wechat.handshake('abc')}")
    assert resp.status_code == 200 and resp.get_data(as_text=True) == "abc"


def test_handshake_with_forged_signature_is_403(client) -> None:
    resp = client.get("/wechat?signature=deadbeef&timestamp=1&nonce=2&echostr=x")
    assert resp.status_code == 403


def test_forged_post_is_403_and_stores_nothing(app, client, wechat: WeChatServer) -> None:
    req = wechat.sign(message_xml(text_fields("o-forger", "帮助", next(_ids))), mode="plain")
    forged = req.query.replace("signature=", "signature=0")
    resp = client.post(f"/wechat?{forged}", data=req.body, content_type="text/xml")
    assert resp.status_code == 403
    assert count(app, InboundMessage) == 0 and count(app, User) == 0


def test_wrong_msg_signature_is_403(app, client, wechat: WeChatServer) -> None:
    req = wechat.sign(message_xml(text_fields("o-1", "帮助", next(_ids))))
    query = req.query.replace("msg_signature=", "msg_signature=00")
    resp = client.post(f"/wechat?{query}", data=req.body, content_type="text/xml")
    assert resp.status_code == 403
    assert count(app, InboundMessage) == 0


# --- the three modes and key rotation ------------------------------------------------------


@pytest.mark.parametrize("mode", ["plain", "compat", "safe"])
def test_all_three_modes(client, wechat: WeChatServer, mode: str) -> None:
    req = wechat.sign(message_xml(text_fields("o-mode", "帮助", next(_ids))), mode=mode)
    resp = post(client, req)
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    assert ("<Encrypt>" in body) == (mode != "plain")
    reply = wechat.open_reply(body)
    assert "使用说明" in reply["Content"] and reply["ToUserName"] == "o-mode"


def test_rotated_key_accepts_previous_and_replies_with_current(settings, clean_db, store) -> None:
    from dataclasses import replace

    from bot import create_app

    new_key = new_aes_key()
    app = create_app(
        replace(settings, wechat_aes_key=new_key, wechat_aes_key_previous=TEST_AES_KEY),
        engine=clean_db,
        store=store,
    )
    client = app.test_client()
    old_sender = WeChatServer(settings.wechat_token, settings.wechat_appid, TEST_AES_KEY)
    resp = post(client, old_sender.sign(message_xml(text_fields("o-rot", "帮助", next(_ids)))))
    assert resp.status_code == 200
    # The reply is under the new key: opening it with the new key works, with the old one it fails.
    new_reader = WeChatServer(settings.wechat_token, settings.wechat_appid, new_key)
    assert "使用说明" in new_reader.open_reply(resp.get_data(as_text=True))["Content"]


def test_unknown_key_is_400_and_stores_nothing(app, client, wechat: WeChatServer) -> None:
    req = wechat.sign(message_xml(text_fields("o-k", "帮助", next(_ids))), aes_key=new_aes_key())
    assert post(client, req).status_code == 400
    assert count(app, InboundMessage) == 0


# --- replay protection -----------------------------------------------------------------------


def test_replayed_nonce_is_403(client, wechat: WeChatServer) -> None:
    req = wechat.sign(message_xml(text_fields("o-rp", "帮助", next(_ids))), nonce="424242")
    assert post(client, req).status_code == 200
    stamp = int(req.query.split("timestamp=")[1].split("&")[0])
    other = wechat.sign(message_xml(text_fields("o-rp", "帮助", next(_ids))), nonce="424242", timestamp=stamp)
    assert post(client, other).status_code == 403  # same nonce, another body (tests/security covers retries)


def test_stale_timestamp_is_403(app, client, wechat: WeChatServer) -> None:
    stale = int(time.time()) - 3600
    req = wechat.sign(message_xml(text_fields("o-st", "帮助", next(_ids))), timestamp=stale)
    assert post(client, req).status_code == 403
    assert count(app, InboundMessage) == 0


# --- duplicate deliveries ----------------------------------------------------------------------


def test_triple_delivery_does_the_work_once_and_replies_the_same(app, client, wechat, echo_handler) -> None:
    xml = message_xml(text_fields("o-dup", "三次送达", 777001))
    bodies = [wechat.open_reply(post(client, wechat.sign(xml)).get_data(as_text=True)) for _ in range(3)]
    assert echo_handler == ["三次送达"]
    assert bodies[0]["Content"] == bodies[1]["Content"] == bodies[2]["Content"] == "你说：三次送达"
    assert count(app, InboundMessage) == 1


def test_duplicate_event_keyed_on_sender_time_and_event(app, client, wechat: WeChatServer) -> None:
    with app.extensions["ghpp"].session_factory() as s, s.begin():
        s.add(Union(code="G1", name="一号工会", kind="grassroots", path="/"))
    xml = message_xml(event_fields("o-ev", "subscribe", "qrscene_G1", create_time=1_700_000_000))
    for _ in range(3):
        assert post(client, wechat.sign(xml)).status_code == 200
    assert count(app, InboundMessage) == 1


def test_database_catches_duplicates_when_the_store_forgets(
    app, client, wechat, echo_handler, monkeypatch
) -> None:
    from bot.store import StoreUnavailable

    store = app.extensions["ghpp"].store

    def down(*args: object, **kwargs: object) -> bool:
        raise StoreUnavailable("redis down")

    monkeypatch.setattr(store, "set_if_absent", down)
    monkeypatch.setattr(store, "get", lambda *a, **k: None)
    monkeypatch.setattr(store, "set", lambda *a, **k: None)
    xml = message_xml(text_fields("o-noredis", "只算一次", 888001))
    first = post(client, wechat.sign(xml))
    second = post(client, wechat.sign(xml))
    assert first.status_code == second.status_code == 200
    assert echo_handler == ["只算一次"]
    # No reply cached anywhere: the retry is told its message was handled, and nothing runs twice.
    assert wechat.open_reply(second.get_data(as_text=True))["Content"] == texts.ALREADY_HANDLED
    assert count(app, InboundMessage) == 1


def test_retry_while_first_still_running_gets_success(app, client, wechat, monkeypatch) -> None:
    started, release = threading.Event(), threading.Event()

    def slow(ctx, inbound, intent):
        started.set()
        release.wait(5)
        return Reply("慢慢来")

    monkeypatch.setitem(app.extensions["ghpp"].registry.intents, "unknown", slow)
    xml = message_xml(text_fields("o-race", "慢消息", 999001))
    results: list[str] = []
    first = threading.Thread(
        target=lambda: results.append(post(client, wechat.sign(xml)).get_data(as_text=True))
    )
    first.start()
    assert started.wait(5)
    retry = post(client, wechat.sign(xml))
    assert retry.get_data(as_text=True) == "success"
    release.set()
    first.join(5)
    assert "慢慢来" in wechat.open_reply(results[0])["Content"]


# --- deadline budget ---------------------------------------------------------------------------


def test_slow_handler_replies_within_budget_and_pushes_the_answer(
    settings, clean_db, store, wechat, wechat_stub, monkeypatch
) -> None:
    from dataclasses import replace

    from bot import create_app
    from bot.jobs import InlineQueue
    from bot.runtime import Runtime

    holder: dict[str, Runtime] = {}
    queue = InlineQueue(lambda: holder["rt"], synchronous=True, retry_delays_s=(0,))
    app = create_app(replace(settings, reply_budget_s=0.3), engine=clean_db, store=store, queue=queue)
    holder["rt"] = app.extensions["ghpp"]
    done = threading.Event()

    def slow(ctx, inbound, intent):
        time.sleep(1.0)
        return Reply("处理完成：您的结果在这里")

    monkeypatch.setitem(app.extensions["ghpp"].registry.intents, "unknown", slow)
    started = time.monotonic()
    resp = post(app.test_client(), wechat.sign(message_xml(text_fields("o-slow", "慢", next(_ids)))))
    elapsed = time.monotonic() - started
    assert elapsed < 1.0, "the reply must not wait for the slow handler"
    assert "已收到" in wechat.open_reply(resp.get_data(as_text=True))["Content"]
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not wechat_stub.calls_to("message/custom/send"):
        time.sleep(0.05)
    done.set()
    sends = wechat_stub.calls_to("message/custom/send")
    assert len(sends) == 1
    assert sends[0].body["touser"] == "o-slow"
    assert sends[0].body["text"]["content"] == "处理完成：您的结果在这里"


# --- hostile and odd input -----------------------------------------------------------------------


def test_cdata_terminator_and_control_characters_in_text(client, wechat, echo_handler) -> None:
    nasty = "a]]>b\x01c\x1fd<e>&f"
    xml = message_xml(text_fields("o-nasty", "x", next(_ids))).replace(
        "<![CDATA[x]]>", f"<![CDATA[{nasty.replace(']]>', ']]]]><![CDATA[>')}]]>"
    )
    resp = post(client, wechat.sign(xml, mode="plain"))
    assert resp.status_code == 200
    assert wechat.open_reply(resp.get_data(as_text=True))["Content"] == "你说：a]]>bcd<e>&f"


def test_two_megabyte_body_is_413(client, wechat: WeChatServer) -> None:
    body = message_xml(text_fields("o-big", "大" * (2 * 1024 * 1024 // 3), next(_ids)))
    assert post(client, wechat.sign(body, mode="plain")).status_code == 413


@pytest.mark.parametrize(
    "payload",
    [
        '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml><FromUserName>&xxe;</FromUserName></xml>',
        '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><xml><Content>&lol2;</Content></xml>',
    ],
)
def test_doctype_and_entities_are_refused(app, client, wechat: WeChatServer, payload: str) -> None:
    assert post(client, wechat.sign(payload, mode="plain")).status_code == 400
    assert count(app, InboundMessage) == 0


@pytest.mark.parametrize("body", ["not xml at all", "<xml><broken>", "<xml><Content>hi</Content></xml>", ""])
def test_garbage_is_400(client, wechat: WeChatServer, body: str) -> None:
    assert post(client, wechat.sign(body, mode="plain")).status_code == 400


def test_unknown_message_type_is_acknowledged(app, client, wechat: WeChatServer) -> None:
    xml = message_xml(
        {
            "FromUserName": "o-x",
            "CreateTime": int(time.time()),
            "MsgType": "miniprogrampage",
            "MsgId": next(_ids),
        }
    )
    resp = post(client, wechat.sign(xml))
    assert resp.status_code == 200 and resp.get_data(as_text=True) == "success"


def test_encrypted_message_without_configured_key_is_400(settings, clean_db, store) -> None:
    from dataclasses import replace

    from bot import create_app

    app = create_app(replace(settings, wechat_aes_key=None), engine=clean_db, store=store)
    sender = WeChatServer(settings.wechat_token, settings.wechat_appid, TEST_AES_KEY)
    resp = post(app.test_client(), sender.sign(message_xml(text_fields("o-nk", "帮助", next(_ids)))))
    assert resp.status_code == 400


# --- every message kind ------------------------------------------------------------------------------

NOW = int(time.time())
KINDS: list[tuple[str, dict[str, str | int], Callable[[dict[str, str]], bool]]] = [
    (
        "image",
        {"MsgType": "image", "PicUrl": "http://x/1.jpg", "MediaId": "m1", "MsgId": 5001},
        lambda r: "Content" in r,
    ),
    (
        "voice-empty",
        {"MsgType": "voice", "MediaId": "v1", "Format": "amr", "Recognition": "", "MsgId": 5002},
        lambda r: "没有听清" in r["Content"],
    ),
    (
        "voice",
        {"MsgType": "voice", "MediaId": "v2", "Format": "amr", "Recognition": "帮助。", "MsgId": 5003},
        lambda r: "使用说明" in r["Content"],
    ),
    (
        "video",
        {"MsgType": "video", "MediaId": "vd", "ThumbMediaId": "t", "MsgId": 5004},
        lambda r: "Content" in r,
    ),
    (
        "shortvideo",
        {"MsgType": "shortvideo", "MediaId": "sv", "ThumbMediaId": "t", "MsgId": 5005},
        lambda r: "Content" in r,
    ),
    (
        "location",
        {
            "MsgType": "location",
            "Location_X": "36.6",
            "Location_Y": "117.0",
            "Scale": "15",
            "Label": "济南",
            "MsgId": 5006,
        },
        lambda r: "Content" in r,
    ),
    (
        "link",
        {"MsgType": "link", "Title": "一篇文章", "Description": "d", "Url": "http://x", "MsgId": 5007},
        lambda r: "Content" in r,
    ),
    ("subscribe", {"MsgType": "event", "Event": "subscribe"}, lambda r: "欢迎关注" in r["Content"]),
    ("unsubscribe", {"MsgType": "event", "Event": "unsubscribe"}, lambda r: r == {}),
    (
        "click",
        {"MsgType": "event", "Event": "CLICK", "EventKey": "MENU_HELP"},
        lambda r: "使用说明" in r["Content"],
    ),
    ("view", {"MsgType": "event", "Event": "VIEW", "EventKey": "http://x"}, lambda r: r == {}),
    (
        "template-finish",
        {"MsgType": "event", "Event": "TEMPLATESENDJOBFINISH", "MsgID": 123, "Status": "success"},
        lambda r: r == {},
    ),
]


@pytest.mark.parametrize(("name", "fields", "check"), KINDS, ids=[k[0] for k in KINDS])
def test_every_kind_parses_and_is_stored(app, client, wechat, name, fields, check) -> None:
    xml = message_xml({"FromUserName": f"o-{name}", "CreateTime": NOW, **fields})
    resp = post(client, wechat.sign(xml))
    assert resp.status_code == 200
    assert check(wechat.open_reply(resp.get_data(as_text=True)))
    rt = app.extensions["ghpp"]
    with rt.session_factory() as s:
        record = s.scalar(select(InboundMessage).where(InboundMessage.openid == f"o-{name}"))
        assert record is not None
        assert record.intent is not None and record.latency_ms is not None


def test_subscribe_with_union_scene_binds_and_scan_rebinds(app, client, wechat: WeChatServer) -> None:
    rt = app.extensions["ghpp"]
    with rt.session_factory() as s, s.begin():
        s.add_all(
            [
                Union(code="BZ-001", name="化工厂工会", kind="grassroots", path="/"),
                Union(code="BZ-002", name="医院工会", kind="grassroots", path="/"),
            ]
        )
    r1 = post(client, wechat.sign(message_xml(event_fields("o-scan", "subscribe", "qrscene_BZ-001"))))
    assert "化工厂工会" in wechat.open_reply(r1.get_data(as_text=True))["Content"]
    r2 = post(
        client, wechat.sign(message_xml(event_fields("o-scan", "SCAN", "union:BZ-002", create_time=NOW + 5)))
    )
    assert "医院工会" in wechat.open_reply(r2.get_data(as_text=True))["Content"]
    with rt.session_factory() as s:
        user = s.scalar(select(User).where(User.openid == "o-scan"))
        assert user is not None and user.union is not None and user.union.code == "BZ-002"
        assert user.union_source == "qrcode"


def test_long_reply_is_cut_to_2048_bytes_on_a_character_boundary(app, client, wechat, monkeypatch) -> None:
    monkeypatch.setitem(
        app.extensions["ghpp"].registry.intents, "unknown", lambda ctx, inbound, intent: Reply("工" * 3000)
    )
    resp = post(client, wechat.sign(message_xml(text_fields("o-long", "长", next(_ids)))))
    content = wechat.open_reply(resp.get_data(as_text=True))["Content"]
    assert len(content.encode()) <= 2048
    assert content.endswith("…") and content.startswith("工工")


def test_handler_crash_gets_an_apology_not_500(app, client, wechat, monkeypatch) -> None:
    def boom(ctx, inbound, intent):
        raise RuntimeError("bug")

    monkeypatch.setitem(app.extensions["ghpp"].registry.intents, "unknown", boom)
    resp = post(client, wechat.sign(message_xml(text_fields("o-boom", "崩", next(_ids)))))
    assert resp.status_code == 200
    assert "系统暂时繁忙" in wechat.open_reply(resp.get_data(as_text=True))["Content"]


def test_unexpected_bug_in_transport_is_acknowledged_not_500(app, client, wechat, monkeypatch) -> None:
    def broken(inbound):
        raise RuntimeError("bug in the pipeline itself")

    monkeypatch.setattr(app.extensions["ghpp"].pipeline, "process", broken)
    resp = post(client, wechat.sign(message_xml(text_fields("o-bug", "帮助", next(_ids)))))
    assert resp.status_code == 200 and resp.get_data(as_text=True) == "success"


def test_signature_helper_matches_wechat_docs_example() -> None:
    # Sorted-concatenation SHA-1, as in WeChat's documentation.
    assert sha1_signature("token", "1409304348", "xxxxxx") == sha1_signature("xxxxxx", "token", "1409304348")
