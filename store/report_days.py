"""The reports' counts over any period, fast however long it is: each closed local day's
counts are summed up once by the worker (`report_count`), and a report adds up the days
it covers, counting live (`store.visit_counts`, `store.message_counts`) only the days
without a summary: the recent ones, and those a change has marked stale since.

A summary never disagrees with the rows: triggers mark the time of every change to a
counted row about a time before the clinic's horizon (migration 0031), and a day with a
mark is counted live; the worker's next pass takes the marks away together with the
summaries of their days, then sums those days up again. On PostgreSQL a new horizon is
only trusted once every transaction that may have written under the old one has ended."""

import logging
import time as clock
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, delete, func, insert, select, text
from sqlmodel import Session, col

from store import message_counts, queue_counts, visit_counts
from store.message_counts import MessageCount, ProfessionalMessages
from store.models import (
    Appointment,
    AppointmentStatus,
    Clinic,
    OutboxMessage,
    ReportCount,
    ReportDay,
    ReportHorizon,
    ReportStale,
)
from store.notification_plan import DAY_BEFORE, HOURS_BEFORE
from store.queue_counts import WaitingRoomFigures
from store.visit_counts import (
    ChannelFigures,
    DayVisits,
    HourVisits,
    ReminderFilter,
    Span,
    VisitGroup,
)

log = logging.getLogger(__name__)

STEPS = (DAY_BEFORE, HOURS_BEFORE)  # the reminder steps a summary counts apart
LOCKS = 7302  # the advisory lock's first key: a clinic's report days
DAYS_PER_RUN = 62  # days without a summary summed up by one run, the newest first
SETTLED_WAIT = 10.0  # seconds a run waits for older transactions before it sums up
ANY_STEP = ""
CHANNEL_FIGURES = [f.name for f in fields(ChannelFigures) if f.name != "channel"]
KEYS = (
    col(ReportCount.professional_id),
    col(ReportCount.k1),
    col(ReportCount.k2),
    col(ReportCount.k3),
)

Row = tuple[str, int, str, str, str, float]  # figure, professional, k1, k2, k3, value


# --- the days of a period ------------------------------------------------------------


def day_span(span: Span, first: date, last: date) -> Span:
    """The local days `first`..`last` of the span's clinic as UTC bounds."""
    zone = ZoneInfo(span.zone)
    start = datetime.combine(first, time.min, tzinfo=zone).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone).astimezone(UTC)
    return Span(span.clinic_id, start, end, span.zone)


@dataclass(frozen=True)
class Split:
    """A period as the days read from their summaries and the runs of days counted live."""

    clinic_id: int
    first: date
    last: date
    summed: frozenset[date]
    live: list[Span]


def split(session: Session, span: Span) -> Split:
    """The span's days: summed up (cut in the span's zone, and not marked since), or not."""
    days = span.days()
    horizon = session.get(ReportHorizon, span.clinic_id)
    if horizon is None or horizon.timezone != span.zone:
        _favour_indexes(session)
        return Split(span.clinic_id, days[0], days[-1], frozenset(), [span])
    summed = set(
        session.scalars(
            select(col(ReportDay.day)).where(
                col(ReportDay.clinic_id) == span.clinic_id,
                col(ReportDay.day) >= days[0],
                col(ReportDay.day) <= days[-1],
            )
        )
    )
    if summed:
        summed -= _marked_days(session, span)
    live: list[Span] = []
    run: list[date] = []
    if len(summed) < len(days):
        _favour_indexes(session)
    for day in [*days, None]:
        if day is not None and day not in summed:
            run.append(day)
            continue
        if run:
            live.append(day_span(span, run[0], run[-1]))
            run = []
    return Split(span.clinic_id, days[0], days[-1], frozenset(summed), live)


