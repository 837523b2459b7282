"""security: used nonces, session epochs, audit hash chain (append-only)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 10:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Refuses UPDATE, DELETE and TRUNCATE on audit_entry, except the FK's ON DELETE SET NULL of account_id
# (an account removed) and a deliberate ``SET LOCAL ghpp.allow_audit_delete = 'on'`` (test
# fixtures; archiving entries older than the legal minimum, by hand).
_TRIGGER_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_entry_append_only() RETURNS trigger AS $$
BEGIN
    IF current_setting('ghpp.allow_audit_delete', true) = 'on' THEN
        RETURN COALESCE(NEW, OLD);
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.account_id IS NULL
       AND (to_jsonb(NEW) - 'account_id') = (to_jsonb(OLD) - 'account_id') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '操作日志只能追加，不能修改或删除（audit_entry %）', TG_OP;
END;
$$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    op.create_table(
        "used_nonce",
        sa.Column("timestamp", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("nonce", sa.String(length=128), nullable=False),
        sa.Column("body_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("timestamp", "nonce", name=op.f("pk_used_nonce")),
    )
    with op.batch_alter_table("used_nonce", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_used_nonce_expires_at"), ["expires_at"], unique=False)

    with op.batch_alter_table("admin_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("session_epoch", sa.Integer(), server_default="0", nullable=False))

    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("entry_hash", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_audit_entry_entry_hash"), ["entry_hash"], unique=False)

    _chain_existing_entries()
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_TRIGGER_FUNCTION)
        op.execute(
            "CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry "
            "FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_entry_no_truncate BEFORE TRUNCATE ON audit_entry "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_append_only()"
        )


def _chain_existing_entries() -> None:
    """Entries written before the chain existed join it, in id order."""
    from types import SimpleNamespace

    from models.admin import AUDIT_GENESIS, audit_hash

    entry = sa.table(
        "audit_entry",
        *(
            sa.column(name)
            for name in ("id", "actor", "union_id", "action", "target_type", "target_id", "address")
        ),
        sa.column("before", sa.JSON()),
        sa.column("after", sa.JSON()),
        sa.column("created_at", models.base.UTCDateTime(timezone=True)),
        sa.column("prev_hash"),
        sa.column("entry_hash"),
    )
    bind = op.get_bind()
    prev = AUDIT_GENESIS
    rows = bind.execute(sa.select(entry).order_by(entry.c.id)).mappings().all()
    for row in rows:
        digest = audit_hash(prev, SimpleNamespace(**row))  # type: ignore[arg-type]
        bind.execute(
            entry.update().where(entry.c.id == row["id"]).values(prev_hash=prev, entry_hash=digest)
        )
        prev = digest


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_entry_no_truncate ON audit_entry")
        op.execute("DROP TRIGGER IF EXISTS audit_entry_append_only ON audit_entry")
        op.execute("DROP FUNCTION IF EXISTS audit_entry_append_only()")
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_entry_entry_hash"))
        batch_op.drop_column("entry_hash")
        batch_op.drop_column("prev_hash")
    with op.batch_alter_table("admin_account", schema=None) as batch_op:
        batch_op.drop_column("session_epoch")
    with op.batch_alter_table("used_nonce", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_used_nonce_expires_at"))
    op.drop_table("used_nonce")
