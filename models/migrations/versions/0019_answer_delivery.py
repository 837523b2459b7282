"""answer_delivery and subscribe_grant: how each answer reached its worker; one-time subscription grants

``answer_delivery`` has a row per attempt (customer-service, template, one-time subscription
message, passive reply, or waiting for the next message) with WeChat's msgid and errcode; a
template message's TEMPLATESENDJOBFINISH receipt updates its row. ``subscribe_grant`` holds a
worker's single-use consent to one subscription message.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0019"
down_revision: str | Sequence[str] | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANNELS = ("passive", "customer_service", "template", "subscribe", "next_message")
STATUSES = ("sent", "delivered", "failed", "blocked", "waiting", "done")


def upgrade() -> None:
    op.create_table(
        "subscribe_grant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("template_id", sa.String(length=64), nullable=False),
        sa.Column("scene", sa.Integer(), nullable=False),
        sa.Column("reserved_hash", sa.String(length=64), nullable=False),
        sa.Column("granted_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["wechat_user.id"],
            name=op.f("fk_subscribe_grant_user_id_wechat_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscribe_grant")),
        sa.UniqueConstraint("reserved_hash", name=op.f("uq_subscribe_grant_reserved_hash")),
    )
    with op.batch_alter_table("subscribe_grant", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_subscribe_grant_user_id"), ["user_id"], unique=False)

    op.create_table(
        "answer_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("suggestion_id", sa.Integer(), nullable=False),
        sa.Column("answer_event_id", sa.Integer(), nullable=True),
        sa.Column(
            "channel",
            sa.Enum(*CHANNELS, name="deliverychannel", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(*STATUSES, name="deliverystatus", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("msgid", sa.String(length=32), nullable=True),
        sa.Column("errcode", sa.Integer(), nullable=True),
        sa.Column("detail", sa.String(length=200), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["answer_event_id"],
            ["suggestion_event.id"],
            name=op.f("fk_answer_delivery_answer_event_id_suggestion_event"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["suggestion_id"],
            ["suggestion.id"],
            name=op.f("fk_answer_delivery_suggestion_id_suggestion"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_answer_delivery")),
    )
    with op.batch_alter_table("answer_delivery", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_answer_delivery_answer_event_id"), ["answer_event_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_answer_delivery_msgid"), ["msgid"], unique=False)
        batch_op.create_index(batch_op.f("ix_answer_delivery_suggestion_id"), ["suggestion_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("answer_delivery", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_answer_delivery_suggestion_id"))
        batch_op.drop_index(batch_op.f("ix_answer_delivery_msgid"))
        batch_op.drop_index(batch_op.f("ix_answer_delivery_answer_event_id"))
    op.drop_table("answer_delivery")
    with op.batch_alter_table("subscribe_grant", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subscribe_grant_user_id"))
    op.drop_table("subscribe_grant")
