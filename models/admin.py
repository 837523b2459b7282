"""Dashboard accounts, API tokens and the audit log of every write made through the dashboard."""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from models.base import Base, str_enum, utcnow
from models.union import Union


class AdminRole(enum.StrEnum):
    # admin: reads and writes its union's whole subtree; viewer: reads it; cadre: its own union's
    # brands; auditor: reads the subtree and its audit log, and can change nothing.
    ADMIN = "admin"
    VIEWER = "viewer"
    CADRE = "cadre"
    AUDITOR = "auditor"

    @property
    def label(self) -> str:
        return ADMIN_ROLE_LABELS[self]


ADMIN_ROLE_LABELS = {
    AdminRole.ADMIN: "管理员",
    AdminRole.VIEWER: "查看员",
    AdminRole.CADRE: "工会干部",
    AdminRole.AUDITOR: "审计员",
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
    # Kept in each session and checked on every request: logout and password changes raise
    # it, which ends every session of the account on every device (server-side).
    session_epoch: Mapped[int] = mapped_column(default=0, server_default="0")

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
    # Hash chain (append-only log): each entry carries the hash of the one before it, so a
    # deleted, inserted or edited entry breaks the chain at that point (``flask audit verify``).
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    entry_hash: Mapped[str | None] = mapped_column(String(64), index=True)

    union: Mapped[Union | None] = relationship()


# The chain's start: the prev_hash of the first entry.
AUDIT_GENESIS = "0" * 64
# pg_advisory_xact_lock key serialising audit writers, so the chain stays one line.
AUDIT_LOCK_KEY = 0x61756469  # "audi"


def audit_hash(prev_hash: str, entry: AuditEntry) -> str:
    """SHA-256 over the previous hash and the entry's content.

    ``account_id`` is left out: it is set to NULL when an account is deleted (the actor's name
    is kept in ``actor``), and that must not read as tampering.
    """
    created = entry.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    content = [
        prev_hash,
        created,
        entry.actor,
        entry.union_id,
        entry.action,
        entry.target_type,
        entry.target_id,
        entry.before,
        entry.after,
        entry.address,
    ]
    canonical = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def append_audit(session: Session, entry: AuditEntry) -> AuditEntry:
    """Add ``entry`` at the end of the chain (serialised with every other writer until commit)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_LOCK_KEY})
    # SQLite needs no lock: every write transaction is BEGIN IMMEDIATE (see models.db).
    last = session.scalar(select(AuditEntry.entry_hash).order_by(AuditEntry.id.desc()).limit(1))
    if getattr(entry, "created_at", None) is None:  # the column default applies only at flush
        entry.created_at = utcnow()
    entry.prev_hash = last or AUDIT_GENESIS
    entry.entry_hash = audit_hash(entry.prev_hash, entry)
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True)
class ChainBreak:
    entry_id: int
    created_at: datetime
    reason: str  # "content" (entry edited) or "link" (an entry before it deleted or inserted)


@dataclass(frozen=True)
class ChainReport:
    checked: int
    head_id: int | None
    head_hash: str | None
    first_break: ChainBreak | None
    anchor_found: bool = False


def _entries(session: Session, batch: int = 1000) -> Iterator[AuditEntry]:
    last_id = 0
    while True:
        rows = list(
            session.scalars(
                select(AuditEntry).where(AuditEntry.id > last_id).order_by(AuditEntry.id).limit(batch)
            )
        )
        if not rows:
            return
        yield from rows
        last_id = rows[-1].id
        session.expunge_all()


def verify_audit_chain(session: Session, anchor: str | None = None) -> ChainReport:
    """Walk the log in id order; the first entry whose link or content does not match is named.

    ``anchor``: a head hash noted down earlier; ``anchor_found`` says whether it is still in
    the chain (entries cut off the end leave no other trace).
    """
    expected_prev = AUDIT_GENESIS
    checked = 0
    found = False
    head: AuditEntry | None = None
    for entry in _entries(session):
        reason = None
        if entry.prev_hash != expected_prev:
            reason = "link"
        elif entry.entry_hash != audit_hash(expected_prev, entry):
            reason = "content"
        if reason is not None:
            brk = ChainBreak(entry.id, entry.created_at, reason)
            return ChainReport(checked, head.id if head else None, expected_prev, brk, found)
        checked += 1
        head = entry
        expected_prev = entry.entry_hash or ""
        found = found or (anchor is not None and entry.entry_hash == anchor)
    return ChainReport(checked, head.id if head else None, head.entry_hash if head else None, None, found)
