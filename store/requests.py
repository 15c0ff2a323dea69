"""Appointment requests: a new number at a clinic that books known patients only leaves its
name, the service and the days it would like; staff accept one by booking a time (the
database's overlap rule decides a race, as for every booking) or decline it. Everything
runs in the caller's transaction; telling the patient is the caller's part."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, update
from sqlmodel import Session, col, select

from store.appointments import Actor, booked
from store.booking import book
from store.models import (
    Appointment,
    AppointmentRequest,
    Clinic,
    RequestStatus,
    Service,
)
from store.patients import patient_named

LIST_LIMIT = 200
HANDLED_LIMIT = 20
REASON_LIMIT = 300


class AlreadyHandled(Exception):
    """The request was accepted, declined or replaced meanwhile; `status` says which."""

    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


@dataclass(frozen=True)
class NewRequest:
    """What the patient gave in the chat."""

    phone: str
    patient_name: str
    service_id: int
    preferred: str
    comment: str | None = None
    language: str | None = None


def create(session: Session, clinic_id: int, new: NewRequest, now: datetime) -> bool:
    """Save the request; an open request from the same phone is replaced (withdrawn), so
    a patient who asks again corrects the first one. True if one was replaced."""
    replaced = session.connection().execute(
        update(AppointmentRequest)
        .where(
            col(AppointmentRequest.clinic_id) == clinic_id,
            col(AppointmentRequest.phone) == new.phone,
            col(AppointmentRequest.status) == RequestStatus.open,
        )
        .values(status=RequestStatus.withdrawn, handled_by="patient", handled_at=now)
    )
    session.connection().execute(
        insert(AppointmentRequest).values(
            clinic_id=clinic_id,
            phone=new.phone,
            patient_name=new.patient_name,
            service_id=new.service_id,
            preferred=new.preferred,
            comment=new.comment,
            language=new.language,
            status=RequestStatus.open,
            created_at=now,
        )
    )
    return bool(replaced.rowcount)


def count_open(session: Session, clinic_id: int) -> int:
    """The navigation badge (through the open-request index)."""
    return session.exec(
        select(func.count())
        .select_from(AppointmentRequest)
        .where(
            AppointmentRequest.clinic_id == clinic_id,
            AppointmentRequest.status == RequestStatus.open,
        )
    ).one()


def open_requests(
    session: Session, clinic_id: int, limit: int = LIST_LIMIT
) -> list[tuple[AppointmentRequest, str]]:
    """The open requests with their service's name, oldest first: it has waited longest."""
    rows = session.exec(
        select(AppointmentRequest, Service.name)
        .join(Service, col(Service.id) == col(AppointmentRequest.service_id))
        .where(
            AppointmentRequest.clinic_id == clinic_id,
            AppointmentRequest.status == RequestStatus.open,
        )
        .order_by(col(AppointmentRequest.created_at), col(AppointmentRequest.id))
        .limit(limit)
    )
    return [(request, service) for request, service in rows]


def recently_handled(
    session: Session, clinic_id: int, limit: int = HANDLED_LIMIT
) -> list[tuple[AppointmentRequest, str]]:
    """The latest requests staff accepted or declined, newest first."""
    rows = session.exec(
        select(AppointmentRequest, Service.name)
        .join(Service, col(Service.id) == col(AppointmentRequest.service_id))
        .where(
            AppointmentRequest.clinic_id == clinic_id,
            col(AppointmentRequest.status).in_((RequestStatus.accepted, RequestStatus.declined)),
        )
        .order_by(col(AppointmentRequest.handled_at).desc(), col(AppointmentRequest.id).desc())
        .limit(limit)
    )
    return [(request, service) for request, service in rows]


def get_request(
    session: Session, clinic_id: int, request_id: int, *, lock: bool = False
) -> AppointmentRequest | None:
    """One request of the clinic; locked (PostgreSQL) when staff act on it."""
    statement = select(AppointmentRequest).where(
        AppointmentRequest.id == request_id, AppointmentRequest.clinic_id == clinic_id
    )
    if lock:
        statement = statement.with_for_update()
    return session.exec(statement).first()


def accept(
    session: Session,
    clinic: Clinic,
    request: AppointmentRequest,
    *,
    service: Service,
    professional_id: int,
    starts_at: datetime,
    by: str,
    now: datetime,
) -> Appointment:
    """Book the chosen time for the request (locked by the caller) and mark it accepted.
    Raises `AlreadyHandled` if it is no longer open, and `store.booking.SlotTaken` if the
    time was just taken, in which case nothing changes (the patient row included). The
    reminders are planned as for any booking; the caller's message to the patient is the
    booking confirmation."""
    if request.status != RequestStatus.open:
        raise AlreadyHandled(request.status)
    with session.begin_nested():  # a taken time undoes the patient's creation too
        patient = patient_named(
            session, request.clinic_id, request.phone, request.patient_name, request.language, now
        )
        appointment = book(
            session,
            clinic_id=request.clinic_id,
            patient=patient,
            service=service,
            professional_id=professional_id,
            starts_at=starts_at,
            source_channel="whatsapp",
            now=now,
        )
    booked(session, clinic, appointment, Actor(by, "console"), now, confirmation=False)
    request.status = RequestStatus.accepted
    request.handled_by, request.handled_at = by, now
    request.appointment_id = appointment.id
    session.add(request)
    session.flush()
    return appointment


def decline(
    session: Session, request: AppointmentRequest, reason: str | None, by: str, now: datetime
) -> None:
    """Decline the request (locked by the caller), with an optional reason the patient is
    given. Raises `AlreadyHandled` if it is no longer open."""
    if request.status != RequestStatus.open:
        raise AlreadyHandled(request.status)
    request.status = RequestStatus.declined
    request.handled_by, request.handled_at = by, now
    request.decline_reason = (reason or "").strip()[:REASON_LIMIT] or None
    session.add(request)
    session.flush()
