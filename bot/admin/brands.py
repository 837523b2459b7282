"""Brands: the filtered list (with exports) and a brand's page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Flask, render_template, request, url_for
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session, selectinload

from bot.admin import web
from bot.admin.export import export_links, export_response, requested_format
from bot.admin.programme.timeline import render_brand
from bot.admin.scoping import Scope
from handlers.tables import Column, Table
from models import Brand, BrandAlias, Stage, Union

bp = Blueprint("admin_brands", __name__, url_prefix="/admin/brands")
PAGE_SIZE = 50


@dataclass(frozen=True)
class BrandFilters:
    stage: Stage | None = None
    union_id: int | None = None
    q: str = ""

    @classmethod
    def from_args(cls, args: Any) -> BrandFilters:
        try:
            stage = Stage(args.get("stage", ""))
        except ValueError:
            stage = None
        union_id = args.get("union", type=int)
        return cls(stage, union_id, (args.get("q") or "").strip()[:100])


def brands_query(session: Session, sc: Scope, filters: BrandFilters) -> Select[tuple[Brand]]:
    stmt = sc.where_union(select(Brand), Brand.union_id)
    if filters.stage is not None:
        stmt = stmt.where(Brand.stage == filters.stage)
    if filters.union_id is not None:
        # A union outside the scope is a 404 (not an empty list that confirms it exists).
        union = sc.union(session, filters.union_id)
        stmt = stmt.where(Brand.union_id.in_(select(Union.id).where(Union.path.startswith(union.path))))
    if filters.q:
        pattern = "%" + filters.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(
            or_(
                Brand.name.ilike(pattern, escape="\\"),
                Brand.id.in_(select(BrandAlias.brand_id).where(BrandAlias.alias.ilike(pattern, escape="\\"))),
            )
        )
    return stmt.options(selectinload(Brand.aliases), selectinload(Brand.union)).order_by(Brand.name, Brand.id)


def brand_dict(brand: Brand) -> dict[str, Any]:
    return {
        "id": brand.id,
        "name": brand.name,
        "aliases": brand.alias_names,
        "union_id": brand.union_id,
        "union": brand.union.name,
        "stage": brand.stage.value,
        "stage_label": brand.stage.label,
        "summary": brand.summary,
        "created_at": brand.created_at,
        "updated_at": brand.updated_at,
    }


def brand_table(brands: list[Brand]) -> Table:
    return Table(
        "工作品牌",
        [
            Column("name", "品牌名称", link=lambda r: url_for("admin_brands.detail", brand_id=r["id"])),
            Column("aliases", "别名"),
            Column("union", "所属工会"),
            Column("stage_label", "阶段"),
            Column("updated_at", "更新时间"),
        ],
        [brand_dict(b) for b in brands],
    )


@bp.route("/")
def index() -> Any:
    sc = web.scope()
    session = web.db()
    filters = BrandFilters.from_args(request.args)
    stmt = brands_query(session, sc, filters)
    fmt = requested_format()
    if fmt:
        return export_response(brand_table(list(session.scalars(stmt))), fmt)
    page = web.paginate(stmt, PAGE_SIZE)
    table = brand_table(page.rows)
    unions = list(session.scalars(select(Union).where(sc.union_condition()).order_by(Union.path)))
    return render_template(
        "admin/brands.html",
        table=table,
        filters=filters,
        unions=unions,
        total=page.total,
        page=page.number,
        page_size=page.size,
        exports=export_links(),
    )


@bp.route("/<int:brand_id>")
def detail(brand_id: int) -> Any:
    return render_brand(web.scope().brand(web.db(), brand_id))  # the timeline and forms


nav = web.NavItem.of("admin_brands.index", "工作品牌")


def init_admin(app: Flask) -> None:
    """Serve this domain's pages (called once, by ``bot.admin.init_app``)."""
    app.register_blueprint(bp)
