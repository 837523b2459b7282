"""The /admin blueprint's frame: request session, login, CSRF, roles, navigation, error pages.

Domain pages are child blueprints (see ``bot/admin/__init__.py``); the hooks here run for all
of them, so a new page is protected (login, CSRF, security headers) without doing anything.
"""

from __future__ import annotations

import functools
import ipaddress
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar, cast

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as WerkzeugResponse

from bot.admin import security
from bot.admin.export import display
from bot.admin.scoping import Scope
from bot.runtime import Runtime
from bot.store import StoreUnavailable
from models import Stage, utcnow
from models.admin import AdminAccount, AdminRole

F = TypeVar("F", bound=Callable[..., Any])

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates", static_folder="static")

# Endpoints reachable without logging in.
PUBLIC_ENDPOINTS = {"admin.login", "admin.static"}
# The only writes a read-only role (auditor) may make: its own sign-out and password.
SELF_SERVICE_ENDPOINTS = {"admin.logout", "admin.password"}
READ_ONLY_ROLES = frozenset({AdminRole.AUDITOR})
SESSION_LIFETIME = timedelta(hours=8)
# A browser that signed in to an account keeps this signed cookie; its failed logins are counted
# apart from everyone else's, so strangers' failures do not slow the account's owner there.
DEVICE_COOKIE = "ghpp_device"
DEVICE_COOKIE_LIFETIME = timedelta(days=180)
# Upload endpoints → their body limit; the app-wide MAX_CONTENT_LENGTH (256 KB) is the webhook's.
UPLOAD_LIMITS: dict[str, int] = {}


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: str
    roles: frozenset[AdminRole]

    @classmethod
    def of(cls, endpoint: str, label: str, roles: tuple[AdminRole, ...] = tuple(AdminRole)) -> NavItem:
        """A domain module's menu entry (``nav = NavItem.of(...)``), shown to ``roles``."""
        return cls(endpoint, label, frozenset(roles))


# Filled by bot.admin.init_app from DOMAINS, in menu order.
NAV: list[NavItem] = []


def runtime() -> Runtime:
    rt: Runtime = current_app.extensions["ghpp"]
    return rt


def db() -> Session:
    """The request's database session; views that write commit it once, at the end."""
    if "admin_db" not in g:
        g.admin_db = runtime().session_factory()
    return cast(Session, g.admin_db)


def read_db() -> Session:
    """A session for pages that only read: the replica when DATABASE_READ_URL is set (it may lag
    the primary by a moment), else the same database as ``db()``. Never write through it."""
    rt = runtime()
    if rt.read_session_factory is rt.session_factory:
        return db()  # no replica: one session per request (SQLite allows one writer at a time)
    if "admin_read_db" not in g:
        g.admin_read_db = rt.read_session_factory()
    return cast(Session, g.admin_read_db)


def current_account() -> AdminAccount:
    account = g.get("admin_account")
    if account is None:
        abort(401)
    return cast(AdminAccount, account)


def scope() -> Scope:
    return Scope.of(current_account())


def client_address() -> str:
    # Behind a reverse proxy set GHPP_TRUSTED_PROXIES (werkzeug's ProxyFix) so this is the client.
    return request.remote_addr or "unknown"


def address_trusted() -> bool:
    """Whether the client address identifies one client (a per-address limit is then fair).

    With GHPP_TRUSTED_PROXIES set, ProxyFix has put the real client's address in place. Without
    it, only a direct public peer counts: a loopback or private peer is most likely a proxy
    that every user shares, and a forwarded header means a proxy nobody declared.
    """
    if runtime().settings.trusted_proxies:
        return True
    try:
        peer = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return peer.is_global and "X-Forwarded-For" not in request.headers


