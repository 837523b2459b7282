"""Campaigns (评选/测评) and the 社会认可度 index in the dashboard.

Scoping rule. A campaign has an organising union (``Campaign.union_id``, set to the creating
account's union when created here; None for programme-wide campaigns made with the CLI). An
account sees a campaign when its organiser is in the account's subtree or when at least one of
its candidate brands is; in either case it sees only the rows of brands in its subtree (a
county sees its own brands in the province's campaign, never the neighbours'). The rank range
and tier stay those of the whole cohort: they are the campaign's result, not a local re-ranking.
Otherwise the campaign answers 404 by id.

The organiser's admins are the admins of the organising union and of its ancestors (for a
programme-wide campaign: admins of a top union). Only they close a campaign, invite reviewers,
adjudicate flags, and see a blind campaign's results before it closes.

Every number comes from ``handlers.recognition.report.results`` (the function behind
``flask --app bot recognition --format json``); the export has the columns of its CSV.
"""

from __future__ import annotations

import re
import statistics
import time
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.admin import surveys, web
from bot.admin.audit import ACTION_LABELS, record
from bot.admin.export import Column, Table, export_links, export_response, requested_format
from bot.admin.overview import register_panel
from bot.admin.scoping import Scope
from handlers.actor import Actor
from handlers.clock import SHANGHAI
from handlers.context import JobRequest
from handlers.recognition.adjudication import (
    closed_message,
    decide_flag,
)
from handlers.recognition.brand_checks import appeal, brand_checks, close_check, escalate_ring
from handlers.recognition.campaigns import (
    COHORT_LEVELS,
    CampaignError,
    campaign_cohort_label,
    create_campaign,
)
from handlers.recognition.closing import close_campaign
from handlers.recognition.fraud import FraudError
from handlers.recognition.live import REFRESH_JOB, StoredResults, refresh, stored_results
from handlers.recognition.report import HEAT_TITLE, results
from handlers.recognition.reviewer_codes import invite_reviewer
from models import Brand, Union, utcnow
from models.admin import AdminRole
from models.recognition import (
    Campaign,
    CampaignBrand,
    CampaignKind,
    FlagStatus,
    RecognitionEvent,
    RecognitionFlag,
    RecognitionFlagAudit,
)

bp = Blueprint("admin_recognition", __name__, url_prefix="/admin/campaigns")

ACTION_LABELS.update(
    {
        "campaign.create": "创建活动",
        "campaign.close": "结束活动",
        "campaign.invite_reviewer": "邀请党政评议人",
        "recognition.flag_confirm": "确认排除可疑答卷",
        "recognition.flag_restore": "恢复计入可疑答卷",
        "recognition.flag_propose": "提出复核意见（待第二位复核人）",
        "recognition.check_escalate": "换票圈升级为品牌核查",
        "recognition.check_appeal": "工会对核查结论申诉",
        "recognition.check_close": "结束品牌核查",
    }
)
FLAG_STATUS_LABELS = {
    FlagStatus.WATCH: "观察",
    FlagStatus.SUSPECT: "可疑（暂不计入）",
    FlagStatus.QUALITY_EXCLUDED: "质量排除",
    FlagStatus.EXCLUDED_FRAUD: "确认排除",
    FlagStatus.RESTORED: "已恢复计入",
}
STATUS_CHIPS = {"正常": "ok", "暂定": "provisional", "样本不足": "insufficient", "数据核查中": "review"}
TIER_ORDER = {"推荐推广": 0, "与平均水平无显著差异": 1, "重点提升": 2}
# Columns of `flask --app bot recognition --format csv` (handlers.recognition.report.csv_text).
EXPORT_COLUMNS = [
    Column("campaign", "活动"),
    Column("brand", "品牌"),
    Column("index", "社会认可度"),
    Column("low", "可信区间下限"),
    Column("high", "可信区间上限"),
    Column("status", "状态"),
    Column("tier", "分档"),
    Column("rank", "名次区间"),
    Column("ratings", "有效评价数"),
    Column("heat", "参与热度"),
    Column("suspect", "待核查"),
    Column("with_suspects", "含待核查指数"),
    Column("version", "方法版本"),
]


# --- scoping ----------------------------------------------------------------------------------


def brand_ids_in_scope(sc: Scope) -> Any:
    return select(Brand.id).where(Brand.union_id.in_(sc.union_ids()))


def campaigns_query(sc: Scope) -> Any:
    in_scope = select(CampaignBrand.campaign_id).where(CampaignBrand.brand_id.in_(brand_ids_in_scope(sc)))
    return (
        select(Campaign)
        .where(Campaign.union_id.in_(sc.union_ids()) | Campaign.id.in_(in_scope))
        .order_by(Campaign.opens_at.desc(), Campaign.id.desc())
    )


