"""An appointment booked for a phone outside the WhatsApp chat — by the front desk for a
patient who called or came in, or by an assistant of another channel: the patient found or
named on the phone, the time taken under the database's overlap rule, and what follows
every booking (history, reminders, the booking confirmation as the rules say)."""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from store.appointments import Actor, booked
from store.booking import book
from store.models import Appointment, Clinic, Service
from store.patients import patient_named

CHANNELS = ("phone", "desk")  # how the patient asked the desk: by phone, or in person


@dataclass(frozen=True)
class ForPhone:
    """Who the appointment is for: the phone (E.164) and the name said, with what else
    the patient gave (kept where the patient's row has none yet)."""

    phone: str
    name: str
    language: str | None = None
    dni: str | None = None
    insurance: str | None = None


def book_at_desk(
    session: Session,
    clinic: Clinic,
    *,
    phone: str,
    name: str,
    service: Service,
    professional_id: int,
    starts_at: datetime,
    channel: str,
    by: str,
    now: datetime,
) -> Appointment:
    """Book the time; `store.booking.SlotTaken` leaves everything as it was (a patient
    named or created for it included)."""
    if channel not in CHANNELS:
        raise ValueError(f"channel must be one of {', '.join(CHANNELS)}")
    return book_for_phone(
        session,
        clinic,
        ForPhone(phone, name),
        service=service,
        professional_id=professional_id,
        starts_at=starts_at,
        channel=channel,
        actor=Actor(by, "console"),
        now=now,
    )


def book_for_phone(
    session: Session,
    clinic: Clinic,
    who: ForPhone,
    *,
    service: Service,
    professional_id: int,
    starts_at: datetime,
    channel: str,
    actor: Actor,
    now: datetime,
) -> Appointment:
    """Book the time for `who` through `channel`; `store.booking.SlotTaken` leaves
    everything as it was (a patient named or created for it included)."""
    with session.begin_nested():
        patient = patient_named(session, clinic.id or 0, who.phone, who.name, who.language, now)
        patient.dni = patient.dni or who.dni or None
        patient.insurance = patient.insurance or who.insurance or None
        appointment = book(
            session,
            clinic_id=clinic.id or 0,
            patient=patient,
            service=service,
            professional_id=professional_id,
            starts_at=starts_at,
            source_channel=channel,
            now=now,
        )
    booked(session, clinic, appointment, actor, now)
    return appointment
