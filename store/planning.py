"""Planning one notification about an appointment: a row the due-notifications pass will
find, at most one per appointment, kind, step and time (the database decides)."""

from datetime import datetime

from sqlmodel import Session

from store.db import insert_or_skip
from store.models import Appointment, Notification, NotificationStatus


def plan_notification(
    session: Session,
    appointment: Appointment,
    kind: str,
    step: str,
    *,
    due_at: datetime,
    now: datetime,
) -> bool:
    """One notification about the appointment at its current time; False if it was
    planned already (the database decides: at most one per appointment, kind, step and
    time)."""
    statement = insert_or_skip(
        session.get_bind().dialect.name,
        Notification,
        ("appointment_id", "kind", "step", "starts_at"),
    )
    row = {
        "clinic_id": appointment.clinic_id,
        "appointment_id": appointment.id,
        "kind": kind,
        "step": step,
        "starts_at": appointment.starts_at,
        "due_at": due_at,
        "status": NotificationStatus.pending,
        "created_at": now,
        "updated_at": now,
    }
    return session.connection().execute(statement, row).first() is not None
