"""The clinic's booking page: its address (`clinic.booking_slug`), whether it takes
bookings, whether a new number must prove itself on WhatsApp, which services it offers,
and what it was asked (`web_booking`, also its rate limits).

Revision ID: 0024_web_booking
Revises: 0023_outbox_sparse_indexes
Create Date: 2026-12-05 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.types

revision: str = "0024_web_booking"
down_revision: str | None = "0023_outbox_sparse_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("clinic") as batch:
        batch.add_column(sa.Column("booking_slug", sa.String(), nullable=True))
        batch.add_column(
            sa.Column("web_booking", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("booking_embed_origin", sa.String(), nullable=True))
        batch.add_column(
            sa.Column("web_phone_proof", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch.create_unique_constraint("uq_clinic_booking_slug", ["booking_slug"])
    with op.batch_alter_table("service") as batch:
        batch.add_column(
            sa.Column("web_bookable", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    op.create_table(
        "web_booking",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(), nullable=False),
        sa.Column("client", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("proof", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=True),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("created_at", store.types.UTCDateTime(), nullable=False),
        sa.Column("expires_at", store.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["appointment_id"], ["appointment.id"]),
        sa.ForeignKeyConstraint(["clinic_id"], ["clinic.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_web_booking_phone", "web_booking", ["clinic_id", "phone", "created_at"])
    op.create_index("ix_web_booking_client", "web_booking", ["client", "created_at"])
    op.create_index(
        "ix_web_booking_waiting",
        "web_booking",
        ["expires_at"],
        postgresql_where=sa.text("status = 'waiting'"),
        sqlite_where=sa.text("status = 'waiting'"),
    )


def downgrade() -> None:
    op.drop_table("web_booking")
    with op.batch_alter_table("service") as batch:
        batch.drop_column("web_bookable")
    with op.batch_alter_table("clinic") as batch:
        batch.drop_constraint("uq_clinic_booking_slug", type_="unique")
        batch.drop_column("web_phone_proof")
        batch.drop_column("booking_embed_origin")
        batch.drop_column("web_booking")
        batch.drop_column("booking_slug")
