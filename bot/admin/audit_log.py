"""Writing the audit log: ``record()`` for every write the dashboard or the CLI makes.

Framework code: it imports no view module (the page listing the entries is ``bot.admin.audit``),
so any module may record without an import circle.
"""

from __future__ import annotations

from typing import Any

from flask import g, has_request_context
from sqlalchemy.orm import Session

from bot.admin.security import client_address
from models.admin import AdminAccount, AuditEntry, append_audit


def record(
    session: Session,
    action: str,
    target_type: str,
    target_id: int | str | None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    *,
    actor: AdminAccount | None = None,
    actor_name: str | None = None,
    union_id: int | None = None,
) -> AuditEntry:
    """Append an audit entry to the hash chain in ``session`` (committed with the write it describes).

    In a dashboard request the actor is the logged-in account; the CLI passes ``actor_name``.
    Never put secrets (password hashes, tokens) in ``before``/``after``. Entries are never
    updated or deleted (no view or command does; on PostgreSQL a trigger refuses it).
    """
    if actor is None and has_request_context():
        actor = g.get("admin_account")
    entry = AuditEntry(
        account_id=actor.id if actor else None,
        actor=actor.username if actor else (actor_name or "命令行"),
        union_id=actor.union_id if actor else union_id,
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        before=before,
        after=after,
        address=client_address() if has_request_context() else None,
    )
    return append_audit(session, entry)
