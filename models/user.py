"""Followers of the official account: workers, cadres and admins."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, str_enum, utcnow
from models.union import Union


class Role(enum.StrEnum):
    WORKER = "worker"
    CADRE = "cadre"
    ADMIN = "admin"


class User(Base):
    __tablename__ = "wechat_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    openid: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[Role] = mapped_column(str_enum(Role, 16), default=Role.WORKER)
    union_id: Mapped[int | None] = mapped_column(ForeignKey("union_unit.id"), index=True)
    # How the union link was made: "qrcode" (scanned a union's code), "member" (member list), "invite".
    union_source: Mapped[str | None] = mapped_column(String(16))
    subscribed: Mapped[bool] = mapped_column(default=True)
    subscribed_at: Mapped[datetime | None]
    unsubscribed_at: Mapped[datetime | None]
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Last message from the user: customer-service pushes are allowed for 48 h after it.
    last_message_at: Mapped[datetime | None]
    # Holds a G reviewer code (docs/method/sampling.md §2). None: not yet known (rows from before
    # migration 0018); read on the user row every message, so ordinary ratings need no reviewer look-up.
    reviewer: Mapped[bool | None] = mapped_column(default=False)

    union: Mapped[Union | None] = relationship()
