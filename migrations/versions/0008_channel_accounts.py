"""channel accounts by channel name; a delivery keeps its channel's message id as text

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 02:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "channel_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("linked_at", models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_channel_account_person_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_account")),
        sa.UniqueConstraint("channel", "address", name=op.f("uq_channel_account_channel_address")),
        sa.UniqueConstraint(
            "person_id", "channel", name=op.f("uq_channel_account_person_id_channel")
        ),
    )
    op.execute(
        "INSERT INTO channel_account (person_id, channel, address, linked_at)"
        " SELECT person_id, 'telegram', CAST(chat_id AS VARCHAR(200)), linked_at FROM chat_link"
    )
    op.drop_table("chat_link")

    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.add_column(sa.Column("external_id", sa.String(length=200), nullable=True))
    op.execute(
        "UPDATE delivery SET external_id = CAST(message_id AS VARCHAR(200))"
        " WHERE message_id IS NOT NULL"
    )
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_column("message_id")


def downgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.add_column(sa.Column("message_id", sa.BigInteger(), nullable=True))
    op.execute(
        "UPDATE delivery SET message_id = CAST(external_id AS BIGINT)"
        " WHERE channel = 'telegram' AND external_id IS NOT NULL"
    )
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_column("external_id")

    op.create_table(
        "chat_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("linked_at", models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_chat_link_person_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_link")),
        sa.UniqueConstraint("chat_id", name=op.f("uq_chat_link_chat_id")),
        sa.UniqueConstraint("person_id", name=op.f("uq_chat_link_person_id")),
    )
    op.execute(
        "INSERT INTO chat_link (person_id, chat_id, linked_at)"
        " SELECT person_id, CAST(address AS BIGINT), linked_at FROM channel_account"
        " WHERE channel = 'telegram'"
    )
    op.drop_table("channel_account")
