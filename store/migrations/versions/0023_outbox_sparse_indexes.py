"""The outbox's indexes on when a message was attempted and sent, and on its Twilio sid,
keep entries only for rows that have one: a reply just queued has none, so queueing it
writes three index entries fewer (every read of them names a value, which implies it is
set, so they still serve).

Revision ID: 0023_outbox_sparse_indexes
Revises: 0022_day_load
Create Date: 2026-12-05 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023_outbox_sparse_indexes"
down_revision: str | None = "0022_day_load"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("ix_outbox_attempted_at", "attempted_at"),
    ("ix_outbox_sent_at", "sent_at"),
    ("ix_outbox_message_twilio_sid", "twilio_sid"),
)


def upgrade() -> None:
    for name, column in INDEXES:
        op.drop_index(name, table_name="outbox_message")
        where = sa.text(f"{column} IS NOT NULL")
        op.create_index(
            name, "outbox_message", [column], postgresql_where=where, sqlite_where=where
        )


def downgrade() -> None:
    for name, column in INDEXES:
        op.drop_index(name, table_name="outbox_message")
        op.create_index(name, "outbox_message", [column])
