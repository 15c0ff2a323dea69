"""A WhatsApp template's approval at Twilio: its status (received, pending, approved,
rejected, paused, disabled…), WhatsApp's reason for a rejection, and the category it was
submitted under. Templates registered before this by their Content SID were approved ones.

Revision ID: 0019_content_template_approval
Revises: 0018_outbox_send_times
Create Date: 2026-12-05 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0019_content_template_approval"
down_revision: str | None = "0018_outbox_send_times"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("content_template") as batch:
        batch.add_column(
            sa.Column(
                "status",
                sqlmodel.sql.sqltypes.AutoString(),
                nullable=False,
                server_default="approved",
            )
        )
        batch.add_column(sa.Column("category", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch.add_column(sa.Column("rejection_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("content_template") as batch:
        batch.drop_column("rejection_reason")
        batch.drop_column("category")
        batch.drop_column("status")
