"""The waitlist in the store: joining and leaving it, holding a freed slot for the next
patient in line, and the answers to an offer (take it, let it go, too late), each in the
caller's transaction.

A held slot is an appointment row with status `held` and `hold_expires_at`: the overlap
rule and availability treat it as busy like any status but `cancelled`, so nobody else
books the time while the patient decides. Every change of a hold or an offer is one
conditional UPDATE, so the first of two concurrent answers wins and the other sees it."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, update
from sqlmodel import Session, col, select

from store.appointments import Actor, booked
from store.booking import SlotTaken, book
from store.freed_slots import HOLD_RELEASED, record_freed
from store.message_kinds import MessageKind
from store.models import (
    Appointment,
    AppointmentStatus,
    Clinic,
    FreedSlot,
    OfferStatus,
    Patient,
    Service,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistStatus,
)
from store.planning import plan_notification

OFFER_STEP = "offer"
OPEN = (WaitlistStatus.waiting, WaitlistStatus.offered)
CHAT = Actor("patient", "whatsapp")


def join(
    session: Session,
    *,
    clinic_id: int,
    patient_id: int,
    phone: str,
    service_id: int,
    professional_id: int | None,
    day: date,
    part: str | None,
    now: datetime,
) -> bool:
    """Put the patient on the list for `day`; False if the same wish is already there."""
    same = session.exec(
        select(WaitlistEntry.id).where(
            WaitlistEntry.clinic_id == clinic_id,
            WaitlistEntry.patient_id == patient_id,
            WaitlistEntry.service_id == service_id,
            WaitlistEntry.day == day,
            col(WaitlistEntry.status).in_(OPEN),
            col(WaitlistEntry.professional_id).is_(None)
            if professional_id is None
            else WaitlistEntry.professional_id == professional_id,
            col(WaitlistEntry.part).is_(None) if part is None else WaitlistEntry.part == part,
        )
    ).first()
    if same is not None:
        return False
    session.add(
        WaitlistEntry(
            clinic_id=clinic_id,
            patient_id=patient_id,
            phone=phone,
            service_id=service_id,
            professional_id=professional_id,
            day=day,
            part=part,
            created_at=now,
            updated_at=now,
        )
    )
    session.flush()
    return True


def leave(session: Session, clinic_id: int, phone: str, now: datetime) -> int:
    """Take everybody on the phone off the list; a slot held for them is released.
    Returns how many entries were open."""
    entries = list(
        session.exec(
            select(WaitlistEntry).where(
                WaitlistEntry.clinic_id == clinic_id,
                WaitlistEntry.phone == phone,
                col(WaitlistEntry.status).in_(OPEN),
            )
        )
    )
    for entry in entries:
        for offer in session.exec(
            select(WaitlistOffer).where(
                WaitlistOffer.entry_id == entry.id, WaitlistOffer.status == OfferStatus.offered
            )
        ):
            release(session, offer, OfferStatus.withdrawn, now)
        entry.status = WaitlistStatus.left
        entry.updated_at = now
        session.add(entry)
    session.flush()
    return len(entries)


def release(session: Session, offer: WaitlistOffer, status: str, now: datetime) -> bool:
    """End an open offer as `status` (declined, expired, withdrawn): its hold is cancelled
    and recorded as freed, so the next in line is offered the time; the entry waits
    again. False if the offer was answered meanwhile."""
    ended = session.execute(
        update(WaitlistOffer)
        .where(col(WaitlistOffer.id) == offer.id, col(WaitlistOffer.status) == OfferStatus.offered)
        .values(status=status, answered_at=now)
    )
    if ended.rowcount != 1:  # type: ignore[attr-defined]
        return False
    release_hold(session, offer.appointment_id, now)
    session.execute(
        update(WaitlistEntry)
        .where(
            col(WaitlistEntry.id) == offer.entry_id,
            col(WaitlistEntry.status) == WaitlistStatus.offered,
        )
        .values(status=WaitlistStatus.waiting, updated_at=now)
    )
    return True


def release_hold(session: Session, appointment_id: int, now: datetime) -> bool:
    """A held time cancelled and recorded as freed, so the next in line is offered it;
    False if it is no longer held (taken or released meanwhile)."""
    freed = session.execute(
        update(Appointment)
        .where(
            col(Appointment.id) == appointment_id,
            col(Appointment.status) == AppointmentStatus.held,
        )
        .values(
            status=AppointmentStatus.cancelled,
            cancelled_at=now,
            hold_expires_at=None,
            updated_at=now,
        )
    )
    if freed.rowcount != 1:  # type: ignore[attr-defined]
        return False
    held = session.get(Appointment, appointment_id)
    assert held is not None
    record_freed(
        session,
        clinic_id=held.clinic_id,
        professional_id=held.professional_id,
        starts_at=held.starts_at,
        ends_at=held.ends_at,
        why=HOLD_RELEASED,
        now=now,
    )
    return True


def expire_offers(session: Session, now: datetime, limit: int = 500) -> int:
    """Open offers whose hold has run out: released, so the time goes to the next in line."""
    query = (
        select(WaitlistOffer)
        .where(
            col(WaitlistOffer.status) == OfferStatus.offered,
            col(WaitlistOffer.expires_at) <= now,
        )
        .order_by(col(WaitlistOffer.expires_at))
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return sum(release(session, o, OfferStatus.expired, now) for o in list(session.exec(query)))


def end_past_entries(session: Session, now: datetime) -> int:
    """Entries whose day has passed in their clinic's zone end as expired."""
    rows = session.exec(
        select(WaitlistEntry, Clinic.timezone)
        .join(Clinic, col(Clinic.id) == col(WaitlistEntry.clinic_id))
        .where(
            col(WaitlistEntry.status) == WaitlistStatus.waiting,
            col(WaitlistEntry.day) <= now.astimezone(UTC).date() + timedelta(days=1),
        )
    ).all()
    ended = 0
    for entry, timezone in rows:
        if entry.day < now.astimezone(ZoneInfo(timezone)).date():
            entry.status = WaitlistStatus.expired
            entry.updated_at = now
            session.add(entry)
            ended += 1
    session.flush()
    return ended


