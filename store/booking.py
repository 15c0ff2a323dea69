"""Booking a slot: one savepoint that either saves the appointment or reports the slot
taken. The database's overlap rule decides a race, not a check in Python."""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, select

from store.models import Appointment, AppointmentStatus, Patient, Service

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
CODE_LENGTH = 6


class SlotTaken(Exception):
    """Another appointment of the professional overlaps the requested time."""


@dataclass(frozen=True)
class NewPatient:
    name: str | None
    dni: str | None = None
    insurance: str | None = None
    language: str | None = None


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def lost_a_race(error: OperationalError) -> bool:
    """PostgreSQL may end one of several concurrent overlapping inserts as a deadlock
    (each waits on the other's uncommitted row) instead of a constraint violation."""
    return getattr(error.orig, "sqlstate", None) in {"40P01", "40001"}


def is_overlap(error: IntegrityError) -> bool:
    text = str(error.orig).lower()
    return "appointment_overlap" in text or "appointment_no_overlap" in text


def resolve_patient(
    session: Session, clinic_id: int, phone: str, patient_id: int | None, new: NewPatient | None
) -> Patient:
    """The known patient chosen, or the new person: the phone's nameless first-contact row
    gets the name, otherwise a new patient shares the phone."""
    if patient_id is not None:
        patient = session.get(Patient, patient_id)
        if patient is None or patient.clinic_id != clinic_id or patient.phone != phone:
            raise LookupError("patient not on this phone")
        return patient
    if new is None:
        raise ValueError("a booking needs a patient")
    nameless = session.exec(
        select(Patient).where(
            Patient.clinic_id == clinic_id,
            Patient.phone == phone,
            Patient.name == None,  # noqa: E711
        )
    ).first()
    patient = nameless or Patient(clinic_id=clinic_id, phone=phone)
    patient.name, patient.dni, patient.insurance = new.name, new.dni, new.insurance
    patient.language = patient.language or new.language
    session.add(patient)
    session.flush()
    return patient


def book(
    session: Session,
    *,
    clinic_id: int,
    patient: Patient,
    service: Service,
    professional_id: int,
    starts_at: datetime,
    source_channel: str,
    now: datetime,
) -> Appointment:
    """Save the appointment or raise SlotTaken; the caller's transaction stays usable."""
    first_visit = (
        session.exec(select(Appointment.id).where(Appointment.patient_id == patient.id)).first()
        is None
    )
    for _ in range(5):  # a code collision is retried with a new code
        appointment = Appointment(
            clinic_id=clinic_id,
            professional_id=professional_id,
            service_id=service.id or 0,
            patient_id=patient.id or 0,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=service.duration_minutes),
            status=AppointmentStatus.booked,
            source_channel=source_channel,
            code=new_code(),
            new_patient=first_visit,
            created_at=now,
        )
        try:
            with session.begin_nested():
                session.add(appointment)
                session.flush()
        except OperationalError as error:
            if lost_a_race(error):
                raise SlotTaken from error
            raise
        except IntegrityError as error:
            if is_overlap(error):
                raise SlotTaken from error
            if "code" not in str(error.orig).lower():
                raise
            continue
        return appointment
    raise RuntimeError("could not find a free confirmation code")
