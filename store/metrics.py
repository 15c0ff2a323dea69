"""What `/metrics` reads: figures counted from the database at scrape time, so they are
the same whichever web process answers and however many there are."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, case, func, or_, select
from sqlmodel import col

from store.heartbeat import last_beat
from store.models import (
    Appointment,
    AppointmentStatus,
    InboundMessage,
    Notification,
    OutboxMessage,
    OutboxStatus,
)
from store.notifications import IS_PENDING
from store.outbox import REPLY_KEY_PREFIX

RECENT = timedelta(minutes=5)  # the window of the replies' latency and of recent sends


@dataclass(frozen=True)
class Figures:
    """Rows counted now; the ages are in seconds, None when there is nothing to age."""

    inbound_messages: int
    bookings_by_channel: Mapping[str, int]  # a held waitlist offer is not one yet
    outbox_by_status: Mapping[str, int]
    outbox_errors: Mapping[tuple[str, str], int]  # (status, Twilio's error code) → rows
    oldest_pending_age: float | None
    heartbeat_age: float | None
    # seconds from each inbound message's arrival to its reply's acceptance by Twilio, for
    # the replies accepted in the last `RECENT`
    reply_latencies: Sequence[float]
    # (status now, Twilio's error code or "") → rows whose latest send started in `RECENT`
    recent_sends: Mapping[tuple[str, str], int]
    oldest_due_notification_age: float | None  # how late the oldest unsent one is


def _seconds_since(then: datetime | None, now: datetime) -> float | None:
    return None if then is None else max((now - then).total_seconds(), 0.0)


def read_figures(engine: Engine, now: datetime) -> Figures:
    """Eight reads on one connection, outside any transaction; the recent ones through
    the outbox's indexes on `sent_at` and `attempted_at` and the notifications' due
    index."""
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
        latencies = _reply_latencies(connection, now)
        recent = connection.execute(
            select(col(outbox.status), col(outbox.error_code), func.count())
            .where(col(outbox.attempted_at) >= now - RECENT)
            .group_by(col(outbox.status), col(outbox.error_code))
        ).all()
        oldest_due = connection.scalar(
            select(func.min(col(Notification.due_at))).where(
                IS_PENDING, col(Notification.due_at) <= now
            )
        )
    return Figures(
        inbound_messages=inbound,
        bookings_by_channel={channel: count for channel, count in bookings},
        outbox_by_status={status: count for status, count in by_status},
        outbox_errors={(status, code or ""): count for status, code, count in errors},
        oldest_pending_age=_seconds_since(oldest, now),
        heartbeat_age=_seconds_since(beat, now),
        reply_latencies=latencies,
        recent_sends={(status, code or ""): count for status, code, count in recent},
        oldest_due_notification_age=_seconds_since(oldest_due, now),
    )


def _reply_latencies(connection: Connection, now: datetime) -> list[float]:
    """For each reply Twilio accepted in the last `RECENT`, the seconds since the inbound
    message it answers arrived. A reply is keyed by that message's SID (`reply_key`); a
    reply split in pieces counts once, by its first piece ("…#1")."""
    key = col(OutboxMessage.idempotency_key)
    start = len(REPLY_KEY_PREFIX) + 1
    first_piece = key.like("%#1")
    answered_sid = case(
        (first_piece, func.substr(key, start, func.length(key) - start - 1)),
        else_=func.substr(key, start),
    )
    rows = connection.execute(
        select(col(InboundMessage.received_at), col(OutboxMessage.sent_at))
        .join(InboundMessage, col(InboundMessage.message_sid) == answered_sid)
        .where(
            col(OutboxMessage.sent_at) >= now - RECENT,
            key.startswith(REPLY_KEY_PREFIX),
            or_(key.not_like("%#%"), first_piece),
        )
    ).all()
    return [
        max((sent - received).total_seconds(), 0.0) for received, sent in rows if sent is not None
    ]
