"""What the clinic's booking page asks of the agenda, in the caller's transaction: a
booking, a place on a day's waitlist or an appointment request for a phone the page was
given. A web form can name anyone's phone, so for a number the clinic does not know yet
(where the clinic asks for it) nothing reaches the phone and nothing is booked for good
until the phone's own WhatsApp message brings the code the page showed: the time is held
meanwhile (an appointment `held`, busy for everybody else) and released when the code
does not come in time. Every attempt is a row, and the rows are the page's rate limits."""

import json
import secrets
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from store.appointments import Actor, booked
from store.booking import book
from store.desk_booking import ForPhone, book_for_phone
from store.models import (
    Appointment,
    AppointmentStatus,
    Clinic,
    Patient,
    Service,
    WebBooking,
    WebBookingStatus,
)
from store.patients import first_contact, on_phone, patient_named
from store.requests import NewRequest
from store.requests import create as create_request
from store.waitlist import join, release_hold

WEB = Actor("patient", "web")
CHANNEL = "web"
PER_CLIENT_PER_HOUR = 12  # attempts from one address (a household's shared address fits)
PER_PHONE_PER_DAY = 4  # attempts naming one phone at one clinic
REVIEWS_PER_CLIENT_PER_HOUR = 30  # review pages (each says whether a number is known)
REVIEW = "review"  # a row that only counts a review page shown
PROOF_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # nothing read two ways (0/O, 1/I/L)
PROOF_LENGTH = 6


class TooMany(Exception):
    """Too many attempts from the address or for the phone; `who` says which."""

    def __init__(self, who: str) -> None:
        super().__init__(who)
        self.who = who


@dataclass(frozen=True)
class Visitor:
    """Who the page was given: the phone (E.164), the name and what else the clinic asks,
    the page's language, and the person already on the phone it is for, if one was picked."""

    phone: str
    name: str
    language: str
    dni: str | None = None
    insurance: str | None = None
    patient_id: int | None = None


@dataclass(frozen=True)
class Wish:
    """What the visitor asked for: a service, with a professional (None: any), on a day,
    at a time (None: the day's waitlist or a request for that day)."""

    service_id: int
    professional_id: int | None
    day: date
    starts_at: datetime | None = None
    preferred: str = ""  # a request's days and times, as the desk reads them


def new_proof() -> str:
    return "".join(secrets.choice(PROOF_ALPHABET) for _ in range(PROOF_LENGTH))


def known_people(session: Session, clinic_id: int, phone: str) -> list[Patient]:
    """The named people the clinic has on the phone (a nameless first contact is no one yet)."""
    return [p for p in on_phone(session, clinic_id, phone) if p.name]


def _count(session: Session, *where: Any) -> int:
    return int(session.exec(select(func.count()).select_from(WebBooking).where(*where)).one())


def check_limits(session: Session, clinic_id: int, client: str, phone: str, now: datetime) -> None:
    """Raise TooMany when the address or the phone has asked too often lately."""
    asked = col(WebBooking.kind) != REVIEW
    hour_ago = col(WebBooking.created_at) > now - timedelta(hours=1)
    if _count(session, WebBooking.client == client, hour_ago, asked) >= PER_CLIENT_PER_HOUR:
        raise TooMany("client")
    day_ago = col(WebBooking.created_at) > now - timedelta(days=1)
    same_phone = (WebBooking.clinic_id == clinic_id, WebBooking.phone == phone)
    if _count(session, *same_phone, day_ago, asked) >= PER_PHONE_PER_DAY:
        raise TooMany("phone")


def note_review(session: Session, clinic_id: int, client: str, phone: str, now: datetime) -> None:
    """Count a review page shown to the address (it says whether the clinic knows the
    number, and whom, masked): TooMany past `REVIEWS_PER_CLIENT_PER_HOUR`, so the page
    cannot be walked through numbers to learn who is a patient."""
    hour_ago = col(WebBooking.created_at) > now - timedelta(hours=1)
    reviews = _count(session, WebBooking.client == client, WebBooking.kind == REVIEW, hour_ago)
    if reviews >= REVIEWS_PER_CLIENT_PER_HOUR:
        raise TooMany("client")
    session.add(
        WebBooking(
            clinic_id=clinic_id,
            phone=phone,
            client=client,
            kind=REVIEW,
            proof="",
            status=WebBookingStatus.done,
            created_at=now,
            expires_at=now,
        )
    )