def campaign_or_404(session: Session, sc: Scope, campaign_id: int) -> Campaign:
    campaign: Campaign | None = session.scalar(campaigns_query(sc).where(Campaign.id == campaign_id))
    if campaign is None:
        abort(404)
    return campaign


def is_organiser(session: Session, sc: Scope, campaign: Campaign) -> bool:
    """An admin of the organising union or of one of its ancestors."""
    if sc.role is not AdminRole.ADMIN:
        return False
    if campaign.union_id is None:
        root = session.get(Union, sc.root_id)
        return root is not None and root.parent_id is None
    organiser = session.get(Union, campaign.union_id)
    return organiser is not None and organiser.path.startswith(sc.root_path)


def results_hidden(session: Session, sc: Scope, campaign: Campaign) -> bool:
    return campaign.blind and campaign.closed_at is None and not is_organiser(session, sc, campaign)


def state_label(campaign: Campaign, now: datetime) -> str:
    if campaign.is_open(now):
        return "进行中"
    if campaign.closed_at or (campaign.closes_at and campaign.closes_at <= now):
        return "已结束"
    return "未开始"


def page_results(session: Session, campaign: Campaign) -> StoredResults:
    """The stored results (snapshot, or the live report the background refresh keeps). Only a
    campaign never refreshed yet is computed here, once, and stored for the next requests."""
    stored = stored_results(session, campaign)
    if stored is None:
        refresh(session, campaign, utcnow())
        session.commit()
        stored = stored_results(session, campaign)
    if stored is None:  # a concurrent first refresh holds it: compute without storing
        return StoredResults(results(session, campaign), utcnow())
    return stored


