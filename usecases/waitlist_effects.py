"""The engine's waitlist effects, applied in the inbound message's transaction: join the
list, leave it, take or let go an offered slot. Each outcome is an event for the flow."""

from collections.abc import Callable
from typing import Any

from sqlmodel import Session, col, select

from bot.effects import DeclineWaitlistOffer, JoinWaitlist, LeaveWaitlist, TakeWaitlistOffer
from bot.types import Inbound
from store import waitlist
from store.appointment_info import appointment_info
from store.booking import NewPatient, resolve_patient
from store.models import Patient
from usecases.applying import Applied, Applying


def _join(where: Applying, effect: JoinWaitlist) -> Applied:
    if not effect.service_id or effect.day is None:
        return Applied(Inbound(event="waitlist_not_on"))
    joined = waitlist.join(
        where.session,
        clinic_id=where.clinic_id,
        patient_id=_who_waits(where, effect),
        phone=where.phone,
        service_id=effect.service_id,
        professional_id=effect.professional_id,
        day=effect.day,
        part=effect.part,
        now=where.view.now,
    )
    return Applied(Inbound(event="waitlist_joined" if joined else "waitlist_already"))


def _leave(where: Applying, effect: LeaveWaitlist) -> Applied:
    left = waitlist.leave(where.session, where.clinic_id, where.phone, where.view.now)
    return Applied(Inbound(event="waitlist_left" if left else "waitlist_not_on"))


def _decline(where: Applying, effect: DeclineWaitlistOffer) -> Applied:
    declined = waitlist.decline(
        where.session, effect.offer_id, where.clinic_id, where.phone, where.view.now
    )
    return Applied(Inbound(event="waitlist_declined" if declined else "waitlist_gone"))


def _take(where: Applying, effect: TakeWaitlistOffer) -> Applied:
    """The offered slot becomes the patient's appointment, if it is still open."""
    taken = waitlist.take(
        where.session, effect.offer_id, where.clinic_id, where.phone, where.view.now
    )
    if taken is None:
        return Applied(Inbound(event="waitlist_gone"))
    tags = appointment_info(where.session, taken).tags(where.link_for(taken.id or 0))
    return Applied(Inbound(event="waitlist_taken", data=tags), taken)


def _who_waits(where: Applying, effect: JoinWaitlist) -> int:
    """The patient the entry is for: the person chosen on the phone, or the one named
    (the phone's nameless first-contact row takes the name), so the booking an offer
    becomes has the patient's name."""
    if effect.patient_id is None and not effect.name:  # a conversation begun before names
        return _patient_on(where.session, where.clinic_id, where.phone, effect.language)
    new = None if effect.patient_id else NewPatient(effect.name, language=effect.language)
    try:
        patient = resolve_patient(
            where.session, where.clinic_id, where.phone, effect.patient_id, new
        )
    except LookupError:  # the chosen person left the phone meanwhile
        return _patient_on(where.session, where.clinic_id, where.phone, effect.language)
    return patient.id or 0


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


WAITLIST_HANDLERS: dict[type, Callable[[Applying, Any], Applied]] = {
    JoinWaitlist: _join,
    LeaveWaitlist: _leave,
    TakeWaitlistOffer: _take,
    DeclineWaitlistOffer: _decline,
}
