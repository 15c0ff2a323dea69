"""A queue ticket is counted on the day it was taken (the waiting room's report), walk-ins
too, so its triggers mark its arrival as well as its appointment's start.

Revision ID: 0032_ticket_days
Revises: 0031_report_days
Create Date: 2026-12-06 23:50:00
"""

from collections.abc import Callable, Sequence

from alembic import op

revision: str = "0032_ticket_days"
down_revision: str | None = "0031_report_days"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MARK = "INSERT INTO report_stale (clinic_id, starts_at, ends_at)"
EVENTS = {"INSERT": ("NEW",), "UPDATE": ("OLD", "NEW"), "DELETE": ("OLD",)}


def _arrival(row: str) -> str:
    return f"""{MARK}
SELECT h.clinic_id, {row}.arrived_at, {row}.arrived_at FROM report_horizon h
WHERE h.clinic_id = {row}.clinic_id AND {row}.arrived_at < h.summarized_until"""


def _visit(row: str) -> str:
    return f"""{MARK}
SELECT h.clinic_id, a.starts_at, a.starts_at FROM appointment a
JOIN report_horizon h ON h.clinic_id = a.clinic_id
WHERE a.id = {row}.appointment_id AND a.starts_at < h.summarized_until"""


def _replace(marks: Sequence[Callable[[str], str]]) -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for event, rows in EVENTS.items():
        name = f"report_stale_queue_ticket_{event.lower()}"
        body = ";\n".join(mark(row) for row in rows for mark in marks) + ";"
        if postgres:  # the trigger calls the function by name: replacing it is enough
            op.execute(
                f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
                f"BEGIN\n{body}\nRETURN NULL;\nEND $$"
            )
        else:
            op.execute(f"DROP TRIGGER {name}")
            op.execute(
                f"CREATE TRIGGER {name} AFTER {event} ON queue_ticket FOR EACH ROW\n"
                f"BEGIN\n{body}\nEND"
            )


def upgrade() -> None:
    _replace([_visit, _arrival])


def downgrade() -> None:
    _replace([_visit])
