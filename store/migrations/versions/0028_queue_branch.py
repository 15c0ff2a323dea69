"""Queues per branch and every call in order: a ticket keeps its branch (null where the
clinic has one) and the sequence number of its latest call or recall, which the
waiting room's screen reads after the last one it showed.

Revision ID: 0028_queue_branch
Revises: 0027_web_hold_minutes
Create Date: 2026-12-06 03:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028_queue_branch"
down_revision: str | None = "0027_web_hold_minutes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("queue_ticket") as batch:
        batch.add_column(sa.Column("branch_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("call_seq", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_queue_ticket_branch", "branch", ["branch_id"], ["id"])
    op.create_index("ix_queue_ticket_calls", "queue_ticket", ["clinic_id", "day", "call_seq"])


def downgrade() -> None:
    op.drop_index("ix_queue_ticket_calls", table_name="queue_ticket")
    with op.batch_alter_table("queue_ticket") as batch:
        batch.drop_constraint("fk_queue_ticket_branch", type_="foreignkey")
        batch.drop_column("call_seq")
        batch.drop_column("branch_id")
