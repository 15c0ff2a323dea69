"""Failed sign-ins are no longer counted by address, only by login: the (ip, at) index
goes, and one on `at` takes its place for dropping the failures old enough to forget.

Revision ID: 0014_login_attempt_by_time
Revises: 0013_redundant_clinic_indexes
Create Date: 2026-12-04 17:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014_login_attempt_by_time"
down_revision: str | None = "0013_redundant_clinic_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_login_attempt_ip", table_name="login_attempt")
    op.create_index("ix_login_attempt_at", "login_attempt", ["at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_login_attempt_at", table_name="login_attempt")
    op.create_index("ix_login_attempt_ip", "login_attempt", ["ip", "at"], unique=False)
