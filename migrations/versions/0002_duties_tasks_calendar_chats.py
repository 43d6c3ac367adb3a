"""duties tasks calendar chats

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 23:28:03.385780
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sweep_mark",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("value", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_sweep_mark")),
    )
    op.create_table(
        "calendar_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["district_id"], ["district.id"], name=op.f("fk_calendar_entry_district_id_district")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_entry")),
    )
    with op.batch_alter_table("calendar_entry", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_calendar_entry_district_id"), ["district_id"], unique=False
        )

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
    op.create_table(
        "link_code",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(), nullable=False),
        sa.Column("expires_at", models.base.UTCDateTime(), nullable=False),
        sa.Column("used_at", models.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_link_code_person_id_person")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_link_code")),
    )
    with op.batch_alter_table("link_code", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_link_code_person_id"), ["person_id"], unique=False)

    op.create_table(
        "duty",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=True),
        sa.Column("asset_id", sa.Integer(), nullable=True),
        sa.Column("asset_kind", sa.String(length=32), nullable=False),
        sa.Column("template_key", sa.String(length=64), nullable=False),
        sa.Column("rule", sa.JSON(), nullable=False),
        sa.Column("remind_before", sa.Integer(), nullable=False),
        sa.Column("escalate_school_after", sa.Integer(), nullable=False),
        sa.Column("escalate_district_after", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("builtin", sa.Boolean(), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["asset_id"], ["asset.id"], name=op.f("fk_duty_asset_id_asset")),
        sa.ForeignKeyConstraint(
            ["district_id"], ["district.id"], name=op.f("fk_duty_district_id_district")
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_duty_school_id_school")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duty")),
    )
    with op.batch_alter_table("duty", schema=None) as batch_op:
        batch_op.create_index(
            "ix_duty_builtin",
            ["district_id", "template_key"],
            unique=True,
            sqlite_where=sa.text("builtin = 1"),
            postgresql_where=sa.text("builtin"),
        )
        batch_op.create_index(batch_op.f("ix_duty_district_id"), ["district_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_duty_school_id"), ["school_id"], unique=False)

    op.create_table(
        "task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("duty_id", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("template_key", sa.String(length=64), nullable=False),
        sa.Column("opens_at", models.base.UTCDateTime(), nullable=False),
        sa.Column("due_at", models.base.UTCDateTime(), nullable=False),
        sa.Column("closes_at", models.base.UTCDateTime(), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("current", sa.Boolean(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=True),
        sa.Column("done_at", models.base.UTCDateTime(), nullable=True),
        sa.Column("reminded_at", models.base.UTCDateTime(), nullable=True),
        sa.Column("due_notice_at", models.base.UTCDateTime(), nullable=True),
        sa.Column("escalated_school_at", models.base.UTCDateTime(), nullable=True),
        sa.Column("escalated_district_at", models.base.UTCDateTime(), nullable=True),
        sa.Column("next_action_at", models.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["asset_id"], ["asset.id"], name=op.f("fk_task_asset_id_asset")),
        sa.ForeignKeyConstraint(["duty_id"], ["duty.id"], name=op.f("fk_task_duty_id_duty")),
        sa.ForeignKeyConstraint(
            ["record_id"], ["record.id"], name=op.f("fk_task_record_id_record")
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_task_school_id_school")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task")),
        sa.UniqueConstraint(
            "duty_id", "asset_id", "due_at", name=op.f("uq_task_duty_id_asset_id_due_at")
        ),
    )
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.create_index(
            "ix_task_asset_id_template_key", ["asset_id", "template_key"], unique=False
        )
        batch_op.create_index(
            "ix_task_current_pair",
            ["duty_id", "asset_id"],
            unique=True,
            sqlite_where=sa.text("current = 1"),
            postgresql_where=sa.text("current"),
        )
        batch_op.create_index(
            "ix_task_current_school_due",
            ["school_id", "due_at"],
            unique=False,
            sqlite_where=sa.text("current = 1"),
            postgresql_where=sa.text("current"),
        )
        batch_op.create_index("ix_task_next_action_at", ["next_action_at"], unique=False)
        batch_op.create_index("ix_task_school_id_due_at", ["school_id", "due_at"], unique=False)

    with op.batch_alter_table("corrective_action", schema=None) as batch_op:
        batch_op.alter_column("record_id", existing_type=sa.INTEGER(), nullable=True)

    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.add_column(sa.Column("next_attempt_at", models.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("outcome", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("message_id", sa.BigInteger(), nullable=True))

    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expiry_notice_days", sa.Integer(), nullable=True))

    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.add_column(sa.Column("text", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("task_ids", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("acknowledged_at", models.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("acknowledged_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_notification_acknowledged_by_id_person"),
            "person",
            ["acknowledged_by_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_notification_acknowledged_by_id_person"), type_="foreignkey"
        )
        batch_op.drop_column("acknowledged_by_id")
        batch_op.drop_column("acknowledged_at")
        batch_op.drop_column("task_ids")
        batch_op.drop_column("text")

    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.drop_column("expiry_notice_days")

    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_column("message_id")
        batch_op.drop_column("outcome")
        batch_op.drop_column("next_attempt_at")

    with op.batch_alter_table("corrective_action", schema=None) as batch_op:
        batch_op.alter_column("record_id", existing_type=sa.INTEGER(), nullable=False)

    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_index("ix_task_school_id_due_at")
        batch_op.drop_index("ix_task_next_action_at")
        batch_op.drop_index(
            "ix_task_current_school_due",
            sqlite_where=sa.text("current = 1"),
            postgresql_where=sa.text("current"),
        )
        batch_op.drop_index(
            "ix_task_current_pair",
            sqlite_where=sa.text("current = 1"),
            postgresql_where=sa.text("current"),
        )
        batch_op.drop_index("ix_task_asset_id_template_key")

    op.drop_table("task")
    with op.batch_alter_table("duty", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_duty_school_id"))
        batch_op.drop_index(batch_op.f("ix_duty_district_id"))
        batch_op.drop_index(
            "ix_duty_builtin",
            sqlite_where=sa.text("builtin = 1"),
            postgresql_where=sa.text("builtin"),
        )

    op.drop_table("duty")
    with op.batch_alter_table("link_code", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_link_code_person_id"))

    op.drop_table("link_code")
    op.drop_table("chat_link")
    with op.batch_alter_table("calendar_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calendar_entry_district_id"))

    op.drop_table("calendar_entry")
    op.drop_table("sweep_mark")
