"""recognition scan state: per-bin counts and a per-campaign checkpoint for the incremental scan

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 13:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "recognition_scan_bin",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("scale", sa.Integer(), nullable=False),
        sa.Column("brand_id", sa.Integer(), nullable=False),
        sa.Column("bin", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("n_new", sa.Integer(), nullable=False),
        sa.Column("n_rated", sa.Integer(), nullable=False),
        sa.Column("n_top", sa.Integer(), nullable=False),
        sa.Column("n_bottom", sa.Integer(), nullable=False),
        sa.Column("n_brand", sa.Integer(), nullable=False),
        sa.Column("fires", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("campaign_id", "scale", "brand_id", "bin"),
    )
    op.create_index(
        "ix_recognition_scan_bin_fires", "recognition_scan_bin", ["campaign_id", "scale", "fires", "bin"]
    )
    op.create_table(
        "recognition_scan_state",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("last_event_id", sa.Integer(), nullable=False),
        sa.Column("rules_version", sa.String(length=64), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("campaign_id"),
    )


def downgrade() -> None:
    op.drop_table("recognition_scan_state")
    op.drop_index("ix_recognition_scan_bin_fires", table_name="recognition_scan_bin")
    op.drop_table("recognition_scan_bin")
