"""Reading what decides when professionals are free: weekly hours and busy intervals."""

from collections import defaultdict
from datetime import datetime, time, timedelta

from store.driver import Db, Sql, clock_time, rows, utc
from store.models import AppointmentStatus

Weekly = dict[int, list[tuple[time, time]]]
Interval = tuple[datetime, datetime]
LONGEST_APPOINTMENT = timedelta(days=1)  # bounds the index scan from below


_WEEKLY_HOURS = Sql(
    'SELECT professional_id, weekday, start, "end" FROM working_hours'
    " WHERE professional_id IN (:ids)"
)


def weekly_hours(db: Db, professional_ids: list[int]) -> dict[int, Weekly]:
    """Each professional's working intervals by weekday (0 = Monday), local time."""
    found: dict[int, Weekly] = {p: defaultdict(list) for p in professional_ids}
    for professional_id, weekday, start, end in rows(
        db, _WEEKLY_HOURS, {"ids": list(professional_ids)}
    ):
        found[professional_id][weekday].append((clock_time(start), clock_time(end)))
    return found


# The hot path of "first available" runs it many times per message.
_APPOINTMENTS_BETWEEN = Sql(
    f"""SELECT professional_id, starts_at, ends_at FROM appointment
    WHERE professional_id IN (:ids) AND status != '{AppointmentStatus.cancelled.value}'
        AND starts_at >= :low AND starts_at < :until AND ends_at > :since"""
)


def appointments_between(
    db: Db, professional_ids: list[int], since: datetime, until: datetime
) -> dict[int, list[Interval]]:
    """The times of appointments that are not cancelled and meet [since, until)."""
    found: dict[int, list[Interval]] = {p: [] for p in professional_ids}
    params = {"ids": list(professional_ids), "low": since - LONGEST_APPOINTMENT}
    for professional_id, starts_at, ends_at in rows(
        db, _APPOINTMENTS_BETWEEN, {**params, "until": until, "since": since}
    ):
        found[professional_id].append((utc(starts_at), utc(ends_at)))
    return found


_BLOCK_OFFS_BETWEEN = Sql(
    """SELECT professional_id, starts_at, ends_at FROM block_off
    WHERE clinic_id = :clinic_id AND starts_at < :until AND ends_at > :since"""
)


def block_offs_between(
    db: Db, clinic_id: int, since: datetime, until: datetime
) -> list[tuple[int | None, datetime, datetime]]:
    """Block-offs meeting [since, until): (professional or None for the whole clinic, start,
    end)."""
    found = rows(
        db, _BLOCK_OFFS_BETWEEN, {"clinic_id": clinic_id, "since": since, "until": until}
    )
    return [(who, utc(start), utc(end)) for who, start, end in found]
