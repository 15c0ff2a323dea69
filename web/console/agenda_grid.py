"""The agenda as a time grid: a column per professional (a day) or per day (a week), each
with its appointments placed by start and length, the closed hours and block-offs shaded,
and the free times the availability engine offers for a service, to book with one click."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import abort, request
from sqlmodel import Session, col, select

from bot.availability import working_intervals
from bot.numbers import read_id
from store.agenda import AgendaRow
from store.models import AppointmentStatus, BlockOff, Clinic, Professional, Service
from usecases.stored_availability import StoreAvailability
from web.console.slots import offering, service_info, window
from web.console.time_grid import ROW, Interval, Span, day_span, hour_marks, lanes
from web.self_service_forms import SlotChoice


@dataclass(frozen=True)
class Placed:
    """Where a thing sits in its column: its first row (from 1), its rows, and its lane."""

    row: int
    rows: int
    lane: int = 0
    lanes: int = 1


@dataclass(frozen=True)
class Block:
    """An appointment in the grid."""

    row: AgendaRow
    at: Placed


@dataclass(frozen=True)
class Shade:
    """A time nobody can be booked: outside hours or a break (`block` None), or a
    block-off."""

    at: Placed
    block: BlockOff | None = None


@dataclass(frozen=True)
class Free:
    """A free time the availability engine offers, to book at the desk."""

    at: Placed
    choice: SlotChoice


@dataclass(frozen=True)
class Column:
    day: date
    professional_id: int | None  # None: everyone shown, side by side
    span: Span
    blocks: list[Block]
    cancelled: list[AgendaRow]
    shades: list[Shade]
    free: list[Free]


@dataclass(frozen=True)
class Grid:
    columns: list[Column]
    marks: list[tuple[datetime, int]]  # the hours down the side, with their rows
    rows: int
    service: Service | None
    services: list[Service]
    step_rows: int


def active_services(session: Session, clinic_id: int) -> list[Service]:
    return list(
        session.exec(
            select(Service)
            .where(Service.clinic_id == clinic_id, col(Service.active))
            .order_by(col(Service.name))
        ).all()
    )


def service_arg(services: list[Service]) -> Service | None:
    """The service whose free times are shown: the one asked for (400 for another), else
    the shortest, which shows the most free time."""
    raw = request.args.get("service", "")
    if raw:
        found = read_id(raw)
        chosen = next((s for s in services if s.id == found), None)
        if chosen is None:
            abort(400)
        return chosen
    return min(services, key=lambda s: (s.duration_minutes, s.name), default=None)


def _placed(span: Span, interval: Interval, lane: tuple[int, int] = (0, 1)) -> Placed | None:
    where = span.place(*interval)
    return None if where is None else Placed(where[0], where[1], *lane)


def _on_clock(day: date, tz: ZoneInfo, intervals: Sequence[Interval]) -> list[Interval]:
    """The intervals' local times of day, laid on `day` (a week's columns share their
    hours)."""
    laid = []
    for start, end in intervals:
        local_start, local_end = start.astimezone(tz), end.astimezone(tz)
        end_time = time.max if local_end.date() > local_start.date() else local_end.time()
        laid.append(
            (
                datetime.combine(day, local_start.time(), tzinfo=tz).astimezone(UTC),
                datetime.combine(day, end_time, tzinfo=tz).astimezone(UTC),
            )
        )
    return laid


def build(
    session: Session,
    clinic: Clinic,
    view: str,
    days: list[tuple[date, list[AgendaRow], list[BlockOff]]],
    shown: list[Professional],
    moment: datetime,
) -> Grid:
    """The grid of the days listed, for the professionals shown."""
    tz = ZoneInfo(clinic.timezone)
    services = active_services(session, clinic.id or 0)
    service = service_arg(services)
    free_for = offering(session, clinic.id or 0, service.id or 0) if service else {}
    available = StoreAvailability(session, clinic, moment)
    bookable = window(clinic)
    ids = [p.id or 0 for p in shown]
    layout = [(days[0], [pid]) for pid in ids] if view == "day" else [(d, ids) for d in days]
    working = {
        (entry[0], tuple(pids)): [
            iv
            for s in available.schedules(pids, entry[0])
            for iv in working_intervals(s, entry[0], tz)
        ]
        for entry, pids in layout
    }
    extent = [iv for intervals in working.values() for iv in intervals] + [
        (r.starts_at, r.ends_at) for _, rows, _ in days for r in rows
    ]
    columns = []
    for (day, rows, blocks), pids in layout:
        span = day_span(day, tz, _on_clock(day, tz, extent))
        mine = [r for r in rows if r.professional_id in pids]
        standing = [r for r in mine if r.status != AppointmentStatus.cancelled]
        placed = lanes([(r.starts_at, r.ends_at) for r in standing])
        shades = [
            Shade(at)
            for gap in span.gaps(working[(day, tuple(pids))])
            if (at := _placed(span, gap)) is not None
        ] + [
            Shade(at, b)
            for b in blocks
            if b.professional_id is None or b.professional_id in pids
            if (at := _placed(span, (b.starts_at, b.ends_at))) is not None
        ]
        free: list[Free] = []
        offered = [p for p in pids if p in free_for]
        if service and offered and bookable.first <= day <= bookable.last:
            length = min(
                timedelta(minutes=clinic.slot_step_minutes), service_info(service).duration
            )
            for slot in available.slots(service_info(service), offered, day):
                at = _placed(span, (slot.starts_at, slot.starts_at + length))
                if at is not None:
                    free.append(Free(at, SlotChoice(slot.starts_at, slot.professional_id)))
        columns.append(
            Column(
                day=day,
                professional_id=pids[0] if len(pids) == 1 else None,
                span=span,
                blocks=[
                    Block(r, at)
                    for r, lane in zip(standing, placed, strict=True)
                    if (at := _placed(span, (r.starts_at, r.ends_at), lane)) is not None
                ],
                cancelled=[r for r in mine if r.status == AppointmentStatus.cancelled],
                shades=shades,
                free=free,
            )
        )
    first = columns[0].span if columns else day_span(days[0][0], tz, [])
    return Grid(
        columns=columns,
        marks=hour_marks(first, tz),
        rows=max((c.span.rows for c in columns), default=first.rows),
        service=service,
        services=services,
        step_rows=max(1, timedelta(minutes=clinic.slot_step_minutes) // ROW),
    )
