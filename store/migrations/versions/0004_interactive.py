"""Outbox rows by clinic and phone, newest last: whether a tapped question is still the
latest one asked (`store.taps`) reads only that phone's rows.

Revision ID: 0004_interactive
Revises: 0003
Create Date: 2026-11-25 15:15:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004_interactive"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_outbox_phone", "outbox_message", ["clinic_id", "to_phone", "id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_phone", table_name="outbox_message")
