"""Work brands (工作品牌) and the five steps they go through."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, str_enum, utcnow
from models.union import Union


class Stage(enum.StrEnum):
    PROPOSED = "proposed"
    PLANNED = "planned"
    CULTIVATING = "cultivating"
    REVIEWING = "reviewing"
    DEEPENING = "deepening"

    @property
    def label(self) -> str:
        return STAGE_LABELS[self]


STAGE_LABELS = {
    Stage.PROPOSED: "品牌提出",
    Stage.PLANNED: "制定方案",
    Stage.CULTIVATING: "培育创建",
    Stage.REVIEWING: "评议推广",
    Stage.DEEPENING: "深化提升",
}


class Brand(Base):
    __tablename__ = "brand"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    union_id: Mapped[int] = mapped_column(ForeignKey("union_unit.id"), index=True)
    stage: Mapped[Stage] = mapped_column(str_enum(Stage, 16), default=Stage.PROPOSED)
    summary: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Bumped on every change, so routers in every process notice a renamed brand.
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    union: Mapped[Union] = relationship(back_populates="brands")
    aliases: Mapped[list[BrandAlias]] = relationship(
        back_populates="brand", cascade="all, delete-orphan", order_by="BrandAlias.id"
    )

    @property
    def alias_names(self) -> list[str]:
        return [a.alias for a in self.aliases]


class BrandAlias(Base):
    """Another name a brand is known by; unique across the programme."""

    __tablename__ = "brand_alias"

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brand.id", ondelete="CASCADE"), index=True)
    alias: Mapped[str] = mapped_column(String(100), unique=True)

    brand: Mapped[Brand] = relationship(back_populates="aliases")
