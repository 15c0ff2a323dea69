"""The waiting room: each clinic's rules (`waiting_room`), the day's queue tickets from
check-in to served or absent (`queue_ticket`), and the last number handed out per queue
and day (`queue_counter`).

Revision ID: 0026_checkin
Revises: 0025_campaigns
Create Date: 2026-12-05 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import store.types

revision: str = "0026_checkin"
down_revision: str | None = "0025_campaigns"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TEXT = sqlmodel.sql.sqltypes.AutoString
WHEN = store.types.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "waiting_room",
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("queue_by", TEXT(), nullable=False),
        sa.Column("late_grace_minutes", sa.Integer(), nullable=False),
        sa.Column("near_ahead", sa.Integer(), nullable=False),
        sa.Column("near_minutes", sa.Integer(), nullable=True),
        sa.Column("show_initials", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["clinic_id"], ["clinic.id"]),
        sa.PrimaryKeyConstraint("clinic_id"),
    )
    op.create_table(
        "queue_ticket",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("queue", TEXT(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("letter", TEXT(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=True),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("phone", TEXT(), nullable=True),
        sa.Column("language", TEXT(), nullable=True),
        sa.Column("initials", TEXT(), nullable=True),
        sa.Column("channel", TEXT(), nullable=False),
        sa.Column("source_channel", TEXT(), nullable=True),
        sa.Column("priority", sa.Boolean(), nullable=False),
        sa.Column("tier", sa.Integer(), nullable=False),
        sa.Column("sort_at", WHEN(), nullable=False),
        sa.Column("status", TEXT(), nullable=False),
        sa.Column("arrived_at", WHEN(), nullable=False),
        sa.Column("called_at", WHEN(), nullable=True),
        sa.Column("ended_at", WHEN(), nullable=True),
        sa.Column("called_by", TEXT(), nullable=True),
        sa.Column("called_to", TEXT(), nullable=True),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.Column("near_at", WHEN(), nullable=True),
        sa.ForeignKeyConstraint(["clinic_id"], ["clinic.id"]),
        sa.ForeignKeyConstraint(["appointment_id"], ["appointment.id"]),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("clinic_id", "queue", "day", "number", name="uq_queue_ticket_number"),
        sa.UniqueConstraint("appointment_id", name="uq_queue_ticket_appointment"),
    )
    op.create_index(
        "ix_queue_ticket_waiting",
        "queue_ticket",
        ["clinic_id", "queue", "day", "status", "tier", "sort_at"],
    )
    op.create_table(
        "queue_counter",
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("queue", TEXT(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["clinic_id"], ["clinic.id"]),
        sa.PrimaryKeyConstraint("clinic_id", "queue", "day"),
    )


def downgrade() -> None:
    op.drop_table("queue_counter")
    op.drop_index("ix_queue_ticket_waiting", table_name="queue_ticket")
    op.drop_table("queue_ticket")
    op.drop_table("waiting_room")
