"""A campaign's suspicious-response flags and brand checks (品牌核查): the page, adjudication by
two reviewers, escalating an exchange ring, ending a check, and a union's appeal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.admin import web
from bot.admin.recognition import exports
from bot.admin.recognition.access import campaign_or_404, organiser_campaign, scoped_report
from bot.admin.recognition.views import bp
from bot.admin.scoping import Scope
from handlers.actor import Actor
from handlers.context import JobRequest
from handlers.glossary import CHECK_STATE_LABELS, FLAG_STATUS_LABELS
from handlers.recognition import scoped_queries as q
from handlers.recognition.adjudication import Decision, closed_message, decide_flag
from handlers.recognition.brand_checks import appeal, brand_checks, close_check, escalate_ring
from handlers.recognition.live import REFRESH_JOB
from handlers.tables import Column, Table
from models import Brand, utcnow
from models.admin import AdminRole
from models.recognition import Campaign, FlagStatus, RecognitionFlag


@bp.route("/<int:campaign_id>/flags")
def flags(campaign_id: int) -> Any:
    sc = web.scope()
    session = web.db()
    campaign = campaign_or_404(session, sc, campaign_id)
    if q.results_hidden(session, sc, campaign):
        abort(403)
    items = q.latest_flags(session, sc, campaign)
    summary: dict[tuple[str, str], int] = {}
    for f in items:
        summary[(f["rule"], f["status_label"])] = summary.get((f["rule"], f["status_label"]), 0) + 1
    summary_table = Table(
        "标记汇总",
        [Column("rule", "规则"), Column("status", "状态"), Column("count", "条数")],
        [{"rule": r, "status": s, "count": n} for (r, s), n in sorted(summary.items())],
    )
    report = scoped_report(session, sc, campaign)
    organiser = q.is_organiser(session, sc, campaign)
    now = utcnow()
    in_scope = set(session.scalars(q.brand_ids_in(sc)))
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
                "state": CHECK_STATE_LABELS["overdue" if k.overdue else "open"]
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
        suspects=exports.suspects_table(report),
        report=report,
        checks=checks,
        rings=[(a, b, names.get(a, ""), names.get(b, "")) for a, b in rings],
        brands=[
            (b, names.get(b, "")) for b in sorted(in_scope) if any(e.brand_id == b for e in campaign.entries)
        ],
        can_decide=organiser and open_,
        can_appeal=sc.can_write and sc.role is AdminRole.ADMIN and open_,
    )


def _commit_and_refresh(campaign_id: int) -> Callable[[Session], None]:
    """Commit with a live-report refresh staged in the same transaction, then hand it on."""

    def commit(session: Session) -> None:
        ids = web.runtime().queue.stage(session, [JobRequest(REFRESH_JOB, {"campaign_id": campaign_id})])
        session.commit()
        web.runtime().queue.dispatch(ids)

    return commit


@bp.route("/<int:campaign_id>/flags/<int:flag_id>", methods=["POST"])
@web.write_required
def decide(campaign_id: int, flag_id: int) -> Any:
    sc = web.scope()
    session = web.db()
    campaign = organiser_campaign(campaign_id)
    if not any(f["id"] == flag_id for f in q.latest_flags(session, sc, campaign)):
        abort(404)
    decision = request.form.get("decision", "")
    reason = request.form.get("reason", "").strip()[:500]
    back = url_for("admin_recognition.flags", campaign_id=campaign_id)
    if campaign.closed_at is not None:
        flash(closed_message(campaign), "error")
        return redirect(back)
    before = session.get(RecognitionFlag, flag_id)
    assert before is not None
    before_status = before.status.value

    def audit(d: Decision) -> web.Audit:
        assert d.flag is not None
        return web.Audit(
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

    def done(d: Decision) -> str:
        if d.effective and d.flag is not None:
            return f"已生效：标记 {flag_id} → {FLAG_STATUS_LABELS[d.flag.status]}（{'、'.join(d.agreed)}）。"
        return f"已记录您的复核意见；需另一位复核人作出相同结论后，标记 {flag_id} 才改变。"

    return web.perform(
        lambda: decide_flag(
            session, flag_id, decision, Actor.admin(web.current_account().username), reason, utcnow()
        ),
        audit=audit,
        commit=_commit_and_refresh(campaign_id),  # the figures change with the decision
        success=done,
        redirect_to=back,
    )


def _form_brand(name: str, campaign: Campaign, sc: Scope) -> int:
    try:
        brand_id = int(request.form.get(name, ""))
    except ValueError:
        abort(400, description="品牌无效")
    session = web.db()
    if brand_id not in set(session.scalars(q.brand_ids_in(sc))) or all(
        e.brand_id != brand_id for e in campaign.entries
    ):
        abort(404)
    return brand_id


def _check_action(
    campaign_id: int, action: str, run: Callable[[], Any], detail: dict[str, Any], done: Callable[[Any], str]
) -> Any:
    """Run a check action; on success audit it and flash ``done(result)``, else flash the error."""
    return web.perform(
        run,
        audit=web.Audit(action, "campaign", campaign_id, None, detail),
        commit=_commit_and_refresh(campaign_id),  # a check changes the brand's status
        success=done,
        redirect_to=url_for("admin_recognition.flags", campaign_id=campaign_id),
    )


@bp.route("/<int:campaign_id>/checks/escalate", methods=["POST"])
@web.write_required
def escalate(campaign_id: int) -> Any:
    sc = web.scope()
    campaign = organiser_campaign(campaign_id)
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
    campaign = organiser_campaign(campaign_id)
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
