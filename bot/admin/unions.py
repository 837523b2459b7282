"""The union tree of the account's scope, a union's page, and the export of the list."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, render_template, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.admin import web
from bot.admin.export import export_links, export_response, requested_format
from bot.admin.scoping import Scope
from handlers.tables import Column, Table
from models import Brand, Union

bp = Blueprint("admin_unions", __name__, url_prefix="/admin/unions")


def union_rows(session: Session, sc: Scope) -> list[dict[str, Any]]:
    """Unions in scope in tree order (path order is depth-first), with their own brand counts."""
    brand_counts = dict(
        session.execute(
            sc.where_union(select(Brand.union_id, func.count(Brand.id)), Brand.union_id).group_by(
                Brand.union_id
            )
        )
        .tuples()
        .all()
    )
    unions = list(session.scalars(select(Union).where(sc.union_condition())))
    names = {u.id: u.name for u in unions}
    root_depth = min((u.path.count("/") for u in unions), default=0)

    def tree_key(u: Union) -> list[int]:
        return [int(part) for part in u.path.strip("/").split("/")]

    rows = []
    for u in sorted(unions, key=tree_key):
        rows.append(
            {
                "id": u.id,
                "code": u.code,
                "name": u.name,
                "kind": u.kind.label,
                "kind_value": u.kind.value,
                "parent_id": u.parent_id,
                "parent": names.get(u.parent_id or 0, ""),
                "members": u.members,
                "brands": brand_counts.get(u.id, 0),
                "depth": u.path.count("/") - root_depth,
            }
        )
    return rows


def union_table(rows: list[dict[str, Any]]) -> Table:
    return Table(
        "工会组织",
        [
            Column("code", "代码"),
            Column("name", "名称", link=lambda r: url_for("admin_unions.detail", union_id=r["id"])),
            Column("kind", "类型"),
            Column("parent", "上级工会"),
            Column("members", "会员数"),
            Column("brands", "品牌数"),
        ],
        rows,
    )


@bp.route("/")
def index() -> Any:
    rows = union_rows(web.db(), web.scope())
    table = union_table(rows)
    fmt = requested_format()
    if fmt:
        return export_response(table, fmt)
    return render_template("admin/unions.html", rows=rows, table=table, exports=export_links())


@bp.route("/<int:union_id>")
def detail(union_id: int) -> Any:
    sc = web.scope()
    union = sc.union(web.db(), union_id)
    children = list(
        web.db().scalars(
            select(Union).where(Union.parent_id == union.id, sc.union_condition()).order_by(Union.id)
        )
    )
    brands = list(web.db().scalars(select(Brand).where(Brand.union_id == union.id).order_by(Brand.name)))
    # Ancestors above the account's own union are shown as plain text, not links (out of scope).
    visible = set(web.db().scalars(sc.union_ids()))
    return render_template(
        "admin/union_detail.html",
        union=union,
        children=children,
        brands=brands,
        ancestors=list(reversed(union.ancestors())),
        visible=visible,
    )


nav = web.NavItem.of("admin_unions.index", "组织架构")


def init_admin(app: Flask) -> None:
    """Serve this domain's pages (called once, by ``bot.admin.init_app``)."""
    app.register_blueprint(bp)
