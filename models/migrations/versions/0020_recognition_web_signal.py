"""recognition_web_signal: H5 pages' risk signals (IP prefix, 省/市, IDC, UA family, device hash, dwell)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0020"
down_revision: str | Sequence[str] | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "recognition_web_signal",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("ip_prefix", sa.String(length=43), nullable=True),
        sa.Column("province", sa.String(length=16), nullable=True),
        sa.Column("city", sa.String(length=32), nullable=True),
        sa.Column("idc", sa.Boolean(), nullable=False),
        sa.Column("ua_family", sa.String(length=20), nullable=False),
        sa.Column("device_hash", sa.String(length=64), nullable=True),
        sa.Column("dwell_ms", sa.Integer(), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaign.id"], name=op.f("fk_recognition_web_signal_campaign_id_campaign")
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["recognition_event.id"],
            name=op.f("fk_recognition_web_signal_event_id_recognition_event"),
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_recognition_web_signal")),
    )
    op.create_index(
        "ix_recognition_web_signal_campaign_device",
        "recognition_web_signal",
        ["campaign_id", "device_hash"],
        unique=False,
    )
    op.create_index(
        op.f("ix_recognition_web_signal_created_at"), "recognition_web_signal", ["created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_recognition_web_signal_created_at"), table_name="recognition_web_signal")
    op.drop_index("ix_recognition_web_signal_campaign_device", table_name="recognition_web_signal")
    op.drop_table("recognition_web_signal")