def roles_required(*roles: AdminRole) -> Callable[[F], F]:
    """403 for a logged-in account whose role is not one of ``roles``."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if current_account().role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return cast(F, wrapped)

    return decorator


def write_required(view: F) -> F:
    """Writes are for admins only: viewers read, cadres read their own brands."""
    return roles_required(AdminRole.ADMIN)(view)


def _load_account() -> AdminAccount | None:
    account_id = session.get("aid")
    if not isinstance(account_id, int):
        return None
    account = db().get(AdminAccount, account_id)
    if account is None or not account.active:
        return None
    if session.get("pwf") != security.password_fingerprint(account.password_hash):
        return None
    if session.get("sep") != account.session_epoch:
        return None  # signed out, or the password changed, since this session began
    return account


def _dashboard_request() -> bool:
    name = request.blueprint or ""
    return name.startswith("admin") or name == "api_v1"


@bp.before_app_request
def _no_control_chars() -> None:
    """NUL and other control characters in any query value or form field: 400, nothing read further."""
    if not _dashboard_request():
        return
    if request.endpoint in UPLOAD_LIMITS:  # before anything reads the form
        request.max_content_length = UPLOAD_LIMITS[request.endpoint]
    fields = [*request.args.items(multi=True)]
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        fields += request.form.items(multi=True)
    if any(security.has_control_chars(k, v) for k, v in fields):
        abort(400, description=security.CONTROL_CHAR_MESSAGE)


@bp.before_app_request
def _admin_guard() -> WerkzeugResponse | None:
    if not request.blueprint or not request.blueprint.startswith("admin"):
        return None
    writing = request.method in ("POST", "PUT", "PATCH", "DELETE")
    if writing:
        security.check_csrf()
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    account = _load_account()
    if account is None:
        session.pop("aid", None)
        return redirect(url_for("admin.login", next=request.full_path.rstrip("?")))
    g.admin_account = account
    if writing and account.role in READ_ONLY_ROLES and request.endpoint not in SELF_SERVICE_ENDPOINTS:
        abort(403)  # read-only roles change nothing, whatever a view's own checks say
    return None


@bp.teardown_app_request
def _close_db(_exc: BaseException | None) -> None:
    for name in ("admin_db", "admin_read_db"):
        sess = g.pop(name, None)
        if sess is not None:
            sess.close()


@bp.after_app_request
def _security_headers(response: WerkzeugResponse) -> WerkzeugResponse:
    if request.blueprint and request.blueprint.startswith("admin"):
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
            "script-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
            "frame-ancestors 'none'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if request.endpoint != "admin.static":
            response.headers.setdefault("Cache-Control", "no-store")
    return response


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/admin") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("admin_overview.index")


def _device_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key or "", salt="ghpp-login-device")


def _device_for(username: str) -> str | None:
    """The device id of this browser's cookie, if it signed in to ``username`` before."""
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw:
        return None
    try:
        data = _device_serializer().loads(raw, max_age=int(DEVICE_COOKIE_LIFETIME.total_seconds()))
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("u") != username.lower() or not isinstance(data.get("d"), str):
        return None
    return str(data["d"])


def _start_session(account: AdminAccount) -> None:
    session.clear()  # a new session on login: no fixation
    session.permanent = True
    session["aid"] = account.id
    session["pwf"] = security.password_fingerprint(account.password_hash)
    session["sep"] = account.session_epoch


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    error = None
    status = 200
    username = ""
    if request.method == "POST":
        username = request.form.get("username", "").strip()[:64]
        password = request.form.get("password", "")
        limiter = security.LoginLimiter(runtime().store)
        address, trusted = client_address(), address_trusted()
        device = _device_for(username)
        try:
            wait = limiter.wait_message(username, address, device, trusted)
            if wait:
                error, status = wait, 429
            else:
                account = db().scalar(select(AdminAccount).where(AdminAccount.username == username))
                ok = security.verify_password(account.password_hash if account else None, password)
                if account is not None and ok and account.active:
                    from bot.admin.audit import record

                    limiter.succeeded(username, device)
                    before = {
                        "last_login_at": account.last_login_at.isoformat() if account.last_login_at else None
                    }
                    account.last_login_at = utcnow()
                    after = {"last_login_at": account.last_login_at.isoformat()}
                    record(db(), "account.login", "admin_account", account.id, before, after, actor=account)
                    db().commit()
                    _start_session(account)
                    response = redirect(_safe_next(request.args.get("next")))
                    cookie = _device_serializer().dumps(
                        {"u": username.lower(), "d": device or secrets.token_urlsafe(12)}
                    )
                    response.set_cookie(
                        DEVICE_COOKIE,
                        cookie,
                        max_age=int(DEVICE_COOKIE_LIFETIME.total_seconds()),
                        path="/admin",
                        httponly=True,
                        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
                        samesite="Lax",
                    )
                    return response
                limiter.failed(username, address, device, trusted)
                error, status = "用户名或密码错误，或账号已停用。", 401
        except StoreUnavailable:
            error, status = "登录服务暂时不可用，请稍后再试。", 503
    return render_template("admin/login.html", error=error, username=username), status


