"""Transport findings: safe mode, nonces used up by every signed request, the database
fallback when Redis is down, and WeChat's retries that reuse their nonce."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlencode

import pytest
from flask import Flask
from sqlalchemy import func, select

from bot.replay import ReplayGuard, Verdict
from bot.store import MemoryStore, StoreUnavailable
from config.settings import SettingsError, load_settings
from models import InboundMessage, utcnow
from models.inbound import UsedNonce
from tests.conftest import TEST_AES_KEY, TEST_TOKEN
from tests.wechat_protocol import SignedRequest, WeChatServer, message_xml, sha1_signature, text_fields

_ids = iter(range(70_000_000, 80_000_000))


def post(client, req: SignedRequest):
    return client.post(f"/wechat?{req.query}", data=req.body, content_type="text/xml")


def text_message(openid: str = "o-sec", content: str = "帮助") -> str:
    return message_xml(text_fields(openid, content, next(_ids)))


def rows(app: Flask, model: type) -> int:
    with app.extensions["ghpp"].session_factory() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


class DownStore(MemoryStore):
    """Redis as seen while it is down: every call fails."""

    def _fail(self, *args: object, **kwargs: object) -> NoReturn:
        raise StoreUnavailable("connection refused")

    set_if_absent = get = set = delete = delete_if_equals = incr = _fail


# --- WECHAT_MODE -----------------------------------------------------------------------------


def test_safe_mode_refuses_a_plaintext_body(make_app: Callable[..., Flask], wechat: WeChatServer) -> None:
    client = make_app(wechat_mode="safe").test_client()
    # A captured signature triple with a plaintext body of the attacker's choosing:
    assert post(client, wechat.sign(text_message(), mode="plain")).status_code == 403
    assert post(client, wechat.sign(text_message(), mode="safe")).status_code == 200
    assert post(client, wechat.sign(text_message(), mode="compat")).status_code == 200


def test_wechat_mode_is_inferred_and_validated(tmp_path: Path) -> None:
    base = {"WECHAT_TOKEN": "token123", "WECHAT_APPID": "wx", "WECHAT_SECRET": "s", "SECRET_KEY": "k" * 32}
    none = tmp_path / "none.env"
    assert load_settings(base, dotenv_path=none).transport_mode == "plain"
    assert (
        load_settings({**base, "WECHAT_AES_KEY": TEST_AES_KEY}, dotenv_path=none).transport_mode == "compat"
    )
    safe = load_settings({**base, "WECHAT_AES_KEY": TEST_AES_KEY, "WECHAT_MODE": "SAFE"}, dotenv_path=none)
    assert safe.transport_mode == "safe"
    with pytest.raises(SettingsError, match="WECHAT_MODE"):
        load_settings({**base, "WECHAT_MODE": "safe"}, dotenv_path=none)  # no AES key
    with pytest.raises(SettingsError, match="WECHAT_MODE"):
        load_settings({**base, "WECHAT_MODE": "secure"}, dotenv_path=none)


# --- every signed request uses up its nonce --------------------------------------------------


def _handshake_query(timestamp: int, nonce: str, echostr: str = "echo") -> str:
    sig = sha1_signature(TEST_TOKEN, str(timestamp), nonce)
    return urlencode({"signature": sig, "timestamp": timestamp, "nonce": nonce, "echostr": echostr})


def test_a_handshake_uses_up_its_nonce(client, wechat: WeChatServer) -> None:
    stamp, nonce = int(time.time()), "5550001"
    assert client.get(f"/wechat?{_handshake_query(stamp, nonce)}").get_data(as_text=True) == "echo"
    forged = wechat.sign(text_message(), mode="plain", timestamp=stamp, nonce=nonce)
    assert post(client, forged).status_code == 403
    assert client.get(f"/wechat?{_handshake_query(stamp, nonce, 'other')}").status_code == 403


def test_a_413_uses_up_its_nonce(client, wechat: WeChatServer) -> None:
    stamp, nonce = int(time.time()), "5550002"
    big = wechat.sign("<xml>" + "x" * (300 * 1024) + "</xml>", mode="plain", timestamp=stamp, nonce=nonce)
    assert post(client, big).status_code == 413
    small = wechat.sign(text_message(), mode="plain", timestamp=stamp, nonce=nonce)
    assert post(client, small).status_code == 403


def test_a_400_uses_up_its_nonce(client, wechat: WeChatServer) -> None:
    # Held before too (the nonce was checked before parsing); kept so the reordering cannot lose it.
    stamp, nonce = int(time.time()), "5550003"
    assert (
        post(client, wechat.sign("<xml><oops>", mode="plain", timestamp=stamp, nonce=nonce)).status_code
        == 400
    )
    assert (
        post(client, wechat.sign(text_message(), mode="plain", timestamp=stamp, nonce=nonce)).status_code
        == 403
    )


# --- WeChat's retry with the same nonce --------------------------------------------------------


def test_a_retry_with_the_same_nonce_gets_the_reply(app: Flask, client, wechat: WeChatServer) -> None:
    req = wechat.sign(text_message("o-retry"), nonce="5550004")
    first = post(client, req)
    assert first.status_code == 200
    again = post(client, req)  # WeChat's retry, same timestamp, nonce and body
    assert again.status_code == 200
    assert (
        wechat.open_reply(again.get_data(as_text=True))["Content"]
        == wechat.open_reply(first.get_data(as_text=True))["Content"]
    )
    assert rows(app, InboundMessage) == 1  # handled once
    stamp = int(req.query.split("timestamp=")[1].split("&")[0])
    other = wechat.sign(text_message("o-retry", "我的品牌"), nonce="5550004", timestamp=stamp)
    assert post(client, other).status_code == 403  # another body under a used nonce: a replay


# --- Redis down: the database keeps the nonces ---------------------------------------------------


def test_nonces_fall_back_to_the_database_when_redis_is_down(
    make_app: Callable[..., Flask], wechat: WeChatServer
) -> None:
    app = make_app(store_override=DownStore())
    client = app.test_client()
    req = wechat.sign(text_message("o-down"), nonce="5550005")
    assert post(client, req).status_code == 200
    assert rows(app, UsedNonce) == 1
    stamp = int(req.query.split("timestamp=")[1].split("&")[0])
    replay = wechat.sign(text_message("o-down", "我的品牌"), nonce="5550005", timestamp=stamp)
    assert post(client, replay).status_code == 403
    assert post(client, req).status_code == 200  # the retry still goes through (database dedupe)
    assert rows(app, InboundMessage) == 1


def test_expired_database_nonces_are_purged(make_app: Callable[..., Flask]) -> None:
    app = make_app(store_override=DownStore())
    rt = app.extensions["ghpp"]
    with rt.session_factory() as s, s.begin():
        s.add(UsedNonce(timestamp=1, nonce="old", body_hash="x", expires_at=utcnow() - timedelta(seconds=1)))
    guard = ReplayGuard(DownStore(), rt.session_factory, window_s=300)
    now = time.time()
    assert guard.check(str(int(now)), "n1", "h1", now=now) is Verdict.FRESH
    assert guard.check(str(int(now)), "n1", "h1", now=now) is Verdict.RETRY
    assert guard.check(str(int(now)), "n1", "h2", now=now) is Verdict.REPLAY
    assert guard.check(str(int(now) - 3600), "n2", "h1", now=now) is Verdict.STALE
    with rt.session_factory() as s:
        assert s.scalars(select(UsedNonce.nonce)).all() == ["n1"]
