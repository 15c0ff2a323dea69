"""Each professional's day summed up (`day_load`): the longest free stretch of working
time, kept in the same transaction as every change to the day, so "first available"
skips full days without reading them. It starts empty: a day without a record is read
as before, and the worker fills the booking horizon.

Revision ID: 0022_day_load
Revises: 0021_block_off_by_end
Create Date: 2026-12-05 21:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022_day_load"
down_revision: str | None = "0021_block_off_by_end"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "day_load",
        sa.Column("professional_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("longest_free_minutes", sa.Integer(), nullable=False),
        sa.Column("week_key", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["professional_id"], ["professional.id"]),
        sa.PrimaryKeyConstraint("professional_id", "day"),
    )


def downgrade() -> None:
    op.drop_table("day_load")
