"""Report days: each clinic's closed local days summed up (`report_count`, `report_day`)
up to its `report_horizon`, and the triggers that mark a time stale (`report_stale`)
whenever a row the reports count changes about a time before that horizon, whatever
wrote it (the ORM, plain SQL, a status callback). Also the indexes a report's few live
days read by: appointments by clinic and start, messages by clinic and time.

Revision ID: 0031_report_days
Revises: 0030_campaign_questions
Create Date: 2026-12-06 08:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.types

revision: str = "0031_report_days"
down_revision: str | None = "0030_campaign_questions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MARK = "INSERT INTO report_stale (clinic_id, starts_at, ends_at)"


def _own_time(row: str, column: str) -> str:
    """The row's own time (a message's, an appointment's start)."""
    return f"""{MARK}
SELECT h.clinic_id, {row}.{column}, {row}.{column} FROM report_horizon h
WHERE h.clinic_id = {row}.clinic_id AND {row}.{column} < h.summarized_until"""


def _visit(row: str) -> str:
    """The start of the appointment the row is about."""
    return f"""{MARK}
SELECT h.clinic_id, a.starts_at, a.starts_at FROM appointment a
JOIN report_horizon h ON h.clinic_id = a.clinic_id
WHERE a.id = {row}.appointment_id AND a.starts_at < h.summarized_until"""


def _reminders(row: str, only_if: str = "1 = 1") -> str:
    """The times of the messages planned for the row's appointment (its reminders: which
    of them asked first, and what the patient answered, count on their days)."""
    return f"""{MARK}
SELECT h.clinic_id, o.created_at, o.created_at FROM notification n
JOIN outbox_message o ON o.id = n.outbox_message_id
JOIN report_horizon h ON h.clinic_id = o.clinic_id
WHERE n.appointment_id = {row}.appointment_id AND {only_if}
  AND o.created_at < h.summarized_until"""


# An appointment given to another professional moves its messages to that professional's
# counts: every day since it was booked.
NEW_PROFESSIONAL = f"""{MARK}
SELECT h.clinic_id, OLD.created_at, h.summarized_until FROM report_horizon h
WHERE h.clinic_id = OLD.clinic_id AND OLD.created_at < h.summarized_until
  AND OLD.professional_id <> NEW.professional_id"""


def _marks(table: str, row: str) -> list[str]:
    if table == "outbox_message":
        return [
            _own_time(row, "created_at"),
            _visit(row),
            _reminders(row, f"{row}.kind = 'reminder'"),
        ]
    if table == "appointment":
        return [_own_time(row, "starts_at")]
    if table == "appointment_event":
        return [_visit(row), _reminders(row)]
    return [_visit(row)]  # notification, survey_response, queue_ticket


TABLES = (
    "outbox_message",
    "appointment",
    "appointment_event",
    "notification",
    "survey_response",
    "queue_ticket",
)
EVENTS = {"INSERT": ("NEW",), "UPDATE": ("OLD", "NEW"), "DELETE": ("OLD",)}


def _statements(table: str, event: str) -> list[str]:
    rows = EVENTS[event]
    if (table, event) == ("outbox_message", "UPDATE"):
        rows = ("NEW",)  # a message's time and appointment never change
    found = [mark for row in rows for mark in _marks(table, row)]
    if (table, event) == ("appointment", "UPDATE"):
        found.append(NEW_PROFESSIONAL)
    return found


def _name(table: str, event: str) -> str:
    return f"report_stale_{table}_{event.lower()}"


def _create_triggers() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in TABLES:
        for event in EVENTS:
            name, body = _name(table, event), ";\n".join(_statements(table, event)) + ";"
            if postgres:
                # OR REPLACE: a restored older backup leaves the functions of a later
                # schema behind (they belong to no table), and the upgrade meets them
                op.execute(
                    f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
                    f"BEGIN\n{body}\nRETURN NULL;\nEND $$"
                )
                op.execute(
                    f"CREATE TRIGGER {name} AFTER {event} ON {table} "
                    f"FOR EACH ROW EXECUTE FUNCTION {name}()"
                )
            else:
                op.execute(
                    f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW\n"
                    f"BEGIN\n{body}\nEND"
                )


def _drop_triggers() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in TABLES:
        for event in EVENTS:
            name = _name(table, event)
            if postgres:
                op.execute(f"DROP TRIGGER {name} ON {table}")
                op.execute(f"DROP FUNCTION IF EXISTS {name}()")
            else:
                op.execute(f"DROP TRIGGER {name}")


def upgrade() -> None:
    op.create_table(
        "report_horizon",
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("summarized_until", store.types.UTCDateTime(), nullable=False),
        sa.Column("timezone", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(["clinic_id"], ["clinic.id"]),
        sa.PrimaryKeyConstraint("clinic_id"),
    )
    op.create_table(
        "report_day",
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("summed_at", store.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["clinic_id"], ["clinic.id"]),
        sa.PrimaryKeyConstraint("clinic_id", "day"),
    )
    op.create_table(
        "report_count",
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("figure", sa.String(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("professional_id", sa.Integer(), nullable=False),
        sa.Column("k1", sa.String(), nullable=False),
        sa.Column("k2", sa.String(), nullable=False),
        sa.Column("k3", sa.String(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["clinic_id"], ["clinic.id"]),
        sa.PrimaryKeyConstraint("clinic_id", "figure", "day", "professional_id", "k1", "k2", "k3"),
    )
    op.create_table(
        "report_stale",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", store.types.UTCDateTime(), nullable=False),
        sa.Column("ends_at", store.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_report_stale_clinic", "report_stale", ["clinic_id", "starts_at"])
    op.create_index("ix_appointment_clinic_start", "appointment", ["clinic_id", "starts_at"])
    op.create_index("ix_outbox_clinic_created", "outbox_message", ["clinic_id", "created_at"])
    _create_triggers()


def downgrade() -> None:
    _drop_triggers()
    op.drop_index("ix_outbox_clinic_created", table_name="outbox_message")
    op.drop_index("ix_appointment_clinic_start", table_name="appointment")
    op.drop_index("ix_report_stale_clinic", table_name="report_stale")
    for table in ("report_stale", "report_count", "report_day", "report_horizon"):
        op.drop_table(table)
