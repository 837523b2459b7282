"""Importing the union tree and brands from a file, within the account's subtree."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from flask import render_template, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.admin import web
from bot.admin.audit_log import record
from bot.admin.programme.access import admin_actor
from bot.admin.programme.blueprint import bp
from bot.admin.scoping import Scope
from handlers.programme.imports.brands import BRAND_COLUMNS, import_brands
from handlers.programme.imports.files import ImportFailed, ImportResult, read_rows
from handlers.programme.imports.unions import ORG_COLUMNS, import_orgs
from models import Brand, Union, utcnow
from models.admin import AdminRole

# Uploads may be larger than the app-wide 256 KB limit (set for the webhook); web.py applies
# this limit to these endpoints only, before the CSRF check reads the form.
UPLOAD_MAX_BYTES = 8 * 1024 * 1024
web.UPLOAD_LIMITS["admin_programme.imports"] = UPLOAD_MAX_BYTES

IMPORT_KINDS = {"orgs": ("工会组织", ORG_COLUMNS), "brands": ("工作品牌", BRAND_COLUMNS)}


def _scope_problems(
    session: Session, sc: Scope, kind: str, rows: list[tuple[int, dict[str, str]]]
) -> list[str]:
    """Rows that would reach outside the account's subtree (the import itself sees the whole tree)."""
    in_scope = set(session.scalars(select(Union.code).where(sc.union_condition())))
    all_codes = set(session.scalars(select(Union.code)))
    problems = []
    if kind == "orgs":
        root = session.get(Union, sc.root_id)
        assert root is not None
        root_parent = root.parent.code if root.parent else ""
        # New unions of this file may be parents; existing ones only when in scope.
        new_codes = {row.get("code", "") for _, row in rows} - all_codes
        for line, row in rows:
            code, parent = row.get("code", ""), row.get("parent_code", "")
            if code in all_codes and code not in in_scope:
                problems.append(f"第{line}行：工会代码 {code} 不在您的管辖范围内")
            elif code == root.code:
                if parent != root_parent:
                    problems.append(f"第{line}行：不能通过导入移动本级工会 {code}")
            elif not parent:
                problems.append(f"第{line}行：上级工会代码（parent_code）为空，新工会必须挂在您管辖的工会下")
            elif parent not in in_scope and parent not in new_codes:
                problems.append(f"第{line}行：上级工会代码 {parent} 不在您的管辖范围内")
    else:
        owners = dict(
            session.execute(select(Brand.name, Union.code).join(Union, Union.id == Brand.union_id))
            .tuples()
            .all()
        )
        for line, row in rows:
            code, name = row.get("org_code", ""), row.get("name", "")
            if code in all_codes and code not in in_scope:
                problems.append(f"第{line}行：所属工会代码 {code} 不在您的管辖范围内")
            elif name in owners and owners[name] not in in_scope:
                problems.append(f"第{line}行：品牌「{name}」属于您管辖范围以外的工会，不能修改")
    return problems


@bp.route("/import", methods=["GET", "POST"])
@web.roles_required(AdminRole.ADMIN)
def imports() -> Any:
    kind = request.values.get("kind", "orgs")
    if kind not in IMPORT_KINDS:
        kind = "orgs"
    errors: list[str] = []
    result: ImportResult | None = None
    status = 200
    if request.method == "POST":
        upload = request.files.get("file")
        columns = IMPORT_KINDS[kind][1]
        session = web.db()
        suffix = Path(upload.filename or "").suffix.lower() if upload else ""
        if upload is None or not upload.filename:
            errors = ["请选择要导入的 .csv 或 .xlsx 文件"]
        else:
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / f"upload{suffix}"
                upload.save(path)
                try:
                    rows = read_rows(path, columns)
                    problems = _scope_problems(session, web.scope(), kind, rows)
                    if problems:
                        raise ImportFailed(problems)
                    if kind == "orgs":
                        result = import_orgs(session, rows)
                    else:
                        account = web.current_account()
                        result = import_brands(session, rows, utcnow(), admin_actor(account), account)
                except ImportFailed as exc:
                    session.rollback()  # nothing half-imported
                    errors = exc.errors
        if result is not None:
            after = {
                "file": ((upload.filename or "") if upload else "")[:200],
                "created": result.created,
                "updated": result.updated,
            }
            record(session, f"import.{kind}", "import", None, None, after)
            session.commit()
        else:
            status = 400
    return (
        render_template(
            "admin/programme_import.html",
            kind=kind,
            kinds=IMPORT_KINDS,
            errors=errors,
            result=result,
            max_mb=UPLOAD_MAX_BYTES // (1024 * 1024),
        ),
        status,
    )
