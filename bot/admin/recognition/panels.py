"""The overview's panels of this domain: running campaigns, and participation (the surveys'
rows plus, per running campaign, the workers of the subtree who voted or rated)."""

from __future__ import annotations

from dataclasses import asdict

from flask import Flask, url_for
from sqlalchemy.orm import Session

from bot.admin import surveys
from bot.admin.overview import register_panel
from bot.admin.scoping import Scope
from handlers.recognition import scoped_queries as q
from handlers.tables import Column, Table
from models import Union, utcnow


def campaigns_panel(session: Session, sc: Scope) -> Table | None:
    now = utcnow()
    rows = [r for r in q.campaign_rows(session, sc, now) if r.state == q.OPEN]
    if not rows:
        return None
    counts = q.events_by_campaign(session, sc, [r.id for r in rows])
    return Table(
        "进行中的活动",
        [
            Column("name", "活动", link=lambda r: url_for("admin_recognition.detail", campaign_id=r["id"])),
            Column("kind", "类型"),
            Column("brands", "本范围候选品牌"),
            Column("events", "评价与投票"),
            Column("closes_at", "截止"),
        ],
        [{**asdict(r), "state": r.state_label, "events": counts.get(r.id, 0)} for r in rows],
    )


def participation_panel(session: Session, sc: Scope) -> Table | None:
    """The surveys' participation rows plus, per running campaign, the workers of this subtree
    who voted or rated (distinct identities of group W whose union is in scope) against members."""
    table = surveys.participation_panel(session, sc)
    root = session.get(Union, sc.root_id)
    members = root.members if root is not None else None
    rows = [r for r in q.campaign_rows(session, sc, utcnow()) if r.state == q.OPEN]
    if table is None:
        table = Table(
            "问卷参与情况",
            [
                Column("title", "问卷"),
                Column("complete", "完成答卷"),
                Column("members", "会员数"),
                Column("rate", "参与率"),
            ],
        )
    for r in rows:
        n = q.workers_taking_part(session, sc, r.id)
        rate = f"{100.0 * n / members:.2f}%" if members else "—（未填会员数）"
        table.add(title=f"活动：{r.name}（参与的职工）", complete=n, members=members, rate=rate)
    return table if table.rows else None


def register_panels(app: Flask) -> None:
    register_panel(app, "campaigns", "进行中的活动", campaigns_panel)
    # The one participation panel: the surveys' rows are part of it (surveys registers none).
    register_panel(app, "participation", "参与情况（问卷答卷与活动参与 / 会员数）", participation_panel)
