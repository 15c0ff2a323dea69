"""The store side of sending the outbox: claiming due rows, recording what the channel
answered, and applying Twilio's status callbacks without ever moving a message backwards.

A claimed row is "sending" until the dispatcher marks it; on PostgreSQL the claim skips
rows another dispatcher has locked, so two dispatchers never claim the same row."""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col

from store.db import is_postgres, transaction
from store.error_codes import BLOCKED
from store.message_kinds import ABOUT_AN_APPOINTMENT, ANSWERS, CAMPAIGN_KINDS, Category, MessageKind
from store.models import (
    Appointment,
    AppointmentStatus,
    Clinic,
    MessageStatusEvent,
    OutboxMessage,
    OutboxStatus,
    Patient,
)
from store.send_failures import after_failure

# Progress of a message at Twilio; a callback may only move a message up this ladder.
_RANK: dict[str, int] = {
    OutboxStatus.queued: 0,
    OutboxStatus.accepted: 0,
    OutboxStatus.sending: 1,
    OutboxStatus.sent: 2,
    OutboxStatus.delivered: 3,
    OutboxStatus.read: 4,
}
# Final failures: they override queued/sending/sent, never delivered/read, and nothing
# moves a message out of them.
_TERMINAL = frozenset({OutboxStatus.failed, OutboxStatus.undelivered})
_FAILURE_OVERRIDES = frozenset(
    {OutboxStatus.queued, OutboxStatus.accepted, OutboxStatus.sending, OutboxStatus.sent}
)


def advances(current: str, new: str) -> bool:
    """Whether a message at `current` should move to `new` (statuses we do not know,
    such as "scheduled" or "canceled", never move it)."""
    if current in _TERMINAL:
        return False
    if new in _TERMINAL:
        return current in _FAILURE_OVERRIDES
    if new in _RANK and current in _RANK:
        return _RANK[new] > _RANK[current]
    return False


def _replaceable_by(new: str) -> list[str]:
    """The statuses a message may be in for `new` to replace them."""
    return [s for s in (*_RANK, *_TERMINAL) if advances(s, new)]


# The desk's answer to an appointment request: the patient asked for it, so a paused bot or
# an opt-out does not hold it back, but it may be late and, once the 24-hour window has
# closed, it goes as an approved template like any business-initiated message.
REQUESTED_KINDS = frozenset(k for k in MessageKind if k.category == Category.appointment_request)
ACTIVE_APPOINTMENT = (AppointmentStatus.booked, AppointmentStatus.confirmed)
# Why a claimed message was skipped instead of sent (kept in `error_message`).
TOO_LATE = "too late"
APPOINTMENT_GONE = "appointment cancelled or moved"
RECIPIENT_PAUSED = "patient paused"
RECIPIENT_OPTED_OUT = "patient opted out"
RECIPIENT_INVALID = "number not on WhatsApp"
RECIPIENT_BLOCKED = "patient blocked the clinic's number"


@dataclass
class Claim:
    """A claimed batch: the messages to send now, and how many were skipped instead."""

    messages: list[OutboxMessage]
    skipped: int = 0


def claim_due(engine: Engine, now: datetime, limit: int = 50) -> list[OutboxMessage]:
    """The messages of `claim_batch` to send (see there)."""
    return claim_batch(engine, now, limit).messages


