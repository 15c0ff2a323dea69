"""Helpers for the due-notification tests: book through the store, run the worker's passes
at a given time, and read what became of the notifications and the outbox."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, time

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from channel.twilio import TwilioChannel
from scheduler.notifications import NotificationReport, queue_due_notifications
from scheduler.worker import dispatch_job
from store.appointments import Actor, booked
from store.booking import book
from store.db import transaction
from store.models import Clinic, Conversation, Notification, OutboxMessage, Patient, Service
from tests.support import Clock, TestClinic
from turnero.fake_twilio import FakeTwilio

BASE_URL = "https://turnero.example.org"
SECRET = "notification-test-secret"
STAFF = Actor("staff:ana", "console")
CHAT = Actor("patient", "whatsapp")


def set_reminders(db: Engine, clinic_id: int, hours_before: int | None, day_before_at: time | None):
    with transaction(db) as session:
        clinic = session.get(Clinic, clinic_id)
        assert clinic is not None
        clinic.reminder_hours_before = hours_before
        clinic.reminder_day_before_at = day_before_at


def patient(db: Engine, clinic_id: int, phone: str, **fields: object) -> int:
    """The patient on `phone` (created the first time), with `fields` set."""
    with transaction(db) as session:
        found = session.exec(
            select(Patient).where(Patient.clinic_id == clinic_id, Patient.phone == phone)
        ).first()
        if found is None:
            found = Patient(clinic_id=clinic_id, phone=phone, name="Rosa Giménez")
        for name, value in fields.items():
            setattr(found, name, value)
        session.add(found)
        session.flush()
        assert found.id is not None
        return found.id


def writes(db: Engine, clinic_id: int, phone: str, at: datetime) -> None:
    """The patient on `phone` wrote to the clinic at `at`: WhatsApp's 24-hour window for
    free-form messages opens from then."""
    with transaction(db) as session:
        found = session.exec(
            select(Conversation).where(
                Conversation.clinic_id == clinic_id, Conversation.phone == phone
            )
        ).first()
        found = found or Conversation(clinic_id=clinic_id, phone=phone)
        found.last_inbound_at = at
        session.add(found)


def book_at(
    db: Engine,
    clinic: TestClinic,
    starts_at: datetime,
    now: datetime,
    *,
    phone: str = "+595981222333",
    professional: str = "ana",
    actor: Actor = STAFF,
    service: str = "general",
    **patient_fields: object,
) -> int:
    """Book as staff (or `actor`) would: the appointment, its history, its reminders and,
    outside the chat, its booking confirmation."""
    patient_id = patient(db, clinic.id, phone, **patient_fields)
    with transaction(db) as session:
        person = session.get(Patient, patient_id)
        offered = session.get(Service, clinic.services[service])
        assert person is not None and offered is not None
        appointment = book(
            session,
            clinic_id=clinic.id,
            patient=person,
            service=offered,
            professional_id=clinic.professionals[professional],
            starts_at=starts_at,
            source_channel=actor.channel,
            now=now,
        )
        booked(session, session.get(Clinic, clinic.id), appointment, actor, now)  # type: ignore[arg-type]
        assert appointment.id is not None
        return appointment.id


def run_pass(db: Engine, now: datetime, limit: int = 500) -> NotificationReport:
    return queue_due_notifications(db, now, base_url=BASE_URL, secret=SECRET, limit=limit)


@dataclass(frozen=True)
class Planned:
    kind: str
    step: str
    status: str
    reason: str | None
    due_at: datetime
    outbox_message_id: int | None


def notifications(db: Engine, appointment_id: int | None = None) -> list[Planned]:
    with Session(db) as session:
        query = select(Notification).order_by(col(Notification.due_at), col(Notification.id))
        if appointment_id is not None:
            query = query.where(Notification.appointment_id == appointment_id)
        return [
            Planned(n.kind, n.step, n.status, n.reason, n.due_at, n.outbox_message_id)
            for n in session.exec(query)
        ]


def outbox(db: Engine) -> list[OutboxMessage]:
    with Session(db) as session:
        return list(session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))))


def channel_for(fake: FakeTwilio) -> TwilioChannel:
    return TwilioChannel(fake.account_sid, fake.auth_token, api_url=fake.url, timeout=5)


def worker_passes(db: Engine, channel: TwilioChannel, clock: Clock) -> None:
    """What the worker does at one tick: queue due notifications, then dispatch."""
    run_pass(db, clock())
    dispatch_job(db, channel, clock)


def fake_twilio(clock: Clock) -> Iterator[FakeTwilio]:
    with FakeTwilio(clock=clock) as fake:
        yield fake
