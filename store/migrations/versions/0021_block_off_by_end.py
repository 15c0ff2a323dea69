"""Block-offs indexed on (clinic_id, ends_at): availability reads ask for those that end
after a moment, so the ones already over are no longer scanned on every read (there can be
years of them). The single-column clinic_id index goes: the new one's leading column
serves the same reads.

Revision ID: 0021_block_off_by_end
Revises: 0020_clinic_facts
Create Date: 2026-12-05 19:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0021_block_off_by_end"
down_revision: str | None = "0020_clinic_facts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("block_off") as batch:
        batch.create_index("ix_block_off_clinic_ends", ["clinic_id", "ends_at"], unique=False)
        batch.drop_index("ix_block_off_clinic_id")


def downgrade() -> None:
    with op.batch_alter_table("block_off") as batch:
        batch.create_index("ix_block_off_clinic_id", ["clinic_id"], unique=False)
        batch.drop_index("ix_block_off_clinic_ends")
