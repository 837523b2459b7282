"""WeChat web sign-in (snsapi_base) end to end against the stub: the authorize redirect, the
signed state, the single-use code, and every way it can go wrong (a clear Chinese page, no 500,
no session)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from urllib.parse import unquote

import pytest
from flask import Flask
from flask.testing import FlaskClient

import bot.h5.signin
from bot.h5.web import SESSION_COOKIE
from tests.bot.h5.conftest import DESKTOP_UA, WECHAT_UA, follow_redirects_via_stub, query_of
from tests.wechat_stub import WeChatStub


def _start(client: FlaskClient, next_path: str = "/h5/") -> str:
    first = client.get(f"/h5/signin?next={next_path}", headers={"User-Agent": WECHAT_UA})
    assert first.status_code == 302
    return first.headers["Location"]


def _has_session(client: FlaskClient) -> bool:
    return client.get_cookie(SESSION_COOKIE, path="/h5") is not None


def test_a_page_without_a_session_sends_the_worker_to_sign_in_and_back(client: FlaskClient) -> None:
    resp = client.get("/h5/campaigns/7", headers={"User-Agent": WECHAT_UA})
    assert resp.status_code == 302
    assert query_of(resp.headers["Location"])["next"] == "/h5/campaigns/7"


def test_sign_in_redirects_to_wechat_authorize_with_a_short_alphanumeric_state(
    client: FlaskClient, wechat_stub: WeChatStub, settings
) -> None:
    location = _start(client)
    assert location.startswith(f"{wechat_stub.base_url}/connect/oauth2/authorize?")
    assert location.endswith("#wechat_redirect")
    q = query_of(location.replace("#wechat_redirect", ""))
    assert q["appid"] == settings.wechat_appid
    assert q["scope"] == "snsapi_base" and q["response_type"] == "code"
    assert unquote(q["redirect_uri"]).endswith("/h5/oauth/callback")
    assert q["state"].isalnum() and len(q["state"]) <= 128


def test_the_whole_dance_signs_the_worker_in_as_their_openid(
    client: FlaskClient, wechat_stub: WeChatStub, sign_in: Callable[..., FlaskClient]
) -> None:
    sign_in("o-dance", "/h5/")
    assert _has_session(client)
    home = client.get("/h5/", headers={"User-Agent": WECHAT_UA})
    assert home.status_code == 200 and "参与品牌评议" in home.get_data(as_text=True)
    (call,) = wechat_stub.oauth_calls()
    assert call.query["grant_type"] == "authorization_code" and call.query["secret"] == "test-secret"


def test_a_replayed_code_gets_a_clear_page_and_is_not_exchanged_again(
    client: FlaskClient, wechat_stub: WeChatStub
) -> None:
    callback = follow_redirects_via_stub(client, wechat_stub, _start(client))
    assert client.get(callback).status_code == 302
    client.delete_cookie(SESSION_COOKIE, path="/h5")
    # The same callback again (the back button, a forwarded link): the state cookie is gone too,
    # so start a new state and replay only the code.
    code = query_of(callback)["code"]
    fresh = query_of(_start(client).replace("#wechat_redirect", ""))
    again = client.get(f"/h5/oauth/callback?code={code}&state={fresh['state']}")
    assert again.status_code == 400
    body = again.get_data(as_text=True)
    assert "已经用过" in body and "重新进入" in body
    assert len(wechat_stub.oauth_calls()) == 1
    assert not _has_session(client)


def test_a_code_wechat_says_is_used_or_unknown_gets_a_restart_page(
    client: FlaskClient, wechat_stub: WeChatStub
) -> None:
    callback = follow_redirects_via_stub(client, wechat_stub, _start(client))
    code = query_of(callback)["code"]
    wechat_stub.state.oauth_used.add(code)  # used elsewhere (another server, before a restart)
    used = client.get(callback)
    assert used.status_code == 400 and "已经用过" in used.get_data(as_text=True)
    state = query_of(_start(client).replace("#wechat_redirect", ""))["state"]
    unknown = client.get(f"/h5/oauth/callback?code=forged-code&state={state}")
    assert unknown.status_code == 400 and "已过期" in unknown.get_data(as_text=True)
    assert not _has_session(client)


@pytest.mark.parametrize("tamper", ["flip", "truncate", "other_browser", "empty"])
def test_a_tampered_or_foreign_state_is_refused_before_wechat_is_asked(
    client: FlaskClient, app: Flask, wechat_stub: WeChatStub, tamper: str
) -> None:
    callback = follow_redirects_via_stub(client, wechat_stub, _start(client))
    q = query_of(callback)
    state = q["state"]
    if tamper == "flip":
        state = state[:-1] + ("a" if state[-1] != "a" else "b")
    elif tamper == "truncate":
        state = state[:20]
    elif tamper == "empty":
        state = ""
    target = client if tamper != "other_browser" else app.test_client()  # no nonce cookie there
    resp = target.get(f"/h5/oauth/callback?code={q['code']}&state={state}")
    assert resp.status_code == 400
    assert "登录链接已失效" in resp.get_data(as_text=True)
    assert wechat_stub.oauth_calls() == []
    assert not _has_session(target)


def test_an_expired_state_is_refused(
    client: FlaskClient, wechat_stub: WeChatStub, monkeypatch: pytest.MonkeyPatch
) -> None:
    callback = follow_redirects_via_stub(client, wechat_stub, _start(client))
    real = time.time
    monkeypatch.setattr("bot.h5.signin.time.time", lambda: real() + bot.h5.signin.STATE_TTL_S + 5)
    resp = client.get(callback)
    assert resp.status_code == 400 and "登录链接已失效" in resp.get_data(as_text=True)
    assert wechat_stub.oauth_calls() == []


def test_wechat_unreachable_gives_a_try_again_page(client: FlaskClient, wechat_stub: WeChatStub) -> None:
    callback = follow_redirects_via_stub(client, wechat_stub, _start(client))
    wechat_stub.state.oauth_codes.clear()
    wechat_stub.fail("sns/oauth2/access_token", "http500")  # not reached: _oauth answers first
    resp = client.get(callback)
    assert resp.status_code in (400, 503)
    assert "重新进入" in resp.get_data(as_text=True)


def test_a_desktop_browser_is_told_to_open_the_page_in_wechat(client: FlaskClient) -> None:
    resp = client.get("/h5/signin?next=/h5/campaigns/1", headers={"User-Agent": DESKTOP_UA})
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    assert "请在微信中打开" in body and "/h5/campaigns/1" in body


def test_next_never_leaves_the_h5_pages(client: FlaskClient, wechat_stub: WeChatStub) -> None:
    for evil in ("//evil.example/h5/", "https://evil.example/", "/admin/", "/h5/\\evil"):
        first = client.get(f"/h5/signin?next={evil}", headers={"User-Agent": WECHAT_UA})
        callback = follow_redirects_via_stub(client, wechat_stub, first.headers["Location"])
        done = client.get(callback)
        assert done.headers["Location"] in ("/h5/", "http://localhost/h5/")


def test_a_tampered_session_cookie_is_not_a_session(
    client: FlaskClient, sign_in: Callable[..., FlaskClient]
) -> None:
    sign_in("o-tamper")
    cookie = client.get_cookie(SESSION_COOKIE, path="/h5")
    assert cookie is not None
    client.set_cookie(SESSION_COOKIE, cookie.value[:-2] + "xx", path="/h5")
    resp = client.get("/h5/", headers={"User-Agent": WECHAT_UA})
    assert resp.status_code == 302 and "/h5/signin" in resp.headers["Location"]


def test_an_account_without_web_sign_in_uses_one_time_chat_links(
    client: FlaskClient, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt = app.extensions["ghpp"]
    monkeypatch.setattr(rt, "capabilities", dataclasses.replace(rt.capabilities, oauth=False))
    page = client.get("/h5/signin?next=/h5/", headers={"User-Agent": WECHAT_UA})
    assert page.status_code == 403 and "页面" in page.get_data(as_text=True)
    with app.test_request_context():
        token = bot.h5.signin.enter_token("o-chat-link", "/h5/")
    first = client.get(f"/h5/enter?t={token}")
    assert first.status_code == 302 and _has_session(client)
    other = app.test_client()
    again = other.get(f"/h5/enter?t={token}")
    assert again.status_code == 400 and "只能用一次" in again.get_data(as_text=True)
    assert other.get_cookie(SESSION_COOKIE, path="/h5") is None
    forged = other.get(f"/h5/enter?t={token[:-3]}abc")
    assert forged.status_code == 400 and "已过期" in forged.get_data(as_text=True)


def test_demo_mode_signs_in_with_a_simulated_identity(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    rt = app.extensions["ghpp"]
    monkeypatch.setattr(rt, "settings", dataclasses.replace(rt.settings, extra={"GHPP_SIMULATE_WECHAT": "1"}))
    client = app.test_client()
    resp = client.get("/h5/signin?next=/h5/", headers={"User-Agent": DESKTOP_UA})
    assert resp.status_code == 302 and "/h5/demo-signin" in resp.headers["Location"]
    page = client.get(resp.headers["Location"])
    assert "演示登录" in page.get_data(as_text=True)
    bad = client.post("/h5/demo-signin", data={"openid": "o-someone-real", "next": "/h5/"})
    assert bad.status_code == 400 and not _has_session(client)
    ok = client.post("/h5/demo-signin", data={"openid": "demo-worker", "next": "/h5/"})
    assert ok.status_code == 302 and _has_session(client)


def test_demo_sign_in_does_not_exist_outside_demo_mode(client: FlaskClient) -> None:
    resp = client.post("/h5/demo-signin", data={"openid": "demo-worker", "next": "/h5/"})
    assert resp.status_code == 404 and not _has_session(client)
