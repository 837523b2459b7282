"""Jobs waiting to be handed to the queue: the transactional outbox.

A job is written here in the same transaction as the change that asked for it, so it exists
exactly when that change does; a relay hands unsent rows to the queue and marks them sent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow


class OutboxJob(Base):
    __tablename__ = "job_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    kwargs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Null until the relay has handed the job to the queue; the relay's work list.
    sent_at: Mapped[datetime | None] = mapped_column(index=True)
    # The queue's id for the job (deterministic, from this row's id): a second hand-off finds it.
    queue_job_id: Mapped[str | None] = mapped_column(String(64))
    # Hand-off attempts that failed (queue unreachable), for the operator.
    failures: Mapped[int] = mapped_column(default=0)