def latest_offer(
    session: Session, clinic_id: int, phone: str, since: datetime | None
) -> WaitlistOffer | None:
    """The last offer made to the phone after `since` (the patient's previous message):
    a "1" or "2" now answers it, even once it is gone."""
    query = (
        select(WaitlistOffer)
        .where(WaitlistOffer.clinic_id == clinic_id, WaitlistOffer.phone == phone)
        .order_by(col(WaitlistOffer.offered_at).desc(), col(WaitlistOffer.id).desc())
        .limit(1)
    )
    if since is not None:
        query = query.where(col(WaitlistOffer.offered_at) > since)
    return session.exec(query).first()


def _own_offer(session: Session, offer_id: int, clinic_id: int, phone: str) -> WaitlistOffer | None:
    return session.exec(
        select(WaitlistOffer).where(
            WaitlistOffer.id == offer_id,
            WaitlistOffer.clinic_id == clinic_id,
            WaitlistOffer.phone == phone,
        )
    ).first()


def take(
    session: Session,
    offer_id: int,
    clinic_id: int,
    phone: str,
    now: datetime,
    actor: Actor = CHAT,
) -> Appointment | None:
    """Turn the hold into the patient's appointment, atomically: only while it is still
    held for them and not expired. None (and the entry stays on the list) otherwise."""
    offer = _own_offer(session, offer_id, clinic_id, phone)
    if offer is None:
        return None
    won = session.execute(
        update(Appointment)
        .where(
            col(Appointment.id) == offer.appointment_id,
            col(Appointment.status) == AppointmentStatus.held,
            col(Appointment.patient_id) == offer.patient_id,
            col(Appointment.hold_expires_at) > now,
        )
        .values(status=AppointmentStatus.booked, hold_expires_at=None, updated_at=now)
    )
    if won.rowcount != 1:  # type: ignore[attr-defined]
        return None
    offer.status, offer.answered_at = OfferStatus.accepted, now
    session.add(offer)
    entry = session.get(WaitlistEntry, offer.entry_id)
    if entry is not None:
        entry.status, entry.updated_at = WaitlistStatus.booked, now
        session.add(entry)
    appointment = session.get(Appointment, offer.appointment_id)
    clinic = session.get(Clinic, clinic_id)
    assert appointment is not None and clinic is not None
    session.refresh(appointment)
    booked(session, clinic, appointment, actor, now)
    session.flush()
    return appointment


def offer_of(session: Session, appointment_id: int) -> WaitlistOffer | None:
    """The offer a held appointment row was made for (its latest)."""
    return session.exec(
        select(WaitlistOffer)
        .where(WaitlistOffer.appointment_id == appointment_id)
        .order_by(col(WaitlistOffer.id).desc())
    ).first()


