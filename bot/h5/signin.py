"""Signing in to the H5 pages: WeChat's web sign-in (snsapi_base), a one-time chat link, or the
demo's simulated sign-in.

The OAuth ``state`` is short and alphanumeric (WeChat allows 128 bytes of [a-zA-Z0-9]): a nonce,
the issue time and an HMAC of both. The nonce is also in a short-lived cookie, so a state taken
from someone else's redirect is useless in another browser (CSRF on the callback). A code is
exchanged at most once: a reused code is refused here before WeChat is asked.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from typing import Any

import requests
from flask import current_app, redirect, request, url_for
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select
from wechatpy.exceptions import WeChatOAuthException
from wechatpy.oauth import WeChatOAuth
from werkzeug.wrappers import Response as WerkzeugResponse

from bot.h5 import web
from bot.h5.web import bp
from models import Union, User

log = logging.getLogger(__name__)

OAUTH_COOKIE = "ghpp_h5_oauth"
# Demo identities: the chat simulator's worker ("demo-worker") and the demo data's people.
DEMO_PREFIX = "demo-"
DEMO_WORKER = "demo-worker"
STATE_TTL_S = 600
ENTER_TTL_S = 600
# WeChat's codes live five minutes; a used one is remembered a little longer.
CODE_MEMORY_S = 900
# Web sign-in codes that WeChat says are used (40163) or unknown / expired (40029, 41008).
USED_CODE_ERRORS = {40163}
BAD_CODE_ERRORS = {40029, 41008, 42003}


class _TimedSession(requests.Session):
    """wechatpy's OAuth client passes no timeout; every call here has one."""

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 5.0)
        return super().request(method, url, *args, **kwargs)


def _state_mac(nonce: str, issued: str) -> str:
    key = current_app.config["SECRET_KEY"].encode("utf-8")
    return hmac.new(key, f"h5-oauth-state|{nonce}|{issued}".encode(), hashlib.sha256).hexdigest()[:24]


def make_state(nonce: str, now_s: int) -> str:
    issued = f"{now_s:x}"
    return f"{nonce}{issued}{_state_mac(nonce, issued)}"


def check_state(state: str, nonce: str | None, now_s: int) -> bool:
    if not nonce or len(state) < 16 + 24 + 1 or not state.isalnum():
        return False
    got_nonce, issued, mac = state[:16], state[16:-24], state[-24:]
    if not hmac.compare_digest(mac, _state_mac(got_nonce, issued)):
        return False
    try:
        age = now_s - int(issued, 16)
    except ValueError:
        return False
    return 0 <= age <= STATE_TTL_S and hmac.compare_digest(got_nonce, nonce)


def _oauth_client() -> WeChatOAuth:
    settings = web.runtime().settings
    client = WeChatOAuth(settings.wechat_appid, settings.wechat_secret, _callback_url(), scope="snsapi_base")
    client.OAUTH_BASE_URL = f"{settings.wechat_oauth_base}/connect/"
    client.API_BASE_URL = f"{settings.wechat_api_base}/"
    client._http = _TimedSession()
    return client


def _callback_url() -> str:
    base = web.runtime().settings.public_base_url or request.host_url.rstrip("/")
    return f"{base}{url_for('h5.oauth_callback')}"


def _restart(next_path: str) -> str:
    return url_for("h5.signin", next=next_path)


@bp.get("/signin")
def signin() -> Any:
    next_path = web.safe_next(request.args.get("next"))
    rt = web.runtime()
    if rt.settings.demo:
        return redirect(url_for("h5.demo_signin", next=next_path))
    if not web.in_wechat():
        return web.page("open_in_wechat.html", next_path=next_path), 200
    if not rt.capabilities.oauth:
        return web.error_page(
            403,
            "请从公众号聊天中进入",
            f"本公众号（{rt.capabilities.label}）不支持网页授权。请在公众号聊天中发送“页面”，"
            "点击收到的链接进入（链接 10 分钟内有效、只能用一次）。",
        )
    nonce = secrets.token_hex(8)
    oauth = _oauth_client()
    oauth.state = make_state(nonce, int(time.time()))
    response = redirect(oauth.authorize_url)
    web.set_cookie(response, OAUTH_COOKIE, web.json_dumps({"k": nonce, "n": next_path}), STATE_TTL_S)
    return response


def _oauth_cookie() -> tuple[str | None, str]:
    import json

    try:
        data = json.loads(request.cookies.get(OAUTH_COOKIE, "") or "{}")
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    nonce = data.get("k") if isinstance(data.get("k"), str) else None
    return nonce, web.safe_next(data.get("n") if isinstance(data.get("n"), str) else None)


