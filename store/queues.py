"""The day's queues in the store: a number handed out once per queue and day, tickets
checked in, called, recalled, sent back or marked absent, and served — each in the
caller's transaction. Calling next takes the first waiting ticket with `SKIP LOCKED` on
PostgreSQL and only while it still waits, so two desks calling at once get two different
patients, never one twice."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from store.models import (
    Appointment,
    AppointmentStatus,
    Patient,
    Professional,
    QueueBy,
    QueueCounter,
    QueueTicket,
    Service,
    TicketStatus,
    WaitingRoom,
)
from store.queue_order import Place, back_of_queue, label, letter, place

# an appointment that can be checked in (an arrived one again keeps its number)
STANDING = (AppointmentStatus.booked, AppointmentStatus.confirmed, AppointmentStatus.arrived)


@dataclass(frozen=True)
class Queue:
    """One queue of a clinic: its key as tickets keep it, its letter, and its name."""

    key: str
    letter: str
    name: str


@dataclass(frozen=True)
class Arrival:
    """Who checks in, and how: `appointment` (None for a walk-in) decides the place with
    the clinic's grace; `phone` and `language` are where and how they are told."""

    queue: Queue
    day: date
    channel: str
    appointment: Appointment | None = None
    patient_id: int | None = None
    phone: str | None = None
    language: str | None = None
    initials: str | None = None
    priority: bool = False


def rules(session: Session, clinic_id: int) -> WaitingRoom:
    """The clinic's waiting-room rules (the defaults where it set none)."""
    return session.get(WaitingRoom, clinic_id) or WaitingRoom(clinic_id=clinic_id)


def queues(session: Session, clinic_id: int, room: WaitingRoom) -> list[Queue]:
    """The clinic's queues: one per active service or professional, as the clinic
    chose, lettered in the order they were created."""
    table: type[Service] | type[Professional] = (
        Professional if room.queue_by == QueueBy.professional else Service
    )
    rows = session.exec(
        select(table.id, table.name)
        .where(table.clinic_id == clinic_id, col(table.active))
        .order_by(col(table.id))
    ).all()
    return [
        Queue(f"{room.queue_by}:{row_id}", letter(n), name) for n, (row_id, name) in enumerate(rows)
    ]


def queue_for(
    session: Session, clinic_id: int, service_id: int, professional_id: int | None
) -> Queue | None:
    """The queue a visit of this service (and professional) waits in; None if the
    clinic has no such queue (an inactive service)."""
    room = rules(session, clinic_id)
    wanted = professional_id if room.queue_by == QueueBy.professional else service_id
    key = f"{room.queue_by}:{wanted}"
    return next((q for q in queues(session, clinic_id, room) if q.key == key), None)


