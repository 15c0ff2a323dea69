"""Appointment requests: the clinic setting that lets only known patients book on
WhatsApp, and the requests new numbers leave for staff to accept or decline (at most one
open request per phone).

Revision ID: 0009_requests
Revises: 0008_inbox
Create Date: 2026-12-01 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import store.types

revision: str = "0009_requests"
down_revision: str | None = "0008_inbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_REQUEST = "status = 'open'"


def upgrade() -> None:
    with op.batch_alter_table("clinic") as batch:
        batch.add_column(
            sa.Column(
                "only_known_patients", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
    op.create_table(
        "appointment_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("patient_name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("preferred", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("comment", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", store.types.UTCDateTime(), nullable=False),
        sa.Column("handled_by", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("handled_at", store.types.UTCDateTime(), nullable=True),
        sa.Column("appointment_id", sa.Integer(), nullable=True),
        sa.Column("decline_reason", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.ForeignKeyConstraint(["clinic_id"], ["clinic.id"]),
        sa.ForeignKeyConstraint(["service_id"], ["service.id"]),
        sa.ForeignKeyConstraint(["appointment_id"], ["appointment.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_request_open_phone",
        "appointment_request",
        ["clinic_id", "phone"],
        unique=True,
        postgresql_where=sa.text(OPEN_REQUEST),
        sqlite_where=sa.text(OPEN_REQUEST),
    )
    op.create_index("ix_request_clinic_created", "appointment_request", ["clinic_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_request_clinic_created", table_name="appointment_request")
    op.drop_index("ix_request_open_phone", table_name="appointment_request")
    op.drop_table("appointment_request")
    with op.batch_alter_table("clinic") as batch:
        batch.drop_column("only_known_patients")