def scoped_report(
    session: Session, sc: Scope, campaign: Campaign, full: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The CLI's JSON report with only the rows of brands in the account's subtree."""
    report = dict(full if full is not None else page_results(session, campaign).report)
    names = set(
        session.scalars(
            select(Brand.name)
            .join(CampaignBrand, CampaignBrand.brand_id == Brand.id)
            .where(CampaignBrand.campaign_id == campaign.id, Brand.id.in_(brand_ids_in_scope(sc)))
        )
    )
    report["cohort_size"] = len(report["brands"])
    report["brands"] = [b for b in report["brands"] if b["brand"] in names]
    return report


# --- views of the report ------------------------------------------------------------------------


def export_table(report: dict[str, Any]) -> Table:
    """Same columns and final disclosure row as the CLI's CSV; n, interval, status, version per row."""
    # Spreadsheet sheet titles and file names cannot hold these characters.
    safe = re.sub(r"[\\/:*?\[\]<>|\"]", "_", report["campaign"])
    table = Table(f"社会认可度-{safe}", EXPORT_COLUMNS)
    for b in report["brands"]:
        ci = b["ci"] or [None, None]
        rr = b["rank_range"]
        table.add(
            campaign=report["campaign"],
            brand=b["brand"],
            index="" if b["index"] is None else f"{b['index']:.1f}",
            low="" if ci[0] is None else f"{ci[0]:.1f}",
            high="" if ci[1] is None else f"{ci[1]:.1f}",
            status=b["status"],
            tier=b["tier"] or "",
            rank=f"第{rr[0]}–{rr[1]}位" if rr else "",
            ratings=b["ratings"],
            heat=b["heat"],
            suspect=b["suspect"],
            with_suspects="" if b["index_with_suspects"] is None else f"{b['index_with_suspects']:.1f}",
            version=report["method_version"],
        )
    table.add(campaign=report["disclosure"])
    return table


def _badges(b: dict[str, Any]) -> list[str]:
    out = []
    for entry in b["groups"].values():
        rep = entry["reputation"]["n"]
        if "awareness" in entry:
            out.append(f"{entry['label']} 评价 {rep} / 知晓 {entry['awareness']['n']}")
        else:
            out.append(f"{entry['label']} 评议人 {rep}")
    return out


def ranking_blocks(report: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Shown brands grouped by tier then RI; provisional (暂定) and insufficient apart.

    See docs/method/disclosure.md §3.
    """
    shown, provisional, insufficient = [], [], []
    for b in report["brands"]:
        row = {**b, "chip": STATUS_CHIPS.get(b["status"], "review"), "badges": _badges(b)}
        if b["index"] is None:
            insufficient.append(row)
        elif b["status"] == "暂定":
            provisional.append(row)
        else:
            shown.append(row)
    shown.sort(key=lambda r: (TIER_ORDER.get(r["tier"] or "", 3), -r["index"]))
    provisional.sort(key=lambda r: -r["index"])
    return {"shown": shown, "provisional": provisional, "insufficient": insufficient}


def interval_chart(rows: list[dict[str, Any]], median: float | None) -> dict[str, Any]:
    """Points with whiskers; the dashed line is the cohort's reference median the tiers use."""
    return {
        "type": "interval",
        "title": "社会认可度及95%可信区间",
        "median": median,
        "data": [
            {"name": r["brand"], "value": r["index"], "low": r["ci"][0], "high": r["ci"][1]} for r in rows
        ],
    }


def _mean_shown(entries: list[dict[str, Any]]) -> float | None:
    values = [e["value"] for e in entries if e.get("value") is not None]
    return round(sum(values) / len(values), 1) if values else None


def quadrant(report: dict[str, Any], full: dict[str, Any]) -> dict[str, Any]:
    """知名度 (mean of the shown W/S awareness values) × 美誉度 (mean of the shown reputation values).

    The median lines are the whole cohort's (every brand of the campaign), as the method says.
    """

    def point(b: dict[str, Any]) -> tuple[float | None, float | None]:
        groups = b["groups"].values()
        aw = _mean_shown([g["awareness"] for g in groups if "awareness" in g])
        rep = _mean_shown([g["reputation"] for g in groups])
        return aw, rep

    cohort = [point(b) for b in full["brands"]]
    xs = [x for x, y in cohort if x is not None and y is not None]
    ys = [y for x, y in cohort if x is not None and y is not None]
    mx = round(statistics.median(xs), 1) if xs else None
    my = round(statistics.median(ys), 1) if ys else None
    rows = []
    for b in report["brands"]:
        x, y = point(b)
        if x is None or y is None:
            label = "样本不足"
        else:
            label = (
                ("知名度较高" if x >= (mx or 0) else "知名度较低")
                + "·"
                + ("美誉度较高" if y >= (my or 0) else "美誉度较低")
            )
        rows.append({"brand": b["brand"], "awareness": x, "reputation": y, "quadrant": label})
    plotted = [r for r in rows if r["awareness"] is not None and r["reputation"] is not None]
    return {
        "table": Table(
            "知名度与美誉度",
            [
                Column("brand", "品牌"),
                Column("awareness", "知名度"),
                Column("reputation", "美誉度"),
                Column("quadrant", "象限（相对全体中位数）"),
            ],
            [
                {
                    **r,
                    "awareness": r["awareness"] if r["awareness"] is not None else "样本不足",
                    "reputation": r["reputation"] if r["reputation"] is not None else "样本不足",
                }
                for r in rows
            ],
        ),
        "chart": {
            "type": "quadrant",
            "title": "知名度 × 美誉度",
            "mx": mx,
            "my": my,
            "data": [{"name": r["brand"], "value": [r["awareness"], r["reputation"]]} for r in plotted],
        }
        if plotted and mx is not None
        else None,
        "medians": (mx, my),
    }


def groups_table(report: dict[str, Any]) -> Table:
    """Per brand and group: awareness and reputation as the report displays them (样本不足 below n)."""
    table = Table(
        "分群体结果",
        [
            Column("brand", "品牌"),
            Column("group", "群体"),
            Column("awareness", "知名度"),
            Column("awareness_n", "知晓题 n"),
            Column("reputation", "美誉度"),
            Column("reputation_n", "评价 n"),
        ],
    )
    for b in report["brands"]:
        for entry in b["groups"].values():
            aw = entry.get("awareness")
            rep = entry["reputation"]
            table.add(
                brand=b["brand"],
                group=entry["label"],
                awareness=_component_text(aw) if aw else "（不适用）",
                awareness_n=aw["n"] if aw else "",
                reputation=_component_text(rep),
                reputation_n=rep["n"],
            )
    return table


def _component_text(c: dict[str, Any]) -> str:
    if c["value"] is None:
        return "样本不足"  # suppressed: never a number below the show threshold
    ci = c["ci"]
    return f"{c['value']:.1f}（{ci[0]:.1f}–{ci[1]:.1f}）" if ci else f"{c['value']:.1f}"


def heat_table(report: dict[str, Any]) -> Table:
    rows = sorted(report["brands"], key=lambda b: -b["heat"])
    return Table(
        HEAT_TITLE,
        [Column("brand", "品牌"), Column("heat", "支持票数")],
        [{"brand": b["brand"], "heat": b["heat"]} for b in rows],
    )


def suspects_table(report: dict[str, Any]) -> Table:
    return Table(
        "含与不含可疑答卷的指数",
        [
            Column("brand", "品牌"),
            Column("index", "社会认可度（不含可疑）"),
            Column("with_suspects", "含可疑答卷时"),
            Column("suspect", "可疑答卷数"),
            Column("watch", "观察中"),
        ],
        [
            {
                "brand": b["brand"],
                "index": "样本不足" if b["index"] is None else f"{b['index']:.1f}",
                "with_suspects": "样本不足"
                if b["index_with_suspects"] is None
                else f"{b['index_with_suspects']:.1f}",
                "suspect": b["suspect"],
                "watch": b["watch"],
            }
            for b in report["brands"]
        ],
    )


def trend_points(session: Session, sc: Scope, campaign: Campaign) -> Table | None:
    """RI of the page's brands in earlier closed campaigns' snapshots; None when only one point."""
    report = scoped_report(session, sc, campaign)
    names = {b["brand"] for b in report["brands"]}
    others = [
        c
        for c in session.scalars(campaigns_query(sc).where(Campaign.closed_at.is_not(None)))
        if c.id != campaign.id and not results_hidden(session, sc, c)
    ]
    rows = []
    for c in sorted([*others, campaign], key=lambda c: c.opens_at):
        rep = page_results(session, c).report
        for b in rep["brands"]:
            if b["brand"] in names:
                rows.append(
                    {
                        "campaign": c.name,
                        "date": rep["data_cutoff"][:10],
                        "brand": b["brand"],
                        "index": "样本不足" if b["index"] is None else f"{b['index']:.1f}",
                        "ci": "" if not b["ci"] else f"{b['ci'][0]:.1f}–{b['ci'][1]:.1f}",
                    }
                )
    if len({r["campaign"] for r in rows}) < 2:
        return None
    return Table(
        "历次结果",
        [
            Column("campaign", "活动"),
            Column("date", "数据截至"),
            Column("brand", "品牌"),
            Column("index", "社会认可度"),
            Column("ci", "95%可信区间"),
        ],
        rows,
    )


# --- pages ------------------------------------------------------------------------------------


def campaign_rows(session: Session, sc: Scope, now: datetime) -> list[dict[str, Any]]:
    in_scope = set(session.scalars(brand_ids_in_scope(sc)))
    unions = dict(session.execute(select(Union.id, Union.name)).tuples().all())
    rows = []
    for c in session.scalars(campaigns_query(sc)):
        rows.append(
            {
                "id": c.id,
                "name": c.name,
                "kind": c.kind.label,
                "state": state_label(c, now),
                "organiser": unions.get(c.union_id or 0, "全省（命令行创建）"),
                "brands": sum(1 for e in c.entries if e.brand_id in in_scope),
                "total": len(c.entries),
                "opens_at": c.opens_at,
                "closes_at": c.closes_at,
                "blind": c.blind,
            }
        )
    return rows


def _when(value: str) -> datetime | None:
    value = value.strip()
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise CampaignError(f"时间格式不正确：{value}") from exc
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=SHANGHAI)).astimezone(UTC)


