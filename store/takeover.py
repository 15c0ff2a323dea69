"""Staff taking a conversation over: pausing the bot for everyone on a phone, writing to
the patient by hand through the outbox, handing the conversation back, and the quiet
time after which a paused bot resumes by itself."""

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from store.conversations import pause_bot
from store.db import insert_or_skip
from store.message_kinds import MessageKind
from store.models import Clinic, Conversation, Patient
from store.outbox import enqueue


def conversation_for(session: Session, clinic_id: int, phone: str, now: datetime) -> Conversation:
    """The phone's conversation, made (empty) if the phone never wrote."""
    statement = insert_or_skip(
        session.get_bind().dialect.name, Conversation, ("clinic_id", "phone")
    )
    session.connection().execute(
        statement,
        {
            "clinic_id": clinic_id,
            "phone": phone,
            "state": "{}",
            "needs_staff": False,
            "updated_at": now,
        },
    )
    found = session.exec(
        select(Conversation)
        .where(Conversation.clinic_id == clinic_id, Conversation.phone == phone)
        .with_for_update()
    ).one()
    return found


def is_paused(session: Session, clinic_id: int, phone: str) -> bool:
    """Whether the bot is paused for anybody on the phone (it then stays quiet for all)."""
    return (
        session.exec(
            select(col(Patient.id)).where(
                Patient.clinic_id == clinic_id, Patient.phone == phone, col(Patient.bot_paused)
            )
        ).first()
        is not None
    )


def take_over(session: Session, clinic_id: int, phone: str, now: datetime) -> Conversation:
    """Pause the bot for everyone on the phone; the quiet time counts from now."""
    pause_bot(session, clinic_id, phone, now)
    conversation = conversation_for(session, clinic_id, phone, now)
    session.refresh(conversation)
    return conversation


def hand_back(session: Session, clinic_id: int, phone: str, now: datetime) -> None:
    """Resume the bot for the phone and clear the request for staff."""
    _unpause(session, clinic_id, phone)
    conversation = conversation_for(session, clinic_id, phone, now)
    conversation.needs_staff = False
    conversation.taken_over_at = None
    conversation.updated_at = now


def reply_by_hand(
    session: Session,
    clinic: Clinic,
    phone: str,
    body: str,
    submission: str,
    now: datetime,
    language: str | None = None,
) -> bool:
    """Queue what staff wrote (kind "staff": sent even to a paused patient) and pause the
    bot for the phone. `submission` names the form that was sent, so sending it twice
    queues one message; returns whether it was new."""
    conversation = take_over(session, clinic.id or 0, phone, now)
    added = enqueue(
        session,
        clinic_id=clinic.id or 0,
        idempotency_key=f"staff:{conversation.id}:{submission}",
        from_phone=clinic.whatsapp_number,
        to_phone=phone,
        body=body,
        now=now,
        kind=MessageKind.staff,
        language=language,
    )
    conversation.needs_staff = False  # answered
    conversation.updated_at = now
    return added > 0


def resumes_at(taken_over_at: datetime | None, quiet_minutes: int) -> datetime | None:
    """When a paused bot resumes by itself (None: only when staff resume it)."""
    if taken_over_at is None or quiet_minutes <= 0:
        return None
    return taken_over_at + timedelta(minutes=quiet_minutes)


def resume_if_quiet(
    session: Session, clinic: Clinic, phone: str, taken_over_at: datetime | None, now: datetime
) -> bool:
    """At an inbound message: resume the bot when staff have been quiet long enough.
    `needs_staff` stays as it is: a request nobody answered keeps its place in the inbox."""
    due = resumes_at(taken_over_at, clinic.bot_resume_after_minutes)
    if due is None or now < due:
        return False
    _unpause(session, clinic.id or 0, phone)
    session.connection().execute(
        update(Conversation)
        .where(col(Conversation.clinic_id) == clinic.id, col(Conversation.phone) == phone)
        .values(taken_over_at=None)
    )
    return True


def resume_quiet(session: Session, now: datetime) -> int:
    """Resume every conversation whose staff have been quiet for its clinic's quiet time
    (run by the worker every minute, so reminders reach a patient nobody answers)."""
    taken = session.exec(
        select(Conversation, col(Clinic.bot_resume_after_minutes))
        .join(Clinic, col(Clinic.id) == col(Conversation.clinic_id))
        .where(col(Conversation.taken_over_at).is_not(None))
        .with_for_update(of=Conversation)
    ).all()
    resumed = 0
    for conversation, minutes in taken:
        due = resumes_at(conversation.taken_over_at, minutes)
        if due is None or now < due:
            continue
        _unpause(session, conversation.clinic_id, conversation.phone)
        conversation.taken_over_at = None
        resumed += 1
    return resumed


def _unpause(session: Session, clinic_id: int, phone: str) -> None:
    session.connection().execute(
        update(Patient)
        .where(col(Patient.clinic_id) == clinic_id, col(Patient.phone) == phone)
        .values(bot_paused=False)
    )
