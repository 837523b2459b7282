"""Supervision (督导): which units lack brands, which brands went quiet, which reviews are late.

Targets from the provincial plan: every city and county union creates 1–2 brands, every
province department and industrial union at least one. Three aggregate queries over a
subtree (materialised path prefix), whatever its size.
"""

from __future__ import annotations

import io
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, select, true
from sqlalchemy.orm import Session

from handlers.cells import SafeCsvWriter
from models import Brand, Stage, Union, UnionKind
from models.programme import Assessment, ProgressReport, StageTransition

# kind → (minimum, maximum or None) brands expected of a unit of that kind.
TARGETS: dict[UnionKind, tuple[int, int | None]] = {
    UnionKind.CITY: (1, 2),
    UnionKind.COUNTY: (1, 2),
    UnionKind.PROVINCE_DEPT: (1, None),
    UnionKind.INDUSTRY: (1, None),
}
STALE_AFTER = timedelta(days=60)
REVIEW_DUE = timedelta(days=30)


@dataclass(frozen=True)
class MissingUnit:
    code: str
    name: str
    kind: str
    expected: str


@dataclass(frozen=True)
class QuietBrand:
    brand: str
    union_code: str
    union: str
    stage: str
    last_report: str | None
    days: int


@dataclass(frozen=True)
class OverdueReview:
    brand: str
    union_code: str
    union: str
    reviewing_since: str
    days: int


@dataclass
class CoverageReport:
    root: str
    generated_at: str
    units_expected: int = 0
    units_covered: int = 0
    missing: list[MissingUnit] = field(default_factory=list)
    quiet: list[QuietBrand] = field(default_factory=list)
    overdue: list[OverdueReview] = field(default_factory=list)


def _expected(kind: UnionKind) -> str:
    low, high = TARGETS[kind]
    return f"{low}–{high} 个" if high else f"至少 {low} 个"


def coverage(session: Session, now: datetime, root: Union | None = None) -> CoverageReport:
    in_tree: ColumnElement[bool] = Union.path.startswith(root.path) if root is not None else true()
    report = CoverageReport(root=root.name if root else "全部", generated_at=now.isoformat())

    brand_count = select(Brand.union_id, func.count(Brand.id).label("n")).group_by(Brand.union_id).subquery()
    units = session.execute(
        select(Union.code, Union.name, Union.kind, func.coalesce(brand_count.c.n, 0))
        .outerjoin(brand_count, brand_count.c.union_id == Union.id)
        .where(in_tree, Union.kind.in_(list(TARGETS)))
        .order_by(Union.path)
    ).all()
    report.units_expected = len(units)
    for code, name, kind, n in units:
        if n == 0:
            report.missing.append(MissingUnit(code, name, kind.label, _expected(kind)))
        else:
            report.units_covered += 1

    last = (
        select(ProgressReport.brand_id, func.max(ProgressReport.created_at).label("at"))
        .group_by(ProgressReport.brand_id)
        .subquery()
    )
    cutoff = now - STALE_AFTER
    quiet = session.execute(
        select(Brand.name, Union.code, Union.name, Brand.stage, Brand.created_at, last.c.at)
        .join(Union, Union.id == Brand.union_id)
        .outerjoin(last, last.c.brand_id == Brand.id)
        .where(in_tree, Brand.created_at < cutoff, (last.c.at.is_(None)) | (last.c.at < cutoff))
        .order_by(Union.path, Brand.name)
    ).all()
    for name, code, union, stage, created_at, at in quiet:
        since = at or created_at
        report.quiet.append(
            QuietBrand(
                name, code, union, stage.label, at.date().isoformat() if at else None, (now - since).days
            )
        )

    entered = (
        select(StageTransition.brand_id, func.max(StageTransition.at).label("at"))
        .where(StageTransition.to_stage == Stage.REVIEWING)
        .group_by(StageTransition.brand_id)
        .subquery()
    )
    reviewed = (
        select(Assessment.brand_id, func.max(Assessment.created_at).label("at"))
        .where(Assessment.kind == "review")
        .group_by(Assessment.brand_id)
        .subquery()
    )
    late = session.execute(
        select(Brand.name, Union.code, Union.name, entered.c.at)
        .join(Union, Union.id == Brand.union_id)
        .join(entered, entered.c.brand_id == Brand.id)
        .outerjoin(reviewed, reviewed.c.brand_id == Brand.id)
        .where(
            in_tree,
            Brand.stage == Stage.REVIEWING,
            entered.c.at < now - REVIEW_DUE,
            (reviewed.c.at.is_(None)) | and_(reviewed.c.at < entered.c.at),
        )
        .order_by(Union.path, Brand.name)
    ).all()
    for name, code, union, since in late:
        report.overdue.append(OverdueReview(name, code, union, since.date().isoformat(), (now - since).days))
    return report


# --- rendering --------------------------------------------------------------------------------


def as_json(report: CoverageReport) -> str:
    return json.dumps(asdict(report), ensure_ascii=False, indent=2)


def as_csv(report: CoverageReport) -> str:
    """One table: section, unit code, unit, brand, detail, days (for spreadsheets)."""
    out = io.StringIO()
    writer = SafeCsvWriter(out)
    writer.writerow(["类别", "工会代码", "工会", "品牌", "说明", "天数"])
    for m in report.missing:
        writer.writerow(["应创建未创建", m.code, m.name, "", f"{m.kind}，应有品牌{m.expected}", ""])
    for q in report.quiet:
        detail = f"{q.stage}；最近上报 {q.last_report or '无'}"
        writer.writerow(["超过60天未上报", q.union_code, q.union, q.brand, detail, q.days])
    for o in report.overdue:
        writer.writerow(
            ["评议逾期", o.union_code, o.union, o.brand, f"{o.reviewing_since} 进入评议推广", o.days]
        )
    return out.getvalue()


def as_table(report: CoverageReport) -> str:
    lines = [
        f"品牌创建覆盖情况（范围：{report.root}）",
        f"应创建品牌的单位 {report.units_expected} 个，已创建 {report.units_covered} 个，"
        f"未创建 {len(report.missing)} 个。",
        "",
        f"一、应创建而未创建品牌的单位（{len(report.missing)}）",
    ]
    lines += [f"  {m.code}  {m.name}（{m.kind}，应有品牌{m.expected}）" for m in report.missing] or ["  无"]
    lines += ["", f"二、超过 60 天未上报进度的品牌（{len(report.quiet)}）"]
    lines += [
        f"  {q.brand}（{q.union}，{q.stage}）最近上报：{q.last_report or '从未上报'}，已 {q.days} 天"
        for q in report.quiet
    ] or ["  无"]
    lines += ["", f"三、评议逾期的品牌（进入评议推广超过 30 天未评议）（{len(report.overdue)}）"]
    lines += [
        f"  {o.brand}（{o.union}）{o.reviewing_since} 进入评议推广，已 {o.days} 天" for o in report.overdue
    ] or ["  无"]
    return "\n".join(lines)
