"""Reading what decides when professionals are free: weekly hours and busy intervals."""

from collections import defaultdict
from datetime import datetime, time

from sqlmodel import Session, col, or_, select

from store.models import Appointment, AppointmentStatus, BlockOff, WorkingHours

Weekly = dict[int, list[tuple[time, time]]]
Busy = list[tuple[datetime, datetime]]


def weekly_hours(session: Session, professional_ids: list[int]) -> dict[int, Weekly]:
    """Each professional's working intervals by weekday (0 = Monday), local time."""
    found: dict[int, Weekly] = {p: defaultdict(list) for p in professional_ids}
    rows = session.exec(
        select(WorkingHours).where(col(WorkingHours.professional_id).in_(professional_ids))
    )
    for row in rows:
        found[row.professional_id][row.weekday].append((row.start, row.end))
    return found


def busy_intervals(
    session: Session, clinic_id: int, professional_ids: list[int], since: datetime, until: datetime
) -> dict[int, Busy]:
    """Appointments that are not cancelled and block-offs (the professional's own and the
    clinic-wide ones) meeting [since, until), per professional."""
    own: dict[int | None, Busy] = defaultdict(list)
    appointments = session.exec(
        select(Appointment.professional_id, Appointment.starts_at, Appointment.ends_at).where(
            col(Appointment.professional_id).in_(professional_ids),
            Appointment.status != AppointmentStatus.cancelled,
            Appointment.starts_at < until,
            Appointment.ends_at > since,
        )
    )
    block_offs = session.exec(
        select(BlockOff.professional_id, BlockOff.starts_at, BlockOff.ends_at).where(
            BlockOff.clinic_id == clinic_id,
            or_(
                col(BlockOff.professional_id).is_(None),
                col(BlockOff.professional_id).in_(professional_ids),
            ),
            BlockOff.starts_at < until,
            BlockOff.ends_at > since,
        )
    )
    for professional_id, starts_at, ends_at in [*appointments, *block_offs]:
        own[professional_id].append((starts_at, ends_at))
    return {p: own[p] + own[None] for p in professional_ids}
