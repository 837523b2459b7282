"""Signing in and out, and changing one's password: the pages at /admin/login, /logout, /password.

They are routes of the frame's blueprint (``web.bp``, endpoints ``admin.login`` …); the frame
lets ``admin.login`` through without a session and lets read-only roles use the other two.
"""

from __future__ import annotations

import ipaddress
import secrets
from datetime import timedelta
from typing import Any

from flask import current_app, flash, g, redirect, render_template, request, session, url_for
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from werkzeug.wrappers import Response as WerkzeugResponse

from bot.admin import security
from bot.admin.audit_log import record
from bot.admin.security import client_address
from bot.admin.web import bp, current_account, db, runtime
from bot.store import StoreUnavailable
from models import utcnow
from models.admin import AdminAccount

# A browser that signed in to an account keeps this signed cookie; its failed logins are counted
# apart from everyone else's, so strangers' failures do not slow the account's owner there.
DEVICE_COOKIE = "ghpp_device"
DEVICE_COOKIE_LIFETIME = timedelta(days=180)


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
