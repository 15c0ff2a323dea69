"""Facts the bot answers patients' questions with: a service's price as the clinic writes
it ("150.000 Gs"), and the insurances the clinic accepts.

Revision ID: 0020_clinic_facts
Revises: 0019_content_template_approval
Create Date: 2026-12-05 18:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0020_clinic_facts"
down_revision: str | None = "0019_content_template_approval"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("service") as batch:
        batch.add_column(sa.Column("price", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    with op.batch_alter_table("clinic") as batch:
        batch.add_column(sa.Column("insurances", sqlmodel.sql.sqltypes.AutoString(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("clinic") as batch:
        batch.drop_column("insurances")
    with op.batch_alter_table("service") as batch:
        batch.drop_column("price")
