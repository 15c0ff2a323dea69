"""The report-day triggers on PostgreSQL read the clinic's horizon once and run a mark's
statement only where the row can be about a time before it: each of their statements
used to run on every insert and update (a bot's reply, a booking, a status callback),
and together they cost PostgreSQL about a third of its time per inbound message. They
mark exactly what they marked. SQLite's triggers are compiled into each statement and
stay as they are.

Revision ID: 0033_quick_marks
Revises: 0032_ticket_days
Create Date: 2026-12-07 00:10:00
"""

import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from alembic import op

revision: str = "0033_quick_marks"
down_revision: str | None = "0032_ticket_days"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MARK = "INSERT INTO report_stale (clinic_id, starts_at, ends_at)"
EVENTS = {"INSERT": ("NEW",), "UPDATE": ("OLD", "NEW"), "DELETE": ("OLD",)}


@dataclass(frozen=True)
class Mark:
    """A statement that marks times before the horizon (`horizon`), run only when `when`
    holds: a test of the row's own values, which costs no statement."""

    when: str
    statement: str


def _own_time(row: str, column: str) -> Mark:
    return Mark(
        f"{row}.{column} < horizon",
        f"{MARK} VALUES ({row}.clinic_id, {row}.{column}, {row}.{column})",
    )


def _visit(row: str) -> Mark:
    return Mark(
        f"{row}.appointment_id IS NOT NULL",
        f"""{MARK}
SELECT a.clinic_id, a.starts_at, a.starts_at FROM appointment a
WHERE a.id = {row}.appointment_id AND a.starts_at < horizon""",
    )


def _reminders(row: str, only_if: str = "TRUE") -> Mark:
    return Mark(
        f"{row}.appointment_id IS NOT NULL AND {only_if}",
        f"""{MARK}
SELECT o.clinic_id, o.created_at, o.created_at FROM notification n
JOIN outbox_message o ON o.id = n.outbox_message_id
WHERE n.appointment_id = {row}.appointment_id AND o.created_at < horizon""",
    )


# an appointment given to another professional: every day since it was booked
NEW_PROFESSIONAL = Mark(
    "OLD.professional_id <> NEW.professional_id AND OLD.created_at < horizon",
    f"{MARK} VALUES (OLD.clinic_id, OLD.created_at, horizon)",
)


def _marks(table: str, row: str) -> list[Mark]:
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
    if table == "queue_ticket":
        return [_visit(row), _own_time(row, "arrived_at")]
    return [_visit(row)]  # notification, survey_response


TABLES = (
    "outbox_message",
    "appointment",
    "appointment_event",
    "notification",
    "survey_response",
    "queue_ticket",
)


def _body(table: str, event: str) -> str:
    rows = EVENTS[event]
    if (table, event) == ("outbox_message", "UPDATE"):
        rows = ("NEW",)  # a message's time and appointment never change
    marks = [mark for row in rows for mark in _marks(table, row)]
    if (table, event) == ("appointment", "UPDATE"):
        marks.append(NEW_PROFESSIONAL)
    row = rows[-1]
    steps = "\n".join(f"IF {m.when} THEN\n{m.statement};\nEND IF;" for m in marks)
    return f"""DECLARE horizon timestamptz;
BEGIN
SELECT summarized_until INTO horizon FROM report_horizon WHERE clinic_id = {row}.clinic_id;
IF horizon IS NULL THEN
RETURN NULL;
END IF;
{steps}
RETURN NULL;
END"""


def _function(name: str, body: str) -> None:
    op.execute(
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n{body} $$"
    )


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        for event in EVENTS:
            _function(f"report_stale_{table}_{event.lower()}", _body(table, event))


def _revision(name: str) -> ModuleType:
    """An earlier revision's module, for the functions it wrote."""
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(f"{name}.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    report_days = _revision("0031_report_days")
    for table in TABLES:
        for event in EVENTS:
            statements = ";\n".join(report_days._statements(table, event))
            _function(report_days._name(table, event), f"BEGIN\n{statements};\nRETURN NULL;\nEND")
    _revision("0032_ticket_days").upgrade()  # the queue tickets' functions as it left them
