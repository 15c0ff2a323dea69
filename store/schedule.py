"""Reading what decides when professionals are free: weekly hours and busy intervals."""

from collections import defaultdict
from datetime import datetime, time, timedelta

from store.driver import Db, Sql, clock_time, dialect_of, rows, utc
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


# The hot path of "first available" runs it many times per message: appointments that are
# not cancelled, then the clinic's block-offs (professional NULL: the whole clinic), in one
# round trip. Both halves are range scans bounded by `since`, so the history before it is
# never read: appointments on (professional_id, starts_at), from `since` less the longest
# appointment; block-offs on (clinic_id, ends_at), those not over by `since` (a block-off
# can last weeks, so its start gives no bound; only the few still to end are read).
_BLOCK_OFFS = """SELECT professional_id, starts_at, ends_at FROM block_off
    WHERE clinic_id = :clinic_id AND ends_at > :since AND starts_at < :until
        AND (professional_id IS NULL OR professional_id IN (:ids))"""
_BUSY_BETWEEN = Sql(
    f"""SELECT professional_id, starts_at, ends_at FROM appointment
    WHERE professional_id IN (:ids) AND status != '{AppointmentStatus.cancelled.value}'
        AND starts_at >= :low AND starts_at < :until AND ends_at > :since
    UNION ALL
    {_BLOCK_OFFS}"""
)
_BLOCKED_BETWEEN = Sql(_BLOCK_OFFS)


def busy_between(
    db: Db, clinic_id: int, professional_ids: list[int], since: datetime, until: datetime
) -> dict[int, list[Interval]]:
    """Each professional's busy times meeting [since, until): appointments that are not
    cancelled, and block-offs, the clinic's own and the professional's."""
    return _each(db, _BUSY_BETWEEN, clinic_id, professional_ids, since, until)


def blocked_between(
    db: Db, clinic_id: int, professional_ids: list[int], since: datetime, until: datetime
) -> dict[int, list[Interval]]:
    """Each professional's block-offs meeting [since, until), the clinic's own included:
    the times nobody could book were the agenda empty."""
    return _each(db, _BLOCKED_BETWEEN, clinic_id, professional_ids, since, until)


def _each(
    db: Db,
    statement: Sql,
    clinic_id: int,
    professional_ids: list[int],
    since: datetime,
    until: datetime,
) -> dict[int, list[Interval]]:
    """The statement's intervals by professional, the whole clinic's given to each."""
    found: dict[int, list[Interval]] = {p: [] for p in professional_ids}
    params = {
        "clinic_id": clinic_id,
        "ids": list(professional_ids),
        "low": since - LONGEST_APPOINTMENT,
        "since": since,
        "until": until,
    }
    found_rows = rows(db, statement, params)
    if dialect_of(db) == "sqlite":  # text; PostgreSQL's timestamptz comes aware already
        found_rows = [(p, utc(start), utc(end)) for p, start, end in found_rows]
    for professional_id, starts_at, ends_at in found_rows:
        interval = (starts_at, ends_at)
        if professional_id is None:  # the whole clinic's
            for busy in found.values():
                busy.append(interval)
        else:
            found[professional_id].append(interval)
    return found
