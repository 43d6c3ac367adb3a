"""group robots: the WeCom and DingTalk staff groups notices go to, and their posts

Revision ID: 0031_channel_groups
Revises: 0030_delivery_leases
Create Date: 2026-12-03 11:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0031_channel_groups"
down_revision = "0030_delivery_leases"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "channel_group",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(length=32), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("signing_secret", sa.String(length=200), nullable=True),
        sa.Column("min_severity", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["person.id"], name=op.f("fk_channel_group_created_by_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["district_id"], ["district.id"], name=op.f("fk_channel_group_district_id_district")
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_channel_group_school_id_school")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_group")),
    )
    with op.batch_alter_table("channel_group", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_channel_group_district_id"), ["district_id"], unique=False
        )
    op.create_table(
        "group_post",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("dedup_key", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=300), nullable=True),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("mentions", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("reason", sa.String(length=300), nullable=True),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("pieces_sent", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("claimed_until", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["group_id"], ["channel_group.id"], name=op.f("fk_group_post_group_id_channel_group")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_group_post")),
        sa.UniqueConstraint("group_id", "dedup_key", name=op.f("uq_group_post_group_id_dedup_key")),
    )
    with op.batch_alter_table("group_post", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_group_post_group_id"), ["group_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_group_post_sent_at"), ["sent_at"], unique=False)


def downgrade() -> None:
    op.drop_table("group_post")
    op.drop_table("channel_group")
