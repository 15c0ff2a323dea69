"""Helpers for the waitlist tests: a full day, patients put on the list, the worker's
waitlist pass at a given time, and what became of entries, offers and holds."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from scheduler.waitlist import WaitlistReport, run_waitlist_pass
from store import waitlist
from store.appointments import cancel
from store.db import transaction
from store.models import Appointment, Clinic, WaitlistEntry, WaitlistOffer
from tests.notification_support import STAFF, book_at, patient, run_pass
from tests.support import TestClinic

ASU = ZoneInfo("America/Asuncion")
FILLER = "+595981000111"


def fill_day(db: Engine, clinic: TestClinic, day: date, now: datetime) -> dict[str, int]:
    """Book every half hour of both professionals on `day`; the appointment ids by
    "ana 15:00" / "luis 09:30"."""
    booked: dict[str, int] = {}
    hours = {"ana": [(8, 12), (14, 18)], "luis": [(9, 13)]}
    for who, spans in hours.items():
        for start, end in spans:
            moment = datetime.combine(day, time(start), tzinfo=ASU)
            while moment.hour < end:
                booked[f"{who} {moment:%H:%M}"] = book_at(
                    db, clinic, moment, now, phone=FILLER, professional=who
                )
                moment += timedelta(minutes=30)
    return booked


def join(
    db: Engine,
    clinic: TestClinic,
    phone: str,
    day: date,
    now: datetime,
    *,
    part: str | None = None,
    professional: str | None = None,
    **patient_fields: object,
) -> int:
    """Put the patient on `phone` on the list for general consultations on `day`."""
    patient_id = patient(db, clinic.id, phone, **patient_fields)
    with transaction(db) as session:
        assert waitlist.join(
            session,
            clinic_id=clinic.id,
            patient_id=patient_id,
            phone=phone,
            service_id=clinic.services["general"],
            professional_id=clinic.professionals[professional] if professional else None,
            day=day,
            part=part,
            now=now,
        )
    return patient_id


def staff_cancels(db: Engine, appointment_id: int, now: datetime) -> None:
    with transaction(db) as session:
        appointment = session.get(Appointment, appointment_id)
        assert appointment is not None
        cancel(session, appointment, STAFF, now)


def tick(db: Engine, now: datetime) -> WaitlistReport:
    """What the worker does each minute: the waitlist pass, then the due notifications
    (the offers' messages)."""
    report = run_waitlist_pass(db, now)
    run_pass(db, now)
    return report


def entries(db: Engine) -> dict[str, str]:
    """Each entry's status by phone."""
    with Session(db) as session:
        rows = session.exec(select(WaitlistEntry).order_by(col(WaitlistEntry.id)))
        return {e.phone: e.status for e in rows}


def offers(db: Engine) -> list[tuple[str, str, datetime]]:
    """(phone, status, time offered) of every offer, in order."""
    with Session(db) as session:
        rows = session.exec(select(WaitlistOffer).order_by(col(WaitlistOffer.id)))
        return [(o.phone, o.status, o.starts_at) for o in rows]


def set_clinic(db: Engine, clinic_id: int, **fields: object) -> None:
    with transaction(db) as session:
        clinic = session.get(Clinic, clinic_id)
        assert clinic is not None
        for name, value in fields.items():
            setattr(clinic, name, value)
