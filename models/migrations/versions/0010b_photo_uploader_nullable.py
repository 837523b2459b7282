"""data rights: a photo's uploader may be erased (photo.uploader_id nullable)

Revision ID: 0010b
Revises: 0009
Create Date: 2026-12-01 11:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010b"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("photo", schema=None) as batch_op:
        batch_op.alter_column("uploader_id", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    # Photos whose uploader was erased have no uploader to restore: they cannot go back.
    op.execute("DELETE FROM photo WHERE uploader_id IS NULL")
    with op.batch_alter_table("photo", schema=None) as batch_op:
        batch_op.alter_column("uploader_id", existing_type=sa.Integer(), nullable=False)
