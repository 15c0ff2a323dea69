"""The store side of sending the outbox: claiming due rows, recording what the channel
answered, and applying Twilio's status callbacks without ever moving a message backwards.

A claimed row is "sending" until the dispatcher marks it; on PostgreSQL the claim skips
rows another dispatcher has locked, so two dispatchers never claim the same row."""

from datetime import datetime

from sqlalchemy import Engine, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col

from store.db import is_postgres, transaction
from store.models import MessageStatusEvent, OutboxMessage, OutboxStatus

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


def claim_due(engine: Engine, now: datetime, limit: int = 50) -> list[OutboxMessage]:
    """Take up to `limit` pending messages due at `now` (oldest first): mark them
    "sending", count the attempt, and return detached copies for the dispatcher.

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
    if is_postgres(engine):
        query = query.with_for_update(skip_locked=True)
    with transaction(engine) as session:
        rows = list(session.scalars(query))
        for row in rows:
            row.status = OutboxStatus.sending
            row.attempts += 1
            row.updated_at = now
        session.flush()
        claimed = [OutboxMessage.model_validate(row) for row in rows]
    return claimed


def mark_sent(engine: Engine, message_id: int, sid: str, status: str, now: datetime) -> None:
    """Record the provider's SID and first status. A status callback that arrived before
    this (it can: Twilio may call back before our commit) is applied on top."""
    with transaction(engine) as session:
        row = session.get(OutboxMessage, message_id)
        if row is None:
            return
        row.twilio_sid = sid
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


def mark_retry(
    engine: Engine,
    message_id: int,
    error: str,
    next_attempt_at: datetime,
    now: datetime,
    *,
    code: str | None = None,
) -> bool:
    """Put a claimed message back to "pending", due again at `next_attempt_at`, keeping
    the last error for the failed-messages panel. False if it was not claimed."""
    return _finish(
        engine,
        message_id,
        now,
        status=OutboxStatus.pending,
        next_attempt_at=next_attempt_at,
        error_code=code,
        error_message=error,
    )


def mark_failed(
    engine: Engine, message_id: int, code: str | None, message: str, now: datetime
) -> bool:
    """Give up on a claimed message, keeping the provider's error code and message.
    False if it was not claimed."""
    return _finish(
        engine,
        message_id,
        now,
        status=OutboxStatus.failed,
        error_code=code,
        error_message=message,
    )


def _finish(engine: Engine, message_id: int, now: datetime, **values: object) -> bool:
    """Update a row only while it is claimed ("sending" with no SID), so a late or
    repeated mark cannot undo what happened since."""
    statement = (
        update(OutboxMessage)
        .where(
            col(OutboxMessage.id) == message_id,
            col(OutboxMessage.status) == OutboxStatus.sending,
            col(OutboxMessage.twilio_sid).is_(None),
        )
        .values(updated_at=now, **values)
        .returning(col(OutboxMessage.id))
    )
    with transaction(engine) as session:
        return session.execute(statement).first() is not None


def apply_status_callback(
    engine: Engine, *, message_sid: str, status: str, error_code: str | None, now: datetime
) -> bool:
    """Record one status callback; False if this (MessageSid, MessageStatus) was seen
    before. The outbox row only moves forward (read stays read; failed/undelivered
    override queued/sent but not delivered/read). Decided by the database: the event
    insert does nothing on conflict and the update is conditional on the current status."""
    insert = pg_insert if is_postgres(engine) else sqlite_insert
    with transaction(engine) as session:
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
            session.execute(
                update(OutboxMessage)
                .where(
                    col(OutboxMessage.twilio_sid) == message_sid,
                    col(OutboxMessage.status).in_(replaceable),
                )
                .values(**values)
            )
    return True
