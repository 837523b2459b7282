"""The /admin blueprint's frame: request session, login check, CSRF, roles, navigation, error
pages, and ``perform``, the one write boundary of a view.

Domain pages are child blueprints (see ``bot/admin/__init__.py``); the hooks here run for all
of them, so a new page is protected (login, CSRF, security headers) without doing anything. The
sign-in pages themselves are ``bot.admin.auth``. Framework code: nothing here imports a domain
module, so every domain may import this one.
"""

from __future__ import annotations

import functools
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
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as WerkzeugResponse

from bot.admin import security
from bot.admin.audit_log import record
from bot.admin.scoping import Scope
from bot.h5.web import http_error_page
from bot.runtime import Runtime
from handlers.errors import OperationError
from handlers.tables import display
from models import Stage
from models.admin import AdminAccount, AdminRole

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates", static_folder="static")

# Endpoints reachable without logging in.
PUBLIC_ENDPOINTS = {"admin.login", "admin.static"}
# The only writes a read-only role (auditor) may make: its own sign-out and password.
SELF_SERVICE_ENDPOINTS = {"admin.logout", "admin.password"}
READ_ONLY_ROLES = frozenset({AdminRole.AUDITOR})
SESSION_LIFETIME = timedelta(hours=8)
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
            return http_error_page(exc)
        return exc  # the API blueprint answers its own errors in JSON (bot.admin.api)

    @app.template_filter("local")
    def _local(value: Any) -> str:
        return display(value)

    @app.context_processor
    def _globals() -> dict[str, Any]:
        if not request.blueprint or not request.blueprint.startswith("admin"):
            return {}
        account = g.get("admin_account")
        nav = [n for n in app.extensions["admin_nav"] if account is not None and account.role in n.roles]
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


@dataclass(frozen=True)
class Page:
    """One page of a list: its rows, the page number asked for (``?page=``), the page size, the total."""

    rows: list[Any]
    number: int
    size: int
    total: int


def paginate(stmt: Any, size: int) -> Page:
    """The page of ``stmt`` the request asks for (``?page=N``, from 1; anything else is page 1)."""
    number = max(request.args.get("page", 1, type=int) or 1, 1)
    rows = list(db().scalars(stmt.limit(size).offset((number - 1) * size)))
    return Page(rows, number, size, count(stmt))


# --- the write boundary -------------------------------------------------------------------------


@dataclass(frozen=True)
class Audit:
    """The audit entry a write records (see ``audit_log.record``)."""

    action: str
    target_type: str
    target_id: int | str | None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


def perform(
    operation: Callable[[], T],
    *,
    redirect_to: str | Callable[[T], str] | None = None,
    audit: Audit | Callable[[T], Audit | None] | None = None,
    success: str | Callable[[T], str] | None = None,
    refused: str | Callable[[Exception], Any] | None = None,
    errors: tuple[type[Exception], ...] = (),
    commit: Callable[[Session], None] | None = None,
    respond: Callable[[T], Any] | None = None,
) -> Any:
    """A view's write, start to end: the operation, then its audit entry, one commit, the answer.

    ``operation`` does the work (taking any row lock it needs first). When it refuses
    (``OperationError``, or one of ``errors`` for a domain whose errors are not yet one), nothing
    is kept: the session rolls back and the refusal's Chinese message is flashed, then the visitor
    goes to ``refused`` (a URL; default ``redirect_to``), or ``refused(exc)`` answers instead (a
    form shown again with the message). Otherwise ``audit`` (an ``Audit``, or built from the
    result; None records nothing) is recorded in the same transaction, ``commit`` (default
    ``session.commit``) ends it, ``success`` is flashed, and the answer is ``respond(result)`` or a
    redirect to ``redirect_to``.
    """
    session = db()
    refusals: tuple[type[Exception], ...] = (OperationError, *errors)
    try:
        result = operation()
    except refusals as exc:
        session.rollback()
        if callable(refused):
            return refused(exc)
        flash(str(exc), "error")
        target = refused or redirect_to
        assert isinstance(target, str), "a refusal needs a URL to go back to"
        return redirect(target)
    entry = audit(result) if callable(audit) else audit
    if entry is not None:
        record(session, entry.action, entry.target_type, entry.target_id, entry.before, entry.after)
    (commit or Session.commit)(session)
    if success is not None:
        flash(success(result) if callable(success) else success, "success")
    if respond is not None:
        return respond(result)
    assert redirect_to is not None, "a write answers with a redirect or with respond()"
    return redirect(redirect_to(result) if callable(redirect_to) else redirect_to)
