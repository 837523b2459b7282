"""Overview of the account's subtree: counts, brands by stage (funnel), and panels other domains fill."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Flask, current_app, render_template
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.admin import web
from bot.admin.scoping import Scope
from handlers.tables import Column, Table
from models import Brand, Stage, Union

bp = Blueprint("admin_overview", __name__, url_prefix="/admin")

# A panel provider returns a Table to show, or None when its domain has nothing yet ("暂无数据").
PanelProvider = Callable[[Session, Scope], Table | None]


@dataclass(frozen=True)
class Panel:
    key: str
    title: str
    provider: PanelProvider


# The overview's layout: these panels lead, in this order; any other follows in registration order.
LEADING_PANELS = ("campaigns", "participation", "photos")


class PanelRegisteredTwice(RuntimeError):
    """Two modules registered a panel under one key (only one of them could be shown)."""


def register_panel(app: Flask, key: str, title: str, provider: PanelProvider) -> None:
    """Add an overview panel to ``app`` (a domain's ``init_admin`` adds each of its panels once)."""
    registered: dict[str, Panel] = app.extensions.setdefault("admin_panels", {})
    if key in registered:
        raise PanelRegisteredTwice(
            f"overview panel {key!r} is registered twice: by {registered[key].provider.__module__} "
            f"and by {provider.__module__}"
        )
    registered[key] = Panel(key, title, provider)


def panels() -> list[Panel]:
    """The app's panels in the overview's order."""
    registered: dict[str, Panel] = current_app.extensions.get("admin_panels", {})
    lead = {key: i for i, key in enumerate(LEADING_PANELS)}
    return sorted(registered.values(), key=lambda p: lead.get(p.key, len(lead)))


def overview_data(session: Session, sc: Scope) -> dict[str, Any]:
    by_stage = dict(
        session.execute(
            sc.where_union(select(Brand.stage, func.count(Brand.id)), Brand.union_id).group_by(Brand.stage)
        )
        .tuples()
        .all()
    )
    root = session.get(Union, sc.root_id)
    assert root is not None
    unions = int(session.scalar(select(func.count(Union.id)).where(sc.union_condition())) or 0)
    return {
        "union": {"id": root.id, "code": root.code, "name": root.name, "members": root.members},
        "unions": unions,
        "brands": sum(by_stage.values()),
        "stages": [{"stage": s.value, "label": s.label, "brands": by_stage.get(s, 0)} for s in Stage],
    }


@bp.route("/")
def index() -> Any:
    sc = web.scope()
    data = overview_data(web.read_db(), sc)
    stage_table = Table("品牌阶段分布", [Column("label", "阶段"), Column("brands", "品牌数")], data["stages"])
    shown = [(p, p.provider(web.read_db(), sc)) for p in panels()]
    chart = {
        "type": "funnel",
        "title": "品牌创建五个步骤",
        "data": [{"name": s["label"], "value": s["brands"]} for s in data["stages"]],
    }
    return render_template(
        "admin/overview.html", data=data, stage_table=stage_table, panels=shown, chart=chart
    )


nav = web.NavItem.of("admin_overview.index", "总览")


def init_admin(app: Flask) -> None:
    """Serve this domain's pages (called once, by ``bot.admin.init_app``)."""
    app.register_blueprint(bp)
