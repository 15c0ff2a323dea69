"""The store side of one inbound message: who the clinic is, whether the message is new,
the conversation locked for this message, and the people on the phone."""

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import update
from sqlmodel import Session, col, select

from store.driver import Db, Sql, dialect_of, first, flag, rows, run, utc
from store.models import Clinic, Conversation, Patient


def clinic_by_number(session: Session, number: str) -> Clinic | None:
    return session.exec(select(Clinic).where(Clinic.whatsapp_number == number)).first()


_CATALOG_VERSION = Sql("SELECT catalog_version FROM clinic WHERE id = :id")


def catalog_version(db: Db, clinic_id: int) -> int | None:
    """The clinic's catalog version (`store.catalog_version`), None if it is gone: one
    integer read by primary key, which tells a cache whether its catalog is current."""
    row = first(db, _CATALOG_VERSION, {"id": clinic_id})
    return None if row is None else int(row[0])


INBOUND_COLUMNS = (
    "message_sid", "clinic_id", "from_phone", "to_phone", "body", "num_media", "fields",
    "handled_by_bot", "received_at",
)  # fmt: skip
_RECORD_INBOUND = Sql(
    f"INSERT INTO inbound_message ({', '.join(INBOUND_COLUMNS)})"
    f" VALUES ({', '.join(':' + c for c in INBOUND_COLUMNS)})"
    " ON CONFLICT (message_sid) DO NOTHING RETURNING id"
)


def inbound_row(
    *,
    message_sid: str,
    clinic_id: int | None,
    from_phone: str,
    to_phone: str,
    body: str,
    num_media: int,
    fields: dict[str, str],
    now: datetime,
) -> dict[str, Any]:
    """The `inbound_message` row (`INBOUND_COLUMNS`) that keeps a message received at `now`."""
    return {
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


def record_inbound(db: Db, row: dict[str, Any]) -> int | None:
    """Keep the message (`inbound_row`); None when this MessageSid was already accepted (an
    atomic insert, so two deliveries at once cannot both pass)."""
    found = first(db, _RECORD_INBOUND, row)
    return None if found is None else cast(int, found[0])


_NOT_HANDLED = Sql("UPDATE inbound_message SET handled_by_bot = :no WHERE id = :inbound_id")


def mark_not_handled(db: Db, inbound_id: int) -> None:
    run(db, _NOT_HANDLED, {"inbound_id": inbound_id, "no": False}).close()


@dataclass(frozen=True)
class LockedConversation:
    id: int
    state: str  # JSON of the engine's ConversationState
    needs_staff: bool
    taken_over_at: datetime | None = None


_LOCK_CONVERSATION = {
    dialect: Sql(
        "SELECT id, state, needs_staff, taken_over_at FROM conversation"
        f" WHERE clinic_id = :clinic_id AND phone = :phone{lock}"
    )
    for dialect, lock in (("postgresql", " FOR UPDATE"), ("sqlite", ""))
}
_START_CONVERSATION = Sql(
    """INSERT INTO conversation (clinic_id, phone, state, needs_staff, updated_at)
    VALUES (:clinic_id, :phone, '{}', :needs_staff, :now)
    ON CONFLICT (clinic_id, phone) DO NOTHING"""
)


def lock_conversation(db: Db, clinic_id: int, phone: str, now: datetime) -> LockedConversation:
    """The phone's conversation, created if new and locked until the transaction ends, so
    one conversation advances one message at a time (SQLite's transactions hold the
    database's write lock from their start)."""
    key = {"clinic_id": clinic_id, "phone": phone}
    lock = _LOCK_CONVERSATION[dialect_of(db)]
    found = first(db, lock, key)
    if found is None:
        run(db, _START_CONVERSATION, {**key, "needs_staff": False, "now": now}).close()
        found = first(db, lock, key)
    return conversation_from_row(found)


def conversation_from_row(row: Any) -> LockedConversation:
    """(id, state, needs_staff, taken_over_at) as read."""
    conversation_id, state, needs_staff, taken_over_at = row
    return LockedConversation(conversation_id, state, flag(needs_staff), utc(taken_over_at))


_SAVE_CONVERSATION = Sql(
    """UPDATE conversation SET state = :state, needs_staff = :needs_staff,
        last_inbound_at = :now, updated_at = :now
    WHERE id = :conversation_id"""
)


def save_conversation(
    db: Db, conversation_id: int, *, state: str, needs_staff: bool, now: datetime
) -> None:
    """Where the conversation now stands, after a message that arrived at `now`."""
    values = {"conversation_id": conversation_id, "state": state, "needs_staff": needs_staff}
    run(db, _SAVE_CONVERSATION, {**values, "now": now}).close()


@dataclass(frozen=True)
class PersonOnPhone:
    id: int
    name: str | None
    bot_paused: bool
    opted_out: bool


_PEOPLE_ON_PHONE = Sql(
    """SELECT id, name, bot_paused, opted_out FROM patient
    WHERE clinic_id = :clinic_id AND phone = :phone ORDER BY id"""
)
_FIRST_CONTACT = Sql(
    """INSERT INTO patient (clinic_id, phone, bot_paused, opted_out, first_seen_at)
    VALUES (:clinic_id, :phone, :bot_paused, :opted_out, :first_seen_at) RETURNING id"""
)


def people_on_phone(db: Db, clinic_id: int, phone: str, now: datetime) -> list[PersonOnPhone]:
    """The patients who share this phone; a first contact becomes a patient without a name."""
    found = rows(db, _PEOPLE_ON_PHONE, {"clinic_id": clinic_id, "phone": phone})
    people = [person_from_row(row) for row in found]
    if not people:
        row = {"clinic_id": clinic_id, "phone": phone, "first_seen_at": now}
        new = first(db, _FIRST_CONTACT, {**row, "bot_paused": False, "opted_out": False})
        people = [PersonOnPhone(new[0], None, False, False)]
    return people


def person_from_row(row: Any) -> PersonOnPhone:
    """(id, name, bot_paused, opted_out) as read."""
    pid, name, paused, opted_out = row
    return PersonOnPhone(pid, name, flag(paused), flag(opted_out))


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
