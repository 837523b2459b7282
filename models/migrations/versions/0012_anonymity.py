"""anonymity: hashed 40-bit access codes, code attempts, anonymous quota, held replies

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 11:30:00

Existing 4-digit access codes cannot be keyed here (migrations have no SECRET_KEY): they are kept
as "legacy:" + sha256(ticket:code), still accepted under the attempt limit, and the clear column
is dropped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("suggestion") as batch:
        batch.add_column(sa.Column("access_code_hash", sa.String(length=80), nullable=True))
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, ticket, access_code FROM suggestion WHERE access_code IS NOT NULL"))
    for sid, ticket, code in rows.fetchall():
        digest = hashlib.sha256(f"{ticket.upper()}:{code.strip()}".encode()).hexdigest()
        conn.execute(
            sa.text("UPDATE suggestion SET access_code_hash = :h WHERE id = :id"),
            {"h": "legacy:" + digest, "id": sid},
        )
    with op.batch_alter_table("suggestion") as batch:
        batch.drop_column("access_code")

    op.create_table(
        "suggestion_anon_quota",
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("day", sa.String(length=8), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key_hash", "day", name=op.f("pk_suggestion_anon_quota")),
    )
    op.create_table(
        "suggestion_code_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=80), nullable=False),
        sa.Column("at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suggestion_code_attempt")),
    )
    op.create_index(op.f("ix_suggestion_code_attempt_scope"), "suggestion_code_attempt", ["scope"])
    op.create_index(op.f("ix_suggestion_code_attempt_at"), "suggestion_code_attempt", ["at"])
    op.create_table(
        "held_reply",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("sealed", sa.Text(), nullable=False),
        sa.Column("expires_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_held_reply")),
    )
    op.create_index(op.f("ix_held_reply_key_hash"), "held_reply", ["key_hash"])
    op.create_index(op.f("ix_held_reply_expires_at"), "held_reply", ["expires_at"])


def downgrade() -> None:
    op.drop_table("held_reply")
    op.drop_table("suggestion_code_attempt")
    op.drop_table("suggestion_anon_quota")
    with op.batch_alter_table("suggestion") as batch:
        batch.add_column(sa.Column("access_code", sa.String(length=8), nullable=True))
        batch.drop_column("access_code_hash")