def _favour_indexes(session: Session) -> None:
    """Plan this transaction's live counts for what they are, a few days' rows reached by
    index: PostgreSQL's default cost of a random read (4, a spinning disk's) had it hash
    whole tables for them instead, 5–10 times slower (`bench/reports.py`)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL random_page_cost = 1.1"))


def _marked_days(session: Session, span: Span) -> set[date]:
    zone = ZoneInfo(span.zone)
    marks = session.execute(
        select(col(ReportStale.starts_at), col(ReportStale.ends_at)).where(
            col(ReportStale.clinic_id) == span.clinic_id,
            col(ReportStale.starts_at) < span.end,
            col(ReportStale.ends_at) >= span.start,
        )
    ).all()
    return {day for starts, ends in marks for day in _days_between(starts, ends, zone)}


def _days_between(starts: datetime, ends: datetime, zone: ZoneInfo) -> Iterator[date]:
    day, last = starts.astimezone(zone).date(), ends.astimezone(zone).date()
    while day <= last:
        yield day
        day += timedelta(days=1)


def _summed(
    session: Session, parts: Split, figure: str, *where: object, by_day: bool = False
) -> list[tuple]:
    """The figure's values over the summed-up days, added up by its keys (and day)."""
    if not parts.summed:
        return []
    unsummed = [
        parts.first + timedelta(days=n)
        for n in range((parts.last - parts.first).days + 1)
        if parts.first + timedelta(days=n) not in parts.summed
    ]
    keys = (col(ReportCount.day), *KEYS) if by_day else KEYS
    statement = (
        select(*keys, func.sum(col(ReportCount.value)))
        .where(
            col(ReportCount.clinic_id) == parts.clinic_id,
            col(ReportCount.figure) == figure,
            col(ReportCount.day) >= parts.first,
            col(ReportCount.day) <= parts.last,
            *where,  # type: ignore[arg-type]
        )
        .group_by(*keys)
    )
    if unsummed:
        statement = statement.where(col(ReportCount.day).not_in(unsummed))
    return [tuple(row) for row in session.execute(statement)]


# --- what the reports read -----------------------------------------------------------


def count_messages(session: Session, span: Span) -> list[MessageCount]:
    """`store.message_counts.count_messages`, from the summaries where there are some."""
    parts = split(session, span)
    totals: Counter[tuple[str, str, bool, bool]] = Counter()
    for _, kind, status, flags, value in _summed(session, parts, "message"):
        totals[(kind, status, flags[0] == "1", flags[1] == "1")] += int(value)
    for live in parts.live:
        for count in message_counts.count_messages(session, live):
            key = (count.kind, count.status, count.reached_twilio, count.billed_failure)
            totals[key] += count.messages
    return [MessageCount(*key, n) for key, n in totals.items() if n]


def professional_messages(session: Session, span: Span) -> list[ProfessionalMessages]:
    """`store.message_counts.professional_messages`, from the summaries where there are
    some."""
    parts = split(session, span)
    sent: dict[int, Counter[str]] = {}
    outcomes: dict[int, Counter[str]] = {}
    for professional_id, what, _, _, value in _summed(session, parts, "sent"):
        sent.setdefault(professional_id, Counter())[what] += int(value)
    for professional_id, outcome, _, _, value in _summed(session, parts, "outcome"):
        outcomes.setdefault(professional_id, Counter())[outcome] += int(value)
    for live in parts.live:
        for figures in message_counts.professional_messages(session, live):
            counted = sent.setdefault(figures.professional_id, Counter())
            counted.update(_sent_counts(figures))
            outcomes.setdefault(figures.professional_id, Counter()).update(figures.outcomes)
    return [
        ProfessionalMessages(
            professional_id,
            sent.get(professional_id, Counter())["booking"],
            sent.get(professional_id, Counter())["reminders"],
            sent.get(professional_id, Counter())["all"],
            sum(outcomes.get(professional_id, Counter()).values()),
            {o: n for o, n in outcomes.get(professional_id, Counter()).items() if n},
        )
        for professional_id in sorted(sent.keys() | outcomes.keys())
    ]


def _sent_counts(figures: ProfessionalMessages) -> dict[str, int]:
    return {
        "booking": figures.booking_confirmations,
        "reminders": figures.reminders,
        "all": figures.messages,
    }


