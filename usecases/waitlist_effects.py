"""The engine's waitlist effects, applied in the inbound message's transaction: join the
list, leave it, take or let go an offered slot. Each outcome is an event for the flow."""

from collections.abc import Callable
from datetime import date, datetime

from sqlmodel import Session, col, select

from bot.types import Effect, Inbound
from store import waitlist
from store.appointment_info import appointment_info
from store.models import Appointment, Clinic, Patient

WAITLIST_EFFECTS = frozenset(
    {"join_waitlist", "leave_waitlist", "take_waitlist_offer", "decline_waitlist_offer"}
)


def apply_waitlist(
    session: Session,
    clinic: Clinic,
    phone: str,
    effect: Effect,
    now: datetime,
    link_for: Callable[[int], str],
) -> tuple[Inbound, Appointment | None]:
    """The event that tells the patient how it went, and the appointment an offer became."""
    clinic_id = clinic.id or 0
    data = effect.data
    if effect.kind == "join_waitlist":
        if not data.get("service_id") or not data.get("day"):
            return Inbound(event="waitlist_not_on"), None
        joined = waitlist.join(
            session,
            clinic_id=clinic_id,
            patient_id=_patient_on(session, clinic_id, phone, data.get("language")),
            phone=phone,
            service_id=int(data["service_id"]),
            professional_id=data.get("professional_id"),
            day=date.fromisoformat(data["day"]),
            part=data.get("part"),
            now=now,
        )
        return Inbound(event="waitlist_joined" if joined else "waitlist_already"), None
    if effect.kind == "leave_waitlist":
        left = waitlist.leave(session, clinic_id, phone, now)
        return Inbound(event="waitlist_left" if left else "waitlist_not_on"), None
    offer_id = int(data["offer_id"])
    if effect.kind == "decline_waitlist_offer":
        declined = waitlist.decline(session, offer_id, clinic_id, phone, now)
        return Inbound(event="waitlist_declined" if declined else "waitlist_gone"), None
    taken = waitlist.take(session, offer_id, clinic_id, phone, now)
    if taken is None:
        return Inbound(event="waitlist_gone"), None
    tags = appointment_info(session, taken).tags(link_for(taken.id or 0))
    return Inbound(event="waitlist_taken", data=tags), taken


def _patient_on(session: Session, clinic_id: int, phone: str, language: str | None) -> int:
    """The patient the entry is for: the first named person on the phone, else its
    first-contact row (created by the inbound path before the engine ran)."""
    people = list(
        session.exec(
            select(Patient)
            .where(Patient.clinic_id == clinic_id, Patient.phone == phone)
            .order_by(col(Patient.name).is_(None), col(Patient.id))
        )
    )
    if not people:
        patient = Patient(clinic_id=clinic_id, phone=phone, language=language)
        session.add(patient)
        session.flush()
        return patient.id or 0
    return people[0].id or 0
