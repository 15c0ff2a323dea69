"""The store side of one inbound message: who the clinic is, whether the message is new,
the conversation locked for this message, and the people on the phone."""

import json
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import bindparam, insert, update
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


_NOT_HANDLED = (
    update(InboundMessage)
    .where(col(InboundMessage.id) == bindparam("inbound_id"))
    .values(handled_by_bot=False)
)


def mark_not_handled(session: Session, inbound_id: int) -> None:
    session.connection().execute(_NOT_HANDLED, {"inbound_id": inbound_id})


@dataclass(frozen=True)
class LockedConversation:
    id: int
    state: str  # JSON of the engine's ConversationState
    needs_staff: bool
    taken_over_at: datetime | None = None


_LOCK_CONVERSATION = (
    select(
        col(Conversation.id),
        col(Conversation.state),
        col(Conversation.needs_staff),
        col(Conversation.taken_over_at),
    )
    .where(
        col(Conversation.clinic_id) == bindparam("clinic_id"),
        col(Conversation.phone) == bindparam("phone"),
    )
    .with_for_update()
)


def lock_conversation(
    session: Session, clinic_id: int, phone: str, now: datetime
) -> LockedConversation:
    """The phone's conversation, created if new and locked until the transaction ends, so
    one conversation advances one message at a time."""
    key = {"clinic_id": clinic_id, "phone": phone}
    connection = session.connection()
    found = connection.execute(_LOCK_CONVERSATION, key).first()
    if found is None:
        connection.execute(
            insert_or_skip(_dialect(session), Conversation, ("clinic_id", "phone")),
            {**key, "state": "{}", "needs_staff": False, "updated_at": now},
        )
        found = connection.execute(_LOCK_CONVERSATION, key).one()
    conversation_id, state, needs_staff, taken_over_at = found
    return LockedConversation(cast(int, conversation_id), state, needs_staff, taken_over_at)


_SAVE_CONVERSATION = (
    update(Conversation)
    .where(col(Conversation.id) == bindparam("conversation_id"))
    .values(
        state=bindparam("state"),
        needs_staff=bindparam("needs_staff"),
        last_inbound_at=bindparam("now"),
        updated_at=bindparam("now"),
    )
)


def save_conversation(
    session: Session, conversation_id: int, *, state: str, needs_staff: bool, now: datetime
) -> None:
    """Where the conversation now stands, after a message that arrived at `now`."""
    session.connection().execute(
        _SAVE_CONVERSATION,
        {
            "conversation_id": conversation_id,
            "state": state,
            "needs_staff": needs_staff,
            "now": now,
        },
    )


@dataclass(frozen=True)
class PersonOnPhone:
    id: int
    name: str | None
    bot_paused: bool
    opted_out: bool


_PEOPLE_ON_PHONE = (
    select(col(Patient.id), col(Patient.name), col(Patient.bot_paused), col(Patient.opted_out))
    .where(
        col(Patient.clinic_id) == bindparam("clinic_id"), col(Patient.phone) == bindparam("phone")
    )
    .order_by(col(Patient.id))
)
_FIRST_CONTACT = insert(Patient).returning(col(Patient.id))


def people_on_phone(
    session: Session, clinic_id: int, phone: str, now: datetime
) -> list[PersonOnPhone]:
    """The patients who share this phone; a first contact becomes a patient without a name."""
    key = {"clinic_id": clinic_id, "phone": phone}
    connection = session.connection()
    people = [
        PersonOnPhone(cast(int, pid), name, paused, opted_out)
        for pid, name, paused, opted_out in connection.execute(_PEOPLE_ON_PHONE, key)
    ]
    if not people:
        row = {**key, "bot_paused": False, "opted_out": False, "first_seen_at": now}
        people = [
            PersonOnPhone(
                cast(int, connection.execute(_FIRST_CONTACT, row).scalar_one()), None, False, False
            )
        ]
    return people


def pause_bot(session: Session, clinic_id: int, phone: str, now: datetime | None = None) -> None:
    """Staff take over everyone on this phone: the bot stays quiet until resumed. With
    `now`, the conversation's quiet time (`Conversation.taken_over_at`) starts then."""
    session.connection().execute(
        update(Patient)
        .where(col(Patient.clinic_id) == clinic_id, col(Patient.phone) == phone)
        .values(bot_paused=True)
    )
    if now is not None:
        session.connection().execute(
            update(Conversation)
            .where(col(Conversation.clinic_id) == clinic_id, col(Conversation.phone) == phone)
            .values(taken_over_at=now)
        )


def set_opted_out(
    session: Session, clinic_id: int, phone: str, opted_out: bool, now: datetime
) -> None:
    """Opt everyone on this phone at the clinic out of business-initiated messages (or
    back in): the dispatcher and the notifications pass skip them while it holds."""
    session.connection().execute(
        update(Patient)
        .where(col(Patient.clinic_id) == clinic_id, col(Patient.phone) == phone)
        .values(opted_out=opted_out, opted_out_at=now if opted_out else None)
    )


def remember_language(
    session: Session, clinic_id: int, phone: str, language: str, *, chosen: bool = False
) -> None:
    """The language the phone writes in, for the people on it who have none yet; one the
    patient asked for (`chosen`) replaces what they had."""
    statement = update(Patient).where(
        col(Patient.clinic_id) == clinic_id, col(Patient.phone) == phone
    )
    if not chosen:
        statement = statement.where(col(Patient.language).is_(None))
    session.connection().execute(statement.values(language=language))