def visits_by_reminder(
    session: Session,
    span: Span,
    reminder: ReminderFilter,
    professional_id: int | None = None,
) -> list[VisitGroup]:
    """`store.visit_counts.visits_by_reminder`, from the summaries where there are some
    (a reminder kind or step they do not count apart is counted live)."""
    if reminder.kind != ReminderFilter().kind or reminder.step not in (None, *STEPS):
        return visit_counts.visits_by_reminder(session, span, reminder, professional_id)
    parts = split(session, span)
    where = [col(ReportCount.k1) == (reminder.step or ANY_STEP)]
    if professional_id is not None:
        where.append(col(ReportCount.professional_id) == professional_id)
    totals: Counter[tuple[int, str, str]] = Counter()
    for professional, _, reminded, status, value in _summed(session, parts, "visit", *where):
        totals[(professional, reminded, status)] += int(value)
    for live in parts.live:
        for group in visit_counts.visits_by_reminder(session, live, reminder, professional_id):
            totals[(group.professional_id, group.reminded, group.status)] += group.visits
    return [VisitGroup(*key, n) for key, n in sorted(totals.items()) if n]


def visits_by_day(
    session: Session, span: Span, professional_id: int | None = None
) -> list[DayVisits]:
    """Appointments with an outcome and the absences among them, per local day."""
    parts = split(session, span)
    where = [col(ReportCount.k1) == ANY_STEP]
    if professional_id is not None:
        where.append(col(ReportCount.professional_id) == professional_id)
    days: dict[date, list[int]] = {}
    for day, _, _, _, status, value in _summed(session, parts, "visit", *where, by_day=True):
        counts = days.setdefault(day, [0, 0])
        counts[0] += int(value)
        counts[1] += int(value) if status == AppointmentStatus.no_show else 0
    for live in parts.live:
        for found in visit_counts.visits_by_day(session, live, professional_id):
            days[found.day] = [found.visits, found.absences]
    return [DayVisits(day, n, a) for day, (n, a) in sorted(days.items())]


def visits_by_hour_of_week(session: Session, span: Span) -> list[HourVisits]:
    parts = split(session, span)
    hours: dict[int, Counter[str]] = {}
    for _, hour, what, _, value in _summed(session, parts, "hour"):
        hours.setdefault(int(hour), Counter())[what] += int(value)
    for live in parts.live:
        for found in visit_counts.visits_by_hour_of_week(session, live):
            hours.setdefault(found.hour_of_week, Counter()).update(
                {"visits": found.visits, "absences": found.absences}
            )
    return [HourVisits(h, c["visits"], c["absences"]) for h, c in sorted(hours.items())]


def channel_figures(session: Session, span: Span) -> list[ChannelFigures]:
    parts = split(session, span)
    channels: dict[str, Counter[str]] = {}
    for _, channel, what, _, value in _summed(session, parts, "channel"):
        channels.setdefault(channel, Counter())[what] += value
    for live in parts.live:
        for figures in visit_counts.channel_figures(session, live):
            channels.setdefault(figures.channel, Counter()).update(
                {name: getattr(figures, name) for name in CHANNEL_FIGURES}
            )
    found = [
        ChannelFigures(
            channel,
            **{
                name: c[name] if name == "wait_seconds" else int(c[name])
                for name in CHANNEL_FIGURES
            },
        )
        for channel, c in channels.items()
    ]
    # as `visit_counts.channel_figures` gives them: by bookings, the page's rebookings last
    return sorted(
        found,
        key=lambda f: (f.channel == visit_counts.SELF_SERVICE_RESCHEDULE, -f.bookings, f.channel),
    )


def recoveries(session: Session, span: Span) -> visit_counts.Recoveries:
    """`store.visit_counts.recoveries`, always counted live (a year's offers and
    recoveries are tens of thousands of rows), planned for reads by index."""
    _favour_indexes(session)
    return visit_counts.recoveries(session, span)


def waiting_room_figures(session: Session, span: Span) -> WaitingRoomFigures:
    """`store.queue_counts.waiting_room_figures`, from the summaries where there are some."""
    parts = split(session, span)
    found: queue_counts.Tallies = {}
    for _, grouping, key, name, value in _summed(session, parts, "queue"):
        found.setdefault(grouping, {}).setdefault(key, Counter())[name] += value
    for live in parts.live:
        queue_counts.add(found, queue_counts.tallies(session, live))
    return queue_counts.figures(found)


