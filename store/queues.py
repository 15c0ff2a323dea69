"""The day's queues in the store: a number handed out once per queue and day, tickets
checked in, called, recalled, sent back or marked absent, and served — each in the
caller's transaction. Calling next takes the first waiting ticket with `SKIP LOCKED` on
PostgreSQL and only while it still waits, so two desks calling at once get two different
patients, never one twice."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, true, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from store.models import (
    Appointment,
    AppointmentStatus,
    Branch,
    Patient,
    Professional,
    ProfessionalService,
    QueueBy,
    QueueCounter,
    QueueTicket,
    Service,
    TicketStatus,
    WaitingRoom,
)
from store.queue_order import Place, back_of_queue, label, letter, place

CALLS = "calls"  # the `queue_counter` row that counts a clinic's calls and recalls of a day
# an appointment that can be checked in (an arrived one again keeps its number)
STANDING = (AppointmentStatus.booked, AppointmentStatus.confirmed, AppointmentStatus.arrived)


@dataclass(frozen=True)
class Queue:
    """One queue of a clinic: its key as tickets keep it, its letter, its name, and its
    branch (None where the clinic has one branch or none)."""

    key: str
    letter: str
    name: str
    branch_id: int | None = None


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


def open_branches(session: Session, clinic_id: int) -> list[Branch]:
    """The clinic's active branches, in the order they were created."""
    return list(
        session.exec(
            select(Branch)
            .where(Branch.clinic_id == clinic_id, col(Branch.active))
            .order_by(col(Branch.id))
        )
    )


def _home(branch_id: int | None, branch_ids: list[int]) -> int:
    """Where a professional works: its branch, or the first one when it has none (or a
    closed one)."""
    return branch_id if branch_id in branch_ids else branch_ids[0]


def queues(
    session: Session, clinic_id: int, room: WaitingRoom, branch_id: int | None = None
) -> list[Queue]:
    """The clinic's queues: one per active service or professional, as the clinic chose,
    lettered in the order they were created. With two or more active branches, each
    branch has its own (a service's at each branch where an active professional offers
    it), lettered from A at each; `branch_id` keeps one branch's."""
    branch_ids = [b.id or 0 for b in open_branches(session, clinic_id)]
    if len(branch_ids) < 2:
        return _single_branch(session, clinic_id, room)
    if room.queue_by == QueueBy.professional:
        rows = session.exec(
            select(Professional.id, Professional.name, Professional.branch_id)
            .where(Professional.clinic_id == clinic_id, col(Professional.active))
            .order_by(col(Professional.id))
        ).all()
        lines = [(_home(b, branch_ids), f"{QueueBy.professional}:{p}", name) for p, name, b in rows]
    else:
        offered = session.exec(
            select(Service.id, Service.name, Professional.branch_id)
            .join(ProfessionalService, col(ProfessionalService.service_id) == col(Service.id))
            .join(Professional, col(Professional.id) == col(ProfessionalService.professional_id))
            .where(Service.clinic_id == clinic_id, col(Service.active), col(Professional.active))
            .order_by(col(Service.id))
        ).all()
        at = {(_home(b, branch_ids), s or 0): name for s, name, b in offered}
        lines = [(b, service_key(s, b), at[(b, s)]) for b, s in sorted(at)]
    found = []
    for here in branch_ids:
        mine = [(key, name) for b, key, name in lines if b == here]
        found += [Queue(key, letter(n), name, here) for n, (key, name) in enumerate(mine)]
    return [q for q in found if branch_id is None or q.branch_id == branch_id]


def _single_branch(session: Session, clinic_id: int, room: WaitingRoom) -> list[Queue]:
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


def service_key(service_id: int, branch_id: int | None) -> str:
    """A service's queue key: per branch where the clinic has several."""
    plain = f"{QueueBy.service}:{service_id}"
    return plain if branch_id is None else f"branch:{branch_id}/{plain}"


def queue_for(
    session: Session, clinic_id: int, service_id: int, professional_id: int | None
) -> Queue | None:
    """The queue a visit of this service (and professional) waits in — at the
    professional's branch where the clinic has several; None if the clinic has no such
    queue (an inactive service)."""
    room = rules(session, clinic_id)
    every = queues(session, clinic_id, room)
    if room.queue_by == QueueBy.professional:
        key = f"{QueueBy.professional}:{professional_id}"
    else:
        branch_ids = [b.id or 0 for b in open_branches(session, clinic_id)]
        works_at = session.get(Professional, professional_id) if professional_id else None
        at = works_at.branch_id if works_at else None
        key = service_key(service_id, _home(at, branch_ids) if len(branch_ids) > 1 else None)
    return next((q for q in every if q.key == key), None)


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
        branch_id=arrival.queue.branch_id,
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


