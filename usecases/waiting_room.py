"""What happens in the waiting room: a patient with an appointment arrives (by WhatsApp,
at the kiosk or at the desk) and gets a number in the queue; a desk calls the next one,
calls again, sends one back or marks them absent, and ends a visit. Each runs in the
caller's transaction; "your turn is near" and "it's your turn" are queued in the
outbox once per visit (their idempotency keys), in the patient's language."""

from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from bot.render import render, tag_texts
from bot.types import Reply
from store import queues
from store.appointments import Actor, NotChangeable, complete, mark_arrived
from store.clinic_templates import overrides
from store.message_kinds import MessageKind
from store.models import Appointment, Clinic, Patient, QueueTicket
from store.outbox import enqueue
from store.queue_order import estimated_wait, turn_is_near

DEFAULT_VISIT_MINUTES = 15.0  # the estimate's length of a visit before any was served today
NEAR_FOR = timedelta(hours=1)  # a "your turn is near" not sent by then says nothing true
TURN_FOR = timedelta(minutes=15)


class NoQueue(Exception):
    """The appointment's service (or professional) has no queue: it is no longer active."""


@dataclass(frozen=True)
class Arrived:
    """A check-in's outcome: the ticket, its number as said aloud, how many wait before
    it, and whether it is new (a second check-in keeps the first number)."""

    ticket: QueueTicket
    number: str
    ahead: int
    new: bool


def today(clinic: Clinic, now: datetime) -> datetime:
    """`now` in the clinic's time zone: its date is the queues' day."""
    return now.astimezone(ZoneInfo(clinic.timezone))


def today_bounds(clinic: Clinic, now: datetime) -> tuple[datetime, datetime]:
    """The instants of the clinic's local midnight today and tomorrow."""
    local = today(clinic, now)
    start = datetime.combine(local.date(), time.min, tzinfo=local.tzinfo)
    return start, datetime.combine(local.date() + timedelta(days=1), time.min, tzinfo=local.tzinfo)


def walk_in(
    session: Session,
    clinic: Clinic,
    queue: queues.Queue,
    phone: str | None,
    language: str,
    now: datetime,
) -> Arrived:
    """A patient without an appointment takes a number in a queue; with a phone, they are
    told when their turn is near and when it comes."""
    arrival = queues.Arrival(
        queue=queue, day=today(clinic, now).date(), channel="kiosk", phone=phone, language=language
    )
    room = queues.rules(session, clinic.id or 0)
    ticket, _ = queues.check_in(
        session, clinic.id or 0, arrival, timedelta(minutes=room.late_grace_minutes), now
    )
    ahead = queues.ahead_of(session, ticket)
    tell_near(session, clinic, ticket.queue, now)
    return Arrived(ticket, queues.ticket_label(ticket), ahead, True)


def arrive(
    session: Session,
    clinic: Clinic,
    appointment: Appointment,
    channel: str,
    actor: Actor,
    now: datetime,
    *,
    priority: bool = False,
) -> Arrived:
    """Check in a patient for today's appointment: marked arrived, placed in its queue by
    the clinic's rule. NotChangeable when the appointment is cancelled or over."""
    mark_arrived(session, appointment, actor, now)
    queue = queues.queue_for(
        session, clinic.id or 0, appointment.service_id, appointment.professional_id
    )
    if queue is None:
        raise NoQueue
    patient = session.get(Patient, appointment.patient_id)
    room = queues.rules(session, clinic.id or 0)
    arrival = queues.Arrival(
        queue=queue,
        day=today(clinic, now).date(),
        channel=channel,
        appointment=appointment,
        patient_id=appointment.patient_id,
        phone=patient.phone if patient else None,
        language=(patient.language if patient else None) or clinic.default_language,
        initials=_initials(patient.name if patient else None),
        priority=priority,
    )
    ticket, new = queues.check_in(
        session, clinic.id or 0, arrival, timedelta(minutes=room.late_grace_minutes), now
    )
    ahead = queues.ahead_of(session, ticket)
    if new and channel == "whatsapp" and ahead <= room.near_ahead:
        ticket.near_at = now  # the check-in's answer already says how near it is
        session.add(ticket)
    if new:
        tell_near(session, clinic, ticket.queue, now)
    return Arrived(ticket, queues.ticket_label(ticket), ahead, new)


