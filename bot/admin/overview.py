"""Overview of the account's subtree: counts, brands by stage (funnel), and panels other domains fill."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, render_template
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.admin import web
from bot.admin.export import Column, Table
from bot.admin.scoping import Scope
from models import Brand, Stage, Union

bp = Blueprint("admin_overview", __name__, url_prefix="/admin")

# A panel provider returns a Table to show, or None when its domain has nothing yet ("暂无数据").
PanelProvider = Callable[[Session, Scope], Table | None]


@dataclass(frozen=True)
class Panel:
    key: str
    title: str
    provider: PanelProvider


PANELS: dict[str, Panel] = {}


def register_panel(key: str, title: str, provider: PanelProvider) -> None:
    """Add (or replace, by key) an overview panel; domains register theirs when they exist."""
    PANELS[key] = Panel(key, title, provider)


def _nothing_yet(_session: Session, _scope: Scope) -> Table | None:
    return None


# Placeholders until a domain registers the real provider under the same key.
register_panel("campaigns", "进行中的活动", _nothing_yet)
register_panel("participation", "参与情况（投票与问卷 / 会员数）", _nothing_yet)
register_panel("photos", "最新活动照片", _nothing_yet)


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
    panels = [(p, p.provider(web.read_db(), sc)) for p in PANELS.values()]
    chart = {
        "type": "funnel",
        "title": "品牌创建五个步骤",
        "data": [{"name": s["label"], "value": s["brands"]} for s in data["stages"]],
    }
    return render_template(
        "admin/overview.html", data=data, stage_table=stage_table, panels=panels, chart=chart
    )


nav = web.NavItem.of("admin_overview.index", "总览")
