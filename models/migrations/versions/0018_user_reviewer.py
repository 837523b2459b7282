"""wechat_user.reviewer: whether the follower holds a G reviewer code

Read with the user row on every message, so a rating needs no reviewer look-up. Rows from
before this revision are NULL (not yet known) and learnt on their next rating.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 14:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("wechat_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reviewer", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("wechat_user", schema=None) as batch_op:
        batch_op.drop_column("reviewer")
