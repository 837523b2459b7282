"""Suggestions (建议) with their ticket counter and history, and survey responses (问卷)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, str_enum, utcnow
from models.brand import Brand
from models.union import Union


class SuggestionState(enum.StrEnum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    ANSWERED = "answered"
    RATED = "rated"
    REJECTED = "rejected"

    @property
    def label(self) -> str:
        return SUGGESTION_STATE_LABELS[self]


SUGGESTION_STATE_LABELS = {
    SuggestionState.SUBMITTED: "已提交",
    SuggestionState.ACCEPTED: "已受理",
    SuggestionState.IN_PROGRESS: "办理中",
    SuggestionState.ANSWERED: "已答复",
    SuggestionState.RATED: "已评价",
    SuggestionState.REJECTED: "不予受理",
}


class TicketCounter(Base):
    """One row per Asia/Shanghai day: the last ticket sequence number handed out."""

    __tablename__ = "suggestion_ticket_counter"

    day: Mapped[str] = mapped_column(String(8), primary_key=True)  # YYYYMMDD
    last: Mapped[int] = mapped_column(default=0)


class Suggestion(Base):
    __tablename__ = "suggestion"
    __table_args__ = (
        CheckConstraint("rating IS NULL OR rating IN ('satisfied', 'basic', 'unsatisfied')", name="rating"),
        # An anonymous suggestion never holds its author.
        CheckConstraint("NOT anonymous OR user_id IS NULL", name="anonymous_no_user"),
        CheckConstraint("reopen_count >= 0 AND reopen_count <= 1", name="reopen_once"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket: Mapped[str] = mapped_column(String(16), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("wechat_user.id", ondelete="SET NULL"), index=True)
    anonymous: Mapped[bool] = mapped_column(default=False)
    # Anonymous authors follow their ticket with a code; only its keyed hash is kept
    # (handlers.anonymity.hash_code; "legacy:" + sha256 for 4-digit codes from before 0010).
    access_code_hash: Mapped[str | None] = mapped_column(String(80))
    content: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(16))
    brand_id: Mapped[int | None] = mapped_column(ForeignKey("brand.id", ondelete="SET NULL"), index=True)
    union_id: Mapped[int] = mapped_column(ForeignKey("union_unit.id"), index=True)
    state: Mapped[SuggestionState] = mapped_column(
        str_enum(SuggestionState, 16), default=SuggestionState.SUBMITTED, index=True
    )
    reason: Mapped[str | None] = mapped_column(Text)  # why it was not accepted
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None]
    # When the answer reached the author (push or next message); None: still owed.
    answer_delivered_at: Mapped[datetime | None]
    rating: Mapped[str | None] = mapped_column(String(16))
    reopen_count: Mapped[int] = mapped_column(default=0)
    # Deadline of the current state (accept or answer); None once answered or closed.
    due_at: Mapped[datetime | None] = mapped_column(index=True)
    escalations: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    union: Mapped[Union] = relationship()
    brand: Mapped[Brand | None] = relationship()
    events: Mapped[list[SuggestionEvent]] = relationship(
        back_populates="suggestion", cascade="all, delete-orphan", order_by="SuggestionEvent.id"
    )


class SuggestionEvent(Base):
    """The recorded history of a suggestion: every transition, transfer and escalation."""

    __tablename__ = "suggestion_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    suggestion_id: Mapped[int] = mapped_column(ForeignKey("suggestion.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    # Cadre or admin who acted; None for the author, the system (escalation) or anonymous.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("wechat_user.id", ondelete="SET NULL"))
    union_id: Mapped[int | None] = mapped_column(ForeignKey("union_unit.id"))
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)

    suggestion: Mapped[Suggestion] = relationship(back_populates="events")


class SuggestionQuota(Base):
    """Suggestions filed per user per day, for the daily limit (anonymous ones included).

    Holds a count only, never a ticket; rows of past days are purged by the escalation job.
    """

    __tablename__ = "suggestion_quota"

    user_id: Mapped[int] = mapped_column(ForeignKey("wechat_user.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)


class AnonymousQuota(Base):
    """Anonymous filings per author per day, under a keyed hash of (day, openid), never a user id.

    Counted apart from SuggestionQuota so a user's named count never shows an anonymous filing.
    """

    __tablename__ = "suggestion_anon_quota"

    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)


class CodeAttempt(Base):
    """A wrong access code, counted per follower and per ticket (keyed hashes) for one hour."""

    __tablename__ = "suggestion_code_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(80), index=True)  # "f:" / "t:" + keyed hash
    at: Mapped[datetime] = mapped_column(index=True)


class SurveyResponse(Base):
    """One person's response to one survey; answers keyed by step ("sat", "q1:12" …)."""

    __tablename__ = "survey_response"
    __table_args__ = (
        UniqueConstraint("survey_key", "user_id"),
        CheckConstraint("respondent_group IN ('W', 'G', 'S')", name="group"),
        CheckConstraint("status IN ('in_progress', 'complete')", name="status"),
        Index("ix_survey_response_survey_status", "survey_key", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_key: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(ForeignKey("wechat_user.id", ondelete="CASCADE"))
    # Opaque id for exports and reports (never the openid or user id).
    respondent_code: Mapped[str] = mapped_column(String(16), unique=True)
    respondent_group: Mapped[str] = mapped_column(String(1), default="W")
    channel: Mapped[str] = mapped_column(String(16), default="neutral_open")
    status: Mapped[str] = mapped_column(String(16), default="in_progress")
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Per-respondent plan: the roster shown and the brands chosen for rating.
    plan: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None]
