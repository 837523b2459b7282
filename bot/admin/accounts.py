"""Dashboard accounts: operations shared with the CLI, and the admin-only accounts page."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.admin import security, web
from bot.admin.audit_log import record
from handlers.errors import OperationError
from handlers.tables import Column, Table
from models import Union
from models.admin import AdminAccount, AdminRole, ApiToken

bp = Blueprint("admin_accounts", __name__, url_prefix="/admin/accounts")
USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{2,63}$")


class AccountError(OperationError):
    """An account that cannot be created as asked (message in Chinese)."""


def account_snapshot(account: AdminAccount) -> dict[str, Any]:
    """What the audit log keeps of an account (never the password hash)."""
    return {
        "username": account.username,
        "union": account.union.code if account.union else None,
        "role": account.role.value,
        "active": account.active,
    }


def create_account(
    session: Session, union: Union, username: str, role: AdminRole, password: str, **audit: Any
) -> AdminAccount:
    if not USERNAME_RE.match(username):
        raise AccountError("用户名应为 3–64 位英文字母、数字或 _ . -，以字母或数字开头。")
    if session.scalar(select(AdminAccount).where(AdminAccount.username == username)):
        raise AccountError(f"用户名 {username} 已被使用。")
    try:
        security.check_new_password(password, username)
    except security.PasswordError as exc:
        raise AccountError(str(exc)) from exc
    account = AdminAccount(
        username=username, union=union, role=role, password_hash=security.hash_password(password)
    )
    session.add(account)
    session.flush()
    record(session, "account.create", "admin_account", account.id, None, account_snapshot(account), **audit)
    return account


def create_api_token(session: Session, account: AdminAccount, name: str, **audit: Any) -> str:
    """Make a token for ``account``; returns the token, which is shown once and stored hashed."""
    token, digest = security.new_api_token()
    row = ApiToken(account=account, name=name[:100], token_hash=digest, prefix=token[:12])
    session.add(row)
    session.flush()
    record(
        session,
        "token.create",
        "api_token",
        row.id,
        None,
        {"account": account.username, "name": row.name, "prefix": row.prefix},
        **audit,
    )
    return token


def accounts_table(accounts: list[AdminAccount]) -> Table:
    return Table(
        "后台账号",
        [
            Column("username", "用户名"),
            Column("union", "所属工会"),
            Column("role", "角色"),
            Column("active", "状态"),
            Column("created_at", "创建时间"),
            Column("last_login_at", "最近登录"),
        ],
        [
            {
                "id": a.id,
                "username": a.username,
                "union": a.union.name,
                "role": a.role.label,
                "active": "启用" if a.active else "停用",
                "is_active": a.active,
                "created_at": a.created_at,
                "last_login_at": a.last_login_at,
            }
            for a in accounts
        ],
    )


def _page(error: str | None = None, form: dict[str, str] | None = None, status: int = 200) -> Any:
    sc = web.scope()
    session = web.db()
    stmt = sc.where_union(select(AdminAccount), AdminAccount.union_id).order_by(AdminAccount.username)
    accounts = list(session.scalars(stmt))
    unions = list(session.scalars(select(Union).where(sc.union_condition()).order_by(Union.path)))
    return (
        render_template(
            "admin/accounts.html",
            table=accounts_table(accounts),
            unions=unions,
            roles=list(AdminRole),
            error=error,
            form=form or {},
        ),
        status,
    )


@bp.route("/")
@web.roles_required(AdminRole.ADMIN)
def index() -> Any:
    return _page()


@bp.route("/", methods=["POST"])
@web.write_required
def create() -> Any:
    sc = web.scope()
    session = web.db()
    form = {k: request.form.get(k, "").strip() for k in ("username", "union", "role")}
    try:
        union_id = int(form["union"])
    except ValueError:
        return _page("请选择所属工会。", form, 400)
    union = sc.union(session, union_id)
    try:
        role = AdminRole(form["role"])
    except ValueError:
        return _page("请选择角色。", form, 400)
    return web.perform(  # create_account records its own audit entry (the CLI's too)
        lambda: create_account(session, union, form["username"], role, request.form.get("password", "")),
        refused=lambda exc: _page(str(exc), form, 400),
        success=lambda account: f"账号 {account.username} 已创建。",
        redirect_to=url_for("admin_accounts.index"),
    )


@bp.route("/<int:account_id>/active", methods=["POST"])
@web.write_required
def set_active(account_id: int) -> Any:
    sc = web.scope()
    session = web.db()
    account = sc.get_or_404(session, AdminAccount, account_id, AdminAccount.union_id)
    if account.id == web.current_account().id:
        flash("不能停用自己的账号。", "error")
        return redirect(url_for("admin_accounts.index"))
    active = request.form.get("active") == "1"

    def change() -> web.Audit | None:
        if account.active == active:
            return None  # nothing to change, nothing to record
        before = account_snapshot(account)
        account.active = active
        action = "account.activate" if active else "account.deactivate"
        return web.Audit(action, "admin_account", account.id, before, account_snapshot(account))

    return web.perform(
        change,
        audit=lambda entry: entry,
        success=f"账号 {account.username} 已{'启用' if active else '停用'}。",
        redirect_to=url_for("admin_accounts.index"),
    )


nav = web.NavItem.of("admin_accounts.index", "账号管理", (AdminRole.ADMIN,))


def init_admin(app: Flask) -> None:
    """Serve this domain's pages (called once, by ``bot.admin.init_app``)."""
    app.register_blueprint(bp)