def claim_batch(
    engine: Engine, now: datetime, limit: int = 50, *, skip_senders: Collection[str] = ()
) -> Claim:
    """Take up to `limit` pending messages due at `now` (oldest first), none from the
    sender numbers in `skip_senders`. Those that no longer apply become "skipped" with
    the reason (see `skip_reason`); the others are marked "sending", their attempt
    counted, and returned as detached copies.

    PostgreSQL: `FOR UPDATE SKIP LOCKED`, so concurrent dispatchers split the rows.
    SQLite: each transaction holds the write lock from its start (see store.db)."""
    query = (
        select(OutboxMessage)
        .where(
            col(OutboxMessage.status) == OutboxStatus.pending,
            col(OutboxMessage.next_attempt_at) <= now,
        )
        .order_by(col(OutboxMessage.id))
        .limit(limit)
    )
    if skip_senders:
        query = query.where(col(OutboxMessage.from_phone).not_in(list(skip_senders)))
    if is_postgres(engine):
        query = query.with_for_update(skip_locked=True)
    claim = Claim(messages=[])
    with transaction(engine) as session:
        rows = _in_order(session, list(session.scalars(query)))
        reasons = _skip_reasons(session, rows, now)
        for row in rows:
            row.updated_at = now
            reason = reasons.get(row.id or 0)
            if reason is not None:
                row.status = OutboxStatus.skipped
                row.error_message = reason
                claim.skipped += 1
                continue
            row.status = OutboxStatus.sending
            row.attempts += 1
        session.flush()
        claim.messages = [
            OutboxMessage.model_validate(row) for row in rows if row.status == OutboxStatus.sending
        ]
    return claim


def _in_order(session: Session, rows: list[OutboxMessage]) -> list[OutboxMessage]:
    """The rows minus those with an older message to the same phone still to be sent
    outside this batch (pending, e.g. waiting for a retry, or being sent by another
    dispatcher): they wait, untouched, so each phone gets its messages in the order they
    were written (split pieces included), however many dispatchers run."""
    if not rows:
        return rows
    ids = [row.id for row in rows]
    waiting = session.execute(
        select(
            col(OutboxMessage.clinic_id),
            col(OutboxMessage.to_phone),
            func.min(col(OutboxMessage.id)),
        )
        .where(
            col(OutboxMessage.clinic_id).in_({row.clinic_id for row in rows}),
            col(OutboxMessage.to_phone).in_({row.to_phone for row in rows}),
            col(OutboxMessage.id) < max(i or 0 for i in ids),
            col(OutboxMessage.id).not_in(ids),
            col(OutboxMessage.status).in_((OutboxStatus.pending, OutboxStatus.sending)),
        )
        .group_by(col(OutboxMessage.clinic_id), col(OutboxMessage.to_phone))
    )
    first_waiting = {(clinic_id, phone): first for clinic_id, phone, first in waiting}
    return [
        row
        for row in rows
        if (row.id or 0) < first_waiting.get((row.clinic_id, row.to_phone), float("inf"))
    ]


def sender_rates(engine: Engine, clinic_ids: set[int]) -> dict[int, float]:
    """Each clinic's sends per second from its WhatsApp number (`Clinic.send_rate_per_second`)."""
    if not clinic_ids:
        return {}
    with Session(engine) as session:
        return {
            clinic_id: float(rate)
            for clinic_id, rate in session.execute(
                select(col(Clinic.id), col(Clinic.send_rate_per_second)).where(
                    col(Clinic.id).in_(clinic_ids)
                )
            )
        }


def skip_reason(
    message: OutboxMessage,
    now: datetime,
    appointment: tuple[str, datetime] | None,
    recipient: tuple[bool, bool] | None,
    unreachable: str | None = None,
) -> str | None:
    """Why a message must not be sent now, or None. `appointment` is the (status,
    starts_at) of the one it is about, `recipient` whether anybody on its phone at the
    clinic is (paused, opted out), `unreachable` why WhatsApp cannot reach the phone
    ("invalid", "blocked"). Answers (`ANSWERS`) are always sent."""
    if message.kind in ANSWERS:
        return None
    if message.not_after is not None and now >= message.not_after:
        return TOO_LATE
    if message.kind in ABOUT_AN_APPOINTMENT and message.appointment_id is not None:
        if appointment is None or appointment[0] not in ACTIVE_APPOINTMENT:
            return APPOINTMENT_GONE
        if message.not_after is not None and appointment[1] != message.not_after:
            return APPOINTMENT_GONE
    if (
        message.kind == MessageKind.waitlist_offer  # about a held slot: only while held
        and message.appointment_id is not None
        and (appointment is None or appointment[0] != AppointmentStatus.held)
    ):
        return APPOINTMENT_GONE  # taken, let go or expired since it was queued
    if unreachable is not None:
        return RECIPIENT_BLOCKED if unreachable == BLOCKED else RECIPIENT_INVALID
    if recipient is not None and message.kind not in REQUESTED_KINDS:
        paused, opted_out = recipient
        if opted_out:
            return RECIPIENT_OPTED_OUT
        if paused and message.kind not in CAMPAIGN_KINDS:  # its switch decided when it started
            return RECIPIENT_PAUSED
    return None