@bp.route("/", methods=["GET"])
def index() -> Any:
    sc = web.scope()
    session = web.db()
    now = utcnow()
    rows = campaign_rows(session, sc, now)
    brands = list(
        session.scalars(select(Brand).where(Brand.id.in_(brand_ids_in_scope(sc))).order_by(Brand.name))
    )
    return render_template(
        "admin/campaigns.html",
        rows=rows,
        brands=brands,
        can_write=sc.can_write,
        kinds=list(CampaignKind),
        cohort_levels=COHORT_LEVELS,
    )


@bp.route("/", methods=["POST"])
@web.write_required
def create() -> Any:
    sc = web.scope()
    session = web.db()
    form = request.form
    in_scope = {b.id: b for b in session.scalars(select(Brand).where(Brand.id.in_(brand_ids_in_scope(sc))))}
    try:
        ids = [int(v) for v in form.getlist("brands")]
    except ValueError:
        abort(400, description="候选品牌无效")
    if any(i not in in_scope for i in ids):
        abort(404)  # a brand outside the subtree: as if it did not exist
    try:
        max_choices = int(form.get("max_choices", "1") or "1")
        campaign = create_campaign(
            session,
            form.get("name", ""),
            form.get("kind", ""),
            [in_scope[i].name for i in ids],
            utcnow(),
            _when(form.get("opens", "")),
            _when(form.get("closes", "")),
            max_choices,
            form.get("blind") == "1",
            # The creating account's union organises it; its subtree is the cohort's region.
            union=session.get(Union, sc.root_id) if sc.root_id is not None else None,
            cohort_level=form.get("cohort_level") or None,
        )
    except (CampaignError, ValueError) as exc:
        session.rollback()
        flash(str(exc) if isinstance(exc, CampaignError) else "每人最多支持数应为整数", "error")
        return redirect(url_for("admin_recognition.index"))
    campaign.union_id = sc.root_id  # the creating account's union organises it
    record(
        session,
        "campaign.create",
        "campaign",
        campaign.id,
        None,
        {
            "name": campaign.name,
            "kind": campaign.kind.value,
            "brands": [e.brand.name for e in campaign.entries],
            "blind": campaign.blind,
            "max_choices": campaign.max_choices,
        },
    )
    session.commit()
    flash(f"已创建活动「{campaign.name}」。", "success")
    return redirect(url_for("admin_recognition.detail", campaign_id=campaign.id))


