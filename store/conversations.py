"""The store side of one inbound message: who the clinic is, whether the message is new,
the conversation locked for this message, and the people on the phone."""

import json
from datetime import datetime

from sqlmodel import Session, col, select

from store.db import insert_or_skip
from store.models import Clinic, Conversation, InboundMessage, Patient


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def clinic_by_number(session: Session, number: str) -> Clinic | None:
    return session.exec(select(Clinic).where(Clinic.whatsapp_number == number)).first()


def record_inbound(
    session: Session,
    *,
    message_sid: str,
    clinic_id: int | None,
    from_phone: str,
    to_phone: str,
    body: str,
    num_media: int,
    fields: dict[str, str],
    now: datetime,
) -> int | None:
    """Keep the message; None when this MessageSid was already accepted (an atomic insert,
    so two deliveries at once cannot both pass)."""
    statement = insert_or_skip(_dialect(session), InboundMessage, ("message_sid",))
    row = {
        "message_sid": message_sid,
        "clinic_id": clinic_id,
        "from_phone": from_phone,
        "to_phone": to_phone,
        "body": body,
        "num_media": num_media,
        "fields": json.dumps(fields, ensure_ascii=False),
        "handled_by_bot": True,
        "received_at": now,
    }
    return session.connection().execute(statement, row).scalar()


def mark_not_handled(session: Session, inbound_id: int) -> None:
    inbound = session.get(InboundMessage, inbound_id)
    if inbound:
        inbound.handled_by_bot = False


def lock_conversation(session: Session, clinic_id: int, phone: str, now: datetime) -> Conversation:
    """The phone's conversation, created if new and locked until the transaction ends, so
    one conversation advances one message at a time."""
    query = (
        select(Conversation)
        .where(Conversation.clinic_id == clinic_id, Conversation.phone == phone)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    found = session.exec(query).first()
    if found is not None:  # the usual case: one statement
        return found
    session.connection().execute(
        insert_or_skip(_dialect(session), Conversation, ("clinic_id", "phone")),
        {
            "clinic_id": clinic_id,
            "phone": phone,
            "state": "{}",
            "needs_staff": False,
            "updated_at": now,
        },
    )
    return session.exec(query).one()


def people_on_phone(session: Session, clinic_id: int, phone: str, now: datetime) -> list[Patient]:
    """The patients who share this phone; a first contact becomes a patient without a name."""
    patients = list(
        session.exec(
            select(Patient)
            .where(Patient.clinic_id == clinic_id, Patient.phone == phone)
            .order_by(col(Patient.id))
        )
    )
    if not patients:
        patient = Patient(clinic_id=clinic_id, phone=phone, first_seen_at=now)
        session.add(patient)
        session.flush()
        patients = [patient]
    return patients
