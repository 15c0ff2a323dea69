"""Reading what decides when professionals are free: weekly hours and busy intervals."""

from collections import defaultdict
from datetime import datetime, time, timedelta

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from store.models import Appointment, AppointmentStatus, BlockOff, WorkingHours

Weekly = dict[int, list[tuple[time, time]]]
Interval = tuple[datetime, datetime]
LONGEST_APPOINTMENT = timedelta(days=1)  # bounds the index scan from below


_WEEKLY_HOURS = select(
    col(WorkingHours.professional_id),
    col(WorkingHours.weekday),
    col(WorkingHours.start),
    col(WorkingHours.end),
).where(col(WorkingHours.professional_id).in_(bindparam("ids", expanding=True)))


def weekly_hours(session: Session, professional_ids: list[int]) -> dict[int, Weekly]:
    """Each professional's working intervals by weekday (0 = Monday), local time."""
    found: dict[int, Weekly] = {p: defaultdict(list) for p in professional_ids}
    rows = session.connection().execute(_WEEKLY_HOURS, {"ids": professional_ids}).all()
    for professional_id, weekday, start, end in rows:
        found[professional_id][weekday].append((start, end))
    return found


# Built once: the hot path of "first available" runs it many times per message.
_APPOINTMENTS_BETWEEN = select(
    Appointment.professional_id, Appointment.starts_at, Appointment.ends_at
).where(
    col(Appointment.professional_id).in_(bindparam("ids", expanding=True)),
    Appointment.status != AppointmentStatus.cancelled,
    Appointment.starts_at >= bindparam("low"),
    Appointment.starts_at < bindparam("until"),
    Appointment.ends_at > bindparam("since"),
)


def appointments_between(
    session: Session, professional_ids: list[int], since: datetime, until: datetime
) -> dict[int, list[Interval]]:
    """The times of appointments that are not cancelled and meet [since, until)."""
    found: dict[int, list[Interval]] = {p: [] for p in professional_ids}
    rows = (
        session.connection()
        .execute(
            _APPOINTMENTS_BETWEEN,
            {
                "ids": professional_ids,
                "low": since - LONGEST_APPOINTMENT,
                "until": until,
                "since": since,
            },
        )
        .all()
    )  # one fetch, not a round of driver calls per row
    for professional_id, starts_at, ends_at in rows:
        found[professional_id].append((starts_at, ends_at))
    return found


_BLOCK_OFFS_BETWEEN = select(
    col(BlockOff.professional_id), col(BlockOff.starts_at), col(BlockOff.ends_at)
).where(
    col(BlockOff.clinic_id) == bindparam("clinic_id"),
    col(BlockOff.starts_at) < bindparam("until"),
    col(BlockOff.ends_at) > bindparam("since"),
)


def block_offs_between(
    session: Session, clinic_id: int, since: datetime, until: datetime
) -> list[tuple[int | None, datetime, datetime]]:
    """Block-offs meeting [since, until): (professional or None for the whole clinic, start,
    end)."""
    rows = session.connection().execute(
        _BLOCK_OFFS_BETWEEN, {"clinic_id": clinic_id, "since": since, "until": until}
    )
    return [(who, start, end) for who, start, end in rows]
