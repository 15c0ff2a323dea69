"""Settings screens: a branch can be closed (deactivated) and kept for its history.

Revision ID: 0010_settings
Revises: 0009_requests
Create Date: 2026-12-01 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_settings"
down_revision: str | None = "0009_requests"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "branch", sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true())
    )


def downgrade() -> None:
    with op.batch_alter_table("branch") as batch:
        batch.drop_column("active")
