"""data rights: a photo's uploader may be erased; chat event keys no longer hold the openid

``photo.uploader_id`` becomes nullable. Chat votes and ratings were keyed ``chat:<dedupe key>``,
and a dedupe key holds the sender's openid; the events are append-only and outlive an erasure,
so existing keys are rewritten to ``chat:<sha256(salt:dedupe key)>`` (new keys are keyed with the
server's secret instead, which a migration cannot read). The rewrite keeps each key unique and
cannot be undone.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 11:30:00
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


HEAT = ":heat"


def hashed_chat_key(salt: str, key: str) -> str:
    """``chat:<dedupe key>[:heat]`` → ``chat:<sha256(salt:dedupe key)>[:heat]``."""
    rest = key[len("chat:") :]
    suffix = HEAT if rest.endswith(HEAT) else ""
    dedupe = rest[: len(rest) - len(suffix)]
    return "chat:" + hashlib.sha256(f"{salt}:{dedupe}".encode()).hexdigest() + suffix


def upgrade() -> None:
    with op.batch_alter_table("photo", schema=None) as batch_op:
        batch_op.alter_column("uploader_id", existing_type=sa.Integer(), nullable=True)
    conn = op.get_bind()
    salt = conn.execute(sa.text("SELECT salt FROM recognition_secret WHERE id = 1")).scalar() or ""
    rows = conn.execute(
        sa.text(
            "SELECT id, event_key FROM recognition_event"
            " WHERE event_key LIKE 'chat:m:%' OR event_key LIKE 'chat:e:%'"
        )
    ).all()
    for event_id, key in rows:
        conn.execute(
            sa.text("UPDATE recognition_event SET event_key = :k WHERE id = :i"),
            {"k": hashed_chat_key(salt, key), "i": event_id},
        )


def downgrade() -> None:
    # Photos whose uploader was erased have no uploader to restore: they cannot go back.
    op.execute("DELETE FROM photo WHERE uploader_id IS NULL")
    with op.batch_alter_table("photo", schema=None) as batch_op:
        batch_op.alter_column("uploader_id", existing_type=sa.Integer(), nullable=False)
