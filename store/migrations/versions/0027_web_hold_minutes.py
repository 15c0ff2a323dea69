"""How long the booking page holds a new number's time for its WhatsApp message, a clinic
setting (`clinic.web_hold_minutes`, 10 as before).

Revision ID: 0027_web_hold_minutes
Revises: 0026_checkin
Create Date: 2026-12-06 03:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027_web_hold_minutes"
down_revision: str | None = "0026_checkin"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("clinic") as batch:
        batch.add_column(
            sa.Column(
                "web_hold_minutes", sa.Integer(), nullable=False, server_default=sa.text("10")
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("clinic") as batch:
        batch.drop_column("web_hold_minutes")
