"""The business questions queued to a phone (reminders, waitlist offers, surveys) in an
index of their own: every numbered answer asks whether one came since the phone's last
message, which read all of the phone's outbox rows.

Revision ID: 0012_questions_index
Revises: 0011_templates
Create Date: 2026-12-03 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_questions_index"
down_revision: str | None = "0011_templates"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

IS_QUESTION = "kind IN ('reminder', 'waitlist_offer', 'survey')"


def upgrade() -> None:
    op.create_index(
        "ix_outbox_questions",
        "outbox_message",
        ["clinic_id", "to_phone", "created_at"],
        unique=False,
        postgresql_where=sa.text(IS_QUESTION),
        sqlite_where=sa.text(IS_QUESTION),
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_questions", table_name="outbox_message")
