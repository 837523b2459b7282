"""Campaigns: the list, creating one, a campaign's page (results, charts, export), closing it,
inviting a 党政 reviewer, and the method page. See the package's docstring for who sees what."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from bot.admin import web
from bot.admin.export import export_links, export_response, requested_format
from bot.admin.recognition import exports
from bot.admin.recognition.access import campaign_or_404, organiser_campaign, page_results, scoped_report
from config.recognition import default_config
from handlers.actor import Actor
from handlers.clock import SHANGHAI
from handlers.errors import OperationError
from handlers.glossary import CAMPAIGN_STATE_LABELS, GROUP_LABELS
from handlers.recognition import scoped_queries as q
from handlers.recognition.campaigns import (
    COHORT_LEVELS,
    CampaignError,
    campaign_cohort_label,
    create_campaign,
)
from handlers.recognition.closing import close_campaign
from handlers.recognition.quadrant import quadrant, ranking_blocks
from handlers.recognition.reviewer_codes import invite_reviewer
from models import Brand, Union, utcnow
from models.recognition import Campaign, CampaignKind, RecognitionSnapshot

bp = Blueprint("admin_recognition", __name__, url_prefix="/admin/campaigns")


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
    rows = q.campaign_rows(session, sc, now)
    brands = list(session.scalars(select(Brand).where(Brand.id.in_(q.brand_ids_in(sc))).order_by(Brand.name)))
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
    in_scope = {b.id: b for b in session.scalars(select(Brand).where(Brand.id.in_(q.brand_ids_in(sc))))}
    try:
        ids = [int(v) for v in form.getlist("brands")]
    except ValueError:
        abort(400, description="候选品牌无效")
    if any(i not in in_scope for i in ids):
        abort(404)  # a brand outside the subtree: as if it did not exist

    def operation() -> Campaign:
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
        except CampaignError:
            raise
        except ValueError as exc:
            raise OperationError("每人最多支持数应为整数") from exc
        campaign.union_id = sc.root_id  # the creating account's union organises it
        return campaign

    return web.perform(
        operation,
        audit=lambda campaign: web.Audit(
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
        ),
        success=lambda campaign: f"已创建活动「{campaign.name}」。",
        redirect_to=lambda campaign: url_for("admin_recognition.detail", campaign_id=campaign.id),
        refused=url_for("admin_recognition.index"),
    )


@bp.route("/<int:campaign_id>")
def detail(campaign_id: int) -> Any:
    sc = web.scope()
    session = web.db()
    campaign = campaign_or_404(session, sc, campaign_id)
    hidden = q.results_hidden(session, sc, campaign)
    organiser = q.is_organiser(session, sc, campaign)
    ctx: dict[str, Any] = {
        "campaign": campaign,
        "state": CAMPAIGN_STATE_LABELS[q.campaign_state(campaign, utcnow())],
        "hidden": hidden,
        "organiser": organiser,
        "new_code": None,
        "cohort": campaign_cohort_label(session, campaign),
        "group_labels": GROUP_LABELS,
    }
    if hidden:
        if requested_format():
            abort(403)
        return render_template("admin/campaign_detail.html", **ctx)
    stored = page_results(session, campaign)
    full = stored.report
    report = scoped_report(session, sc, campaign, full)
    if fmt := requested_format():
        return export_response(exports.export_table(report), fmt)
    blocks = exports.ranking_view(ranking_blocks(report))
    heat = exports.heat_table(report)
    ctx.update(
        report=report,
        blocks=blocks,
        interval=exports.interval_chart(
            blocks["shown"] + blocks["provisional"], report.get("reference_median")
        ),
        quad=exports.quadrant_view(quadrant(report, full)),
        groups=exports.groups_table(report),
        heat=heat,
        heat_chart=exports.heat_chart(heat),
        trend=exports.trend_table(
            q.trend_rows(session, sc, campaign, lambda c: page_results(session, c).report)
        ),
        exports=export_links(),
        freshness=stored.freshness(utcnow()),
    )
    return render_template("admin/campaign_detail.html", **ctx)


@bp.route("/<int:campaign_id>/close", methods=["POST"])
@web.write_required
def close(campaign_id: int) -> Any:
    session = web.db()
    campaign = organiser_campaign(campaign_id)

    def audit(snap: RecognitionSnapshot) -> web.Audit:
        closed_at = campaign.closed_at.isoformat() if campaign.closed_at else None
        return web.Audit(
            "campaign.close",
            "campaign",
            campaign.id,
            {"closed_at": None},
            {"closed_at": closed_at, "sha256": snap.sha256},
        )

    return web.perform(
        lambda: close_campaign(session, campaign, Actor.admin(web.current_account().username), utcnow()),
        audit=audit,
        success=lambda snap: f"活动已结束，正式结果快照 sha256：{snap.sha256}",
        redirect_to=url_for("admin_recognition.detail", campaign_id=campaign_id),
    )


@bp.route("/<int:campaign_id>/invite", methods=["POST"])
@web.write_required
def invite(campaign_id: int) -> Any:
    session = web.db()
    campaign = organiser_campaign(campaign_id)
    reviewer = request.form.get("reviewer", "").strip()[:100]
    unit = request.form.get("unit", "").strip()[:200]
    recuse = request.form.get("recuse_union", "").strip() or None
    back = url_for("admin_recognition.detail", campaign_id=campaign_id)
    if not reviewer or not unit:
        flash("请填写评议人姓名和所在单位。", "error")
        return redirect(back)
    # The code itself is never logged or stored (only its hash): it is shown on this one page.
    return web.perform(
        lambda: invite_reviewer(session, campaign, reviewer, unit, recuse),
        audit=web.Audit(
            "campaign.invite_reviewer", "campaign", campaign.id, None, {"reviewer": reviewer, "unit": unit}
        ),
        respond=lambda code: render_template(
            "admin/campaign_invite.html", campaign=campaign, code=code, reviewer=reviewer
        ),
        refused=back,
    )


@bp.route("/method")
def method() -> Any:
    return render_template("admin/recognition_method.html", cfg=default_config(), group_labels=GROUP_LABELS)


nav = web.NavItem.of("admin_recognition.index", "评选与社会认可度")
