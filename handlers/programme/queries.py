"""Read models of the programme: what the dashboard, the API, the CLI and chat read about a brand.

The brand timeline (stages, plans, reports with their photos, assessments, the score gap and the
recognition score) is read here once for the brand page, the review dossier and the API. It
carries codes (``PhotoStatus``, ``Stage``, ``Decision``) next to the labels shown for them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from handlers.programme.evidence import is_later, latest_assessment, round_photos, round_reports, timeline
from handlers.programme.gates import ALLOWED
from handlers.programme.photos import flag_label
from handlers.programme.recognition_hook import RecognitionInfo, RecognitionProvider
from models import Brand, Role, Stage
from models.programme import (
    Assessment,
    BrandPlan,
    Invitation,
    Photo,
    PhotoStatus,
    ProgressReport,
    StageTransition,
    Standard,
)

# Authors and uploaders are shown by role only (no openids in pages or the API).
USER_ROLE_LABELS = {Role.WORKER: "职工", Role.CADRE: "工会干部", Role.ADMIN: "工会管理员"}
PHOTO_STATUS_LABELS = {
    PhotoStatus.PENDING: "下载中",
    PhotoStatus.STORED: "已保存",
    PhotoStatus.FAILED: "下载失败",
}


@dataclass(frozen=True)
class GapRow:
    standard: Standard
    self_score: float | None
    review_score: float | None

    @property
    def gap(self) -> float | None:
        """Self minus superior: positive when the brand rated itself higher."""
        if self.self_score is None or self.review_score is None:
            return None
        return self.self_score - self.review_score


def reviewed_self_evaluation(session: Session, brand: Brand, review: Assessment) -> Assessment | None:
    """The self-evaluation the review judged: the latest one filed before it (same round)."""
    stmt = (
        select(Assessment)
        .where(
            Assessment.brand_id == brand.id,
            Assessment.kind == "self",
            Assessment.created_at <= review.created_at,
        )
        .order_by(Assessment.created_at.desc(), Assessment.id.desc())
    )
    return next((a for a in session.scalars(stmt) if is_later(review, a)), None)


def score_gap(session: Session, brand: Brand) -> list[GapRow]:
    """The latest review against the self-evaluation of the round it closed, standard by standard.

    Without a review yet, the latest self-evaluation stands alone. A self-evaluation filed after
    a review belongs to the next round and never changes that review's gap.
    """
    sup = latest_assessment(session, brand, "review")
    own = reviewed_self_evaluation(session, brand, sup) if sup else latest_assessment(session, brand, "self")
    rows = []
    for standard in Standard:
        s = own.score_for(standard) if own else None
        r = sup.score_for(standard) if sup else None
        rows.append(GapRow(standard, s.score if s else None, r.score if r else None))
    return rows


# --- the brand timeline -----------------------------------------------------------------------


@dataclass
class PhotoView:
    id: int
    status: PhotoStatus
    status_label: str
    stored: bool
    activity: str | None
    captured_at: datetime
    uploader_role: str
    flag: str | None
    flag_label: str | None
    report_id: int | None


@dataclass
class ReportView:
    id: int
    text: str
    created_at: datetime
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
    gap: list[GapRow]
    latest_self: Assessment | None
    latest_review: Assessment | None
    recognition: RecognitionInfo | None

    @property
    def photo_count(self) -> int:
        return len(self.loose_photos) + sum(len(r.photos) for r in self.reports)


def _photo_view(photo: Photo) -> PhotoView:
    return PhotoView(
        id=photo.id,
        status=photo.status,
        status_label=PHOTO_STATUS_LABELS.get(photo.status, str(photo.status)),
        stored=photo.status == PhotoStatus.STORED and bool(photo.storage_key),
        activity=photo.activity,
        captured_at=photo.captured_at,
        uploader_role=USER_ROLE_LABELS.get(photo.uploader.role, "用户") if photo.uploader else "已注销用户",
        flag=photo.flag,
        flag_label=flag_label(photo),
        report_id=photo.report_id,
    )


def brand_timeline(session: Session, brand: Brand, recognition: RecognitionProvider) -> BrandTimeline:
    """Everything the brand page, the dossier and the API show about a brand (its recognition
    figures from ``recognition``, the registry's provider)."""
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
        transitions=timeline(session, brand),
        plans=plans,
        reports=reports,
        loose_photos=loose,
        assessments=assessments,
        gap=score_gap(session, brand),
        latest_self=latest_assessment(session, brand, "self"),
        latest_review=latest_assessment(session, brand, "review"),
        recognition=recognition(session, brand),
    )


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def timeline_json(tl: BrandTimeline) -> dict[str, Any]:
    """The API's form of the timeline (no openids: uploaders and authors by role only)."""

    def photo(p: PhotoView) -> dict[str, Any]:
        return {
            "id": p.id,
            "status": p.status_label,
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


# --- what the brand page offers -----------------------------------------------------------------


def next_stages(stage: Stage) -> list[Stage]:
    """The stages a brand at ``stage`` may be moved to (each still behind its gate)."""
    return [to for (frm, to) in ALLOWED if frm == stage]


def round_evidence(session: Session, brand: Brand) -> dict[str, list[int]]:
    """The report and photo ids a self-evaluation or review of this round may cite."""
    return {"reports": round_reports(session, brand), "photos": round_photos(session, brand)}


# --- invitations ------------------------------------------------------------------------------

INVITATION_USED = "used"
INVITATION_EXPIRED = "expired"
INVITATION_OPEN = "open"


def invitation_state(invitation: Invitation, now: datetime) -> str:
    """``used``, ``expired`` or ``open`` (still redeemable)."""
    if invitation.used_at is not None:
        return INVITATION_USED
    if invitation.expires_at <= now:
        return INVITATION_EXPIRED
    return INVITATION_OPEN
