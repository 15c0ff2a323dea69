"""Drop the single-column clinic_id indexes of inbound_message and outbox_message: the
leading column of ix_inbound_phone and ix_outbox_phone serves the same reads, and every
message inserted into both tables kept them up to date for nothing.

Revision ID: 0013_redundant_clinic_indexes
Revises: 0012_questions_index
Create Date: 2026-12-03 16:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013_redundant_clinic_indexes"
down_revision: str | None = "0012_questions_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REDUNDANT = (
    ("ix_inbound_message_clinic_id", "inbound_message"),
    ("ix_outbox_message_clinic_id", "outbox_message"),
)


def upgrade() -> None:
    for index, table in REDUNDANT:
        op.drop_index(index, table_name=table)


def downgrade() -> None:
    for index, table in REDUNDANT:
        op.create_index(index, table, ["clinic_id"], unique=False)