def _skip_reasons(session: Session, rows: list[OutboxMessage], now: datetime) -> dict[int, str]:
    """`skip_reason` for a batch, reading appointments and recipients in two statements."""
    checked = [row for row in rows if row.kind not in ANSWERS]
    if not checked:
        return {}
    appointment_ids = {row.appointment_id for row in checked if row.appointment_id is not None}
    appointments: dict[int, tuple[str, datetime]] = {}
    if appointment_ids:
        for appointment_id, status, starts_at in session.execute(
            select(col(Appointment.id), col(Appointment.status), col(Appointment.starts_at)).where(
                col(Appointment.id).in_(appointment_ids)
            )
        ):
            appointments[appointment_id] = (status, starts_at)
    recipients: dict[tuple[int, str], tuple[bool, bool]] = {}
    for clinic_id, phone, paused, opted_out in session.execute(
        select(
            col(Patient.clinic_id),
            col(Patient.phone),
            col(Patient.bot_paused),
            col(Patient.opted_out),
        ).where(
            col(Patient.clinic_id).in_({row.clinic_id for row in checked}),
            col(Patient.phone).in_({row.to_phone for row in checked}),
            or_(col(Patient.bot_paused), col(Patient.opted_out)),
        )
    ):
        before = recipients.get((clinic_id, phone), (False, False))
        recipients[(clinic_id, phone)] = (before[0] or paused, before[1] or opted_out)
    unreachable = _unreachable(session, checked)
    reasons: dict[int, str] = {}
    for row in checked:
        reason = skip_reason(
            row,
            now,
            appointments.get(row.appointment_id) if row.appointment_id is not None else None,
            recipients.get((row.clinic_id, row.to_phone)),
            unreachable.get((row.clinic_id, row.to_phone)),
        )
        if reason is not None:
            reasons[row.id or 0] = reason
    return reasons


def _unreachable(session: Session, rows: list[OutboxMessage]) -> dict[tuple[int, str], str]:
    """Why WhatsApp cannot reach each phone of `rows` that it cannot reach."""
    return {
        (clinic_id, phone): reason
        for clinic_id, phone, reason in session.execute(
            select(col(Patient.clinic_id), col(Patient.phone), col(Patient.unreachable)).where(
                col(Patient.clinic_id).in_({row.clinic_id for row in rows}),
                col(Patient.phone).in_({row.to_phone for row in rows}),
                col(Patient.unreachable).is_not(None),
            )
        )
    }


def mark_sent(
    engine: Engine,
    message_id: int,
    sid: str,
    status: str,
    now: datetime,
    *,
    content_sid: str | None = None,
    attempted_at: datetime | None = None,
    sent_at: datetime | None = None,
) -> None:
    """Record the provider's SID and first status, and the content it was sent with (a
    template or interactive content), if any; when the send started (`attempted_at`) and
    when the provider accepted it (`sent_at`), both `now` unless given. A status callback
    that arrived before this (it can: Twilio may call back before our commit) is applied on
    top, with what its error code asks for."""
    with transaction(engine) as session:
        row = session.get(OutboxMessage, message_id)
        if row is None:
            return
        _record_sent(
            session, row, sid, status, now, attempted_at or now, sent_at or now, content_sid
        )


