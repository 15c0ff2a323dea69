"""Each professional's local day summed up (`day_load`): its longest free stretch of
working time. "First available" reads these few numbers for a month at once and skips the
days where no working professional has a stretch as long as the service, instead of
reading every appointment of every full day.

A record may say a day is fuller than the appointments make it only for a moment no
reader can see: every change to a day rewrites its record in the change's own
transaction (session listeners, registered once by `store.db`, on appointments and
block-offs flushed through the ORM and on `update()` and `delete()` statements run in a
session). On PostgreSQL the rewrite first takes a lock on the professional, then reads
the day afresh, so of two transactions changing one day the later one writes a record
that sees both. A day without a record is read as before; so is one whose `week_key`
(the professional's weekly hours and the clinic's time zone) is not today's, which is how
a change of hours needs no rewrite. A new appointment only makes a day fuller, so one
inserted behind the listeners' back (plain SQL) leaves its record safe, only less useful."""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from hashlib import blake2b
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, Table, delete, event, inspect, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction
from sqlalchemy.sql.dml import Delete, Update

from store.driver import Db, Sql, dialect_of, rows
from store.models import Appointment, AppointmentStatus, BlockOff, DayLoad
from store.schedule import Interval, Weekly, busy_between, weekly_hours

DAY_LOAD: Table = DayLoad.__table__  # type: ignore[attr-defined]
LOCKS = 7301  # the advisory locks' first key: the professionals' day loads
MOST_DAYS = 400  # a change spanning more days leaves the later ones without a record
WATCHED = {"appointment": Appointment, "block_off": BlockOff}

# A clinic, a professional (None: all of the clinic's) and a time that changed.
Span = tuple[int, int | None, datetime, datetime]


