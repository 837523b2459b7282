"""The H5 pages' shared machinery: the blueprint, the signed-in viewer, CSRF, pages and errors.

A worker reaches these pages from an article, the menu or a chat link, inside WeChat. Who they
are comes from WeChat's web sign-in (snsapi_base) or a one-time chat link, never from anything
the page itself sends: the session cookie holds the openid, signed, for two hours. Every form
carries a CSRF token bound to that session and a signed render token bound to the page it came
from, so a form posted from another session, or replayed, records nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import quote

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as WerkzeugResponse

from bot.runtime import Runtime
from handlers.members import resolve_web_visitor
from models import User, utcnow

bp = Blueprint("h5", __name__, url_prefix="/h5", template_folder="templates", static_folder="static")

SESSION_COOKIE = "ghpp_h5"
DEVICE_COOKIE = "ghpp_dev"
SESSION_TTL_S = 2 * 3600
# A page's forms stay good this long after it was rendered (a long survey page, a slow reader).
RENDER_TTL_S = 2 * 3600
DEVICE_TTL_S = 365 * 86400
# Above this, a form is refused before it is read (a 1 MB form is an attack, not an answer).
MAX_FORM_BYTES = 64 * 1024

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Viewer:
    openid: str
    sid: str  # this sign-in's random id: CSRF and render tokens are bound to it


def now() -> datetime:
    """The pages' clock (tests freeze it here)."""
    return utcnow()


def runtime() -> Runtime:
    rt: Runtime = current_app.extensions["ghpp"]
    return rt


def db() -> Session:
    if "h5_db" not in g:
        g.h5_db = runtime().session_factory()
    return cast(Session, g.h5_db)


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def _mac(purpose: str, value: str) -> str:
    key = current_app.config["SECRET_KEY"].encode("utf-8")
    return hmac.new(key, f"{purpose}|{value}".encode(), hashlib.sha256).hexdigest()


def cookie_secure() -> bool:
    return bool(current_app.config.get("SESSION_COOKIE_SECURE"))


# --- the session ---------------------------------------------------------------------------------


def current_viewer() -> Viewer | None:
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    try:
        data = _serializer("h5-session").loads(raw, max_age=SESSION_TTL_S)
    except BadSignature:
        return None  # tampered, from another server's key, or expired: not signed in
    if not isinstance(data, dict) or not isinstance(data.get("o"), str) or not isinstance(data.get("s"), str):
        return None
    return Viewer(openid=data["o"], sid=data["s"])


def start_session(response: WerkzeugResponse, openid: str) -> None:
    value = _serializer("h5-session").dumps({"o": openid, "s": secrets.token_urlsafe(16)})
    set_cookie(response, SESSION_COOKIE, value, SESSION_TTL_S)


def set_cookie(response: WerkzeugResponse, name: str, value: str, max_age: int) -> None:
    """The pages' cookies: only for /h5, never readable by scripts, not sent cross-site."""
    response.set_cookie(
        name, value, max_age=max_age, path="/h5", httponly=True, samesite="Lax", secure=cookie_secure()
    )


def viewer() -> Viewer:
    v: Viewer = g.h5_viewer
    return v


def viewer_user() -> User:
    """The signed-in worker's row (created for a visitor who never wrote to the account)."""
    if "h5_user" not in g:
        g.h5_user = resolve_web_visitor(db(), viewer().openid, now())
    return cast(User, g.h5_user)


