"""Open/closed state of a survey set in the dashboard (overrides the template's ``active``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow


class SurveySchedule(Base):
    """One row per survey key once an admin has opened or closed it; without a row the YAML
    template's ``active`` decides. Answers already given are never touched by this."""

    __tablename__ = "survey_schedule"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    open: Mapped[bool]
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    changed_by: Mapped[str | None] = mapped_column(String(64))
