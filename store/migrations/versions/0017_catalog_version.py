"""A clinic's catalog version, bumped with every change to what the bot caches of it, so
each process sees an admin's change within a second (`store.catalog_version`).

Revision ID: 0017_catalog_version
Revises: 0016_sender_pace
Create Date: 2026-12-05 07:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_catalog_version"
down_revision: str | None = "0016_sender_pace"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("clinic") as batch:
        batch.add_column(
            sa.Column("catalog_version", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("clinic") as batch:
        batch.drop_column("catalog_version")
