"""An appointment the front desk books for a patient who called or came in: the patient
found or named on the phone, the time taken under the database's overlap rule, and what
follows every booking (history, reminders, the booking confirmation as the rules say)."""

from datetime import datetime

from sqlmodel import Session

from store.appointments import Actor, booked
from store.booking import book
from store.models import Appointment, Clinic, Service
from store.patients import patient_named

CHANNELS = ("phone", "desk")  # how the patient asked: by phone, or in person


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
    with session.begin_nested():
        patient = patient_named(session, clinic.id or 0, phone, name, None, now)
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
    booked(session, clinic, appointment, Actor(by, "console"), now)
    return appointment
