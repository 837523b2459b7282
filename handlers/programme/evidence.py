"""What a brand has shown, round by round: its timeline, plans, assessments, reports and photos.

A review closes a round and the next one starts right after it; the gates and the operations
ask these questions of the current round only.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Brand
from models.programme import Assessment, BrandPlan, Photo, PhotoStatus, ProgressReport, StageTransition


def timeline(session: Session, brand: Brand) -> list[StageTransition]:
    stmt = (
        select(StageTransition)
        .where(StageTransition.brand_id == brand.id)
        .order_by(StageTransition.at, StageTransition.id)
    )
    return list(session.scalars(stmt))


def entered_stage_at(session: Session, brand: Brand) -> datetime | None:
    """When the brand entered its current stage (None if the timeline does not say)."""
    stmt = (
        select(func.max(StageTransition.at))
        .where(StageTransition.brand_id == brand.id, StageTransition.to_stage == brand.stage)
        .limit(1)
    )
    return session.scalar(stmt)


def latest_plan(session: Session, brand: Brand) -> BrandPlan | None:
    stmt = (
        select(BrandPlan)
        .where(BrandPlan.brand_id == brand.id)
        .order_by(BrandPlan.created_at.desc(), BrandPlan.id.desc())
    )
    return session.scalars(stmt).first()


def latest_assessment(session: Session, brand: Brand, kind: str) -> Assessment | None:
    stmt = (
        select(Assessment)
        .where(Assessment.brand_id == brand.id, Assessment.kind == kind)
        .order_by(Assessment.created_at.desc(), Assessment.id.desc())
    )
    return session.scalars(stmt).first()


def report_count(session: Session, brand: Brand) -> int:
    stmt = select(func.count(ProgressReport.id)).where(ProgressReport.brand_id == brand.id)
    return int(session.scalar(stmt) or 0)


def round_opened_by(session: Session, brand: Brand) -> Assessment | None:
    """The review that closed the previous round (None during the first round)."""
    return latest_assessment(session, brand, "review")


def _after(boundary: Assessment | None) -> datetime | None:
    return boundary.created_at if boundary is not None else None


def round_reports(session: Session, brand: Brand) -> list[int]:
    """Ids of the progress reports filed in the current round."""
    stmt = select(ProgressReport.id).where(ProgressReport.brand_id == brand.id)
    since = _after(round_opened_by(session, brand))
    if since is not None:
        stmt = stmt.where(ProgressReport.created_at > since)
    return list(session.scalars(stmt.order_by(ProgressReport.id)))


def round_photos(session: Session, brand: Brand) -> list[int]:
    """Ids of the brand's own photos of the current round.

    Only stored photos count: a pending one has not been checked against earlier photos yet,
    and a failed one has no picture. A copy of an earlier photo (``duplicate_of_id`` set by the
    photo check, or any flag) is no new evidence.
    """
    stmt = select(Photo.id).where(
        Photo.brand_id == brand.id,
        Photo.status == PhotoStatus.STORED,
        Photo.duplicate_of_id.is_(None),
        Photo.flag.is_(None),
    )
    since = _after(round_opened_by(session, brand))
    if since is not None:
        stmt = stmt.where(Photo.captured_at > since)
    return list(session.scalars(stmt.order_by(Photo.id)))


def round_self_evaluation(session: Session, brand: Brand) -> Assessment | None:
    """The latest self-evaluation filed in the current round."""
    own = latest_assessment(session, brand, "self")
    boundary = round_opened_by(session, brand)
    if own is None or (boundary is not None and not is_later(own, boundary)):
        return None
    return own


def is_later(a: Assessment, b: Assessment) -> bool:
    # Ids break ties between rows written at the same instant (one table, one sequence).
    return (a.created_at, a.id) > (b.created_at, b.id)
