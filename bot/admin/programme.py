"""The brand programme in the dashboard: a brand's timeline and forms, photos, imports,
invitations, coverage (督导), the review dossier and two overview panels.

Every write calls the same operation the CLI and chat call (handlers.programme.*), commits
here (the view is the boundary) and records an audit entry. Who may write what:

- review (上级评议): an admin whose union is a strict ancestor of the brand's union;
- plan, self-evaluation: an admin or cadre account of the brand's own union;
- stage advance: those two, and ancestor admins (the evidence gates apply to everyone);
- imports, invitations: admins, for unions in their subtree only.

Viewers read; any write is 403 for them. Records outside the subtree are 404.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, g, has_request_context, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from bot.admin import overview, web
from bot.admin.audit_log import record
from bot.admin.export import Column, Table, export_links, export_response, requested_format
from bot.admin.scoping import Scope
from handlers.glossary import ACTION_LABELS
from handlers.programme import coverage as cov
from handlers.programme import lifecycle as lc
from handlers.programme.binding import BindingError, create_invitation
from handlers.programme.imports import (
    BRAND_COLUMNS,
    ORG_COLUMNS,
    ImportFailed,
    ImportResult,
    import_brands,
    import_orgs,
    read_rows,
)
from handlers.programme.photos import flag_label
from handlers.programme.storage import storage_from_options
from handlers.recognition.live import refresh_missing
from models import Brand, Role, Stage, Union, utcnow
from models.admin import AdminAccount, AdminRole
from models.programme import (
    Assessment,
    BrandPlan,
    Decision,
    Invitation,
    Photo,
    PhotoStatus,
    ProgressReport,
    StageTransition,
    Standard,
)

bp = Blueprint("admin_programme", __name__, url_prefix="/admin/programme")

# Uploads may be larger than the app-wide 256 KB limit (set for the webhook); web.py applies
# this limit to these endpoints only, before the CSRF check reads the form.
UPLOAD_MAX_BYTES = 8 * 1024 * 1024
web.UPLOAD_LIMITS["admin_programme.imports"] = UPLOAD_MAX_BYTES
LATEST_PHOTOS = 8
PHOTO_TYPES = {"image/jpeg", "image/png", "image/gif", "image/webp"}

USER_ROLE_LABELS = {Role.WORKER: "职工", Role.CADRE: "工会干部", Role.ADMIN: "工会管理员"}
STATUS_LABELS = {
    PhotoStatus.PENDING: "下载中",
    PhotoStatus.STORED: "已保存",
    PhotoStatus.FAILED: "下载失败",
}
REVIEW_STANDARDS = tuple(s for s in Standard if s != Standard.RECOGNITION)

ACTION_LABELS.update(
    {
        "brand.review": "上级评议",
        "brand.plan": "提交创建方案",
        "brand.self_evaluate": "提交自评",
        "brand.advance": "变更品牌阶段",
        "import.orgs": "导入工会组织",
        "import.brands": "导入工作品牌",
        "invitation.create": "生成干部邀请码",
    }
)


# --- who may do what ------------------------------------------------------------------------


def actor_name(account: AdminAccount) -> str:
    """How the account appears in the brand's timeline (who)."""
    return f"{account.username}（{account.union.name}）"[:64]


def is_ancestor_admin(account: AdminAccount, brand: Brand) -> bool:
    return (
        account.role is AdminRole.ADMIN
        and brand.union_id != account.union_id
        and brand.union.path.startswith(account.union.path)
    )


def is_own_union(account: AdminAccount, brand: Brand) -> bool:
    return account.role in (AdminRole.ADMIN, AdminRole.CADRE) and brand.union_id == account.union_id


@dataclass(frozen=True)
class Permissions:
    review: bool
    own: bool  # plan and self-evaluation
    advance: bool

    @classmethod
    def of(cls, account: AdminAccount, brand: Brand) -> Permissions:
        ancestor, own = is_ancestor_admin(account, brand), is_own_union(account, brand)
        return cls(review=ancestor, own=own, advance=ancestor or own)


