"""Each sender number's send schedule, shared by every dispatcher (pacing across workers).

Revision ID: 0016_sender_pace
Revises: 0015_worker_heartbeat
Create Date: 2026-12-04 19:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0016_sender_pace"
down_revision: str | None = "0015_worker_heartbeat"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sender_pace",
        sa.Column("from_phone", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("from_phone"),
    )


def downgrade() -> None:
    op.drop_table("sender_pace")
