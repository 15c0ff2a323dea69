"""What `/metrics` reads: figures counted from the database at scrape time, so they are
the same whichever web process answers and however many there are."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, func, select
from sqlmodel import col

from store.heartbeat import last_beat
from store.models import (
    Appointment,
    AppointmentStatus,
    InboundMessage,
    OutboxMessage,
    OutboxStatus,
)


@dataclass(frozen=True)
class Figures:
    """Rows counted now; the ages are in seconds, None when there is nothing to age."""

    inbound_messages: int
    bookings_by_channel: Mapping[str, int]  # a held waitlist offer is not one yet
    outbox_by_status: Mapping[str, int]
    outbox_errors: Mapping[tuple[str, str], int]  # (status, Twilio's error code) → rows
    oldest_pending_age: float | None
    heartbeat_age: float | None


def _seconds_since(then: datetime | None, now: datetime) -> float | None:
    return None if then is None else max((now - then).total_seconds(), 0.0)


def read_figures(engine: Engine, now: datetime) -> Figures:
    """Five reads on one connection, outside any transaction."""
    outbox = OutboxMessage
    with engine.connect() as connection:
        inbound = connection.scalar(select(func.count()).select_from(InboundMessage)) or 0
        bookings = connection.execute(
            select(col(Appointment.source_channel), func.count())
            .where(col(Appointment.status) != AppointmentStatus.held)
            .group_by(col(Appointment.source_channel))
        ).all()
        by_status = connection.execute(
            select(col(outbox.status), func.count()).group_by(col(outbox.status))
        ).all()
        errors = connection.execute(
            select(col(outbox.status), col(outbox.error_code), func.count())
            .where(col(outbox.error_code).is_not(None))
            .group_by(col(outbox.status), col(outbox.error_code))
        ).all()
        oldest = connection.scalar(
            select(func.min(col(outbox.created_at))).where(
                col(outbox.status) == OutboxStatus.pending
            )
        )
        beat = last_beat(connection)
    return Figures(
        inbound_messages=inbound,
        bookings_by_channel={channel: count for channel, count in bookings},
        outbox_by_status={status: count for status, count in by_status},
        outbox_errors={(status, code or ""): count for status, code, count in errors},
        oldest_pending_age=_seconds_since(oldest, now),
        heartbeat_age=_seconds_since(beat, now),
    )
