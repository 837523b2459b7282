"""A brand's page: its timeline, the forms allowed (plan, self-evaluation, review, stage
advance), its photos and the printable review dossier. ``admin_brands.detail`` renders it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, abort, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.admin import web
from bot.admin.programme.access import Permissions, admin_actor
from bot.admin.programme.blueprint import bp
from handlers.programme import operations as ops
from handlers.programme.queries import BrandTimeline, brand_timeline, next_stages, round_evidence
from handlers.programme.storage import storage_from_options
from handlers.recognition.live import refresh_missing
from models import Brand, Stage, utcnow
from models.programme import Assessment, Decision, Photo, PhotoStatus, StageTransition, Standard

PHOTO_TYPES = {"image/jpeg", "image/png", "image/gif", "image/webp"}
REVIEW_STANDARDS = tuple(s for s in Standard if s != Standard.RECOGNITION)


def timeline_of(session: Session, brand: Brand) -> BrandTimeline:
    """The brand's timeline, after the live index's first report of its open campaigns (once)."""
    refresh_missing(session, brand.id, utcnow())
    return brand_timeline(session, brand, web.runtime().registry.recognition)


def render_brand(brand: Brand, errors: dict[str, str] | None = None, status: int = 200) -> Any:
    """The brand page (used by admin_brands.detail): facts, timeline and the forms allowed."""
    session = web.db()
    stages = list(Stage)
    return (
        render_template(
            "admin/brand_detail.html",
            brand=brand,
            stages=stages,
            stage_index=stages.index(brand.stage),
            ancestors=list(reversed(brand.union.ancestors())),
            tl=timeline_of(session, brand),
            can=Permissions.of(web.current_account(), brand),
            errors=errors or {},
            form=request.form if request.method == "POST" else {},
            standards=list(Standard),
            review_standards=REVIEW_STANDARDS,
            decisions=list(Decision),
            next_stages=next_stages(brand.stage),
            plan_fields=ops.PLAN_FIELDS,
            round_evidence=round_evidence(session, brand),
        ),
        status,
    )


# --- forms ----------------------------------------------------------------------------------


def _number(value: str) -> Any:
    """A form field as a number when it is one; anything else goes to the operation as is,
    so its own Chinese message explains what is wrong."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        return value


def _scores_from_form(standards: tuple[Standard, ...]) -> dict[str, Any]:
    scores: dict[str, Any] = {}
    for s in standards:
        score = _number(request.form.get(f"score_{s.value}", ""))
        if score is None:
            continue  # the operation answers "缺少「…」的评分"
        scores[s.value] = {
            "score": score,
            "evidence": request.form.get(f"evidence_{s.value}", ""),
            "reports": _id_list(request.form.get(f"reports_{s.value}", "")),
            "photos": _id_list(request.form.get(f"photos_{s.value}", "")),
        }
    return scores


def _id_list(value: str) -> list[Any]:
    """ "12, 13" or "12、13" as [12, 13]; a word that is not a number goes through unchanged,
    so the operation's own message names the problem."""
    parts = [p for p in value.replace("，", ",").replace("、", ",").replace(" ", ",").split(",") if p]
    return [int(p) if p.isdigit() else p for p in parts]


def _brand_for_write(brand_id: int, allowed: Callable[[Permissions], bool]) -> Brand:
    account = web.current_account()
    brand = web.scope().brand(web.db(), brand_id)  # 404 outside the subtree
    if not allowed(Permissions.of(account, brand)):
        abort(403)
    # Lock the brand row: of two reviews submitted at once, the second sees the new stage.
    web.db().refresh(brand, with_for_update=True)
    return brand


def _done(brand: Brand, message: str) -> Any:
    from flask import flash, redirect

    flash(message, "success")
    return redirect(url_for("admin_brands.detail", brand_id=brand.id) + "#timeline")


def _refused(brand: Brand, form: str) -> Callable[[Exception], Any]:
    """A refused write shows the brand page again with the reason beside the form (400)."""
    return lambda exc: render_brand(brand, {form: str(exc)}, 400)