def decline(session: Session, offer_id: int, clinic_id: int, phone: str, now: datetime) -> bool:
    """The patient lets the offered time go; False if it was no longer theirs to refuse."""
    offer = _own_offer(session, offer_id, clinic_id, phone)
    return offer is not None and release(session, offer, OfferStatus.declined, now)


# -- offering freed slots -------------------------------------------------------------------


def claim_freed(session: Session, now: datetime, limit: int = 200) -> list[FreedSlot]:
    """Freed slots not yet looked at, oldest first, locked for this transaction."""
    query = (
        select(FreedSlot)
        .where(col(FreedSlot.handled_at).is_(None))
        .order_by(col(FreedSlot.created_at), col(FreedSlot.id))
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(session.exec(query))


def waiting_for(
    session: Session, clinic_id: int, day: date, professional_id: int | None
) -> list[WaitlistEntry]:
    """The entries waiting for `day` that could take a time of `professional_id`, in fair
    order (who joined first)."""
    query = select(WaitlistEntry).where(
        WaitlistEntry.clinic_id == clinic_id,
        WaitlistEntry.day == day,
        WaitlistEntry.status == WaitlistStatus.waiting,
    )
    if professional_id is not None:
        query = query.where(
            or_(
                col(WaitlistEntry.professional_id).is_(None),
                col(WaitlistEntry.professional_id) == professional_id,
            )
        )
    return list(session.exec(query.order_by(col(WaitlistEntry.created_at), col(WaitlistEntry.id))))


def may_be_offered(session: Session, clinic: Clinic, entry: WaitlistEntry, now: datetime) -> bool:
    """Nobody on the phone is paused, opted out or unreachable, and the patient has had
    fewer offers today (clinic's day) than the clinic allows."""
    blocked = session.exec(
        select(Patient.id).where(
            Patient.clinic_id == entry.clinic_id,
            Patient.phone == entry.phone,
            or_(
                col(Patient.bot_paused),
                col(Patient.opted_out),
                col(Patient.unreachable).is_not(None),
            ),
        )
    ).first()
    if blocked is not None:
        return False
    tz = ZoneInfo(clinic.timezone)
    midnight = datetime.combine(now.astimezone(tz).date(), time.min, tzinfo=tz).astimezone(UTC)
    offers_today = session.exec(
        select(func.count())
        .select_from(WaitlistOffer)
        .where(
            WaitlistOffer.clinic_id == entry.clinic_id,
            WaitlistOffer.patient_id == entry.patient_id,
            col(WaitlistOffer.offered_at) >= midnight,
        )
    ).one()
    return offers_today < clinic.waitlist_offers_per_day


def offered_before(
    session: Session, entry: WaitlistEntry, professional_id: int, starts_at: datetime
) -> bool:
    """Whether this entry was already offered this very time (and let it go)."""
    return (
        session.exec(
            select(WaitlistOffer.id).where(
                WaitlistOffer.entry_id == entry.id,
                WaitlistOffer.professional_id == professional_id,
                WaitlistOffer.starts_at == starts_at,
            )
        ).first()
        is not None
    )


def hold(
    session: Session,
    clinic: Clinic,
    entry: WaitlistEntry,
    service: Service,
    professional_id: int,
    starts_at: datetime,
    now: datetime,
) -> WaitlistOffer | None:
    """Hold the time for the entry's patient (None if somebody took it meanwhile), record
    the offer and plan its message, due now."""
    patient = session.get(Patient, entry.patient_id)
    assert patient is not None
    expires_at = now + timedelta(minutes=clinic.waitlist_hold_minutes)
    try:
        appointment = book(
            session,
            clinic_id=clinic.id or 0,
            patient=patient,
            service=service,
            professional_id=professional_id,
            starts_at=starts_at,
            source_channel="waitlist",
            now=now,
        )
    except SlotTaken:
        return None
    appointment.status = AppointmentStatus.held
    appointment.hold_expires_at = expires_at
    appointment.updated_at = now
    session.add(appointment)
    offer = WaitlistOffer(
        clinic_id=clinic.id or 0,
        entry_id=entry.id or 0,
        patient_id=entry.patient_id,
        phone=entry.phone,
        appointment_id=appointment.id or 0,
        professional_id=professional_id,
        starts_at=starts_at,
        offered_at=now,
        expires_at=expires_at,
    )
    entry.status, entry.updated_at = WaitlistStatus.offered, now
    session.add_all([offer, entry])
    session.flush()
    plan_notification(
        session, appointment, MessageKind.waitlist_offer, OFFER_STEP, due_at=now, now=now
    )
    return offer
