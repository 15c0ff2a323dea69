"""The inbox, takeover and the failed-messages panel: the clinic's quiet time after which
a paused bot resumes, when staff last took a conversation over, who handled a failed
message and when, and the indexes the inbox, a conversation and the panel's badge read.

Revision ID: 0008_inbox
Revises: 0007_recovery
Create Date: 2026-11-25 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import store.types

revision: str = "0008_inbox"
down_revision: str | None = "0007_recovery"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_FAILURE = (
    "status IN ('failed', 'undelivered', 'not_sendable', 'unconfirmed') AND handled_at IS NULL"
)


def upgrade() -> None:
    with op.batch_alter_table("clinic") as batch:
        batch.add_column(
            sa.Column(
                "bot_resume_after_minutes", sa.Integer(), nullable=False, server_default="120"
            )
        )
    with op.batch_alter_table("conversation") as batch:
        batch.add_column(sa.Column("taken_over_at", store.types.UTCDateTime(), nullable=True))
    with op.batch_alter_table("outbox_message") as batch:
        batch.add_column(sa.Column("handled_at", store.types.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("handled_by", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    op.create_index(
        "ix_outbox_open_failures",
        "outbox_message",
        ["clinic_id", "id"],
        unique=False,
        postgresql_where=sa.text(OPEN_FAILURE),
        sqlite_where=sa.text(OPEN_FAILURE),
    )
    op.create_index(
        "ix_inbound_phone", "inbound_message", ["clinic_id", "from_phone", "id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_inbound_phone", table_name="inbound_message")
    op.drop_index("ix_outbox_open_failures", table_name="outbox_message")
    with op.batch_alter_table("outbox_message") as batch:
        batch.drop_column("handled_by")
        batch.drop_column("handled_at")
    with op.batch_alter_table("conversation") as batch:
        batch.drop_column("taken_over_at")
    with op.batch_alter_table("clinic") as batch:
        batch.drop_column("bot_resume_after_minutes")
