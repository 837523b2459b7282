"""Read models of the programme: what the dashboard, the API, the CLI and chat read about a brand."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.programme.evidence import is_later, latest_assessment
from models import Brand
from models.programme import Assessment, Standard


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