@bp.route("/brands/<int:brand_id>/review", methods=["POST"])
def review(brand_id: int) -> Any:
    brand = _brand_for_write(brand_id, lambda p: p.review)
    before = {"stage": brand.stage.value}

    def run() -> tuple[Decision, Assessment, StageTransition]:
        decision = ops.parse_decision(request.form.get("decision", ""))
        assessment, move = ops.review(
            web.db(),
            brand,
            decision,
            request.form.get("comments", ""),
            _scores_from_form(REVIEW_STANDARDS),
            admin_actor(web.current_account()),
            utcnow(),
            recognition=web.runtime().registry.recognition,
        )
        return decision, assessment, move

    def audit(r: tuple[Decision, Assessment, StageTransition]) -> web.Audit:
        decision, assessment, move = r
        after = {
            "stage": move.to_stage.value,
            "decision": decision.value,
            "assessment_id": assessment.id,
            "scores": {s.standard.value: s.score for s in assessment.scores},
        }
        return web.Audit("brand.review", "brand", brand.id, before, after)

    return web.perform(
        run,
        audit=audit,
        refused=_refused(brand, "review"),
        respond=lambda r: _done(brand, f"评议已提交：{r[0].label}，品牌进入「{r[2].to_stage.label}」。"),
    )


@bp.route("/brands/<int:brand_id>/plan", methods=["POST"])
def plan(brand_id: int) -> Any:
    brand = _brand_for_write(brand_id, lambda p: p.own)
    data = {key: request.form.get(key, "") for key in ops.PLAN_FIELDS}
    return web.perform(
        lambda: ops.save_plan(web.db(), brand, data, admin_actor(web.current_account()), utcnow()),
        audit=lambda saved: web.Audit("brand.plan", "brand", brand.id, None, {"plan_id": saved.id, **data}),
        refused=_refused(brand, "plan"),
        respond=lambda _: _done(brand, "创建方案已保存。"),
    )


@bp.route("/brands/<int:brand_id>/self-evaluation", methods=["POST"])
def self_evaluation(brand_id: int) -> Any:
    brand = _brand_for_write(brand_id, lambda p: p.own)

    def audit(saved: Assessment) -> web.Audit:
        scores = {s.standard.value: s.score for s in saved.scores}
        return web.Audit(
            "brand.self_evaluate", "brand", brand.id, None, {"assessment_id": saved.id, "scores": scores}
        )

    return web.perform(
        lambda: ops.self_evaluate(
            web.db(),
            brand,
            _scores_from_form(tuple(Standard)),
            admin_actor(web.current_account()),
            utcnow(),
            request.form.get("comments", "").strip() or None,
        ),
        audit=audit,
        refused=_refused(brand, "self"),
        respond=lambda _: _done(brand, "自评已保存。"),
    )


@bp.route("/brands/<int:brand_id>/advance", methods=["POST"])
def advance(brand_id: int) -> Any:
    brand = _brand_for_write(brand_id, lambda p: p.advance)
    before = {"stage": brand.stage.value}

    def run() -> StageTransition:
        to = ops.parse_stage(request.form.get("to", ""))
        return ops.advance(
            web.db(), brand, to, admin_actor(web.current_account()), request.form.get("reason", ""), utcnow()
        )

    return web.perform(
        run,
        audit=lambda move: web.Audit(
            "brand.advance", "brand", brand.id, before, {"stage": move.to_stage.value, "reason": move.reason}
        ),
        refused=_refused(brand, "advance"),
        respond=lambda move: _done(brand, f"品牌已进入「{move.to_stage.label}」。"),
    )


# --- photos ---------------------------------------------------------------------------------


@bp.route("/photos/<int:photo_id>")
def photo(photo_id: int) -> Response:
    """A stored photo's bytes, for accounts whose scope holds the photo's brand (else 404)."""
    sc = web.scope()
    stmt = sc.where_brand(select(Photo).where(Photo.id == photo_id), Photo.brand_id)
    item = web.db().scalar(stmt)
    if item is None or item.status != PhotoStatus.STORED or not item.storage_key:
        abort(404)
    try:
        content = storage_from_options(web.runtime().job_options).get(item.storage_key)
    except (OSError, ValueError):
        abort(404)
    mimetype = item.content_type if item.content_type in PHOTO_TYPES else "application/octet-stream"
    response = Response(content, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'inline; filename="photo-{item.id}"'
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


# --- the review dossier ---------------------------------------------------------------------


@bp.route("/brands/<int:brand_id>/dossier")
def dossier(brand_id: int) -> Any:
    brand = web.scope().brand(web.db(), brand_id)
    return render_template(
        "admin/brand_dossier.html",
        brand=brand,
        tl=timeline_of(web.db(), brand),
        ancestors=list(reversed(brand.union.ancestors())),
        standards=list(Standard),
        plan_fields=ops.PLAN_FIELDS,
        printed_at=utcnow(),
    )