def _row(
    clinic: Clinic, visitor: Visitor, wish: Wish, kind: str, client: str, now: datetime
) -> WebBooking:
    details = {**asdict(visitor), **asdict(wish)}
    return WebBooking(
        clinic_id=clinic.id or 0,
        phone=visitor.phone,
        client=client,
        kind=kind,
        proof=new_proof(),
        details=json.dumps(details, default=str, ensure_ascii=False),
        created_at=now,
        expires_at=now + timedelta(minutes=clinic.web_hold_minutes),
    )


def ask(
    session: Session,
    clinic: Clinic,
    service: Service,
    visitor: Visitor,
    wish: Wish,
    kind: str,
    *,
    client: str,
    proof_needed: bool,
    now: datetime,
) -> WebBooking:
    """Record the attempt and do what can be done now: with `proof_needed`, a booking's
    time is held and the rest waits for the phone's message; without it, it is done at
    once. `store.booking.SlotTaken` leaves nothing behind."""
    row = _row(clinic, visitor, wish, kind, client, now)
    with session.begin_nested():
        if proof_needed:
            if kind == "book":
                row.appointment_id = _hold(session, clinic, service, visitor, wish, now).id
        else:
            row.appointment_id = _carry_out(session, clinic, service, visitor, wish, kind, now)
            row.status = WebBookingStatus.done
        session.add(row)
        session.flush()
    return row


def _hold(
    session: Session, clinic: Clinic, service: Service, visitor: Visitor, wish: Wish, now: datetime
) -> Appointment:
    """The time taken as `held` until the proof comes (`prove`) or its time runs out (`expire`)."""
    assert wish.starts_at is not None and wish.professional_id is not None
    appointment = book(
        session,
        clinic_id=clinic.id or 0,
        patient=_nobody_yet(session, clinic, visitor.phone, now),
        service=service,
        professional_id=wish.professional_id,
        starts_at=wish.starts_at,
        source_channel=CHANNEL,
        now=now,
    )
    appointment.status = AppointmentStatus.held
    appointment.hold_expires_at = now + timedelta(minutes=clinic.web_hold_minutes)
    session.add(appointment)
    session.flush()
    return appointment


def _nobody_yet(session: Session, clinic: Clinic, phone: str, now: datetime) -> Patient:
    """Whom an unproven hold is for: the phone's nameless first contact, or a new nameless
    one. Until the phone's own code comes, nothing the page was told (a name, an ID) is
    written on anyone: a stranger's form must not name the phone's owner, on WhatsApp or
    in the console, nor leave a named patient behind when the code never comes."""
    patient = first_contact(session, clinic.id or 0, phone, now)
    session.flush()
    return patient


def _patient(session: Session, clinic: Clinic, visitor: Visitor, now: datetime) -> Patient:
    """The person picked on the phone, or the one of that name, or a new one."""
    chosen = session.get(Patient, visitor.patient_id) if visitor.patient_id else None
    if chosen is not None and chosen.clinic_id == clinic.id and chosen.phone == visitor.phone:
        return chosen
    patient = patient_named(
        session, clinic.id or 0, visitor.phone, visitor.name, visitor.language, now
    )
    _fill_in(patient, visitor)
    session.add(patient)
    return patient


def _carry_out(
    session: Session,
    clinic: Clinic,
    service: Service,
    visitor: Visitor,
    wish: Wish,
    kind: str,
    now: datetime,
) -> int | None:
    """Book, join the waitlist or leave the request; the appointment's id for a booking."""
    if kind == "book":
        assert wish.starts_at is not None and wish.professional_id is not None
        patient = _patient(session, clinic, visitor, now)
        appointment = book_for_phone(
            session,
            clinic,
            ForPhone(visitor.phone, patient.name or visitor.name, visitor.language),
            service=service,
            professional_id=wish.professional_id,
            starts_at=wish.starts_at,
            channel=CHANNEL,
            actor=WEB,
            now=now,
        )
        return appointment.id
    if kind == "waitlist":
        patient = _patient(session, clinic, visitor, now)
        join(
            session,
            clinic_id=clinic.id or 0,
            patient_id=patient.id or 0,
            phone=visitor.phone,
            service_id=service.id or 0,
            professional_id=wish.professional_id,
            day=wish.day,
            part=None,
            now=now,
        )
        return None
    create_request(
        session,
        clinic.id or 0,
        NewRequest(
            phone=visitor.phone,
            patient_name=visitor.name,
            service_id=service.id or 0,
            preferred=wish.preferred or wish.day.isoformat(),
            language=visitor.language,
        ),
        now,
    )
    return None


