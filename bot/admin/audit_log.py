"""The audit log: ``record()`` for every write, and the page that lists the entries (admins, auditors)."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, g, has_request_context, render_template, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.admin import web
from bot.admin.export import Column, Table, export_response, requested_format
from models import Union
from models.admin import AdminAccount, AdminRole, AuditEntry, append_audit

bp = Blueprint("admin_audit", __name__, url_prefix="/admin/audit")
PAGE_SIZE = 50


def record(
    session: Session,
    action: str,
    target_type: str,
    target_id: int | str | None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    *,
    actor: AdminAccount | None = None,
    actor_name: str | None = None,
    union_id: int | None = None,
) -> AuditEntry:
    """Append an audit entry to the hash chain in ``session`` (committed with the write it describes).

    In a dashboard request the actor is the logged-in account; the CLI passes ``actor_name``.
    Never put secrets (password hashes, tokens) in ``before``/``after``. Entries are never
    updated or deleted (no view or command does; on PostgreSQL a trigger refuses it).
    """
    if actor is None and has_request_context():
        actor = g.get("admin_account")
    entry = AuditEntry(
        account_id=actor.id if actor else None,
        actor=actor.username if actor else (actor_name or "命令行"),
        union_id=actor.union_id if actor else union_id,
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        before=before,
        after=after,
        address=web.client_address() if has_request_context() else None,
    )
    return append_audit(session, entry)


ACTION_LABELS = {
    "account.login": "登录",
    "account.create": "创建账号",
    "account.activate": "启用账号",
    "account.deactivate": "停用账号",
    "account.password": "修改密码",
    "account.reset_password": "重置密码",
    "token.create": "创建接口令牌",
    "token.revoke": "作废接口令牌",
}


def _json(value: dict[str, Any] | None) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def audit_table(page: int | None) -> tuple[Table, int]:
    sc = web.scope()
    # Entries by accounts of this subtree, and CLI entries made for a union in it.
    stmt = sc.where_union(select(AuditEntry), AuditEntry.union_id).order_by(AuditEntry.id.desc())
    total = web.count(stmt)
    if page is not None:
        stmt = stmt.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    table = Table(
        "操作日志",
        [
            Column("created_at", "时间"),
            Column("actor", "操作人"),
            Column("union", "所属工会"),
            Column("action", "操作"),
            Column("target", "对象"),
            Column("before", "修改前"),
            Column("after", "修改后"),
            Column("address", "来源地址"),
        ],
    )
    unions = dict(web.db().execute(select(Union.id, Union.name)).tuples().all())
    for entry in web.db().scalars(stmt):
        table.add(
            created_at=entry.created_at,
            actor=entry.actor,
            union=unions.get(entry.union_id or 0, ""),
            action=ACTION_LABELS.get(entry.action, entry.action),
            target=f"{entry.target_type}#{entry.target_id}" if entry.target_id else entry.target_type,
            before=_json(entry.before),
            after=_json(entry.after),
            address=entry.address,
        )
    return table, total


@bp.route("/")
@web.roles_required(AdminRole.ADMIN, AdminRole.AUDITOR)
def index() -> Any:
    fmt = requested_format()
    if fmt:
        return export_response(audit_table(None)[0], fmt)
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    table, total = audit_table(page)
    return render_template("admin/audit.html", table=table, total=total, page=page, page_size=PAGE_SIZE)


nav = web.NavItem.of("admin_audit.index", "操作日志", (AdminRole.ADMIN, AdminRole.AUDITOR))