# --- one day summed up ---------------------------------------------------------------


def day_rows(session: Session, span: Span) -> list[Row]:
    """Every figure of the span (one day) as the rows its summary keeps."""
    rows: list[Row] = []
    for m in message_counts.count_messages(session, span):
        flags = f"{int(m.reached_twilio)}{int(m.billed_failure)}"
        rows.append(("message", 0, m.kind, m.status, flags, m.messages))
    for p in message_counts.professional_messages(session, span):
        for what, n in _sent_counts(p).items():
            rows.append(("sent", p.professional_id, what, "", "", n))
        for outcome, n in p.outcomes.items():
            rows.append(("outcome", p.professional_id, outcome, "", "", n))
    for step in (None, *STEPS):
        for g in visit_counts.visits_by_reminder(session, span, ReminderFilter(step=step)):
            rows.append(
                ("visit", g.professional_id, step or ANY_STEP, g.reminded, g.status, g.visits)
            )
    for h in visit_counts.visits_by_hour_of_week(session, span):
        rows.append(("hour", 0, str(h.hour_of_week), "visits", "", h.visits))
        rows.append(("hour", 0, str(h.hour_of_week), "absences", "", h.absences))
    for c in visit_counts.channel_figures(session, span):
        for name in CHANNEL_FIGURES:
            rows.append(("channel", 0, c.channel, name, "", getattr(c, name)))
    for grouping, groups in queue_counts.tallies(session, span).items():
        for key, sums in groups.items():
            rows.extend(("queue", 0, grouping, key, name, sums[name]) for name in sums)
    return [row for row in rows if row[-1]]


def _sum_day(session: Session, clinic_id: int, zone: str, day: date, now: datetime) -> None:
    """Sum one day up, replacing what it had, in the session's transaction."""
    session.execute(
        delete(ReportCount).where(
            col(ReportCount.clinic_id) == clinic_id, col(ReportCount.day) == day
        )
    )
    _favour_indexes(session)
    rows = day_rows(session, day_span(Span(clinic_id, now, now, zone), day, day))
    if rows:
        session.execute(
            insert(ReportCount),
            [
                {
                    "clinic_id": clinic_id,
                    "day": day,
                    "figure": figure,
                    "professional_id": professional_id,
                    "k1": k1,
                    "k2": k2,
                    "k3": k3,
                    "value": value,
                }
                for figure, professional_id, k1, k2, k3, value in rows
            ],
        )
    session.execute(insert(ReportDay).values(clinic_id=clinic_id, day=day, summed_at=now))


def _forget(session: Session, clinic_id: int, days: Iterable[date] | None = None) -> None:
    """Take the days' summaries away (all of the clinic's without `days`)."""
    for table in (ReportCount, ReportDay):
        statement = delete(table).where(col(table.clinic_id) == clinic_id)
        if days is not None:
            statement = statement.where(col(table.day).in_(sorted(set(days))))
        session.execute(statement)


# --- the worker's pass ---------------------------------------------------------------