# --- the timeline ---------------------------------------------------------------------------


@dataclass
class PhotoView:
    id: int
    status: str
    stored: bool
    activity: str | None
    captured_at: Any
    uploader_role: str
    flag: str | None
    flag_label: str | None
    report_id: int | None


@dataclass
class ReportView:
    id: int
    text: str
    created_at: Any
    author_role: str
    photos: list[PhotoView] = field(default_factory=list)


@dataclass
class BrandTimeline:
    brand: Brand
    transitions: list[StageTransition]
    plans: list[BrandPlan]
    reports: list[ReportView]
    loose_photos: list[PhotoView]  # photos not attached to a report
    assessments: list[Assessment]
    gap: list[lc.GapRow]
    latest_self: Assessment | None
    latest_review: Assessment | None
    recognition: lc.RecognitionInfo | None

    @property
    def photo_count(self) -> int:
        return len(self.loose_photos) + sum(len(r.photos) for r in self.reports)


def _photo_view(photo: Photo) -> PhotoView:
    return PhotoView(
        id=photo.id,
        status=STATUS_LABELS.get(photo.status, str(photo.status)),
        stored=photo.status == PhotoStatus.STORED and bool(photo.storage_key),
        activity=photo.activity,
        captured_at=photo.captured_at,
        uploader_role=USER_ROLE_LABELS.get(photo.uploader.role, "用户") if photo.uploader else "已注销用户",
        flag=photo.flag,
        flag_label=flag_label(photo),
        report_id=photo.report_id,
    )


def brand_timeline(session: Session, brand: Brand) -> BrandTimeline:
    """Everything the brand page, the dossier and the API show, read through the lifecycle module."""
    plans = list(
        session.scalars(
            select(BrandPlan)
            .where(BrandPlan.brand_id == brand.id)
            .order_by(BrandPlan.created_at.desc(), BrandPlan.id.desc())
        )
    )
    photos = list(
        session.scalars(
            select(Photo)
            .where(Photo.brand_id == brand.id)
            .options(selectinload(Photo.uploader))
            .order_by(Photo.captured_at, Photo.id)
        )
    )
    reports = [
        ReportView(
            r.id, r.text, r.created_at, USER_ROLE_LABELS.get(r.author.role, "用户") if r.author else "导入"
        )
        for r in session.scalars(
            select(ProgressReport)
            .where(ProgressReport.brand_id == brand.id)
            .options(selectinload(ProgressReport.author))
            .order_by(ProgressReport.created_at.desc(), ProgressReport.id.desc())
        )
    ]
    by_report = {r.id: r for r in reports}
    loose = []
    for photo in photos:
        view = _photo_view(photo)
        if photo.report_id in by_report:
            by_report[photo.report_id].photos.append(view)
        else:
            loose.append(view)
    assessments = list(
        session.scalars(
            select(Assessment)
            .where(Assessment.brand_id == brand.id)
            .options(selectinload(Assessment.scores))
            .order_by(Assessment.created_at.desc(), Assessment.id.desc())
        )
    )
    return BrandTimeline(
        brand=brand,
        transitions=lc.timeline(session, brand),
        plans=plans,
        reports=reports,
        loose_photos=loose,
        assessments=assessments,
        gap=lc.score_gap(session, brand),
        latest_self=lc.latest_assessment(session, brand, "self"),
        latest_review=lc.latest_assessment(session, brand, "review"),
        recognition=_recognition(session, brand),
    )