@bp.route("/<int:campaign_id>")
def detail(campaign_id: int) -> Any:
    sc = web.scope()
    session = web.db()
    campaign = campaign_or_404(session, sc, campaign_id)
    hidden = results_hidden(session, sc, campaign)
    organiser = is_organiser(session, sc, campaign)
    ctx: dict[str, Any] = {
        "campaign": campaign,
        "state": state_label(campaign, utcnow()),
        "hidden": hidden,
        "organiser": organiser,
        "new_code": None,
        "cohort": campaign_cohort_label(session, campaign),
    }
    if hidden:
        if requested_format():
            abort(403)
        return render_template("admin/campaign_detail.html", **ctx)
    stored = page_results(session, campaign)
    full = stored.report
    report = scoped_report(session, sc, campaign, full)
    if fmt := requested_format():
        return export_response(export_table(report), fmt)
    blocks = ranking_blocks(report)
    quad = quadrant(report, full)
    heat = heat_table(report)
    ctx.update(
        report=report,
        blocks=blocks,
        interval=interval_chart(blocks["shown"] + blocks["provisional"], report.get("reference_median")),
        quad=quad,
        groups=groups_table(report),
        heat=heat,
        heat_chart={
            "type": "hbar",
            "title": HEAT_TITLE,
            "data": [{"name": r["brand"], "value": r["heat"]} for r in heat.rows],
        },
        trend=trend_points(session, sc, campaign),
        exports=export_links(),
        freshness=stored.freshness(utcnow()),
    )
    return render_template("admin/campaign_detail.html", **ctx)


def _organiser_campaign(campaign_id: int) -> Campaign:
    sc = web.scope()
    campaign = campaign_or_404(web.db(), sc, campaign_id)
    if not is_organiser(web.db(), sc, campaign):
        abort(403)
    return campaign


@bp.route("/<int:campaign_id>/close", methods=["POST"])
@web.write_required
def close(campaign_id: int) -> Any:
    session = web.db()
    campaign = _organiser_campaign(campaign_id)
    try:
        snap = close_campaign(session, campaign, Actor.admin(web.current_account().username), utcnow())
    except CampaignError as exc:
        session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("admin_recognition.detail", campaign_id=campaign_id))
    record(
        session,
        "campaign.close",
        "campaign",
        campaign.id,
        {"closed_at": None},
        {"closed_at": campaign.closed_at.isoformat() if campaign.closed_at else None, "sha256": snap.sha256},
    )
    session.commit()
    flash(f"活动已结束，正式结果快照 sha256：{snap.sha256}", "success")
    return redirect(url_for("admin_recognition.detail", campaign_id=campaign_id))


@bp.route("/<int:campaign_id>/invite", methods=["POST"])
@web.write_required
def invite(campaign_id: int) -> Any:
    session = web.db()
    campaign = _organiser_campaign(campaign_id)
    reviewer = request.form.get("reviewer", "").strip()[:100]
    unit = request.form.get("unit", "").strip()[:200]
    recuse = request.form.get("recuse_union", "").strip() or None
    if not reviewer or not unit:
        flash("请填写评议人姓名和所在单位。", "error")
        return redirect(url_for("admin_recognition.detail", campaign_id=campaign_id))
    try:
        code = invite_reviewer(session, campaign, reviewer, unit, recuse)
    except CampaignError as exc:
        session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("admin_recognition.detail", campaign_id=campaign_id))
    # The code itself is never logged or stored (only its hash): it is shown on this one page.
    record(
        session,
        "campaign.invite_reviewer",
        "campaign",
        campaign.id,
        None,
        {"reviewer": reviewer, "unit": unit},
    )
    session.commit()
    return render_template("admin/campaign_invite.html", campaign=campaign, code=code, reviewer=reviewer)


@bp.route("/method")
def method() -> Any:
    from config.recognition import default_config

    return render_template("admin/recognition_method.html", cfg=default_config())


# --- flags ------------------------------------------------------------------------------------


