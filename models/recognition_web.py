"""Web risk signals of H5 page submissions (docs/method/fraud.md §8: F1, F2, F5, B4 and privacy).

One row per recognition event that came from a web page. It lives beside the append-only event,
not in it, so the retention purge can delete it after ``anti_fraud.retention_months`` while the
event and its flags stay. It holds no full IP address and no raw device id: the IP's prefix
(IPv4 /24, IPv6 /48) and its 省/市, whether the address was in a data-centre range, the user
agent's family, a keyed hash of the page's device cookie and the time spent on the page.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class RecognitionWebSignal(Base):
    __tablename__ = "recognition_web_signal"
    __table_args__ = (
        # F1 counts identities per device within a campaign; B4 reads a brand's signals by campaign.
        Index("ix_recognition_web_signal_campaign_device", "campaign_id", "device_hash"),
    )

    event_id: Mapped[int] = mapped_column(ForeignKey("recognition_event.id"), primary_key=True)
    # Copied from the event so the scan's queries need no join to find a campaign's signals.
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))
    ip_prefix: Mapped[str | None] = mapped_column(String(43))
    province: Mapped[str | None] = mapped_column(String(16))
    city: Mapped[str | None] = mapped_column(String(32))
    idc: Mapped[bool] = mapped_column(default=False)
    ua_family: Mapped[str] = mapped_column(String(20))
    device_hash: Mapped[str | None] = mapped_column(String(64))
    dwell_ms: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(index=True)