@bp.get("/oauth/callback")
def oauth_callback() -> Any:
    nonce, next_path = _oauth_cookie()
    code = request.args.get("code", "")
    state = request.args.get("state", "")
    if not check_state(state, nonce, int(time.time())):
        return web.error_page(
            400,
            "登录链接已失效",
            "这个登录链接已过期或不完整（可能是从别处复制来的）。请重新进入页面。",
            retry=_restart(next_path),
        )
    if not code or len(code) > 128:
        return web.error_page(
            400, "登录未完成", "微信没有返回登录凭据。请重新进入页面。", retry=_restart(next_path)
        )
    store = web.runtime().store
    code_key = f"h5:oauth-code:{hashlib.sha256(code.encode()).hexdigest()}"
    if not store.set_if_absent(code_key, "1", CODE_MEMORY_S):
        return _used_code(next_path)
    try:
        token = _oauth_client().fetch_access_token(code)
    except WeChatOAuthException as exc:
        errcode = int(exc.errcode) if exc.errcode is not None else None
        if errcode in USED_CODE_ERRORS:
            return _used_code(next_path)
        if errcode in BAD_CODE_ERRORS:
            return web.error_page(
                400, "登录凭据已过期", "微信登录凭据已过期，请重新进入页面。", retry=_restart(next_path)
            )
        log.warning("web sign-in: code exchange failed (%s)", errcode)
        return _unavailable(next_path)
    except (requests.RequestException, ValueError):
        log.warning("web sign-in: WeChat unreachable", exc_info=True)
        return _unavailable(next_path)
    openid = str(token.get("openid") or "")
    if not openid or len(openid) > 64:
        return _unavailable(next_path)
    response = redirect(next_path)
    web.start_session(response, openid)
    response.delete_cookie(OAUTH_COOKIE, path="/h5")
    web.keep_device_cookie(response)
    return response


def _used_code(next_path: str) -> tuple[str, int]:
    return web.error_page(
        400,
        "登录链接已用过",
        "这个登录链接已经用过一次（刷新或返回都会这样）。请重新进入页面。",
        retry=_restart(next_path),
    )


def _unavailable(next_path: str) -> tuple[str, int]:
    return web.error_page(
        503, "暂时无法登录", "微信暂时无法确认你的身份，请稍后重试。", retry=_restart(next_path)
    )


# --- a one-time link sent in chat (accounts without web sign-in, and the chat's own links) -------


ENTER_SALT = "h5-enter"


def enter_token(openid: str, next_path: str, secret_key: str | None = None) -> str:
    """A one-time sign-in token for a chat link; ``secret_key`` outside a request (the pipeline)."""
    serializer = (
        URLSafeTimedSerializer(secret_key, salt=ENTER_SALT) if secret_key else web._serializer(ENTER_SALT)
    )
    return serializer.dumps({"o": openid, "n": next_path, "j": secrets.token_hex(8)})


@bp.get("/enter")
def enter() -> Any:
    from itsdangerous import BadSignature

    raw = request.args.get("t", "")
    try:
        data = web._serializer(ENTER_SALT).loads(raw, max_age=ENTER_TTL_S)
    except BadSignature:
        return web.error_page(
            400, "链接已失效", "这个链接已过期（10 分钟内有效）。请在公众号聊天中发送“页面”获取新链接。"
        )
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in ("o", "n", "j")):
        return web.error_page(400, "链接已失效", "链接不完整。请在公众号聊天中发送“页面”获取新链接。")
    if not web.runtime().store.set_if_absent(f"h5:enter:{data['j']}", "1", ENTER_TTL_S + 60):
        return web.error_page(400, "链接已用过", "这个链接只能用一次。请在公众号聊天中发送“页面”获取新链接。")
    response = redirect(web.safe_next(data["n"]))
    web.start_session(response, data["o"])
    web.keep_device_cookie(response)
    return response


# --- demo: a simulated sign-in, like the chat simulator ------------------------------------------


@bp.route("/demo-signin", methods=["GET", "POST"])
def demo_signin() -> Any:
    if not web.runtime().settings.demo:
        return web.error_page(404, "页面不存在", "演示登录只在演示模式下可用。")
    next_path = web.safe_next(request.values.get("next"))
    session = web.db()
    people = session.execute(
        select(User, Union.name)
        .outerjoin(Union, Union.id == User.union_id)
        .where(User.openid.startswith(DEMO_PREFIX))
        .order_by((User.openid == DEMO_WORKER).desc(), User.id)
        .limit(12)
    ).all()
    if request.method == "POST":
        openid = request.form.get("openid", "")
        known = {u.openid for u, _ in people}
        known.add(DEMO_WORKER)
        if openid != "demo-visitor" and openid not in known:
            return web.error_page(
                400, "请选择身份", "请从列表中选择一个演示身份。", retry=_restart(next_path)
            )
        response: WerkzeugResponse = redirect(next_path)
        web.start_session(response, openid if openid in known else f"{DEMO_PREFIX}visitor")
        web.keep_device_cookie(response)
        return response
    choices = [(u.openid, u.openid.removeprefix(DEMO_PREFIX), name or "未绑定工会") for u, name in people]
    if DEMO_WORKER not in {c[0] for c in choices}:
        choices.insert(0, (DEMO_WORKER, "worker（聊天模拟器的用户）", "未绑定工会"))
    return web.page("demo_signin.html", choices=choices, next_path=next_path)
