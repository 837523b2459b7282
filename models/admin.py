"""Dashboard accounts, API tokens and the audit log of every write made through the dashboard."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, str_enum, utcnow
from models.union import Union


class AdminRole(enum.StrEnum):
    # admin: reads and writes its union's whole subtree; viewer: reads it; cadre: its own union's brands.
    ADMIN = "admin"
    VIEWER = "viewer"
    CADRE = "cadre"

    @property
    def label(self) -> str:
        return ADMIN_ROLE_LABELS[self]


ADMIN_ROLE_LABELS = {
    AdminRole.ADMIN: "管理员",
    AdminRole.VIEWER: "查看员",
    AdminRole.CADRE: "工会干部",
}


class AdminAccount(Base):
    __tablename__ = "admin_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    # A slow salted hash (werkzeug scrypt); the plain password is never stored.
    password_hash: Mapped[str] = mapped_column(String(255))
    union_id: Mapped[int] = mapped_column(ForeignKey("union_unit.id"), index=True)
    role: Mapped[AdminRole] = mapped_column(str_enum(AdminRole, 16), default=AdminRole.VIEWER)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    union: Mapped[Union] = relationship()


class ApiToken(Base):
    """A bearer token for /api/v1; only its SHA-256 is stored (the token itself is random, 256 bits)."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("admin_account.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # First characters of the token, shown so operators can tell tokens apart.
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    account: Mapped[AdminAccount] = relationship()


class AuditEntry(Base):
    """One write: who, what, when, and the record before and after (JSON, secrets left out)."""

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("admin_account.id", ondelete="SET NULL"), index=True
    )
    # Copied so the entry still says who it was after the account is gone or renamed.
    actor: Mapped[str] = mapped_column(String(64))
    # The actor's union, so an admin sees the entries of its own subtree only.
    union_id: Mapped[int | None] = mapped_column(ForeignKey("union_unit.id"), index=True)
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[str | None] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    address: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    union: Mapped[Union | None] = relationship()