def horizon_of(now: datetime, zone: str) -> datetime:
    """Where a clinic's summaries end: the start of its local yesterday, so the days still
    changing by the hour (today's, and yesterday's late answers) are counted live."""
    yesterday = now.astimezone(ZoneInfo(zone)).date() - timedelta(days=1)
    return datetime.combine(yesterday, time.min, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def summarize_all(engine: Engine, now: datetime, most: int | None = DAYS_PER_RUN) -> int:
    """One pass over every clinic: move the horizons, wait for the transactions that
    began under the old ones, then sum the days up; returns how many days were summed."""
    with Session(engine) as session:
        clinics = session.execute(select(col(Clinic.id), col(Clinic.timezone))).all()
    for clinic_id, zone in clinics:
        with Session(engine) as session, session.begin():
            _lock(session, clinic_id)
            _move_horizon(session, clinic_id, zone, horizon_of(now, zone))
    if not _settled(engine):
        log.info("report days: older transactions still running, summing up next time")
        return 0
    return sum(_sum_up(engine, clinic_id, zone, now, most) for clinic_id, zone in clinics)


def _sum_up(engine: Engine, clinic_id: int, zone: str, now: datetime, most: int | None) -> int:
    """Take away the summaries of days marked stale, then sum up to `most` days without
    one (the newest first), a day per transaction."""
    with Session(engine) as session, session.begin():
        _lock(session, clinic_id)
        _forget_marked(session, clinic_id, zone)
    with Session(engine) as session:
        summed = set(
            session.scalars(select(col(ReportDay.day)).where(col(ReportDay.clinic_id) == clinic_id))
        )
        missing = [day for day in _closed_days(session, clinic_id, zone, now) if day not in summed]
    missing = sorted(missing, reverse=True)[:most]
    for day in missing:
        with Session(engine) as session, session.begin():
            _lock(session, clinic_id)
            _sum_day(session, clinic_id, zone, day, now)
    return len(missing)


def _lock(session: Session, clinic_id: int) -> None:
    """One pass at a time per clinic (PostgreSQL; SQLite writes one at a time anyway)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k, :c)"), {"k": LOCKS, "c": clinic_id})


def _move_horizon(session: Session, clinic_id: int, zone: str, until: datetime) -> None:
    """Set the horizon; a clinic whose time zone changed starts over, its days cut anew."""
    horizon = session.get(ReportHorizon, clinic_id)
    if horizon is None or horizon.timezone != zone:
        _forget(session, clinic_id)
        session.execute(delete(ReportStale).where(col(ReportStale.clinic_id) == clinic_id))
        if horizon is not None:
            session.delete(horizon)
            session.flush()
        session.add(ReportHorizon(clinic_id=clinic_id, summarized_until=until, timezone=zone))
    elif horizon.summarized_until < until:
        horizon.summarized_until = until
        session.add(horizon)
    session.flush()


def _forget_marked(session: Session, clinic_id: int, zone: str) -> None:
    """Take the marks away, and with them the summaries of the days they touch (summed
    up again below, newest first); a mark that arrives meanwhile stays for the next pass."""
    marks = session.execute(
        delete(ReportStale)
        .where(col(ReportStale.clinic_id) == clinic_id)
        .returning(col(ReportStale.starts_at), col(ReportStale.ends_at))
    ).all()
    tz = ZoneInfo(zone)
    days = {day for starts, ends in marks for day in _days_between(starts, ends, tz)}
    if days:
        _forget(session, clinic_id, days)


def _closed_days(session: Session, clinic_id: int, zone: str, now: datetime) -> list[date]:
    """The clinic's local days from its first appointment or message to its horizon."""
    firsts = [
        session.scalar(
            select(func.min(col(Appointment.starts_at))).where(
                col(Appointment.clinic_id) == clinic_id
            )
        ),
        session.scalar(
            select(func.min(col(OutboxMessage.created_at))).where(
                col(OutboxMessage.clinic_id) == clinic_id
            )
        ),
    ]
    known = [first for first in firsts if first is not None]
    if not known:
        return []
    tz = ZoneInfo(zone)
    first = min(known).astimezone(tz).date()
    until = horizon_of(now, zone).astimezone(tz).date()
    return [first + timedelta(days=n) for n in range((until - first).days)]


def _settled(engine: Engine) -> bool:
    """Whether every writing transaction that began before this call has ended, waiting
    up to `SETTLED_WAIT`: one that began under an older horizon may have changed a day
    without marking it, and must be seen before that day is summed up (PostgreSQL)."""
    if engine.dialect.name != "postgresql":
        return True
    with engine.connect() as connection:
        # an id of our own: every writing transaction that began before has a lower one
        begun = int(str(connection.scalar(text("SELECT pg_current_xact_id()"))))
        connection.commit()
        deadline = clock.monotonic() + SETTLED_WAIT
        while True:
            oldest = connection.scalar(text("SELECT pg_snapshot_xmin(pg_current_snapshot())"))
            connection.rollback()
            if int(str(oldest)) > begun:
                return True
            if clock.monotonic() > deadline:
                return False
            clock.sleep(0.05)
