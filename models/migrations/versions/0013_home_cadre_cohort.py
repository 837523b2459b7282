"""recognition: cadre flag on events (amended home rule), cohort of a campaign

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 13:30:00

Events recorded before this were cadres counted as S with no union path, so False is what they
were; campaigns made before it have no cohort (ranked per brand level, see report.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "recognition_event", sa.Column("cadre", sa.Boolean(), server_default=sa.false(), nullable=False)
    )
    op.add_column("campaign", sa.Column("cohort_level", sa.String(length=16), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        # A batch rebuild of campaign would trip the enforced foreign keys of its events; SQLite
        # adds a nullable referencing column in place.
        op.execute("ALTER TABLE campaign ADD COLUMN cohort_union_id INTEGER REFERENCES union_unit (id)")
    else:
        op.add_column("campaign", sa.Column("cohort_union_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            op.f("fk_campaign_cohort_union_id_union_unit"),
            "campaign",
            "union_unit",
            ["cohort_union_id"],
            ["id"],
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(op.f("fk_campaign_cohort_union_id_union_unit"), "campaign", type_="foreignkey")
    with op.batch_alter_table("campaign") as batch:
        batch.drop_column("cohort_union_id")
        batch.drop_column("cohort_level")
    with op.batch_alter_table("recognition_event") as batch:
        batch.drop_column("cadre")
