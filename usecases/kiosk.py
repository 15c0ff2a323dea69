"""Check-in at the kiosk, a tablet at the desk: by the confirmation code, by the
self-service link (the page's QR, read by a scanner), by the phone number, or, without an
appointment, a number in a chosen queue. Each answer is what the
kiosk shows: the number and the people ahead, or why not (a code typed wrong, an
appointment of another day or at another branch, one no longer standing). A kiosk of a
clinic with several branches stands at one (`branch`); None: the whole clinic."""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from store import queues
from store.appointments import Actor, NotChangeable, upcoming_with_names
from store.models import Appointment, AppointmentStatus, Branch, Clinic
from usecases import waiting_room

AT_THE_KIOSK = Actor("patient", "kiosk")


@dataclass(frozen=True)
class Answer:
    """What the kiosk shows: `outcome` is checked_in, already, not_found, wrong_day,
    wrong_branch or unchangeable; `arrived` the number for the first two, `when` the
    appointment's time for a wrong day, `go_to` its branch for a wrong branch."""

    outcome: str
    arrived: waiting_room.Arrived | None = None
    when: datetime | None = None
    go_to: Branch | None = None


def by_code(
    session: Session, clinic: Clinic, code: str, now: datetime, branch: int | None = None
) -> Answer:
    wanted = "".join(code.split()).upper()[:16]
    appointment = session.exec(
        select(Appointment).where(Appointment.clinic_id == clinic.id, Appointment.code == wanted)
    ).first()
    return _check_in(session, clinic, appointment, now, branch)


def by_link(
    session: Session, clinic: Clinic, appointment_id: int, now: datetime, branch: int | None = None
) -> Answer:
    """The appointment a verified self-service link names, answered as its code would be;
    another clinic's is not found here."""
    appointment = session.exec(
        select(Appointment).where(
            Appointment.clinic_id == clinic.id, Appointment.id == appointment_id
        )
    ).first()
    return _check_in(session, clinic, appointment, now, branch)


def _check_in(
    session: Session,
    clinic: Clinic,
    appointment: Appointment | None,
    now: datetime,
    branch: int | None,
) -> Answer:
    """One appointment found (or not) by code or link: checked in if it stands today."""
    if appointment is None or appointment.status not in queues.STANDING:
        return Answer("not_found" if appointment is None else "unchangeable")
    since, until = waiting_room.today_bounds(clinic, now)
    if not since <= appointment.starts_at < until:
        return Answer("wrong_day", when=appointment.starts_at)
    return _arrive(session, clinic, appointment, now, branch)


def by_phone(
    session: Session, clinic: Clinic, phone: str, now: datetime, branch: int | None = None
) -> Answer:
    since, until = waiting_room.today_bounds(clinic, now)
    todays = queues.appointments_on_phone(session, clinic.id or 0, phone, since, until)
    if not todays:
        upcoming = upcoming_with_names(session, clinic.id or 0, phone, now, limit=1)
        if upcoming:
            return Answer("wrong_day", when=upcoming[0][0].starts_at)
        return Answer("not_found")
    waiting = [a for a in todays if a.status != AppointmentStatus.arrived]
    return _arrive(session, clinic, (waiting or todays)[0], now, branch)  # the soonest to come


def _arrive(
    session: Session, clinic: Clinic, appointment: Appointment, now: datetime, branch: int | None
) -> Answer:
    queue = queues.queue_for(
        session, clinic.id or 0, appointment.service_id, appointment.professional_id
    )
    if branch is not None and queue is not None and queue.branch_id not in (None, branch):
        return Answer("wrong_branch", go_to=session.get(Branch, queue.branch_id))
    try:
        arrived = waiting_room.arrive(session, clinic, appointment, "kiosk", AT_THE_KIOSK, now)
    except (NotChangeable, waiting_room.NoQueue):
        return Answer("unchangeable")
    return Answer("checked_in" if arrived.new else "already", arrived)
