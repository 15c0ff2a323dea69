"""No-show recovery, post-visit care and satisfaction surveys: the clinic's settings for
them, a care template per service, the record of recovered no-shows and the survey
answers.

Revision ID: 0007_recovery
Revises: 0006_waitlist
Create Date: 2026-11-25 15:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import store.types

revision: str = "0007_recovery"
down_revision: str | None = "0006_waitlist"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("clinic", sa.Column("auto_no_show_at", sa.Time(), nullable=True))
    op.add_column(
        "clinic",
        sa.Column(
            "no_show_followup_hours",
            sqlmodel.sql.sqltypes.AutoString(),
            nullable=False,
            server_default="2,24,72",
        ),
    )
    op.add_column(
        "clinic", sa.Column("recovery_days", sa.Integer(), nullable=False, server_default="30")
    )
    op.add_column(
        "clinic",
        sa.Column("care_delay_minutes", sa.Integer(), nullable=True, server_default="120"),
    )
    op.add_column(
        "clinic",
        sa.Column("survey_enabled", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "clinic",
        sa.Column("survey_delay_minutes", sa.Integer(), nullable=False, server_default="60"),
    )
    op.add_column(
        "service",
        sa.Column("care_template", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    )
    op.create_table(
        "no_show_recovery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("missed_at", store.types.UTCDateTime(), nullable=False),
        sa.Column("marked_at", store.types.UTCDateTime(), nullable=False),
        sa.Column("recovered_appointment_id", sa.Integer(), nullable=True),
        sa.Column("recovered_at", store.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["clinic_id"], ["clinic.id"]),
        sa.ForeignKeyConstraint(["appointment_id"], ["appointment.id"]),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"]),
        sa.ForeignKeyConstraint(["recovered_appointment_id"], ["appointment.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("appointment_id"),
    )
    op.create_index(
        "ix_no_show_recovery_missed", "no_show_recovery", ["clinic_id", "missed_at"], unique=False
    )
    op.create_index(
        "ix_no_show_recovery_patient_id", "no_show_recovery", ["patient_id"], unique=False
    )
    op.create_table(
        "survey_response",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("asked_at", store.types.UTCDateTime(), nullable=False),
        sa.Column("scored_at", store.types.UTCDateTime(), nullable=True),
        sa.Column("commented_at", store.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["clinic_id"], ["clinic.id"]),
        sa.ForeignKeyConstraint(["appointment_id"], ["appointment.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("appointment_id"),
    )
    op.create_index(
        "ix_survey_response_phone",
        "survey_response",
        ["clinic_id", "phone", "asked_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_survey_response_phone", table_name="survey_response")
    op.drop_table("survey_response")
    op.drop_index("ix_no_show_recovery_patient_id", table_name="no_show_recovery")
    op.drop_index("ix_no_show_recovery_missed", table_name="no_show_recovery")
    op.drop_table("no_show_recovery")
    with op.batch_alter_table("service", schema=None) as batch_op:
        batch_op.drop_column("care_template")
    with op.batch_alter_table("clinic", schema=None) as batch_op:
        for column in (
            "survey_delay_minutes",
            "survey_enabled",
            "care_delay_minutes",
            "recovery_days",
            "no_show_followup_hours",
            "auto_no_show_at",
        ):
            batch_op.drop_column(column)
