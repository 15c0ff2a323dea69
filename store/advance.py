"""A message that only moves its conversation along (the engine decided no effect): what
it is decided on, read outside any transaction, and then its writes, all or nothing, on
condition that the conversation still stands as it was read. On one connection used
through its driver (`store.driver.Raw`); `usecases.inbound` takes the full path otherwise."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from store.conversations import (
    INBOUND_COLUMNS,
    LockedConversation,
    PersonOnPhone,
    conversation_from_row,
    person_from_row,
    record_inbound,
)
from store.driver import Raw, Sql, first, rows, utc
from store.models import BUSINESS_QUESTIONS
from store.outbox import OUTBOX_COLUMNS, insert_rows
from store.prompts import LastAsked, last_asked_columns

_CONVERSATION_AND_PEOPLE = Sql(
    f"""SELECT c.id, c.state, c.needs_staff, c.taken_over_at,
        p.id, p.name, p.bot_paused, p.opted_out, {last_asked_columns("c")}
    FROM conversation c
    LEFT JOIN patient p ON p.clinic_id = c.clinic_id AND p.phone = c.phone
    WHERE c.clinic_id = :clinic_id AND c.phone = :phone
    ORDER BY p.id"""
)


def conversation_and_people(
    db: Raw, clinic_id: int, phone: str
) -> tuple[LockedConversation | None, list[PersonOnPhone], LastAsked]:
    """The phone's conversation as committed (neither created nor locked), the people on
    the phone and when it was last asked each business question, in one read."""
    found = rows(db, _CONVERSATION_AND_PEOPLE, {"clinic_id": clinic_id, "phone": phone})
    if not found:
        return None, [], {}
    conversation = conversation_from_row(found[0][:4])
    people = [person_from_row(row[4:8]) for row in found if row[4] is not None]
    last_asked: dict[str, datetime | None] = {
        kind: utc(at) for kind, at in zip(BUSINESS_QUESTIONS, found[0][8:], strict=True)
    }
    return conversation, people, last_asked


class Advanced(StrEnum):
    done = "done"
    duplicate = "duplicate"  # the message was already kept: nothing written
    moved = "moved"  # another message moved the conversation meanwhile: nothing written


def advance(
    db: Raw,
    *,
    inbound: dict[str, Any],
    was: LockedConversation,
    state: str,
    replies: list[dict[str, Any]],
    now: datetime,
) -> Advanced:
    """Keep the inbound message (`inbound`: its `inbound_row`), queue its
    reply (`replies`: `outbox_rows`) and save the conversation's new state, if it still
    stands as `was`. On PostgreSQL, where every statement is a round trip, a one-piece
    reply goes in one statement; otherwise the same steps run in one short transaction."""
    if db.dialect == "postgresql" and len(replies) == 1:
        return _at_once(db, inbound, was, state, replies[0], now)
    try:
        with db.transaction():
            if first(db, _SAVE_IF_STANDING[db.dialect], _standing(was, state, now)) is None:
                return Advanced.moved  # nothing written
            if record_inbound(db, inbound) is None:
                raise _Duplicate  # rolls the new state back
            insert_rows(db, replies)
    except _Duplicate:
        return Advanced.duplicate
    return Advanced.done


class _Duplicate(Exception):
    """The message was kept already: undo the attempt."""


class _Moved(Exception):
    """The phone is no longer new (another message, or staff, got there first): undo."""


def start(
    db: Raw,
    *,
    inbound: dict[str, Any],
    clinic_id: int,
    phone: str,
    language: str | None,
    state: str,
    replies: list[dict[str, Any]],
    now: datetime,
) -> Advanced:
    """A phone's first message, from a phone the clinic has neither a conversation nor a
    patient for: its conversation starts at `state`, the phone becomes a patient without a
    name (writing in `language`, if the engine heard one), the message is kept and its reply
    queued, all or nothing; what the full path would write, in one short transaction."""
    key = {"clinic_id": clinic_id, "phone": phone}
    started = {**key, "state": state, "needs_staff": False, "now": now}
    nameless = {**key, "on_phone": phone, "first_seen_at": now, "language": language}
    try:
        with db.transaction():
            if db.dialect == "postgresql" and len(replies) == 1:
                out = _reply_parameters(replies[0])
                begun, nobody_on_phone, kept = first(
                    db, _START_AT_ONCE, {**inbound, **started, **nameless, **out}
                )
                if not (begun and nobody_on_phone):
                    raise _Moved
                if not kept:
                    raise _Duplicate
                return Advanced.done
            if first(db, _START, started) is None:
                raise _Moved
            if record_inbound(db, inbound) is None:
                raise _Duplicate
            if first(db, _NEW_PATIENT, nameless) is None:
                raise _Moved
            insert_rows(db, replies)
    except _Duplicate:
        return Advanced.duplicate
    except _Moved:
        return Advanced.moved
    return Advanced.done


_START = Sql(
    """INSERT INTO conversation (clinic_id, phone, state, needs_staff, last_inbound_at, updated_at)
    VALUES (:clinic_id, :phone, :state, :needs_staff, :now, :now)
    ON CONFLICT (clinic_id, phone) DO NOTHING RETURNING id"""
)
# Only while nobody is on the phone: a patient staff registered has no conversation yet,
# and the turn was decided as if the phone were unknown. (The phone twice, as two
# parameters: PostgreSQL deduces one type for each, text here and varchar there.)
_NEW_PATIENT = Sql(
    """INSERT INTO patient (clinic_id, phone, bot_paused, opted_out, first_seen_at, language)
    SELECT :clinic_id, :phone, FALSE, FALSE, :first_seen_at, :language
    WHERE NOT EXISTS (SELECT 1 FROM patient WHERE clinic_id = :clinic_id AND phone = :on_phone)
    RETURNING id"""
)


def _keep_message_if(source: str) -> str:
    """The inbound message (`:column` parameters) kept if the CTE `source` has a row."""
    return f"""
        INSERT INTO inbound_message ({", ".join(INBOUND_COLUMNS)})
        SELECT {", ".join(":" + c for c in INBOUND_COLUMNS)} FROM {source}
        ON CONFLICT (message_sid) DO NOTHING RETURNING id"""


# The reply (`:out_column` parameters, see `_reply_parameters`) queued if the message was kept.
_QUEUE_REPLY_IF_KEPT = f"""
        INSERT INTO outbox_message ({", ".join(OUTBOX_COLUMNS)})
        SELECT {", ".join(":out_" + c for c in OUTBOX_COLUMNS)} FROM kept
        ON CONFLICT (idempotency_key) DO NOTHING RETURNING id"""


def _reply_parameters(reply: dict[str, Any]) -> dict[str, Any]:
    return {f"out_{k}": v for k, v in reply.items()}


# The same in one statement, for PostgreSQL, where each is a round trip: each step only
# if the one before it happened, and what happened said, so that the caller rolls back
# a start that cannot be whole.
_START_AT_ONCE = Sql(
    f"""WITH started AS (
        INSERT INTO conversation
            (clinic_id, phone, state, needs_staff, last_inbound_at, updated_at)
        VALUES (:clinic_id, :phone, :state, :needs_staff, :now, :now)
        ON CONFLICT (clinic_id, phone) DO NOTHING RETURNING id
    ), nobody AS (
        SELECT id FROM started WHERE NOT EXISTS
            (SELECT 1 FROM patient WHERE clinic_id = :clinic_id AND phone = :on_phone)
    ), kept AS ({_keep_message_if("nobody")}
    ), named AS (
        INSERT INTO patient (clinic_id, phone, bot_paused, opted_out, first_seen_at, language)
        SELECT :clinic_id, :phone, FALSE, FALSE, :first_seen_at, :language
        FROM kept RETURNING id
    ), queued AS ({_QUEUE_REPLY_IF_KEPT}
    )
    SELECT EXISTS (SELECT 1 FROM started), EXISTS (SELECT 1 FROM nobody),
        EXISTS (SELECT 1 FROM kept)"""
)


def _standing(was: LockedConversation, state: str, now: datetime) -> dict[str, Any]:
    return {
        "conversation_id": was.id,
        "was_state": was.state,
        "needs_staff": was.needs_staff,
        "was_taken_over_at": was.taken_over_at,
        "state": state,
        "now": now,
    }


def _stands_as_read(same: str) -> str:
    """The conversation row as it was read (`same`: the dialect's NULL-safe equality)."""
    return (
        "id = :conversation_id AND state = :was_state AND needs_staff = :needs_staff"
        f" AND taken_over_at {same} :was_taken_over_at"
    )


# The new state, only if the conversation stands as read (which locks it till commit).
_SAVE_IF_STANDING = {
    dialect: Sql(
        "UPDATE conversation SET state = :state, last_inbound_at = :now, updated_at = :now"
        f" WHERE {_stands_as_read(same)} RETURNING id"
    )
    for dialect, same in [("sqlite", "IS"), ("postgresql", "IS NOT DISTINCT FROM")]
}


# The conversation locked only if it stands as read; the message kept only then; the
# reply and the new state only for a message kept now (not a repeat).
_AT_ONCE = Sql(
    f"""WITH standing AS (
        SELECT id FROM conversation WHERE {_stands_as_read("IS NOT DISTINCT FROM")}
        FOR UPDATE
    ), kept AS ({_keep_message_if("standing")}
    ), queued AS ({_QUEUE_REPLY_IF_KEPT}
    ), saved AS (
        UPDATE conversation SET state = :state, last_inbound_at = :now, updated_at = :now
        WHERE id IN (SELECT id FROM standing) AND EXISTS (SELECT 1 FROM kept)
        RETURNING id
    )
    SELECT EXISTS (SELECT 1 FROM standing), EXISTS (SELECT 1 FROM kept)"""
)


def _at_once(
    db: Raw,
    inbound: dict[str, Any],
    was: LockedConversation,
    state: str,
    reply: dict[str, Any],
    now: datetime,
) -> Advanced:
    params = {**inbound, **_standing(was, state, now), **_reply_parameters(reply)}
    standing, kept = first(db, _AT_ONCE, params)
    if not standing:
        return Advanced.moved
    return Advanced.done if kept else Advanced.duplicate
