"""The programme's tables for export (CSV, XLSX) and pages: invitations and coverage."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from bot.admin.scoping import Scope
from handlers.programme import coverage as cov
from handlers.programme.queries import INVITATION_EXPIRED, INVITATION_OPEN, INVITATION_USED, invitation_state
from handlers.tables import Column, Table
from models import utcnow
from models.programme import Invitation

INVITATION_STATE_LABELS = {INVITATION_USED: "已使用", INVITATION_EXPIRED: "已过期", INVITATION_OPEN: "待使用"}


def invitation_table(session: Session, sc: Scope) -> Table:
    now = utcnow()
    table = Table(
        "干部邀请码",
        [
            Column("union", "工会"),
            Column("state", "状态"),
            Column("created_by", "签发人"),
            Column("created_at", "签发时间"),
            Column("expires_at", "有效期至"),
            Column("used_at", "使用时间"),
        ],
    )
    stmt = sc.where_union(select(Invitation), Invitation.union_id).options(selectinload(Invitation.union))
    for inv in session.scalars(stmt.order_by(Invitation.created_at.desc(), Invitation.id.desc()).limit(500)):
        table.add(
            union=inv.union.name,
            state=INVITATION_STATE_LABELS[invitation_state(inv, now)],
            created_by=inv.created_by,
            created_at=inv.created_at,
            expires_at=inv.expires_at,
            used_at=inv.used_at,
        )
    return table


def coverage_table(report: cov.CoverageReport) -> Table:
    """The CLI's CSV (``report coverage --format csv``) as a Table: the same columns and rows."""
    lines = list(csv.reader(io.StringIO(cov.as_csv(report))))
    columns = [Column(f"c{i}", title) for i, title in enumerate(lines[0])]
    table = Table("品牌创建覆盖情况", columns)
    for values in lines[1:]:
        table.add(**{f"c{i}": (int(v) if v.isdigit() else v) for i, v in enumerate(values)})
    return table
