"""The audit log's page: the entries of the account's subtree, with exports (admins, auditors).

Entries are written by ``bot.admin.audit_log.record``."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Flask, render_template, request
from sqlalchemy import select

from bot.admin import web
from bot.admin.export import export_response, requested_format
from handlers.glossary import action_label
from handlers.tables import Column, Table
from models import Union
from models.admin import AdminRole, AuditEntry

bp = Blueprint("admin_audit", __name__, url_prefix="/admin/audit")
PAGE_SIZE = 50


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
            action=action_label(entry.action),
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


def init_admin(app: Flask) -> None:
    """Serve this domain's pages (called once, by ``bot.admin.init_app``)."""
    app.register_blueprint(bp)