def _lock_sid(session: Session, sid: str) -> None:
    """Take turns with every other transaction about this SID. Without it, on PostgreSQL
    a callback and the mark of its send can each miss the other's uncommitted write (the
    callback finds no row with the SID, the mark finds no event) and the callback is lost.
    SQLite transactions already take turns (see store.db)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:sid))"), {"sid": sid})


def _record_sent(
    session: Session,
    row: OutboxMessage,
    sid: str,
    status: str,
    now: datetime,
    attempted_at: datetime,
    sent_at: datetime,
    content_sid: str | None = None,
) -> None:
    """The send's outcome, written once this transaction holds the SID's turn: nothing of
    the row is changed before (a change would be flushed, locking the row, ahead of the
    turn, and a callback holding the turn waits on the row: a deadlock)."""
    _lock_sid(session, sid)
    row.twilio_sid = sid
    row.content_sid = content_sid or row.content_sid
    row.attempted_at = attempted_at
    row.sent_at = sent_at
    row.status = status
    row.error_code = None
    row.error_message = None
    row.updated_at = now
    for event_status, error_code in session.execute(
        select(col(MessageStatusEvent.status), col(MessageStatusEvent.error_code))
        .where(col(MessageStatusEvent.message_sid) == sid)
        .order_by(col(MessageStatusEvent.id))
    ):
        if advances(row.status, event_status):
            row.status = event_status
            if event_status in _TERMINAL:
                row.error_code = error_code
    if row.status in _TERMINAL and row.error_code:
        after_failure(session, row, row.error_code, now)


# Rows whose send may have reached Twilio without its SID being recorded.
_UNRECORDED = (OutboxStatus.sending, OutboxStatus.pending, OutboxStatus.unconfirmed)


def _claim_sid(session: Session, outbox_id: int, to_phone: str, sid: str, now: datetime) -> None:
    """Give row `outbox_id` the SID Twilio called back about, if the row has none yet and
    went to the same phone; it stands "queued" until the callback moves it on, accepted
    by now (the dispatcher's own record, if it comes, says when exactly)."""
    session.execute(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.id) == outbox_id,
            col(OutboxMessage.to_phone) == to_phone,
            col(OutboxMessage.twilio_sid).is_(None),
            col(OutboxMessage.status).in_(_UNRECORDED),
        )
        .values(
            twilio_sid=sid,
            status=OutboxStatus.queued,
            error_code=None,
            error_message=None,
            sent_at=now,
            updated_at=now,
        )
    )


# -- reconciling sends cut off by a crash ----------------------------------------------------


@dataclass(frozen=True)
class Stale:
    """A message left "sending" by a dispatcher that died between claim and mark:
    `claimed_at` is when that dispatcher took it, `reclaimed_at` when we did."""

    message: OutboxMessage
    claimed_at: datetime
    reclaimed_at: datetime


def claim_stale(
    engine: Engine, now: datetime, older_than: timedelta, limit: int = 50
) -> list[Stale]:
    """Messages "sending" without a SID since before `now - older_than`. Each is stamped
    with `now`, so no other dispatcher reconciles it meanwhile and only the one that did
    this can settle it (`settle_*` check the stamp)."""
    query = (
        select(OutboxMessage)
        .where(
            col(OutboxMessage.status) == OutboxStatus.sending,
            col(OutboxMessage.twilio_sid).is_(None),
            col(OutboxMessage.updated_at) <= now - older_than,
        )
        .order_by(col(OutboxMessage.id))
        .limit(limit)
    )
    if is_postgres(engine):
        query = query.with_for_update(skip_locked=True)
    with transaction(engine) as session:
        stale = []
        for row in session.scalars(query):
            claimed_at, row.updated_at = row.updated_at, now
            stale.append(Stale(OutboxMessage.model_validate(row), claimed_at, now))
    return stale


def _reclaimed(session: Session, stale: Stale) -> OutboxMessage | None:
    """The row, locked, if it is still as `claim_stale` left it."""
    return session.scalars(
        select(OutboxMessage)
        .where(
            col(OutboxMessage.id) == stale.message.id,
            col(OutboxMessage.status) == OutboxStatus.sending,
            col(OutboxMessage.twilio_sid).is_(None),
            col(OutboxMessage.updated_at) == stale.reclaimed_at,
        )
        .with_for_update()
    ).first()


