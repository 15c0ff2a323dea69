"""A campaign's reschedule request and closure notice are questions the phone's next
message may answer ("1" moves the appointment), so the questions' partial index holds them.

Revision ID: 0030_campaign_questions
Revises: 0029_recipients_unchecked
Create Date: 2026-12-06 03:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0030_campaign_questions"
down_revision: str | None = "0029_recipients_unchecked"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = "kind IN ('reminder', 'waitlist_offer', 'survey')"
AFTER = (
    "kind IN ('reminder', 'waitlist_offer', 'survey', 'campaign_reschedule', 'campaign_closure')"
)


def _index(where: str) -> None:
    op.drop_index("ix_outbox_questions", table_name="outbox_message")
    op.create_index(
        "ix_outbox_questions",
        "outbox_message",
        ["clinic_id", "to_phone", "created_at"],
        unique=False,
        postgresql_where=sa.text(where),
        sqlite_where=sa.text(where),
    )


def upgrade() -> None:
    _index(AFTER)


def downgrade() -> None:
    _index(BEFORE)
