"""When each outbox row's latest send attempt started and when Twilio accepted it, for
`/metrics`: the replies' latency and the last five minutes' sends, each read through its
index.

Revision ID: 0018_outbox_send_times
Revises: 0017_catalog_version
Create Date: 2026-12-05 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.types

revision: str = "0018_outbox_send_times"
down_revision: str | None = "0017_catalog_version"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "outbox_message", sa.Column("attempted_at", store.types.UTCDateTime(), nullable=True)
    )
    op.add_column("outbox_message", sa.Column("sent_at", store.types.UTCDateTime(), nullable=True))
    op.create_index("ix_outbox_attempted_at", "outbox_message", ["attempted_at"], unique=False)
    op.create_index("ix_outbox_sent_at", "outbox_message", ["sent_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_outbox_sent_at", table_name="outbox_message")
    op.drop_index("ix_outbox_attempted_at", table_name="outbox_message")
    op.drop_column("outbox_message", "sent_at")
    op.drop_column("outbox_message", "attempted_at")
