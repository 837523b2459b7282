"""The fraud scan's windowed state: per-bin counts and a per-campaign checkpoint (issue 13).

The scan reads only events after ``RecognitionScanState.last_event_id``; the trailing
baselines it needs (7 days of counts per brand) come from ``RecognitionScanBin``, so a run
costs what the new events cost, not what the campaign holds. Both tables are derived data:
``recognition scan --full`` rebuilds them from the events.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow


class RecognitionScanBin(Base):
    """Submissions of one brand (0: the whole cohort) in one time bin of one scale."""

    __tablename__ = "recognition_scan_bin"
    __table_args__ = (Index("ix_recognition_scan_bin_fires", "campaign_id", "scale", "fires", "bin"),)

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"), primary_key=True)
    scale: Mapped[int] = mapped_column(primary_key=True)  # 0: 10 min, 1: day, 2: day offset by 12 h
    brand_id: Mapped[int] = mapped_column(primary_key=True)
    bin: Mapped[int] = mapped_column(primary_key=True)
    n: Mapped[int] = mapped_column(default=0)
    n_new: Mapped[int] = mapped_column(default=0)  # identity first seen < 24 h before
    n_rated: Mapped[int] = mapped_column(default=0)  # with a q1
    n_top: Mapped[int] = mapped_column(default=0)  # q1 = 5
    n_bottom: Mapped[int] = mapped_column(default=0)  # q1 = 1
    n_brand: Mapped[int] = mapped_column(default=0)  # through a brand channel
    fires: Mapped[bool] = mapped_column(default=False)  # B1 verdict for this bin


class RecognitionScanState(Base):
    """How far the scan has read a campaign's events."""

    __tablename__ = "recognition_scan_state"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"), primary_key=True)
    last_event_id: Mapped[int] = mapped_column(default=0)
    rules_version: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
