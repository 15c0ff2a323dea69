"""No-show recovery: the messages planned after a missed appointment, stopping them when
the patient books again, and the record of which no-shows were recovered. In the caller's
transaction."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from store.db import insert_or_skip
from store.message_kinds import MessageKind
from store.models import (
    Appointment,
    Clinic,
    NoShowRecovery,
    Notification,
    NotificationStatus,
    OutboxMessage,
    OutboxStatus,
)
from store.planning import plan_notification

MAX_STEPS = 3
DEFAULT_HOURS = (2.0, 24.0, 72.0)


def followup_hours(setting: str | None) -> tuple[float, ...]:
    """The clinic's delays ("2,24,72"): up to three positive numbers of hours; anything
    unreadable falls back to the defaults rather than silencing the sequence."""
    if setting is None:
        return DEFAULT_HOURS
    try:
        hours = tuple(float(part) for part in setting.split(",") if part.strip())
    except ValueError:
        return DEFAULT_HOURS
    if any(h <= 0 for h in hours):
        return DEFAULT_HOURS
    return hours[:MAX_STEPS]


def no_show_times(
    ends_at: datetime, marked_at: datetime, hours: Sequence[float]
) -> list[tuple[str, datetime]]:
    """(step, due time) of each recovery message: `hours` after the missed appointment's
    end. The first goes at once if its time has passed when the no-show is marked; a later
    step whose time has passed is dropped (never several messages at once)."""
    times: list[tuple[str, datetime]] = []
    for number, delay in enumerate(hours, start=1):
        due = ends_at + timedelta(hours=delay)
        if number == 1:
            due = max(due, marked_at)
        elif due <= marked_at:
            continue
        times.append((str(number), due))
    return times


def start_recovery(
    session: Session, clinic: Clinic, appointment: Appointment, now: datetime
) -> int:
    """Record the no-show and plan its messages; returns how many were planned (none if
    it was recorded already)."""
    new = (
        session.connection()
        .execute(
            insert_or_skip(session.get_bind().dialect.name, NoShowRecovery, ("appointment_id",)),
            {
                "clinic_id": appointment.clinic_id,
                "appointment_id": appointment.id,
                "patient_id": appointment.patient_id,
                "missed_at": appointment.starts_at,
                "marked_at": now,
            },
        )
        .first()
    )
    if new is None:
        return 0
    hours = followup_hours(clinic.no_show_followup_hours)
    return sum(
        plan_notification(session, appointment, MessageKind.no_show, step, due_at=due_at, now=now)
        for step, due_at in no_show_times(appointment.ends_at, now, hours)
    )


def stop_sequence(session: Session, appointment_ids: Sequence[int], now: datetime) -> None:
    """The recovery messages of these no-shows that have not gone out are withdrawn: the
    planned ones and those queued but not yet sent."""
    if not appointment_ids:
        return
    session.execute(
        update(Notification)
        .where(
            col(Notification.appointment_id).in_(appointment_ids),
            col(Notification.kind) == MessageKind.no_show,
            col(Notification.status) == NotificationStatus.pending,
        )
        .values(status=NotificationStatus.withdrawn, updated_at=now)
    )
    session.execute(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.appointment_id).in_(appointment_ids),
            col(OutboxMessage.kind).startswith(f"{MessageKind.no_show}_"),
            col(OutboxMessage.status) == OutboxStatus.pending,
        )
        .values(
            status=OutboxStatus.skipped,
            error_message="the no-show recovery stopped",
            updated_at=now,
        )
    )


def rebooked(session: Session, clinic: Clinic, appointment: Appointment, now: datetime) -> None:
    """A new appointment of a patient who missed one: the recovery messages stop, and the
    no-shows within the clinic's `recovery_days` count as recovered by it."""
    missed = list(
        session.exec(
            select(NoShowRecovery).where(
                NoShowRecovery.patient_id == appointment.patient_id,
                col(NoShowRecovery.recovered_appointment_id).is_(None),
            )
        )
    )
    if not missed:
        return
    stop_sequence(session, [m.appointment_id for m in missed], now)
    window = timedelta(days=clinic.recovery_days)
    for record in missed:
        if record.marked_at <= now <= record.marked_at + window:
            record.recovered_appointment_id = appointment.id
            record.recovered_at = now
            session.add(record)
    session.flush()


@dataclass(frozen=True)
class RecoveryFigure:
    """No-shows of appointments in a period, and how many of them were rebooked."""

    no_shows: int
    recovered: int

    @property
    def rate(self) -> float:
        return self.recovered / self.no_shows if self.no_shows else 0.0


def recovered_no_shows(
    session: Session, clinic_id: int, start: datetime, end: datetime
) -> RecoveryFigure:
    """The clinic's no-shows of appointments that started in [start, end) and how many
    were recovered."""
    total, recovered = session.execute(
        select(
            func.count(col(NoShowRecovery.id)),
            func.count(col(NoShowRecovery.recovered_appointment_id)),
        ).where(
            NoShowRecovery.clinic_id == clinic_id,
            col(NoShowRecovery.missed_at) >= start,
            col(NoShowRecovery.missed_at) < end,
        )
    ).one()
    return RecoveryFigure(int(total), int(recovered))