def _end_all_sessions(account: AdminAccount) -> None:
    """Every session of the account, on every device, stops working at its next request."""
    account.session_epoch = (account.session_epoch or 0) + 1


@bp.route("/logout", methods=["POST"])
def logout() -> WerkzeugResponse:
    account = g.get("admin_account")
    if account is not None:
        _end_all_sessions(account)
        db().commit()
    session.clear()
    flash("您已退出登录。", "info")
    return redirect(url_for("admin.login"))


@bp.route("/password", methods=["GET", "POST"])
def password() -> Any:
    from bot.admin.audit import record

    account = current_account()
    error = None
    if request.method == "POST":
        old = request.form.get("old_password", "")
        new = request.form.get("new_password", "")
        confirm = request.form.get("confirm_password", "")
        try:
            if not security.verify_password(account.password_hash, old):
                raise security.PasswordError("当前密码不正确。")
            if new != confirm:
                raise security.PasswordError("两次输入的新密码不一致。")
            security.check_new_password(new, account.username)
        except security.PasswordError as exc:
            error = str(exc)
        else:
            account.password_hash = security.hash_password(new)
            _end_all_sessions(account)
            record(
                db(),
                "account.password",
                "admin_account",
                account.id,
                {"password": "***"},
                {"password": "已修改"},
            )
            db().commit()
            _start_session(account)  # this session continues; every other one has ended
            flash("密码已修改，其他设备上的登录已失效。", "success")
            return redirect(url_for("admin_overview.index"))
    return render_template("admin/password.html", error=error), 400 if error else 200


ERROR_TITLES = {
    400: "请求无效",
    401: "请先登录",
    403: "没有权限",
    404: "页面不存在",
    405: "不支持的操作",
    429: "操作过于频繁",
    500: "服务器出错",
}


def _error_page(exc: HTTPException) -> tuple[str, int]:
    code = exc.code or 500
    detail = exc.description if code == 400 else None
    messages = {
        403: "您的账号角色无权访问此页面或执行此操作。",
        404: "您要找的内容不存在，或不在您的管辖范围内。",
    }
    return (
        render_template(
            "admin/error.html",
            code=code,
            title=ERROR_TITLES.get(code, "出错了"),
            message=messages.get(code) or detail or "请返回上一页重试。",
        ),
        code,
    )


def init_app(app: Flask) -> None:
    settings = runtime_settings(app)
    secure_default = settings.get("GHPP_SIMULATE_WECHAT") != "1"
    secure = settings.get("GHPP_COOKIE_SECURE", "1" if secure_default else "0") == "1"
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        SESSION_COOKIE_NAME="ghpp_session",
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
    )

    @app.errorhandler(HTTPException)
    def _errors(exc: HTTPException) -> Any:
        if request.path.startswith("/admin"):
            return _error_page(exc)
        if request.path.startswith("/h5"):
            from bot.h5.web import http_error_page

            return http_error_page(exc)
        if request.blueprint == "api_v1":
            from bot.admin.api import json_error

            return json_error(exc)
        return exc

    @app.template_filter("local")
    def _local(value: Any) -> str:
        return display(value)

    @app.context_processor
    def _globals() -> dict[str, Any]:
        if not request.blueprint or not request.blueprint.startswith("admin"):
            return {}
        account = g.get("admin_account")
        nav = [n for n in NAV if account is not None and account.role in n.roles]
        return {
            "csrf_token": security.csrf_token,
            "current_account": account,
            "nav_items": nav,
            "stages": list(Stage),
        }


def runtime_settings(app: Flask) -> dict[str, str]:
    rt: Runtime = app.extensions["ghpp"]
    return dict(rt.settings.extra)


def count(stmt: Any) -> int:
    """``SELECT count(*)`` over a select statement."""
    return int(db().scalar(select(func.count()).select_from(stmt.subquery())) or 0)
