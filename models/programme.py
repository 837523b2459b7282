"""The brand programme: cadres and members, plans, progress, photos, assessments, the timeline."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, str_enum, utcnow
from models.brand import Brand, Stage
from models.union import Union
from models.user import Role, User


class Standard(enum.StrEnum):
    """The five standards (五个有) a brand is judged against."""

    NAME = "name"
    MECHANISM = "mechanism"
    CARRIERS = "carriers"
    DEMONSTRATION = "demonstration"
    RECOGNITION = "recognition"

    @property
    def label(self) -> str:
        return STANDARD_LABELS[self]


STANDARD_LABELS = {
    Standard.NAME: "有鲜明名称",
    Standard.MECHANISM: "有完善机制",
    Standard.CARRIERS: "有丰富载体",
    Standard.DEMONSTRATION: "有示范作用",
    Standard.RECOGNITION: "有社会认可度",
}


class Decision(enum.StrEnum):
    PROMOTE = "promote"
    CONTINUE = "continue"
    REJECT = "reject"

    @property
    def label(self) -> str:
        return DECISION_LABELS[self]


DECISION_LABELS = {
    Decision.PROMOTE: "推广",
    Decision.CONTINUE: "继续培育",
    Decision.REJECT: "不予通过",
}


class PhotoStatus(enum.StrEnum):
    PENDING = "pending"
    STORED = "stored"
    FAILED = "failed"


class Invitation(Base):
    """A one-time code that makes whoever sends it a cadre of a union."""

    __tablename__ = "invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Only the code's SHA-256 is kept: a database leak does not hand out cadre rights.
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    union_id: Mapped[int] = mapped_column(ForeignKey("union_unit.id"), index=True)
    role: Mapped[Role] = mapped_column(str_enum(Role, 16), default=Role.CADRE)
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by_id: Mapped[int | None] = mapped_column(ForeignKey("wechat_user.id"))

    union: Mapped[Union] = relationship()


class BindAttempt(Base):
    """A failed binding attempt; counted per user to rate-limit guessing."""

    __tablename__ = "bind_attempt"
    __table_args__ = (Index("ix_bind_attempt_user_at", "user_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("wechat_user.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(16))  # "invite" or "member"


class MemberCard(Base):
    """An imported member's card, known only by its salted HMAC; bound to at most one follower."""

    __tablename__ = "member_card"

    id: Mapped[int] = mapped_column(primary_key=True)
    card_hash: Mapped[str] = mapped_column(String(64), unique=True)
    union_id: Mapped[int] = mapped_column(ForeignKey("union_unit.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("wechat_user.id"), unique=True)
    bound_at: Mapped[datetime | None]
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)


class BrandPlan(Base):
    """A brand's creation plan (创建方案); the latest one counts."""

    __tablename__ = "brand_plan"

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brand.id", ondelete="CASCADE"), index=True)
    goals: Mapped[str] = mapped_column(Text)
    measures: Mapped[str] = mapped_column(Text)
    long_term: Mapped[str] = mapped_column(Text)
    this_year: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProgressReport(Base):
    __tablename__ = "progress_report"
    __table_args__ = (Index("ix_progress_report_brand_created", "brand_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brand.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("wechat_user.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    brand: Mapped[Brand] = relationship()
    author: Mapped[User | None] = relationship()


class Photo(Base):
    """An activity photo: received as a WeChat media id, then downloaded and stored by content hash."""

    __tablename__ = "photo"

    id: Mapped[int] = mapped_column(primary_key=True)
    media_id: Mapped[str] = mapped_column(String(128), unique=True)
    # None once the uploader deleted their personal data (the photo stays the brand's evidence).
    uploader_id: Mapped[int | None] = mapped_column(ForeignKey("wechat_user.id"), index=True)
    brand_id: Mapped[int | None] = mapped_column(ForeignKey("brand.id", ondelete="SET NULL"), index=True)
    report_id: Mapped[int | None] = mapped_column(
        ForeignKey("progress_report.id", ondelete="SET NULL"), index=True
    )
    activity: Mapped[str | None] = mapped_column(String(500))
    # When the photo reached us (WeChat's CreateTime); the best capture time WeChat gives.
    captured_at: Mapped[datetime]
    status: Mapped[PhotoStatus] = mapped_column(str_enum(PhotoStatus, 16), default=PhotoStatus.PENDING)
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    # Perceptual fingerprint (pHash + dHash, 32 hex digits) that survives re-encoding, resizing and
    # slight crops; None for images with no usable detail and for rows not yet backfilled.
    phash: Mapped[str | None] = mapped_column(String(32))
    size: Mapped[int | None]
    content_type: Mapped[str | None] = mapped_column(String(32))
    storage_key: Mapped[str | None] = mapped_column(String(200))
    stored_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(String(200))
    # Set when the same or a near-identical photo was received earlier, under any brand: flag
    # "duplicate" (the only code), duplicate_of the earliest such photo, whose brand had it first.
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("photo.id"))
    flag: Mapped[str | None] = mapped_column(String(16))

    brand: Mapped[Brand | None] = relationship()
    uploader: Mapped[User | None] = relationship()
    duplicate_of: Mapped[Photo | None] = relationship(remote_side=[id])


class StageTransition(Base):
    """One step of a brand's timeline: who moved it, when, from where to where, and why."""

    __tablename__ = "stage_transition"

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brand.id", ondelete="CASCADE"), index=True)
    from_stage: Mapped[Stage | None] = mapped_column(str_enum(Stage, 16))
    to_stage: Mapped[Stage] = mapped_column(str_enum(Stage, 16))
    actor: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class Assessment(Base):
    """A self-evaluation (kind "self") or a superior's review (kind "review") of a brand."""

    __tablename__ = "assessment"
    __table_args__ = (
        CheckConstraint("kind IN ('self', 'review')", name="kind"),
        CheckConstraint(
            "(kind = 'review' AND decision IS NOT NULL) OR (kind = 'self' AND decision IS NULL)",
            name="decision_only_on_review",
        ),
        Index("ix_assessment_brand_kind", "brand_id", "kind", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brand.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))
    author: Mapped[str] = mapped_column(String(64))
    decision: Mapped[Decision | None] = mapped_column(str_enum(Decision, 16))
    comments: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    scores: Mapped[list[AssessmentScore]] = relationship(
        back_populates="assessment", cascade="all, delete-orphan", order_by="AssessmentScore.id"
    )

    def score_for(self, standard: Standard) -> AssessmentScore | None:
        return next((s for s in self.scores if s.standard == standard), None)


class AssessmentScore(Base):
    __tablename__ = "assessment_score"
    __table_args__ = (
        UniqueConstraint("assessment_id", "standard"),
        CheckConstraint("score IS NULL OR (score >= 0 AND score <= 100)", name="score_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessment.id", ondelete="CASCADE"))
    standard: Mapped[Standard] = mapped_column(str_enum(Standard, 16))
    # None only for recognition when the index has no data yet (暂无数据).
    score: Mapped[float | None]
    evidence: Mapped[str | None] = mapped_column(Text)
    report_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    photo_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)

    assessment: Mapped[Assessment] = relationship(back_populates="scores")