def week_key(professional_id: int, timezone: str, weekly: Weekly) -> int:
    """A number naming the weekly hours and time zone a record was computed with."""
    hours = ";".join(
        f"{weekday}:{start.isoformat()}-{end.isoformat()}"
        for weekday in sorted(weekly)
        for start, end in sorted(weekly[weekday])
    )
    digest = blake2b(f"{professional_id}|{timezone}|{hours}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


_FULL_DAYS = Sql(
    """SELECT day, COUNT(*) FROM day_load
    WHERE professional_id IN (:ids) AND day >= :first AND day <= :last
        AND longest_free_minutes < :minutes AND week_key IN (:keys)
    GROUP BY day"""
)


def professionals_too_full(
    db: Db, keys: Mapping[int, int], first: date, last: date, minutes: int
) -> dict[date, int]:
    """For each day in [first, last], how many of the professionals (their current week
    keys) are known to have no free stretch of `minutes`."""
    if not keys:
        return {}
    found = rows(
        db,
        _FULL_DAYS,
        {
            "ids": list(keys),
            "keys": list(keys.values()),
            "first": first,
            "last": last,
            "minutes": minutes,
        },
    )
    return {_date(day): count for day, count in found}


def _date(value: str | date) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def refresh(connection: Connection, spans: Iterable[Span]) -> None:
    """Write again the records of every professional's day the spans touch."""
    by_clinic: dict[int, list[Span]] = defaultdict(list)
    for span in spans:
        by_clinic[span[0]].append(span)
    for clinic_id in sorted(by_clinic):
        _refresh_clinic(connection, clinic_id, by_clinic[clinic_id])


def fill(connection: Connection, clinic_id: int, first: date, days: int) -> None:
    """Write the records of all the clinic's professionals for `days` days from `first`
    (the worker fills the booking horizon; records nobody changed since stay right)."""
    timezone = ZoneInfo(_timezone(connection, clinic_id))
    start = datetime.combine(first, time.min, tzinfo=timezone).astimezone(UTC)
    end = datetime.combine(first + timedelta(days=days), time.min, tzinfo=timezone)
    refresh(connection, [(clinic_id, None, start, end.astimezone(UTC))])


_PAST = text(
    "DELETE FROM day_load WHERE day < :before"
    " AND professional_id IN (SELECT id FROM professional WHERE clinic_id = :clinic_id)"
)


def fill_horizons(engine: Engine, now: datetime) -> int:
    """Write every clinic's records from its today to the end of its booking horizon, and
    remove those of days gone (nobody asks about them), one clinic a transaction; returns
    how many clinics. Days nobody changed since the migration, or since their
    professional's hours changed, get their records here."""
    with engine.connect() as connection:
        clinics = connection.execute(text("SELECT id, timezone, horizon_days FROM clinic")).all()
    for clinic_id, timezone, horizon_days in clinics:
        today = now.astimezone(ZoneInfo(timezone)).date()
        with engine.begin() as connection:
            connection.execute(_PAST, {"before": today, "clinic_id": clinic_id})
            fill(connection, clinic_id, today, horizon_days + 1)
    return len(clinics)


def _refresh_clinic(connection: Connection, clinic_id: int, spans: list[Span]) -> None:
    timezone = _timezone(connection, clinic_id)
    tz = ZoneInfo(timezone)
    everyone = _professionals(connection, clinic_id) if any(s[1] is None for s in spans) else []
    days_of: dict[int, set[date]] = defaultdict(set)
    beyond: dict[int, date] = {}  # records after this day are removed, not written
    for _, professional_id, starts_at, ends_at in spans:
        first, last = _local_days(starts_at, ends_at, tz)
        cap = min(last, first + timedelta(days=MOST_DAYS - 1))
        days = [first + timedelta(days=n) for n in range((cap - first).days + 1)]
        for p in [professional_id] if professional_id is not None else everyone:
            days_of[p].update(days)
            if cap < last:
                beyond[p] = min(beyond.get(p, cap), cap)
    if not days_of:
        return
    ids = sorted(days_of)
    _lock(connection, ids)
    for p, after in beyond.items():
        connection.execute(
            delete(DAY_LOAD).where(DAY_LOAD.c.professional_id == p, DAY_LOAD.c.day > after)
        )
    weekly = weekly_hours(connection, ids)
    first_day = min(min(d) for d in days_of.values())
    last_day = max(max(d) for d in days_of.values())
    busy = busy_between(
        connection, clinic_id, ids, _midnight(first_day, tz), _midnight(last_day + timedelta(1), tz)
    )
    records, gone = [], []
    for p in ids:
        busy_on = _by_local_day(busy[p], tz)
        key = week_key(p, timezone, weekly[p])
        for day in sorted(days_of[p]):
            if not weekly[p].get(day.weekday()):
                gone.append((p, day))
                continue
            free = longest_free_minutes(weekly[p], busy_on.get(day, []), day, tz)
            records.append(
                {"professional_id": p, "day": day, "longest_free_minutes": free, "week_key": key}
            )
    _write(connection, records)
    for p, day in gone:
        connection.execute(
            delete(DAY_LOAD).where(DAY_LOAD.c.professional_id == p, DAY_LOAD.c.day == day)
        )


def longest_free_minutes(weekly: Weekly, busy: list[Interval], day: date, tz: ZoneInfo) -> int:
    """The longest stretch of the day's working time with nothing busy, in whole minutes.
    Every free slot lies inside one working interval and misses every busy one, so no
    service longer than this fits that day."""
    longest = timedelta(0)
    ordered = sorted(busy)
    for start, end in weekly.get(day.weekday(), ()):
        begin = datetime.combine(day, start, tzinfo=tz).astimezone(UTC)
        free_from, finish = begin, datetime.combine(day, end, tzinfo=tz).astimezone(UTC)
        for busy_start, busy_end in ordered:
            if busy_start >= finish:
                break
            if busy_end > free_from:
                longest = max(longest, busy_start - free_from)
                free_from = max(free_from, busy_end)
        longest = max(longest, finish - free_from)
    return int(longest.total_seconds() // 60)


def _write(connection: Connection, records: list[dict[str, Any]]) -> None:
    if not records:
        return
    insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    statement = insert(DAY_LOAD)
    statement = statement.on_conflict_do_update(
        index_elements=["professional_id", "day"],
        set_={
            "longest_free_minutes": statement.excluded.longest_free_minutes,
            "week_key": statement.excluded.week_key,
        },
    )
    connection.execute(statement, records)


def _lock(connection: Connection, professional_ids: list[int]) -> None:
    """PostgreSQL: wait for any other transaction rewriting these professionals' days, in
    one order (so two writers cannot wait on each other); SQLite has one writer at a time."""
    if dialect_of(connection) != "postgresql":
        return
    for p in professional_ids:
        connection.execute(
            text("SELECT pg_advisory_xact_lock(:space, :p)"), {"space": LOCKS, "p": p}
        )


def _timezone(connection: Connection, clinic_id: int) -> str:
    found = connection.execute(
        text("SELECT timezone FROM clinic WHERE id = :id"), {"id": clinic_id}
    )
    return str(found.scalar_one())


def _professionals(connection: Connection, clinic_id: int) -> list[int]:
    found = connection.execute(
        text("SELECT id FROM professional WHERE clinic_id = :id"), {"id": clinic_id}
    )
    return [row[0] for row in found]


def _local_days(starts_at: datetime, ends_at: datetime, tz: ZoneInfo) -> tuple[date, date]:
    first = starts_at.astimezone(tz).date()
    last = max(first, (ends_at - timedelta(microseconds=1)).astimezone(tz).date())
    return first, last


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)


def _by_local_day(intervals: list[Interval], tz: ZoneInfo) -> dict[date, list[Interval]]:
    found: dict[date, list[Interval]] = defaultdict(list)
    for interval in intervals:
        first, last = _local_days(*interval, tz)
        day = first
        while day <= last:
            found[day].append(interval)
            day += timedelta(days=1)
    return found


# --- what a write changes ---------------------------------------------------------------


def _before_after(obj: Any, key: str) -> tuple[Any, Any]:
    history = inspect(obj).attrs[key].history
    if history.has_changes():
        before = history.deleted[0] if history.deleted else None
        after = history.added[0] if history.added else None
        return before, after
    value = history.unchanged[0] if history.unchanged else getattr(obj, key)
    return value, value


def _row_spans(obj: Any, added: bool, removed: bool) -> list[Span]:
    """The times a flushed appointment or block-off held before and holds after."""
    keys = ("clinic_id", "professional_id", "starts_at", "ends_at")
    values = [_before_after(obj, key) for key in keys]
    if isinstance(obj, Appointment):
        status_before, status_after = _before_after(obj, "status")
    else:
        status_before = status_after = None
    holds_before = not added and status_before != AppointmentStatus.cancelled
    holds_after = not removed and status_after != AppointmentStatus.cancelled
    before = tuple(v[0] for v in values)
    after = tuple(v[1] for v in values)
    if (holds_before, before) == (holds_after, after):
        return []
    found: list[Span] = []
    if holds_before and before[2] is not None:
        found.append(before)
    if holds_after and after[2] is not None:
        found.append(after)
    return found


def _after_flush(session: Session, _flush: UOWTransaction) -> None:
    spans: list[Span] = []
    for obj in session.new:
        if isinstance(obj, Appointment | BlockOff):
            spans.extend(_row_spans(obj, added=True, removed=False))
    for obj in session.dirty:
        if isinstance(obj, Appointment | BlockOff):
            spans.extend(_row_spans(obj, added=False, removed=False))
    for obj in session.deleted:
        if isinstance(obj, Appointment | BlockOff):
            spans.extend(_row_spans(obj, added=False, removed=True))
    if spans:
        refresh(session.connection(), spans)


def _around_statement(state: ORMExecuteState) -> Any:
    """An `update()` or `delete()` of appointments or block-offs: the rows' times read
    before and after it runs, and their days written again."""
    statement = state.statement
    if not isinstance(statement, Update | Delete) or not isinstance(statement.table, Table):
        return None
    model = WATCHED.get(statement.table.name)
    if model is None:
        return None
    table: Table = model.__table__  # type: ignore[attr-defined]
    connection = state.session.connection()
    columns = [table.c.id, table.c.clinic_id, table.c.professional_id]
    columns += [table.c.starts_at, table.c.ends_at]
    read = select(*columns)
    if statement.whereclause is not None:
        read = read.where(statement.whereclause)
    before = [tuple(row) for row in connection.execute(read)]
    result = state.invoke_statement()
    if not before:
        return result
    after = connection.execute(select(*columns).where(table.c.id.in_([r[0] for r in before])))
    refresh(connection, [row[1:] for row in [*before, *after]])
    return result


def watch_day_changes() -> None:
    """Register the listeners on every session, once."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
    if not event.contains(Session, "do_orm_execute", _around_statement):
        event.listen(Session, "do_orm_execute", _around_statement)