def latest_flags(session: Session, sc: Scope, campaign: Campaign) -> list[dict[str, Any]]:
    """The newest version of each (event, rule) flag on brands in scope. Opaque ids only: the flag
    id and the brand, never the respondent's identity hash."""
    rows = session.execute(
        select(
            RecognitionFlag, RecognitionEvent.brand_id, RecognitionEvent.grp, RecognitionEvent.submitted_at
        )
        .join(RecognitionEvent, RecognitionEvent.id == RecognitionFlag.event_id)
        .where(
            RecognitionEvent.campaign_id == campaign.id,
            RecognitionEvent.brand_id.in_(brand_ids_in_scope(sc)),
        )
        .order_by(RecognitionFlag.id)
    ).all()
    latest: dict[tuple[int, str], Any] = {}
    for flag, brand_id, grp, at in rows:
        latest[(flag.event_id, flag.rule_id)] = (flag, brand_id, grp, at)
    names = dict(session.execute(select(Brand.id, Brand.name)).tuples().all())
    out = []
    labels = {"confirm": "确认排除", "restore": "恢复计入"}
    # Pending opinions (one adjudicator so far) of the shown flag versions, in one query.
    opinions: dict[int, list[tuple[str, str]]] = {}
    shown_ids = {r[0].id for r in latest.values()}
    for flag_id, action, actor in session.execute(
        select(RecognitionFlagAudit.flag_id, RecognitionFlagAudit.action, RecognitionFlagAudit.actor)
        .join(RecognitionFlag, RecognitionFlag.id == RecognitionFlagAudit.flag_id)
        .join(RecognitionEvent, RecognitionEvent.id == RecognitionFlag.event_id)
        .where(RecognitionEvent.campaign_id == campaign.id, RecognitionFlagAudit.action.like("propose_%"))
        .order_by(RecognitionFlagAudit.id)
    ):
        if flag_id in shown_ids:
            opinions.setdefault(flag_id, []).append((action.removeprefix("propose_"), actor))
    for flag, brand_id, grp, at in sorted(latest.values(), key=lambda r: r[0].id, reverse=True):
        out.append(
            {
                "id": flag.id,
                "rule": flag.rule_id,
                "status": flag.status,
                "status_label": FLAG_STATUS_LABELS[flag.status],
                "brand": names.get(brand_id or 0, ""),
                "group": {"W": "职工", "S": "公众", "G": "党政"}.get(grp, grp),
                "submitted_at": at,
                "reason": flag.reason,
                "decided_by": "系统" if flag.decided_by == "system" else flag.decided_by,
                "pending": "；".join(f"{a}：{labels[d]}" for d, a in opinions.get(flag.id, [])),
                "brand_id": brand_id,
                "pair": flag.params.get("pair") if flag.rule_id == "B7_exchange_ring" else None,
            }
        )
    return out


@bp.route("/<int:campaign_id>/flags")
def flags(campaign_id: int) -> Any:
    sc = web.scope()
    session = web.db()
    campaign = campaign_or_404(session, sc, campaign_id)
    if results_hidden(session, sc, campaign):
        abort(403)
    items = latest_flags(session, sc, campaign)
    summary: dict[tuple[str, str], int] = {}
    for f in items:
        summary[(f["rule"], f["status_label"])] = summary.get((f["rule"], f["status_label"]), 0) + 1
    summary_table = Table(
        "标记汇总",
        [Column("rule", "规则"), Column("status", "状态"), Column("count", "条数")],
        [{"rule": r, "status": s, "count": n} for (r, s), n in sorted(summary.items())],
    )
    report = scoped_report(session, sc, campaign)
    organiser = is_organiser(session, sc, campaign)
    now = utcnow()
    in_scope = set(session.scalars(brand_ids_in_scope(sc)))
    names = dict(session.execute(select(Brand.id, Brand.name)).tuples().all())
    checks = Table(
        "未结束的品牌核查",
        [
            Column("brand", "品牌"),
            Column("trigger", "起因"),
            Column("reason", "说明"),
            Column("opened", "开始"),
            Column("deadline", "期限"),
            Column("state", "进度"),
        ],
        [
            {
                "brand": names.get(k.brand_id, ""),
                "trigger": k.trigger_label,
                "reason": k.reason,
                "opened": k.opened_at,
                "deadline": k.deadline,
                "state": ("已逾期" if k.overdue else "进行中")
                + (f"（已同意结束：{'、'.join(k.proposed_by)}）" if k.proposed_by else ""),
            }
            for k in brand_checks(session, campaign, now)
            if k.brand_id in in_scope
        ],
    )
    rings = sorted(
        {
            tuple(f["pair"])
            for f in items
            if f["pair"] and f["status"] == FlagStatus.WATCH and len(f["pair"]) == 2
        }
    )
    open_ = campaign.closed_at is None
    return render_template(
        "admin/campaign_flags.html",
        campaign=campaign,
        items=items,
        summary=summary_table,
        suspects=suspects_table(report),
        report=report,
        checks=checks,
        rings=[(a, b, names.get(a, ""), names.get(b, "")) for a, b in rings],
        brands=[
            (b, names.get(b, "")) for b in sorted(in_scope) if any(e.brand_id == b for e in campaign.entries)
        ],
        can_decide=organiser and open_,
        can_appeal=sc.can_write and sc.role is AdminRole.ADMIN and open_,
    )