def _recognition(session: Session, brand: Brand) -> lc.RecognitionInfo | None:
    refresh_missing(session, brand.id, utcnow())
    return lc.recognition_for(session, brand)


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def timeline_json(tl: BrandTimeline) -> dict[str, Any]:
    """The API's form of the timeline (no openids: uploaders and authors by role only)."""

    def photo(p: PhotoView) -> dict[str, Any]:
        return {
            "id": p.id,
            "status": p.status,
            "activity": p.activity,
            "captured_at": _iso(p.captured_at),
            "uploader_role": p.uploader_role,
            "flag": p.flag,
            "flag_label": p.flag_label,
            "report_id": p.report_id,
        }

    def assessment(a: Assessment) -> dict[str, Any]:
        return {
            "id": a.id,
            "kind": a.kind,
            "author": a.author,
            "decision": a.decision.value if a.decision else None,
            "decision_label": a.decision.label if a.decision else None,
            "comments": a.comments,
            "created_at": _iso(a.created_at),
            "scores": {s.standard.value: {"score": s.score, "evidence": s.evidence} for s in a.scores},
        }

    rec = tl.recognition
    return {
        "brand": {"id": tl.brand.id, "name": tl.brand.name, "stage": tl.brand.stage.value},
        "stages": [
            {
                "at": _iso(t.at),
                "actor": t.actor,
                "from": t.from_stage.value if t.from_stage else None,
                "to": t.to_stage.value,
                "reason": t.reason,
            }
            for t in tl.transitions
        ],
        "plans": [
            {
                "id": p.id,
                "goals": p.goals,
                "measures": p.measures,
                "long_term": p.long_term,
                "this_year": p.this_year,
                "author": p.author,
                "created_at": _iso(p.created_at),
            }
            for p in tl.plans
        ],
        "reports": [
            {
                "id": r.id,
                "text": r.text,
                "created_at": _iso(r.created_at),
                "author_role": r.author_role,
                "photos": [photo(p) for p in r.photos],
            }
            for r in tl.reports
        ],
        "photos": [photo(p) for p in tl.loose_photos],
        "assessments": [assessment(a) for a in tl.assessments],
        "gap": [
            {"standard": g.standard.value, "self": g.self_score, "review": g.review_score, "gap": g.gap}
            for g in tl.gap
        ],
        "recognition": None if rec is None else asdict(rec),
    }


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
            tl=brand_timeline(session, brand),
            can=Permissions.of(web.current_account(), brand),
            errors=errors or {},
            form=request.form if request.method == "POST" else {},
            standards=list(Standard),
            review_standards=REVIEW_STANDARDS,
            decisions=list(Decision),
            next_stages=[to for (frm, to) in lc.ALLOWED if frm == brand.stage],
            plan_fields=lc.PLAN_FIELDS,
            round_evidence={
                "reports": lc.round_reports(session, brand),
                "photos": lc.round_photos(session, brand),
            },
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


@bp.route("/brands/<int:brand_id>/review", methods=["POST"])
def review(brand_id: int) -> Any:
    brand = _brand_for_write(brand_id, lambda p: p.review)
    session = web.db()
    before = {"stage": brand.stage.value}
    try:
        decision = lc.parse_decision(request.form.get("decision", ""))
        assessment, move = lc.review(
            session,
            brand,
            decision,
            request.form.get("comments", ""),
            _scores_from_form(REVIEW_STANDARDS),
            actor_name(web.current_account()),
            utcnow(),
        )
    except lc.LifecycleError as exc:
        session.rollback()
        return render_brand(brand, {"review": str(exc)}, 400)
    after = {
        "stage": move.to_stage.value,
        "decision": decision.value,
        "assessment_id": assessment.id,
        "scores": {s.standard.value: s.score for s in assessment.scores},
    }
    record(session, "brand.review", "brand", brand.id, before, after)
    session.commit()
    return _done(brand, f"评议已提交：{decision.label}，品牌进入「{move.to_stage.label}」。")


