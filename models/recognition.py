"""Campaigns (评选/测评), their append-only recognition events, flags, reviewers and snapshots.

Events are never updated or deleted (docs/method/sampling.md §4): the index is always recomputed
from them. Flags are separate, versioned records; the latest flag per (event, rule) counts,
and every flag write has an audit row. Respondents appear only as a salted hash.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    false,
    text,
)
from sqlalchemy.orm import Mapped, Mapper, mapped_column, relationship

from models.base import Base, str_enum, utcnow
from models.brand import Brand


class CampaignKind(enum.StrEnum):
    RATING = "rating"
    VOTE = "vote"

    @property
    def label(self) -> str:
        return "满意度测评" if self is CampaignKind.RATING else "评选投票"


class Campaign(Base):
    __tablename__ = "campaign"
    __table_args__ = (CheckConstraint("max_choices >= 1", name="max_choices_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[CampaignKind] = mapped_column(str_enum(CampaignKind, 16))
    opens_at: Mapped[datetime]
    closes_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    max_choices: Mapped[int] = mapped_column(default=1)
    blind: Mapped[bool] = mapped_column(default=False)
    # The organising union (its admins see blind results); None = programme-wide.
    union_id: Mapped[int | None] = mapped_column(ForeignKey("union_unit.id"))
    # The cohort (docs/method/sampling.md §1, ranking.md §1): candidates' level
    # (province/city/county/grassroots) and the union whose subtree holds them, so ranks compare
    # like with like. None on campaigns made before it.
    cohort_level: Mapped[str | None] = mapped_column(String(16))
    cohort_union_id: Mapped[int | None] = mapped_column(ForeignKey("union_unit.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    entries: Mapped[list[CampaignBrand]] = relationship(
        back_populates="campaign", order_by="CampaignBrand.number", cascade="all, delete-orphan"
    )

    def is_open(self, now: datetime) -> bool:
        if self.closed_at is not None or now < self.opens_at:
            return False
        return self.closes_at is None or now < self.closes_at


class CampaignBrand(Base):
    """A candidate brand of a campaign with its number (「投3号」)."""

    __tablename__ = "campaign_brand"
    __table_args__ = (
        UniqueConstraint("campaign_id", "brand_id"),
        UniqueConstraint("campaign_id", "number"),
        CheckConstraint("number >= 1", name="number_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"), index=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brand.id"), index=True)
    number: Mapped[int]

    campaign: Mapped[Campaign] = relationship(back_populates="entries")
    # Every use of an entry shows its brand: loaded with the entries, not one query per entry.
    brand: Mapped[Brand] = relationship(lazy="joined", innerjoin=True)


EVENT_KINDS = ("support_vote", "rating", "roster_ballot", "review_score")


class RecognitionEvent(Base):
    __tablename__ = "recognition_event"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('support_vote', 'rating', 'roster_ballot', 'review_score')", name="kind_known"
        ),
        CheckConstraint("grp IN ('W', 'S', 'G')", name="group_known"),
        CheckConstraint("q1 IS NULL OR (q1 BETWEEN 1 AND 5)", name="q1_range"),
        CheckConstraint("q2 IS NULL OR (q2 BETWEEN 1 AND 5)", name="q2_range"),
        CheckConstraint("q3 IS NULL OR (q3 BETWEEN 0 AND 10)", name="q3_range"),
        # P2: one support vote per (identity, brand, campaign), whatever the retries.
        Index(
            "uq_recognition_event_one_vote",
            "campaign_id",
            "identity_hash",
            "brand_id",
            unique=True,
            postgresql_where=text("kind = 'support_vote'"),
            sqlite_where=text("kind = 'support_vote'"),
        ),
        Index("ix_recognition_event_identity_time", "identity_hash", "submitted_at"),
        Index("ix_recognition_event_campaign_kind", "campaign_id", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Idempotency key: the inbound message's dedupe key, or the survey response's source key.
    event_key: Mapped[str] = mapped_column(String(255), unique=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))
    kind: Mapped[str] = mapped_column(String(16))
    identity_hash: Mapped[str] = mapped_column(String(64))
    grp: Mapped[str] = mapped_column(String(1))
    # Respondent's union path at submission ("/1/4/"), for the home rule; None for S.
    union_path: Mapped[str | None] = mapped_column(String(1000))
    # The respondent is a bound cadre (工会干部) of the union_path unit: home for the brands of that
    # unit and its ancestors (the amended home rule); a member's answer there is away.
    cadre: Mapped[bool] = mapped_column(default=False, server_default=false())
    identity_first_seen_at: Mapped[datetime | None]
    channel: Mapped[str] = mapped_column(String(16))
    # For channel "brand": the brand whose QR code or link brought the respondent.
    src_brand_id: Mapped[int | None] = mapped_column(Integer)
    brand_id: Mapped[int | None] = mapped_column(ForeignKey("brand.id"), index=True)
    q1: Mapped[int | None]
    q2: Mapped[int | None]
    q3: Mapped[int | None]
    # roster_ballot: {"shown": [...], "aware": [...], "foil": bool}; review_score: {"items": [...]}.
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    started_at: Mapped[datetime]
    submitted_at: Mapped[datetime] = mapped_column(index=True)


class FlagStatus(enum.StrEnum):
    WATCH = "watch"
    SUSPECT = "suspect"
    QUALITY_EXCLUDED = "quality_excluded"
    EXCLUDED_FRAUD = "excluded_fraud"
    RESTORED = "restored"


EXCLUDING = frozenset({FlagStatus.SUSPECT, FlagStatus.QUALITY_EXCLUDED, FlagStatus.EXCLUDED_FRAUD})


class RecognitionFlag(Base):
    """One version of a rule's verdict on one event; the highest id per (event, rule) counts."""

    __tablename__ = "recognition_flag"
    __table_args__ = (UniqueConstraint("event_id", "rule_id", "version_no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("recognition_event.id"), index=True)
    rule_id: Mapped[str] = mapped_column(String(32))
    rule_version: Mapped[str] = mapped_column(String(64))
    version_no: Mapped[int] = mapped_column(default=1)
    status: Mapped[FlagStatus] = mapped_column(str_enum(FlagStatus, 20))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    decided_by: Mapped[str] = mapped_column(String(64))  # "system" or the admin
    reason: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RecognitionFlagAudit(Base):
    __tablename__ = "recognition_flag_audit"

    id: Mapped[int] = mapped_column(primary_key=True)
    flag_id: Mapped[int] = mapped_column(ForeignKey("recognition_flag.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))  # raise / confirm / restore / reflag
    actor: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(500))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class ReviewerInvite(Base):
    """A one-time code that makes its holder a G reviewer (党政评议) of one campaign."""

    __tablename__ = "reviewer_invite"
    __table_args__ = (UniqueConstraint("campaign_id", "identity_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    reviewer_name: Mapped[str] = mapped_column(String(100))
    unit_name: Mapped[str] = mapped_column(String(200))
    # The reviewer's own unit when it is in the union tree: recusal from its brands.
    recuse_union_id: Mapped[int | None] = mapped_column(ForeignKey("union_unit.id"))
    identity_hash: Mapped[str | None] = mapped_column(String(64))
    used_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RecognitionCheck(Base):
    """One action on a brand-level check (docs/method/adjudication.md §3).

    Escalate / appeal open it, propose / decide close it.

    The state of a brand's check is the fold of its rows; a row is never changed. The automatic
    check (pending suspects ≥ the share) is derived from the flags and needs no row.
    """

    __tablename__ = "recognition_check"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brand.id"))
    action: Mapped[str] = mapped_column(String(16))  # escalate / appeal / propose / decide
    actor: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(500))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class RecognitionSnapshot(Base):
    """An official result of a closed campaign: canonical JSON and its sha256, never changed.

    Version 1 is taken at close; a correction adds version n + 1 with its reason. Each version
    keeps the flag and check ids it was computed from, so every version re-runs byte for byte.
    """

    __tablename__ = "recognition_snapshot"
    __table_args__ = (UniqueConstraint("campaign_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))
    version: Mapped[int] = mapped_column(default=1, server_default=text("1"))
    reason: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[str | None] = mapped_column(String(64))
    cutoff_flag_id: Mapped[int | None]
    cutoff_check_id: Mapped[int | None]
    method_version: Mapped[str] = mapped_column(String(32))
    config_digest: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LiveReport(Base):
    """The live report of an open campaign, computed by a background job and only read by
    requests: the serialized report and the newest event, flag and brand check it includes."""

    __tablename__ = "recognition_live_report"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"), primary_key=True)
    body: Mapped[str] = mapped_column(Text)
    event_watermark: Mapped[int] = mapped_column(Integer, default=0)
    flag_watermark: Mapped[int] = mapped_column(Integer, default=0)
    check_watermark: Mapped[int] = mapped_column(Integer, default=0)
    config_digest: Mapped[str] = mapped_column(String(64))
    computed_at: Mapped[datetime]


class RecognitionSecret(Base):
    """The salt for identity hashes, created once by the migration."""

    __tablename__ = "recognition_secret"

    id: Mapped[int] = mapped_column(primary_key=True)
    salt: Mapped[str] = mapped_column(String(64))


class AppendOnlyError(RuntimeError):
    pass


def _refuse(mapper: Mapper[Any], connection: Any, target: Any) -> None:
    raise AppendOnlyError(f"{type(target).__name__} 只能追加，不能修改或删除")


for _cls in (RecognitionEvent, RecognitionFlag, RecognitionFlagAudit, RecognitionCheck, RecognitionSnapshot):
    event.listen(_cls, "before_update", _refuse)
    event.listen(_cls, "before_delete", _refuse)