def safe_next(target: str | None) -> str:
    if target and target.startswith("/h5/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("h5.home")


def signed_in(view: F) -> F:
    """The view needs a signed-in worker: otherwise off to sign-in, and back here after."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        v = current_viewer()
        if v is None:
            if request.method != "GET":
                return error_page(403, "登录已过期", "页面停留太久，登录已过期。请重新打开页面后再提交。")
            target = request.full_path.rstrip("?")
            return redirect(url_for("h5.signin", next=target))
        g.h5_viewer = v
        return view(*args, **kwargs)

    return cast(F, wrapped)


# --- forms ---------------------------------------------------------------------------------------


def csrf_token() -> str:
    return _mac("h5-csrf", viewer().sid)[:32]


def check_csrf() -> None:
    sent = request.form.get("csrf_token", "")
    if not hmac.compare_digest(sent.encode(), csrf_token().encode()):
        abort(403, description="这个表单不是在本次登录中打开的，未作记录。请刷新页面后重试。")


@dataclass(frozen=True)
class RenderToken:
    nonce: str
    page: str  # what the page was, e.g. "campaign:3"
    rendered_at: datetime


def render_token(page: str) -> str:
    """A signed token for the forms of one rendered page: which page, when, for which sign-in."""
    data = {"n": secrets.token_hex(8), "p": page, "t": now().timestamp(), "s": viewer().sid}
    return _serializer("h5-render").dumps(data)


def read_render_token(page: str) -> RenderToken:
    raw = request.form.get("rt", "")
    try:
        data = _serializer("h5-render").loads(raw, max_age=RENDER_TTL_S)
    except BadSignature:
        abort(400, description="页面已过期或不完整，未作记录。请刷新页面后重新提交。")
    if not isinstance(data, dict) or data.get("p") != page or data.get("s") != viewer().sid:
        abort(403, description="这个表单不属于本页面或本次登录，未作记录。请刷新页面后重试。")
    return RenderToken(str(data["n"]), page, datetime.fromtimestamp(float(data["t"]), tz=UTC))


def device_id() -> str | None:
    value = request.cookies.get(DEVICE_COOKIE, "")
    return value if 16 <= len(value) <= 64 and value.isalnum() else None


def keep_device_cookie(response: WerkzeugResponse) -> None:
    """A long-lived random id for this browser: the anti-brushing device signal (F1), hashed."""
    if device_id() is None:
        set_cookie(response, DEVICE_COOKIE, secrets.token_hex(16), DEVICE_TTL_S)


def in_wechat() -> bool:
    return "micromessenger" in (request.headers.get("User-Agent") or "").lower()


# --- pages ---------------------------------------------------------------------------------------


def page(template: str, **context: Any) -> str:
    return render_template(f"h5/{template}", **context)


def make_page(template: str, **context: Any) -> WerkzeugResponse:
    """A page as a response object (for views that also set a cookie)."""
    return current_app.make_response(page(template, **context))


def error_page(code: int, title: str, message: str, *, retry: str | None = None) -> tuple[str, int]:
    return render_template("h5/error.html", code=code, title=title, message=message, retry=retry), code


ERROR_TITLES = {
    400: "请求有误",
    403: "无法完成",
    404: "页面不存在",
    405: "不支持的操作",
    413: "提交内容过大",
    429: "操作过于频繁",
    500: "服务器出错",
    503: "暂时无法访问",
}
ERROR_MESSAGES = {
    404: "你要找的页面不存在，或已下线。",
    405: "请从页面上的按钮提交。",
    413: "提交的内容太大，未作记录。请精简后重新提交。",
    429: "提交太频繁了，请稍后再试。",
    500: "服务器出了点问题，你的提交未作记录。请稍后重试。",
}


def http_error_page(exc: HTTPException) -> tuple[str, int]:
    code = exc.code or 500
    detail = exc.description if code in (400, 403) and exc.description and _is_ours(exc.description) else None
    message = detail or ERROR_MESSAGES.get(code) or "请返回上一页重试。"
    return error_page(code, ERROR_TITLES.get(code, "出错了"), message)


def _is_ours(description: str) -> bool:
    # Werkzeug's own English descriptions are never shown; ours are Chinese sentences.
    return any("\u4e00" <= ch <= "\u9fff" for ch in description)


@bp.before_request
def _limit_form() -> None:
    request.max_content_length = MAX_FORM_BYTES


@bp.teardown_request
def _close_db(_exc: BaseException | None) -> None:
    sess = g.pop("h5_db", None)
    if sess is not None:
        sess.close()


@bp.after_request
def _headers(response: WerkzeugResponse) -> WerkzeugResponse:
    # No external host: everything the page loads is ours (the Lighthouse-style budget).
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if request.endpoint != "h5.static":
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def json_dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def quoted(path: str) -> str:
    return quote(path, safe="/?=&")
