"""adjudication: brand-level checks; versioned official snapshots with their flag/check cutoffs

A closed campaign's snapshot is version 1; a correction adds version 2, 3… with its reason.
Existing snapshots become version 1 with no cutoffs (they re-run against all flags, as before).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 13:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "recognition_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("brand_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["brand_id"], ["brand.id"], name=op.f("fk_recognition_check_brand_id_brand")),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaign.id"], name=op.f("fk_recognition_check_campaign_id_campaign")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recognition_check")),
    )
    with op.batch_alter_table("recognition_check") as batch:
        batch.create_index(batch.f("ix_recognition_check_campaign_id"), ["campaign_id"], unique=False)
    with op.batch_alter_table("recognition_snapshot") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False))
        batch.add_column(sa.Column("reason", sa.String(length=500), nullable=True))
        batch.add_column(sa.Column("created_by", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("cutoff_flag_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("cutoff_check_id", sa.Integer(), nullable=True))
        batch.drop_constraint("uq_recognition_snapshot_campaign_id", type_="unique")
        batch.create_unique_constraint(
            batch.f("uq_recognition_snapshot_campaign_id_version"), ["campaign_id", "version"]
        )


def downgrade() -> None:
    with op.batch_alter_table("recognition_snapshot") as batch:
        batch.drop_constraint("uq_recognition_snapshot_campaign_id_version", type_="unique")
        batch.create_unique_constraint("uq_recognition_snapshot_campaign_id", ["campaign_id"])
        for col in ("cutoff_check_id", "cutoff_flag_id", "created_by", "reason", "version"):
            batch.drop_column(col)
    with op.batch_alter_table("recognition_check") as batch:
        batch.drop_index(batch.f("ix_recognition_check_campaign_id"))
    op.drop_table("recognition_check")