@bp.route("/<int:campaign_id>/flags/<int:flag_id>", methods=["POST"])
@web.write_required
def decide(campaign_id: int, flag_id: int) -> Any:
    sc = web.scope()
    session = web.db()
    campaign = _organiser_campaign(campaign_id)
    if not any(f["id"] == flag_id for f in latest_flags(session, sc, campaign)):
        abort(404)
    decision = request.form.get("decision", "")
    reason = request.form.get("reason", "").strip()[:500]
    if campaign.closed_at is not None:
        flash(closed_message(campaign), "error")
        return redirect(url_for("admin_recognition.flags", campaign_id=campaign_id))
    before = session.get(RecognitionFlag, flag_id)
    assert before is not None
    before_status = before.status.value
    try:
        d = decide_flag(
            session, flag_id, decision, Actor.admin(web.current_account().username), reason, utcnow()
        )
    except FraudError as exc:
        session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("admin_recognition.flags", campaign_id=campaign_id))
    assert d.flag is not None
    record(
        session,
        "recognition.flag_" + (decision if d.effective else "propose"),
        "recognition_flag",
        flag_id,
        {"status": before_status},
        {
            "status": d.flag.status.value,
            "new_flag": d.flag.id if d.effective else None,
            "decision": decision,
            "reason": reason,
            "adjudicators": list(d.agreed),
        },
    )
    _commit_and_refresh(session, campaign_id)  # the figures change with the decision
    if d.effective:
        flash(
            f"已生效：标记 {flag_id} → {FLAG_STATUS_LABELS[d.flag.status]}（{'、'.join(d.agreed)}）。",
            "success",
        )
    else:
        flash(f"已记录您的复核意见；需另一位复核人作出相同结论后，标记 {flag_id} 才改变。", "success")
    return redirect(url_for("admin_recognition.flags", campaign_id=campaign_id))


def _commit_and_refresh(session: Any, campaign_id: int) -> None:
    """Commit with a live-report refresh staged in the same transaction, then hand it on."""
    ids = web.runtime().queue.stage(session, [JobRequest(REFRESH_JOB, {"campaign_id": campaign_id})])
    session.commit()
    web.runtime().queue.dispatch(ids)


def _form_brand(name: str, campaign: Campaign, sc: Scope) -> int:
    try:
        brand_id = int(request.form.get(name, ""))
    except ValueError:
        abort(400, description="品牌无效")
    session = web.db()
    if brand_id not in set(session.scalars(brand_ids_in_scope(sc))) or all(
        e.brand_id != brand_id for e in campaign.entries
    ):
        abort(404)
    return brand_id


def _check_action(campaign_id: int, action: str, run: Any, detail: dict[str, Any], done: Any) -> Any:
    """Run a check action; on success audit it and flash ``done(result)``, else flash the error."""
    session = web.db()
    try:
        out = run()
    except FraudError as exc:
        session.rollback()
        flash(str(exc), "error")
    else:
        record(session, action, "campaign", campaign_id, None, detail)
        _commit_and_refresh(session, campaign_id)  # a check changes the brand's status
        flash(done(out), "success")
    return redirect(url_for("admin_recognition.flags", campaign_id=campaign_id))


@bp.route("/<int:campaign_id>/checks/escalate", methods=["POST"])
@web.write_required
def escalate(campaign_id: int) -> Any:
    sc = web.scope()
    campaign = _organiser_campaign(campaign_id)
    pair = (_form_brand("brand_a", campaign, sc), _form_brand("brand_b", campaign, sc))
    reason = request.form.get("reason", "").strip()[:500]
    actor = Actor.admin(web.current_account().username)
    return _check_action(
        campaign_id,
        "recognition.check_escalate",
        lambda: escalate_ring(web.db(), campaign, pair, actor, reason, utcnow()),
        {"brands": list(pair), "reason": reason},
        lambda _: "已升级为品牌核查：两个品牌在核查结束前显示为数据核查中。",
    )