@bp.route("/brands/<int:brand_id>/plan", methods=["POST"])
def plan(brand_id: int) -> Any:
    brand = _brand_for_write(brand_id, lambda p: p.own)
    session = web.db()
    data = {key: request.form.get(key, "") for key in lc.PLAN_FIELDS}
    try:
        saved = lc.save_plan(session, brand, data, actor_name(web.current_account()), utcnow())
    except lc.LifecycleError as exc:
        session.rollback()
        return render_brand(brand, {"plan": str(exc)}, 400)
    record(session, "brand.plan", "brand", brand.id, None, {"plan_id": saved.id, **data})
    session.commit()
    return _done(brand, "创建方案已保存。")


@bp.route("/brands/<int:brand_id>/self-evaluation", methods=["POST"])
def self_evaluation(brand_id: int) -> Any:
    brand = _brand_for_write(brand_id, lambda p: p.own)
    session = web.db()
    try:
        saved = lc.self_evaluate(
            session,
            brand,
            _scores_from_form(tuple(Standard)),
            actor_name(web.current_account()),
            utcnow(),
            request.form.get("comments", "").strip() or None,
        )
    except lc.LifecycleError as exc:
        session.rollback()
        return render_brand(brand, {"self": str(exc)}, 400)
    scores = {s.standard.value: s.score for s in saved.scores}
    record(
        session, "brand.self_evaluate", "brand", brand.id, None, {"assessment_id": saved.id, "scores": scores}
    )
    session.commit()
    return _done(brand, "自评已保存。")


@bp.route("/brands/<int:brand_id>/advance", methods=["POST"])
def advance(brand_id: int) -> Any:
    brand = _brand_for_write(brand_id, lambda p: p.advance)
    session = web.db()
    before = {"stage": brand.stage.value}
    try:
        to = lc.parse_stage(request.form.get("to", ""))
        move = lc.advance(
            session, brand, to, actor_name(web.current_account()), request.form.get("reason", ""), utcnow()
        )
    except lc.LifecycleError as exc:
        session.rollback()
        return render_brand(brand, {"advance": str(exc)}, 400)
    record(session, "brand.advance", "brand", brand.id, before, {"stage": to.value, "reason": move.reason})
    session.commit()
    return _done(brand, f"品牌已进入「{to.label}」。")


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
        tl=brand_timeline(web.db(), brand),
        ancestors=list(reversed(brand.union.ancestors())),
        standards=list(Standard),
        plan_fields=lc.PLAN_FIELDS,
        printed_at=utcnow(),
    )


# --- imports --------------------------------------------------------------------------------

IMPORT_KINDS = {"orgs": ("工会组织", ORG_COLUMNS), "brands": ("工作品牌", BRAND_COLUMNS)}


def _scope_problems(
    session: Session, sc: Scope, kind: str, rows: list[tuple[int, dict[str, str]]]
) -> list[str]:
    """Rows that would reach outside the account's subtree (the import itself sees the whole tree)."""
    in_scope = set(session.scalars(select(Union.code).where(sc.union_condition())))
    all_codes = set(session.scalars(select(Union.code)))
    problems = []
    if kind == "orgs":
        root = session.get(Union, sc.root_id)
        assert root is not None
        root_parent = root.parent.code if root.parent else ""
        # New unions of this file may be parents; existing ones only when in scope.
        new_codes = {row.get("code", "") for _, row in rows} - all_codes
        for line, row in rows:
            code, parent = row.get("code", ""), row.get("parent_code", "")
            if code in all_codes and code not in in_scope:
                problems.append(f"第{line}行：工会代码 {code} 不在您的管辖范围内")
            elif code == root.code:
                if parent != root_parent:
                    problems.append(f"第{line}行：不能通过导入移动本级工会 {code}")
            elif not parent:
                problems.append(f"第{line}行：上级工会代码（parent_code）为空，新工会必须挂在您管辖的工会下")
            elif parent not in in_scope and parent not in new_codes:
                problems.append(f"第{line}行：上级工会代码 {parent} 不在您的管辖范围内")
    else:
        owners = dict(
            session.execute(select(Brand.name, Union.code).join(Union, Union.id == Brand.union_id))
            .tuples()
            .all()
        )
        for line, row in rows:
            code, name = row.get("org_code", ""), row.get("name", "")
            if code in all_codes and code not in in_scope:
                problems.append(f"第{line}行：所属工会代码 {code} 不在您的管辖范围内")
            elif name in owners and owners[name] not in in_scope:
                problems.append(f"第{line}行：品牌「{name}」属于您管辖范围以外的工会，不能修改")
    return problems


