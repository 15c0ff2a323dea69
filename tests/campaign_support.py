"""Helpers for the campaign tests: appointments written straight into the store (no
reminders or confirmations of their own to crowd the outbox), and what a campaign sent."""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import count

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.links import Links
from store.campaigns import KEY_PREFIX
from store.db import transaction
from store.models import Appointment, OutboxMessage, Patient
from tests.support import TestClinic

_CODES = count(1)
LINKS = Links("https://turnero.example.org", "campaign-test-secret")


@dataclass(frozen=True)
class Person:
    phone: str
    name: str
    language: str | None = "es"
    fields: tuple[tuple[str, object], ...] = ()


def seat(
    db: Engine,
    clinic: TestClinic,
    person: Person,
    starts_at: datetime,
    *,
    professional: str = "ana",
    service: str = "general",
    status: str = "booked",
    insurance: str | None = None,
) -> int:
    """An appointment of `person` (created at first use) at `starts_at`; its id."""
    with transaction(db) as session:
        patient = session.exec(
            select(Patient).where(Patient.clinic_id == clinic.id, Patient.phone == person.phone)
        ).first()
        if patient is None:
            patient = Patient(
                clinic_id=clinic.id, phone=person.phone, name=person.name, language=person.language
            )
        for name, value in person.fields:
            setattr(patient, name, value)
        if insurance is not None:
            patient.insurance = insurance
        session.add(patient)
        session.flush()
        appointment = Appointment(
            clinic_id=clinic.id,
            professional_id=clinic.professionals[professional],
            service_id=clinic.services[service],
            patient_id=patient.id or 0,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=30),
            status=status,
            code=f"C{next(_CODES):06d}",
        )
        session.add(appointment)
        session.flush()
        return appointment.id or 0


def sent(db: Engine, campaign_id: int) -> list[OutboxMessage]:
    """The campaign's outbox rows, in order."""
    with Session(db) as session:
        return list(
            session.exec(
                select(OutboxMessage)
                .where(col(OutboxMessage.idempotency_key).startswith(f"{KEY_PREFIX}{campaign_id}:"))
                .order_by(col(OutboxMessage.id))
            )
        )


def by_phone(db: Engine, campaign_id: int) -> dict[str, OutboxMessage]:
    rows = sent(db, campaign_id)
    assert len({r.to_phone for r in rows}) == len(rows), "a phone written to twice"
    return {r.to_phone: r for r in rows}


def tags_of(row: OutboxMessage) -> dict[str, str]:
    return dict(json.loads(row.variables or "{}"))