@bp.route("/<int:campaign_id>/checks/close", methods=["POST"])
@web.write_required
def end_check(campaign_id: int) -> Any:
    sc = web.scope()
    campaign = _organiser_campaign(campaign_id)
    brand_id = _form_brand("brand", campaign, sc)
    reason = request.form.get("reason", "").strip()[:500]
    actor = Actor.admin(web.current_account().username)
    return _check_action(
        campaign_id,
        "recognition.check_close",
        lambda: close_check(web.db(), campaign, brand_id, actor, reason, utcnow()),
        {"brand": brand_id, "reason": reason},
        lambda d: "核查已结束。" if d.effective else "已记录您的意见；需另一位复核人同意后核查才结束。",
    )


@bp.route("/<int:campaign_id>/checks/appeal", methods=["POST"])
@web.write_required
def appeal_check(campaign_id: int) -> Any:
    """The owning union (an admin whose subtree holds the brand) contests a decided check."""
    sc = web.scope()
    session = web.db()
    campaign = campaign_or_404(session, sc, campaign_id)
    if sc.role is not AdminRole.ADMIN:
        abort(403)
    brand_id = _form_brand("brand", campaign, sc)
    reason = request.form.get("reason", "").strip()[:500]
    actor = Actor.admin(web.current_account().username)
    return _check_action(
        campaign_id,
        "recognition.check_appeal",
        lambda: appeal(session, campaign, brand_id, actor, reason, utcnow()),
        {"brand": brand_id, "reason": reason},
        lambda _: "申诉已提交：该品牌重新进入核查，由两位复核人复核。",
    )


# --- overview panel ---------------------------------------------------------------------------


def campaigns_panel(session: Session, sc: Scope) -> Table | None:
    now = utcnow()
    rows = [r for r in campaign_rows(session, sc, now) if r["state"] == "进行中"]
    if not rows:
        return None
    counts = dict(
        session.execute(
            select(RecognitionEvent.campaign_id, func.count(RecognitionEvent.id))
            .where(
                RecognitionEvent.campaign_id.in_([r["id"] for r in rows]),
                RecognitionEvent.brand_id.in_(brand_ids_in_scope(sc)),
            )
            .group_by(RecognitionEvent.campaign_id)
        )
        .tuples()
        .all()
    )
    return Table(
        "进行中的活动",
        [
            Column("name", "活动", link=lambda r: url_for("admin_recognition.detail", campaign_id=r["id"])),
            Column("kind", "类型"),
            Column("brands", "本范围候选品牌"),
            Column("events", "评价与投票"),
            Column("closes_at", "截止"),
        ],
        [{**r, "events": counts.get(r["id"], 0)} for r in rows],
    )


# Distinct participants scan all of a campaign's events (a third of the overview's time at a
# million): counted at most once a minute per campaign and scope, per process.
PARTICIPANTS_TTL_S = 60.0
_participants: dict[tuple[int, str, bool], tuple[float, int]] = {}


def participation_panel(session: Session, sc: Scope) -> Table | None:
    """The surveys' participation rows plus, per running campaign, the workers of this subtree
    who voted or rated (distinct identities of group W whose union is in scope) against members."""
    table = surveys.participation_panel(session, sc)
    root = session.get(Union, sc.root_id)
    members = root.members if root is not None else None
    rows = [r for r in campaign_rows(session, sc, utcnow()) if r["state"] == "进行中"]
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
        where_union = (
            RecognitionEvent.union_path == sc.root_path
            if sc.role is AdminRole.CADRE
            else RecognitionEvent.union_path.startswith(sc.root_path)
        )
        key = (r["id"], sc.root_path, sc.role is AdminRole.CADRE)
        hit = _participants.get(key)
        if hit is not None and time.monotonic() < hit[0]:
            n = hit[1]
        else:
            n = int(
                session.scalar(
                    select(func.count(func.distinct(RecognitionEvent.identity_hash))).where(
                        RecognitionEvent.campaign_id == r["id"], RecognitionEvent.grp == "W", where_union
                    )
                )
                or 0
            )
            _participants[key] = (time.monotonic() + PARTICIPANTS_TTL_S, n)
        rate = f"{100.0 * n / members:.2f}%" if members else "—（未填会员数）"
        table.add(title=f"活动：{r['name']}（参与的职工）", complete=n, members=members, rate=rate)
    return table if table.rows else None


register_panel("campaigns", "进行中的活动", campaigns_panel)
# Replaces the surveys' panel (imported above, so registered first) with one that adds campaigns.
register_panel("participation", "参与情况（问卷答卷与活动参与 / 会员数）", participation_panel)

nav = web.NavItem.of("admin_recognition.index", "评选与社会认可度")