def prove(
    session: Session, clinic: Clinic, phone: str, proof: str, now: datetime
) -> WebBooking | None:
    """The phone's own message brought a code: the attempt it names, made for this phone
    and still waiting, is carried out (a held time booked, with the confirmation and
    reminders every booking gets). None when no such attempt waits."""
    row = session.exec(
        select(WebBooking)
        .where(
            WebBooking.clinic_id == clinic.id,
            WebBooking.phone == phone,
            WebBooking.proof == proof.upper(),
            WebBooking.status == WebBookingStatus.waiting,
            col(WebBooking.expires_at) > now,
        )
        .with_for_update()
    ).first()
    if row is None:
        return None
    details = json.loads(row.details)
    visitor = Visitor(**{k: details[k] for k in Visitor.__dataclass_fields__})
    if row.kind == "book":
        if not _book_held(session, clinic, row.appointment_id or 0, visitor, now):
            return None
    else:
        wish = Wish(
            service_id=int(details["service_id"]),
            professional_id=details["professional_id"],
            day=date.fromisoformat(details["day"]),
            preferred=details.get("preferred", ""),
        )
        service = session.get(Service, wish.service_id)
        if service is None:
            return None
        _carry_out(session, clinic, service, visitor, wish, row.kind, now)
    row.status = WebBookingStatus.done
    session.add(row)
    session.flush()
    return row


def came_late(session: Session, clinic_id: int, phone: str, proof: str) -> WebBooking | None:
    """The attempt the code was this phone's for, no longer waiting (its time ran out):
    the patient is told so, rather than the bot guessing at the message."""
    return session.exec(
        select(WebBooking).where(
            WebBooking.clinic_id == clinic_id,
            WebBooking.phone == phone,
            WebBooking.proof == proof.upper(),
            WebBooking.kind != REVIEW,
            WebBooking.status != WebBookingStatus.done,  # a code sent again: nothing to say
        )
    ).first()


def language_of(row: WebBooking) -> str | None:
    """The page's language when the attempt was made: the one the patient is answered in."""
    language = json.loads(row.details).get("language")
    return str(language) if language else None


def _book_held(
    session: Session, clinic: Clinic, appointment_id: int, visitor: Visitor, now: datetime
) -> bool:
    """The held time becomes an appointment like any other (one conditional UPDATE), for
    the person the page was told of, named now that the phone proved it."""
    done = session.execute(
        update(Appointment)
        .where(
            col(Appointment.id) == appointment_id,
            col(Appointment.status) == AppointmentStatus.held,
        )
        .values(status=AppointmentStatus.booked, hold_expires_at=None, updated_at=now)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        return False
    appointment = session.get(Appointment, appointment_id)
    assert appointment is not None
    session.refresh(appointment)
    _name(session, appointment.patient_id, visitor)
    booked(session, clinic, appointment, WEB, now)
    return True


def _name(session: Session, patient_id: int, visitor: Visitor) -> None:
    """What the page was told of the person, on the patient the time was held for."""
    patient = session.get(Patient, patient_id)
    assert patient is not None
    _fill_in(patient, visitor)
    session.add(patient)
    session.flush()


def _fill_in(patient: Patient, visitor: Visitor) -> None:
    """What the patient's row lacks, from what the page was told (nothing is overwritten)."""
    patient.name = patient.name or visitor.name
    patient.language = patient.language or visitor.language
    patient.dni = patient.dni or visitor.dni or None
    patient.insurance = patient.insurance or visitor.insurance or None


def expire(session: Session, now: datetime, limit: int = 500) -> int:
    """Attempts whose code did not come in time end; a time held for one is released
    (and offered to the day's waitlist like any freed time)."""
    query = (
        select(WebBooking)
        .where(
            col(WebBooking.status) == WebBookingStatus.waiting,
            col(WebBooking.expires_at) <= now,
        )
        .order_by(col(WebBooking.expires_at))
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = list(session.exec(query))
    for row in rows:
        row.status = WebBookingStatus.expired
        session.add(row)
        if row.appointment_id is not None:
            release_hold(session, row.appointment_id, now)
    session.flush()
    return len(rows)


def attempt(session: Session, clinic_id: int, attempt_id: int) -> WebBooking | None:
    row = session.get(WebBooking, attempt_id)
    return row if row is not None and row.clinic_id == clinic_id else None