def _at_branch(branch_id: int | None) -> ColumnElement[bool]:
    """Tickets of one branch (those of a clinic with one branch are everywhere); all
    where `branch_id` is None."""
    branch = col(QueueTicket.branch_id)
    return or_(branch.is_(None), branch == branch_id) if branch_id is not None else true()


def waiting(
    session: Session,
    clinic_id: int,
    day: date,
    queue: str | None = None,
    branch_id: int | None = None,
) -> list[QueueTicket]:
    """The tickets waiting on a day, each queue in its order."""
    query = select(QueueTicket).where(
        QueueTicket.clinic_id == clinic_id,
        QueueTicket.day == day,
        QueueTicket.status == TicketStatus.waiting,
        _at_branch(branch_id),
    )
    if queue is not None:
        query = query.where(QueueTicket.queue == queue)
    return list(session.exec(query.order_by(col(QueueTicket.queue), *_in_order())))


def called(
    session: Session, clinic_id: int, day: date, limit: int = 10, branch_id: int | None = None
) -> list[QueueTicket]:
    """The tickets called on a day that are not done yet, the latest call first."""
    return list(
        session.exec(
            select(QueueTicket)
            .where(
                QueueTicket.clinic_id == clinic_id,
                QueueTicket.day == day,
                QueueTicket.status == TicketStatus.called,
                _at_branch(branch_id),
            )
            .order_by(
                col(QueueTicket.called_at).desc(),
                col(QueueTicket.call_seq).desc(),
                col(QueueTicket.id).desc(),
            )
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class CallsSince:
    """What a screen has not shown yet: the calls in the order they were made, the
    cursor to ask from next, and whether more are waiting."""

    calls: list[QueueTicket]
    cursor: int
    more: bool


def calls_since(
    session: Session, clinic_id: int, day: date, after: int, limit: int, branch_id: int | None
) -> CallsSince:
    """The day's calls and recalls numbered after `after`, whatever became of them since
    (served, sent back), at most `limit`. The count is read first: every call it counts
    has committed (`_count_call`), so a call still committing is never passed over."""
    last = last_call(session, clinic_id, day)
    found = session.exec(
        select(QueueTicket)
        .where(
            QueueTicket.clinic_id == clinic_id,
            QueueTicket.day == day,
            col(QueueTicket.call_seq) > after,
            col(QueueTicket.call_seq) <= last,
            _at_branch(branch_id),
        )
        .order_by(col(QueueTicket.call_seq))
        .limit(limit + 1)
    ).all()
    if len(found) > limit:
        return CallsSince(list(found[:limit]), found[limit - 1].call_seq or 0, True)
    return CallsSince(list(found), max(after, last), False)


def last_call(session: Session, clinic_id: int, day: date) -> int:
    """The count of a day's calls and recalls so far (0 before the first)."""
    found = session.exec(
        select(QueueCounter.last).where(
            QueueCounter.clinic_id == clinic_id,
            QueueCounter.queue == CALLS,
            QueueCounter.day == day,
        )
    ).first()
    return int(found or 0)


def _count_call(session: Session, ticket: QueueTicket) -> None:
    """Number the call: the counter's row stays locked until the transaction ends, so
    calls are committed in the order of their numbers and a reader never sees a later one
    without the earlier."""
    ticket.call_seq = next_number(session, ticket.clinic_id, CALLS, ticket.day)
    session.add(ticket)
    session.flush()


def call_next(
    session: Session, clinic_id: int, queue: str, day: date, by: str, to: str, now: datetime
) -> QueueTicket | None:
    """Call the first waiting ticket of the queue to desk or room `to`; None when
    nobody waits. A ticket another transaction holds is skipped (PostgreSQL), and the
    update takes it only while it still waits, so no ticket is ever called twice."""
    # numbered first: calls of a clinic's day take turns on the counter's row, the only
    # lock a call waits for, so two desks never wait on each other's tickets
    seq = next_number(session, clinic_id, CALLS, day)
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
                call_seq=seq,
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
    _count_call(session, ticket)
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