@bp.route("/import", methods=["GET", "POST"])
@web.roles_required(AdminRole.ADMIN)
def imports() -> Any:
    kind = request.values.get("kind", "orgs")
    if kind not in IMPORT_KINDS:
        kind = "orgs"
    errors: list[str] = []
    result: ImportResult | None = None
    status = 200
    if request.method == "POST":
        upload = request.files.get("file")
        columns = IMPORT_KINDS[kind][1]
        session = web.db()
        suffix = Path(upload.filename or "").suffix.lower() if upload else ""
        if upload is None or not upload.filename:
            errors = ["请选择要导入的 .csv 或 .xlsx 文件"]
        else:
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / f"upload{suffix}"
                upload.save(path)
                try:
                    rows = read_rows(path, columns)
                    problems = _scope_problems(session, web.scope(), kind, rows)
                    if problems:
                        raise ImportFailed(problems)
                    if kind == "orgs":
                        result = import_orgs(session, rows)
                    else:
                        account = web.current_account()
                        result = import_brands(session, rows, utcnow(), actor_name(account), account)
                except ImportFailed as exc:
                    session.rollback()  # nothing half-imported
                    errors = exc.errors
        if result is not None:
            after = {
                "file": ((upload.filename or "") if upload else "")[:200],
                "created": result.created,
                "updated": result.updated,
            }
            record(session, f"import.{kind}", "import", None, None, after)
            session.commit()
        else:
            status = 400
    return (
        render_template(
            "admin/programme_import.html",
            kind=kind,
            kinds=IMPORT_KINDS,
            errors=errors,
            result=result,
            max_mb=UPLOAD_MAX_BYTES // (1024 * 1024),
        ),
        status,
    )


# --- invitations ----------------------------------------------------------------------------


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
        if inv.used_at is not None:
            state = "已使用"
        elif inv.expires_at <= now:
            state = "已过期"
        else:
            state = "待使用"
        table.add(
            union=inv.union.name,
            state=state,
            created_by=inv.created_by,
            created_at=inv.created_at,
            expires_at=inv.expires_at,
            used_at=inv.used_at,
        )
    return table


@bp.route("/invitations", methods=["GET", "POST"])
@web.roles_required(AdminRole.ADMIN, AdminRole.VIEWER)
def invitations() -> Any:
    sc = web.scope()
    session = web.db()
    code = None
    error = None
    union = None
    if request.method == "POST":
        if not sc.can_write:
            abort(403)
        union = sc.union(session, request.form.get("union", type=int) or 0)  # 404 outside scope
        try:
            invitation, code = create_invitation(
                session, union.code, utcnow(), Role.CADRE, actor_name(web.current_account())
            )
        except BindingError as exc:
            session.rollback()
            error = str(exc)
        else:
            after = {"union": union.code, "expires_at": invitation.expires_at.isoformat()}
            record(session, "invitation.create", "invitation", invitation.id, None, after)
            session.commit()
    fmt = requested_format()
    table = invitation_table(session, sc)
    if fmt:
        return export_response(table, fmt)
    unions = list(session.scalars(select(Union).where(sc.union_condition()).order_by(Union.path)))
    return (
        render_template(
            "admin/programme_invitations.html",
            table=table,
            unions=unions,
            code=code,
            code_union=union,
            error=error,
            exports=export_links(),
        ),
        400 if error else 200,
    )


# --- coverage (督导) -------------------------------------------------------------------------


