"""photos: a perceptual fingerprint beside the SHA-256; one flag code for copies

Adds ``photo.phash`` (pHash + dHash, 32 hex digits). Existing rows get it from
``flask --app bot photos fingerprint`` (it reads the stored files; a migration cannot).
The two flag codes "duplicate" (same brand) and "reused" (another brand) become the one code
"duplicate"; the brand that had the photo first is the one of ``duplicate_of``. The downgrade
drops the column and keeps the single code (which brand a copy came from is still derivable).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 14:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("photo") as batch:
        batch.add_column(sa.Column("phash", sa.String(length=32), nullable=True))
    op.execute("UPDATE photo SET flag = 'duplicate' WHERE flag = 'reused'")


def downgrade() -> None:
    with op.batch_alter_table("photo") as batch:
        batch.drop_column("phash")