def settle_found(engine: Engine, stale: Stale, sid: str, status: str, now: datetime) -> bool:
    """Twilio has the message: it was sent; record its SID, never send it again. The cut-off
    attempt started at its claim, and Twilio accepted it then, as near as is known."""
    with transaction(engine) as session:
        row = _reclaimed(session, stale)
        if row is None:
            return False
        known = status in _RANK or status in _TERMINAL
        status = status if known else OutboxStatus.sent
        _record_sent(session, row, sid, status, now, stale.claimed_at, stale.claimed_at)
        return True


def settle_not_found(engine: Engine, stale: Stale, now: datetime) -> bool:
    """Twilio does not have it: back to "pending" for a normal retry."""
    with transaction(engine) as session:
        row = _reclaimed(session, stale)
        if row is None:
            return False
        row.status = OutboxStatus.pending
        row.next_attempt_at = now
        row.error_message = "send interrupted; Twilio does not have it"
        row.attempted_at = stale.claimed_at
        row.updated_at = now
        return True


def settle_unknown(engine: Engine, stale: Stale, error: str, now: datetime) -> bool:
    """Twilio could not be asked: "unconfirmed", for staff to decide; never resent
    automatically."""
    with transaction(engine) as session:
        row = _reclaimed(session, stale)
        if row is None:
            return False
        row.status = OutboxStatus.unconfirmed
        row.error_message = f"send interrupted; Twilio could not tell whether it has it: {error}"
        row.attempted_at = stale.claimed_at
        row.updated_at = now
        return True


def mark_retry(
    engine: Engine,
    message_id: int,
    error: str,
    next_attempt_at: datetime,
    now: datetime,
    *,
    code: str | None = None,
    attempted_at: datetime | None = None,
) -> bool:
    """Put a claimed message back to "pending", due again at `next_attempt_at`, keeping
    the last error for the failed-messages panel and when the attempt started (`now`
    unless given). False if it was not claimed."""
    return _finish(
        engine,
        message_id,
        now,
        status=OutboxStatus.pending,
        next_attempt_at=next_attempt_at,
        error_code=code,
        error_message=error,
        attempted_at=attempted_at or now,
    )


def release(engine: Engine, message_id: int, attempts: int, now: datetime) -> bool:
    """Hand a claimed message back unsent ("pending", due now, its attempt not counted).
    False if it was not claimed."""
    return _finish(
        engine,
        message_id,
        now,
        status=OutboxStatus.pending,
        next_attempt_at=now,
        attempts=attempts,
    )


def mark_failed(
    engine: Engine,
    message_id: int,
    code: str | None,
    message: str,
    now: datetime,
    *,
    attempted_at: datetime | None = None,
) -> bool:
    """Give up on a claimed message, keeping the provider's error code and message and
    when the attempt started (`now` unless given), and do what the code asks for
    (`store.send_failures`) in the same transaction. False if it was not claimed."""
    statement = _claimed(
        message_id,
        now,
        status=OutboxStatus.failed,
        error_code=code,
        error_message=message,
        attempted_at=attempted_at or now,
    )
    with transaction(engine) as session:
        if session.execute(statement).first() is None:
            return False
        row = session.get(OutboxMessage, message_id)
        if row is not None and code:
            after_failure(session, row, code, now)
        return True


def mark_unsent(engine: Engine, message_id: int, status: str, reason: str, now: datetime) -> bool:
    """A claimed message that will not be sent ("not_sendable", "skipped"), with why;
    its attempt is not counted. False if it was not claimed."""
    return _finish(
        engine,
        message_id,
        now,
        status=status,
        error_message=reason,
        attempts=OutboxMessage.attempts - 1,
    )


def _finish(engine: Engine, message_id: int, now: datetime, **values: object) -> bool:
    """Update a row only while it is claimed ("sending" with no SID), so a late or
    repeated mark cannot undo what happened since."""
    with transaction(engine) as session:
        return session.execute(_claimed(message_id, now, **values)).first() is not None


