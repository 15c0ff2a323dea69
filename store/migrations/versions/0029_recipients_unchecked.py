"""A campaign's recipients as its writer reads them: without foreign keys (they are
written only by its start, in one statement, from the appointments it reads, and checking
three keys on each of a large campaign's rows, locking every appointment, took most of
its start), read in the order its start wrote them (`campaign_id, id`) and by message
(`campaign_id, outbox_key`) rather than by appointment, and the campaign's
`written_through`: the last recipient whose message is in the outbox.

Revision ID: 0029_recipients_unchecked
Revises: 0028_queue_branch
Create Date: 2026-12-06 03:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0029_recipients_unchecked"
down_revision: str | None = "0028_queue_branch"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "campaign_recipient"
REFERENCES = {"clinic_id": "clinic", "campaign_id": "campaign", "appointment_id": "appointment"}
BY_APPOINTMENT = ("ix_campaign_recipient_appointment_id", ["appointment_id"])
NOW = {
    "ix_campaign_recipient_order": ["campaign_id", "id"],
    "ix_campaign_recipient_message": ["campaign_id", "outbox_key"],
}


def _table(before: bool) -> sa.Table:
    """The table as SQLite's copy recreates it: as it was, or as it is now."""
    indexes = dict([BY_APPOINTMENT]) if before else NOW
    keys = [sa.ForeignKeyConstraint([c], [f"{t}.id"]) for c, t in REFERENCES.items()]
    return sa.Table(
        TABLE,
        sa.MetaData(),
        sa.Column("id", sa.Integer(), primary_key=True),
        *(sa.Column(column, sa.Integer(), nullable=False) for column in REFERENCES),
        sa.Column("phone", sa.String(), nullable=False),
        sa.Column("outbox_key", sa.String(), nullable=False),
        sa.UniqueConstraint("campaign_id", "appointment_id", name="uq_campaign_recipient"),
        *(sa.Index(name, *columns) for name, columns in indexes.items()),
        *(keys if before else []),
    )


def upgrade() -> None:
    with op.batch_alter_table("campaign") as batch:
        batch.add_column(
            sa.Column("written_through", sa.Integer(), nullable=False, server_default="0")
        )
    if op.get_bind().dialect.name != "postgresql":
        with op.batch_alter_table(TABLE, recreate="always", copy_from=_table(before=False)):
            pass
        return
    for column in REFERENCES:
        op.drop_constraint(f"{TABLE}_{column}_fkey", TABLE, type_="foreignkey")
    op.drop_index(BY_APPOINTMENT[0], TABLE)
    for name, columns in NOW.items():
        op.create_index(name, TABLE, columns)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        with op.batch_alter_table(TABLE, recreate="always", copy_from=_table(before=True)):
            pass
    else:
        for name in NOW:
            op.drop_index(name, TABLE)
        op.create_index(BY_APPOINTMENT[0], TABLE, BY_APPOINTMENT[1])
        for column, table in REFERENCES.items():
            op.create_foreign_key(f"{TABLE}_{column}_fkey", TABLE, table, [column], ["id"])
    with op.batch_alter_table("campaign") as batch:
        batch.drop_column("written_through")