def next_number(session: Session, clinic_id: int, queue: str, day: date) -> int:
    """The next number of a queue on a day (1 first): one upsert, which holds the
    counter's row until the transaction ends."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(QueueCounter).values(clinic_id=clinic_id, queue=queue, day=day, last=1)
    last = QueueCounter.__table__.c.last  # type: ignore[attr-defined]
    upsert = statement.on_conflict_do_update(
        index_elements=["clinic_id", "queue", "day"], set_={"last": last + 1}
    ).returning(last)
    return int(session.execute(upsert).scalar_one())


def ticket_of(session: Session, appointment_id: int) -> QueueTicket | None:
    return session.exec(
        select(QueueTicket).where(QueueTicket.appointment_id == appointment_id)
    ).first()


def check_in(
    session: Session, clinic_id: int, arrival: Arrival, grace: timedelta, now: datetime
) -> tuple[QueueTicket, bool]:
    """A ticket for the arrival, and whether it is new: an appointment checked in twice
    keeps its first ticket."""
    appointment = arrival.appointment
    if appointment is not None and appointment.id is not None:
        found = ticket_of(session, appointment.id)
        if found is not None:
            return found, False
    where = place(
        now,
        starts_at=appointment.starts_at if appointment else None,
        priority=arrival.priority,
        grace=grace,
    )
    ticket = QueueTicket(
        clinic_id=clinic_id,
        queue=arrival.queue.key,
        day=arrival.day,
        letter=arrival.queue.letter,
        number=next_number(session, clinic_id, arrival.queue.key, arrival.day),
        appointment_id=appointment.id if appointment else None,
        patient_id=arrival.patient_id,
        phone=arrival.phone,
        language=arrival.language,
        initials=arrival.initials,
        channel=arrival.channel,
        source_channel=appointment.source_channel if appointment else None,
        priority=arrival.priority,
        tier=where.tier,
        sort_at=where.sort_at,
        arrived_at=now,
    )
    session.add(ticket)
    session.flush()
    return ticket, True


def ticket_label(ticket: QueueTicket) -> str:
    return label(ticket.letter, ticket.number)


def _before(ticket: QueueTicket) -> ColumnElement[bool]:
    """Waiting tickets of the same queue and day placed before `ticket`."""
    tier, sort_at = col(QueueTicket.tier), col(QueueTicket.sort_at)
    return and_(
        col(QueueTicket.clinic_id) == ticket.clinic_id,
        col(QueueTicket.queue) == ticket.queue,
        col(QueueTicket.day) == ticket.day,
        col(QueueTicket.status) == TicketStatus.waiting,
        or_(
            tier < ticket.tier,
            and_(tier == ticket.tier, sort_at < ticket.sort_at),
            and_(
                tier == ticket.tier,
                sort_at == ticket.sort_at,
                col(QueueTicket.id) < (ticket.id or 0),
            ),
        ),
    )


def ahead_of(session: Session, ticket: QueueTicket) -> int:
    """How many wait before this ticket (0 once it is called)."""
    if ticket.status != TicketStatus.waiting:
        return 0
    return int(session.exec(select(func.count()).where(_before(ticket))).one())


def _in_order() -> tuple[Any, ...]:
    return (col(QueueTicket.tier), col(QueueTicket.sort_at), col(QueueTicket.id))


def waiting(
    session: Session, clinic_id: int, day: date, queue: str | None = None
) -> list[QueueTicket]:
    """The tickets waiting on a day, each queue in its order."""
    query = select(QueueTicket).where(
        QueueTicket.clinic_id == clinic_id,
        QueueTicket.day == day,
        QueueTicket.status == TicketStatus.waiting,
    )
    if queue is not None:
        query = query.where(QueueTicket.queue == queue)
    return list(session.exec(query.order_by(col(QueueTicket.queue), *_in_order())))


def called(session: Session, clinic_id: int, day: date, limit: int = 10) -> list[QueueTicket]:
    """The tickets called on a day that are not done yet, the latest call first."""
    return list(
        session.exec(
            select(QueueTicket)
            .where(
                QueueTicket.clinic_id == clinic_id,
                QueueTicket.day == day,
                QueueTicket.status == TicketStatus.called,
            )
            .order_by(col(QueueTicket.called_at).desc(), col(QueueTicket.id).desc())
            .limit(limit)
        )
    )


def call_next(
    session: Session, clinic_id: int, queue: str, day: date, by: str, to: str, now: datetime
) -> QueueTicket | None:
    """Call the first waiting ticket of the queue to desk or room `to`; None when
    nobody waits. A ticket another transaction holds is skipped (PostgreSQL), and the
    update takes it only while it still waits, so no ticket is ever called twice."""
    for _ in range(5):  # another desk may take the one read (SQLite reads before it writes)
        query = (
            select(QueueTicket)
            .where(
                QueueTicket.clinic_id == clinic_id,
                QueueTicket.queue == queue,
                QueueTicket.day == day,
                QueueTicket.status == TicketStatus.waiting,
            )
            .order_by(*_in_order())
            .limit(1)
        )
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        first = session.exec(query).first()
        if first is None:
            return None
        taken = session.execute(
            update(QueueTicket)
            .where(col(QueueTicket.id) == first.id, col(QueueTicket.status) == TicketStatus.waiting)
            .values(
                status=TicketStatus.called,
                called_at=now,
                called_by=by,
                called_to=to,
                calls=QueueTicket.calls + 1,
            )
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount == 1:  # type: ignore[attr-defined]
            session.refresh(first)
            return first
    return None


def locked_ticket(session: Session, clinic_id: int, ticket_id: int) -> QueueTicket | None:
    """One of the clinic's tickets, locked for a change (PostgreSQL)."""
    query = select(QueueTicket).where(
        QueueTicket.id == ticket_id, QueueTicket.clinic_id == clinic_id
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return session.exec(query).first()


def recall(session: Session, ticket: QueueTicket, by: str, to: str | None, now: datetime) -> bool:
    """Call a called ticket again (the screen shows it again); False if it is not called."""
    if ticket.status != TicketStatus.called:
        return False
    ticket.called_at, ticket.called_by = now, by
    ticket.called_to = to or ticket.called_to
    ticket.calls += 1
    session.add(ticket)
    session.flush()
    return True


def no_answer(session: Session, ticket: QueueTicket, absent: bool, now: datetime) -> bool:
    """Nobody came when called: back of the queue, or absent for the day. False if the
    ticket was not called."""
    if ticket.status != TicketStatus.called:
        return False
    if absent:
        ticket.status, ticket.ended_at = TicketStatus.absent, now
    else:
        where: Place = back_of_queue(now)
        ticket.status, ticket.tier, ticket.sort_at = TicketStatus.waiting, where.tier, where.sort_at
    session.add(ticket)
    session.flush()
    return True


def prioritize(session: Session, ticket: QueueTicket) -> bool:
    """The desk flags a waiting visit as priority (the elderly, the pregnant): it moves
    ahead of everybody but earlier priority arrivals. False if it is not waiting or
    flagged already."""
    if ticket.status != TicketStatus.waiting or ticket.priority:
        return False
    where = place(ticket.arrived_at, starts_at=None, priority=True, grace=timedelta(0))
    ticket.priority, ticket.tier, ticket.sort_at = True, where.tier, where.sort_at
    session.add(ticket)
    session.flush()
    return True


def served(session: Session, ticket: QueueTicket, now: datetime) -> bool:
    """The visit is over; False if the ticket was not called."""
    if ticket.status != TicketStatus.called:
        return False
    ticket.status, ticket.ended_at = TicketStatus.served, now
    session.add(ticket)
    session.flush()
    return True


def service_minutes(session: Session, clinic_id: int, queue: str, day: date) -> list[float]:
    """How long each visit served so far today took, from its call to its end."""
    rows = session.exec(
        select(QueueTicket.called_at, QueueTicket.ended_at).where(
            QueueTicket.clinic_id == clinic_id,
            QueueTicket.queue == queue,
            QueueTicket.day == day,
            QueueTicket.status == TicketStatus.served,
        )
    ).all()
    return [(end - start).total_seconds() / 60 for start, end in rows if start and end]


def appointments_on_phone(
    session: Session, clinic_id: int, phone: str, since: datetime, until: datetime
) -> list[Appointment]:
    """The appointments of everybody on a phone starting between two instants that still
    stand (booked, confirmed or arrived), soonest first, locked for a change (PostgreSQL)."""
    query = (
        select(Appointment)
        .join(Patient, col(Patient.id) == col(Appointment.patient_id))
        .where(
            Patient.clinic_id == clinic_id,
            Patient.phone == phone,
            col(Appointment.status).in_(STANDING),
            col(Appointment.starts_at) >= since,
            col(Appointment.starts_at) < until,
        )
        .order_by(col(Appointment.starts_at))
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=Appointment)
    return list(session.exec(query))