def _claimed(message_id: int, now: datetime, **values: object) -> Any:
    """The update of a row while it is claimed."""
    return (
        update(OutboxMessage)
        .where(
            col(OutboxMessage.id) == message_id,
            col(OutboxMessage.status) == OutboxStatus.sending,
            col(OutboxMessage.twilio_sid).is_(None),
        )
        .values(updated_at=now, **values)
        .returning(col(OutboxMessage.id))
    )


def apply_status_callback(
    engine: Engine,
    *,
    message_sid: str,
    status: str,
    error_code: str | None,
    now: datetime,
    outbox_id: int | None = None,
    to_phone: str | None = None,
) -> bool:
    """Record one status callback; False if this (MessageSid, MessageStatus) was seen
    before. The outbox row only moves forward (read stays read; failed/undelivered
    override queued/sent but not delivered/read). Decided by the database: the event
    insert does nothing on conflict and the update is conditional on the current status.
    A failure that moved the message is then acted on by its code (`store.send_failures`).
    A callback naming its row (`outbox_id`, from the callback's address) whose send was
    never recorded — cut off, or never answered — proves the send: the row takes its SID."""
    insert = pg_insert if is_postgres(engine) else sqlite_insert
    with transaction(engine) as session:
        _lock_sid(session, message_sid)
        if outbox_id is not None and to_phone:
            _claim_sid(session, outbox_id, to_phone, message_sid, now)
        clinic_id = session.scalar(
            select(col(OutboxMessage.clinic_id)).where(col(OutboxMessage.twilio_sid) == message_sid)
        )
        statement = (
            insert(MessageStatusEvent)
            .values(
                clinic_id=clinic_id,
                message_sid=message_sid,
                status=status,
                error_code=error_code,
                received_at=now,
            )
            .on_conflict_do_nothing(index_elements=["message_sid", "status"])
            .returning(col(MessageStatusEvent.id))
        )
        # RETURNING, not rowcount: SQLAlchemy may add RETURNING itself, and then the
        # driver reports rowcount -1 on PostgreSQL.
        if session.execute(statement).first() is None:
            return False
        replaceable = _replaceable_by(status)
        if replaceable:
            values: dict[str, object] = {"status": status, "updated_at": now}
            if status in _TERMINAL:
                values["error_code"] = error_code
            moved = session.execute(
                update(OutboxMessage)
                .where(
                    col(OutboxMessage.twilio_sid) == message_sid,
                    col(OutboxMessage.status).in_(replaceable),
                )
                .values(**values)
                .returning(col(OutboxMessage.id))
            ).all()
            if status in _TERMINAL and error_code:
                for (message_id,) in moved:
                    row = session.get(OutboxMessage, message_id)
                    if row is not None:
                        after_failure(session, row, error_code, now)
    return True


@dataclass(frozen=True)
class Accounting:
    """What the outbox knows of messages the provider listed for one row's phone:
    `recorded`, the SIDs some row already holds; `others_open`, whether another row from
    the same number to the same phone is sending without a SID (its send may be among
    those listed)."""

    recorded: frozenset[str]
    others_open: bool


def account_for(engine: Engine, message: OutboxMessage, sids: Collection[str]) -> Accounting:
    """Which of `sids` (listed at the provider for `message`'s phone) rows already hold,
    and whether another row's send to that phone is still open. Read after the provider
    was asked, so every message it listed is either recorded here or open."""
    with Session(engine) as session:
        recorded = (
            frozenset(
                str(sid)
                for sid in session.scalars(
                    select(col(OutboxMessage.twilio_sid)).where(
                        col(OutboxMessage.twilio_sid).in_(list(sids))
                    )
                )
            )
            if sids
            else frozenset()
        )
        other = session.scalar(
            select(col(OutboxMessage.id))
            .where(
                col(OutboxMessage.clinic_id) == message.clinic_id,
                col(OutboxMessage.to_phone) == message.to_phone,
                col(OutboxMessage.from_phone) == message.from_phone,
                col(OutboxMessage.status) == OutboxStatus.sending,
                col(OutboxMessage.twilio_sid).is_(None),
                col(OutboxMessage.id) != message.id,
            )
            .limit(1)
        )
    return Accounting(recorded=recorded, others_open=other is not None)
