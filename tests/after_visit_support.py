"""Helpers for the tests of what follows a visit: clinic settings, outcomes marked by
staff, and what the due-notifications pass queued for each kind."""

from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from store.appointments import Actor
from store.db import transaction
from store.models import (
    Appointment,
    AppointmentEvent,
    Clinic,
    Conversation,
    NoShowRecovery,
    OutboxMessage,
    Service,
    SurveyResponse,
)
from store.outcomes import complete, mark_no_show

FRONT_DESK = Actor("staff:ana", "console")
AFTER_VISIT_KINDS = ("no_show_1", "no_show_2", "no_show_3", "care", "survey")


def clinic_settings(db: Engine, clinic_id: int, **fields: Any) -> None:
    with transaction(db) as session:
        clinic = session.get(Clinic, clinic_id)
        assert clinic is not None
        for name, value in fields.items():
            setattr(clinic, name, value)


def care_template(db: Engine, service_id: int, key: str | None) -> None:
    with transaction(db) as session:
        service = session.get(Service, service_id)
        assert service is not None
        service.care_template = key


def staff_marks(db: Engine, appointment_id: int, outcome: str, now: datetime) -> None:
    """The front desk marks the visit `completed` or `no_show` at `now`."""
    with transaction(db) as session:
        appointment = session.get(Appointment, appointment_id)
        assert appointment is not None
        mark = complete if outcome == "completed" else mark_no_show
        mark(session, appointment, FRONT_DESK, now)


def after_visit_messages(db: Engine, appointment_id: int | None = None) -> list[OutboxMessage]:
    """The outbox rows of the kinds that follow a visit, oldest first."""
    with Session(db) as session:
        query = (
            select(OutboxMessage)
            .where(col(OutboxMessage.kind).in_(AFTER_VISIT_KINDS))
            .order_by(col(OutboxMessage.id))
        )
        if appointment_id is not None:
            query = query.where(OutboxMessage.appointment_id == appointment_id)
        return list(session.exec(query))


def kinds(db: Engine, appointment_id: int | None = None) -> list[str]:
    return [m.kind for m in after_visit_messages(db, appointment_id)]


def status_of(db: Engine, appointment_id: int) -> str:
    with Session(db) as session:
        appointment = session.get(Appointment, appointment_id)
        assert appointment is not None
        return appointment.status


def recovery(db: Engine, appointment_id: int) -> NoShowRecovery | None:
    with Session(db) as session:
        return session.exec(
            select(NoShowRecovery).where(NoShowRecovery.appointment_id == appointment_id)
        ).first()


def survey(db: Engine, appointment_id: int) -> SurveyResponse | None:
    with Session(db) as session:
        return session.exec(
            select(SurveyResponse).where(SurveyResponse.appointment_id == appointment_id)
        ).first()


def needs_staff(db: Engine, clinic_id: int, phone: str) -> bool:
    with Session(db) as session:
        conversation = session.exec(
            select(Conversation).where(
                Conversation.clinic_id == clinic_id, Conversation.phone == phone
            )
        ).first()
        return bool(conversation and conversation.needs_staff)


def events(db: Engine, appointment_id: int) -> list[tuple[str, str]]:
    with Session(db) as session:
        return [
            (e.kind, e.actor)
            for e in session.exec(
                select(AppointmentEvent)
                .where(AppointmentEvent.appointment_id == appointment_id)
                .order_by(col(AppointmentEvent.id))
            )
        ]