def coverage_report(session: Session, sc: Scope) -> cov.CoverageReport:
    """The coverage operation for the scope's subtree; computed once per request (two panels use it)."""
    key = ("coverage", sc.root_id)
    cache: dict[Any, cov.CoverageReport] | None = (
        g.setdefault("programme_cache", {}) if has_request_context() else None
    )
    if cache is not None and key in cache:
        return cache[key]
    report = cov.coverage(session, utcnow(), session.get(Union, sc.root_id))
    if cache is not None:
        cache[key] = report
    return report


def coverage_table(report: cov.CoverageReport) -> Table:
    """The CLI's CSV (``report coverage --format csv``) as a Table: the same columns and rows."""
    lines = list(csv.reader(io.StringIO(cov.as_csv(report))))
    columns = [Column(f"c{i}", title) for i, title in enumerate(lines[0])]
    table = Table("品牌创建覆盖情况", columns)
    for values in lines[1:]:
        table.add(**{f"c{i}": (int(v) if v.isdigit() else v) for i, v in enumerate(values)})
    return table


@bp.route("/coverage")
@web.roles_required(AdminRole.ADMIN, AdminRole.VIEWER)
def coverage() -> Any:
    report = coverage_report(web.db(), web.scope())
    fmt = requested_format()
    if fmt:
        return export_response(coverage_table(report), fmt)
    return render_template(
        "admin/programme_coverage.html", report=report, table=coverage_table(report), exports=export_links()
    )


# --- overview panels ------------------------------------------------------------------------


def latest_photos_panel(session: Session, sc: Scope) -> Table | None:
    stmt = (
        sc.where_brand(select(Photo), Photo.brand_id)
        .where(Photo.status == PhotoStatus.STORED)
        .options(selectinload(Photo.brand))
        .order_by(Photo.captured_at.desc(), Photo.id.desc())
        .limit(LATEST_PHOTOS)
    )
    photos = list(session.scalars(stmt))
    if not photos:
        return None
    table = Table(
        "最新活动照片",
        [
            Column("captured_at", "时间"),
            Column("brand", "品牌", link=lambda r: url_for("admin_brands.detail", brand_id=r["brand_id"])),
            Column("activity", "活动"),
            Column("flag", "标记"),
            Column("view", "照片", link=lambda r: url_for("admin_programme.photo", photo_id=r["id"])),
        ],
    )
    for p in photos:
        assert p.brand is not None
        table.add(
            id=p.id,
            brand_id=p.brand_id,
            captured_at=p.captured_at,
            brand=p.brand.name,
            activity=p.activity or "",
            flag=flag_label(p) or "",
            view="查看",
        )
    return table


def overdue_reviews_panel(session: Session, sc: Scope) -> Table | None:
    report = coverage_report(session, sc)
    if not report.overdue:
        return None
    table = Table(
        "评议逾期",
        [
            Column("brand", "品牌"),
            Column("union", "工会"),
            Column("since", "进入评议推广"),
            Column("days", "天数"),
        ],
    )
    for o in report.overdue[:10]:
        table.add(brand=o.brand, union=o.union, since=o.reviewing_since, days=o.days)
    return table


def quiet_brands_panel(session: Session, sc: Scope) -> Table | None:
    report = coverage_report(session, sc)
    if not report.quiet:
        return None
    table = Table(
        "超过60天未上报",
        [
            Column("brand", "品牌"),
            Column("union", "工会"),
            Column("last", "最近上报"),
            Column("days", "天数"),
        ],
    )
    for q in report.quiet[:10]:
        table.add(brand=q.brand, union=q.union, last=q.last_report or "从未上报", days=q.days)
    return table


overview.register_panel("overdue_reviews", "逾期的评议（进入评议推广超过 30 天）", overdue_reviews_panel)
overview.register_panel("quiet", "超过 60 天未上报进度的品牌", quiet_brands_panel)
overview.register_panel("photos", "最新活动照片", latest_photos_panel)

nav = web.NavItem.of("admin_programme.coverage", "督导", (AdminRole.ADMIN, AdminRole.VIEWER))
