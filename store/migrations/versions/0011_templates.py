"""A clinic's own message texts, the optional flow steps it switched off, and the history
of both (who, when, before, after).

Revision ID: 0011_templates
Revises: 0010_settings
Create Date: 2026-11-26 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import store.types

revision: str = "0011_templates"
down_revision: str | None = "0010_settings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

String = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "clinic_template",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("language", String(), nullable=False),
        sa.Column("key", String(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("updated_at", store.types.UTCDateTime(), nullable=False),
        sa.Column("updated_by", String(), nullable=False),
        sa.ForeignKeyConstraint(["clinic_id"], ["clinic.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("clinic_id", "language", "key", name="uq_clinic_template"),
    )
    op.create_table(
        "clinic_flow",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("flow", String(), nullable=False),
        sa.Column("skipped", String(), nullable=False),
        sa.Column("updated_at", store.types.UTCDateTime(), nullable=False),
        sa.Column("updated_by", String(), nullable=False),
        sa.ForeignKeyConstraint(["clinic_id"], ["clinic.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("clinic_id", "flow", name="uq_clinic_flow"),
    )
    op.create_table(
        "customization_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("subject", String(), nullable=False),
        sa.Column("language", String(), nullable=False),
        sa.Column("key", String(), nullable=False),
        sa.Column("before", sa.Text(), nullable=True),
        sa.Column("after", sa.Text(), nullable=True),
        sa.Column("changed_by", String(), nullable=False),
        sa.Column("changed_at", store.types.UTCDateTime(), nullable=False),
        sa.Column("reverts", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["clinic_id"], ["clinic.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_customization_change_of",
        "customization_change",
        ["clinic_id", "subject", "language", "key", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_customization_change_of", table_name="customization_change")
    op.drop_table("customization_change")
    op.drop_table("clinic_flow")
    op.drop_table("clinic_template")
