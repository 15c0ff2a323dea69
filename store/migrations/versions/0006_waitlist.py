"""The waitlist: entries in fair order, offers of freed slots held by `held` appointment
rows until `hold_expires_at`, the freed slots waiting to be offered, and each clinic's
hold time and daily offer cap. A held row occupies its time like any status but
`cancelled`, so the overlap rule of the first migration protects it unchanged.

Revision ID: 0006_waitlist
Revises: 0004_interactive
Create Date: 2026-11-25 15:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import store.types

revision: str = "0006_waitlist"
down_revision: str | None = "0005_console"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("clinic", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("waitlist_hold_minutes", sa.Integer(), nullable=False, server_default="15")
        )
        batch_op.add_column(
            sa.Column("waitlist_offers_per_day", sa.Integer(), nullable=False, server_default="3")
        )
    op.add_column(
        "appointment", sa.Column("hold_expires_at", store.types.UTCDateTime(), nullable=True)
    )
    op.create_table(
        "waitlist_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("professional_id", sa.Integer(), nullable=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("part", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", store.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", store.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["clinic_id"], ["clinic.id"]),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"]),
        sa.ForeignKeyConstraint(["professional_id"], ["professional.id"]),
        sa.ForeignKeyConstraint(["service_id"], ["service.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_waitlist_waiting", "waitlist_entry", ["clinic_id", "day", "status", "created_at"]
    )
    op.create_index("ix_waitlist_phone", "waitlist_entry", ["clinic_id", "phone"])
    op.create_table(
        "waitlist_offer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("professional_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", store.types.UTCDateTime(), nullable=False),
        sa.Column("offered_at", store.types.UTCDateTime(), nullable=False),
        sa.Column("expires_at", store.types.UTCDateTime(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("answered_at", store.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["appointment_id"], ["appointment.id"]),
        sa.ForeignKeyConstraint(["clinic_id"], ["clinic.id"]),
        sa.ForeignKeyConstraint(["entry_id"], ["waitlist_entry.id"]),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"]),
        sa.ForeignKeyConstraint(["professional_id"], ["professional.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_waitlist_offer_phone", "waitlist_offer", ["clinic_id", "phone", "offered_at"]
    )
    op.create_index("ix_waitlist_offer_open", "waitlist_offer", ["status", "expires_at"])
    op.create_index("ix_waitlist_offer_entry_id", "waitlist_offer", ["entry_id"])
    op.create_index("ix_waitlist_offer_appointment_id", "waitlist_offer", ["appointment_id"])
    op.create_table(
        "freed_slot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("professional_id", sa.Integer(), nullable=True),
        sa.Column("starts_at", store.types.UTCDateTime(), nullable=False),
        sa.Column("ends_at", store.types.UTCDateTime(), nullable=False),
        sa.Column("why", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", store.types.UTCDateTime(), nullable=False),
        sa.Column("handled_at", store.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["clinic_id"], ["clinic.id"]),
        sa.ForeignKeyConstraint(["professional_id"], ["professional.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_freed_slot_pending",
        "freed_slot",
        ["created_at"],
        postgresql_where=sa.text("handled_at IS NULL"),
        sqlite_where=sa.text("handled_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_freed_slot_pending", table_name="freed_slot")
    op.drop_table("freed_slot")
    for name in (
        "ix_waitlist_offer_appointment_id",
        "ix_waitlist_offer_entry_id",
        "ix_waitlist_offer_open",
        "ix_waitlist_offer_phone",
    ):
        op.drop_index(name, table_name="waitlist_offer")
    op.drop_table("waitlist_offer")
    op.drop_index("ix_waitlist_phone", table_name="waitlist_entry")
    op.drop_index("ix_waitlist_waiting", table_name="waitlist_entry")
    op.drop_table("waitlist_entry")
    op.drop_column("appointment", "hold_expires_at")  # no batch: it would drop the triggers
    with op.batch_alter_table("clinic", schema=None) as batch_op:
        batch_op.drop_column("waitlist_offers_per_day")
        batch_op.drop_column("waitlist_hold_minutes")