def arrive_at_desk(session: Session, appointment: Appointment, actor: Actor, now: datetime) -> bool:
    """The desk's "arrived": today's appointment also takes a number in its queue (one of
    another day, or of a service without a queue, is only marked). False if it was
    checked in already."""
    clinic = session.get(Clinic, appointment.clinic_id)
    local_day = today(clinic, now).date() if clinic else None
    if (
        clinic is None
        or appointment.starts_at.astimezone(ZoneInfo(clinic.timezone)).date() != local_day
    ):
        return mark_arrived(session, appointment, actor, now)
    try:
        return arrive(session, clinic, appointment, "desk", actor, now).new
    except NoQueue:
        return mark_arrived(session, appointment, actor, now)


def _initials(name: str | None) -> str | None:
    """ "María González" → "M. G.", what the room's screen may show at most."""
    if not name:
        return None
    return " ".join(f"{word[0].upper()}." for word in name.split()[:2])


def call_next(
    session: Session, clinic: Clinic, queue: str, by: str, to: str, now: datetime
) -> QueueTicket | None:
    """Call the queue's next patient to desk or room `to` and tell them; the ones now
    near hear it too. None when nobody waits."""
    day = today(clinic, now).date()
    ticket = queues.call_next(session, clinic.id or 0, queue, day, by, to, now)
    if ticket is None:
        return None
    _tell(session, clinic, ticket, MessageKind.your_turn, now, TURN_FOR, room=to)
    tell_near(session, clinic, queue, now)
    return ticket


def no_answer(
    session: Session, clinic: Clinic, ticket: QueueTicket, absent: bool, now: datetime
) -> bool:
    """Nobody came: back of the queue or absent; the ones who moved up may be near now."""
    done = queues.no_answer(session, ticket, absent, now)
    if done:
        tell_near(session, clinic, ticket.queue, now)
    return done


def serve(
    session: Session, clinic: Clinic, ticket: QueueTicket, actor: Actor, now: datetime
) -> bool:
    """The visit ended: the ticket is served, and its appointment completed once its
    time has come (before it, the appointment stays arrived)."""
    if not queues.served(session, ticket, now):
        return False
    appointment = session.get(Appointment, ticket.appointment_id) if ticket.appointment_id else None
    if appointment is not None:
        with suppress(NotChangeable):  # served before its time, or already marked by the desk
            complete(session, appointment, actor, now)
    return True


def tell_near(session: Session, clinic: Clinic, queue: str, now: datetime) -> int:
    """Queue "your turn is near" for each waiting patient of the queue it is due for
    (the clinic's N ahead or M minutes), once per visit; how many were queued."""
    room = queues.rules(session, clinic.id or 0)
    day = today(clinic, now).date()
    minutes = queues.service_minutes(session, clinic.id or 0, queue, day)
    told = 0
    for ahead, ticket in enumerate(queues.waiting(session, clinic.id or 0, day, queue)):
        wait = estimated_wait(ahead, minutes, DEFAULT_VISIT_MINUTES)
        if not turn_is_near(ahead, wait, room.near_ahead, room.near_minutes):
            break  # the rest wait longer still
        if ticket.near_at is not None or not ticket.phone:
            continue
        ticket.near_at = now
        session.add(ticket)
        told += _tell(session, clinic, ticket, MessageKind.turn_near, now, NEAR_FOR, ahead=ahead)
    return told


def _language(session: Session, ticket: QueueTicket) -> str | None:
    """The patient's language as stored now (they may have chosen one since checking
    in), else the one the ticket was taken in (a walk-in's at the kiosk)."""
    stored = (
        session.exec(select(Patient.language).where(Patient.id == ticket.patient_id)).first()
        if ticket.patient_id is not None
        else None
    )
    return stored or ticket.language


def _tell(
    session: Session,
    clinic: Clinic,
    ticket: QueueTicket,
    kind: MessageKind,
    now: datetime,
    valid_for: timedelta,
    **tags: object,
) -> int:
    """Queue one message about the visit to its phone, once per ticket and kind."""
    if not ticket.phone:
        return 0
    language = _language(session, ticket) or clinic.default_language
    all_tags = {"number": queues.ticket_label(ticket), "clinic_name": clinic.name, **tags}
    body = render(
        Reply(kind.template_key(), all_tags), language, overrides(session, clinic.id or 0, language)
    )
    return enqueue(
        session,
        clinic_id=clinic.id or 0,
        idempotency_key=f"queue_ticket:{ticket.id}:{kind}",
        from_phone=clinic.whatsapp_number,
        to_phone=ticket.phone,
        body=body,
        now=now,
        kind=kind,
        template=kind.template_key(),
        not_after=now + valid_for,
        language=language,
        variables=tag_texts(all_tags, language),
    )
