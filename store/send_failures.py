"""What follows a message Twilio refused or failed, in the caller's transaction, by its
error code (`store.error_codes`): outside the window → the approved template is queued in
its place (once: its own idempotency key), or, with none, the message is recorded as not
sendable; an invalid number or a block → the patients on that phone are flagged, so
business-initiated messages skip it from then on; a rate limit → the message waits and
goes again."""

from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col

from store.content_templates import template_for
from store.db import insert_or_skip
from store.error_codes import (
    BLOCKED,
    INVALID,
    RATE_LIMIT_TRIES,
    Action,
    action_for,
    rate_limit_delay,
)
from store.models import OutboxMessage, OutboxStatus, Patient

TEMPLATE_SUFFIX = ":template"
NO_TEMPLATE = "outside the 24-hour window and no approved template for {kind} in {language}"
RATE_LIMITED = "held back by a rate limit ({code}); trying again"


def after_failure(session: Session, row: OutboxMessage, code: str | None, now: datetime) -> Action:
    """Act on `row`, which has just failed with `code`; returns the action taken."""
    action = action_for(code)
    if action is Action.outside_window:
        _instead_of_text(session, row, now)
    elif action is Action.invalid_number:
        flag_phone(session, row.clinic_id, row.to_phone, INVALID)
    elif action is Action.blocked:
        flag_phone(session, row.clinic_id, row.to_phone, BLOCKED)
    elif action is Action.rate_limited and row.attempts < RATE_LIMIT_TRIES:
        # The SID Twilio gave the failed try stays in message_status_event.
        row.status = OutboxStatus.pending
        row.twilio_sid = None
        row.next_attempt_at = now + rate_limit_delay(row.attempts)
        row.error_message = RATE_LIMITED.format(code=code)
        row.updated_at = now
    return action


def _instead_of_text(session: Session, row: OutboxMessage, now: datetime) -> None:
    """Queue the approved template in place of a text Twilio refused outside the window;
    a template that failed so, or a message without one, is not sendable."""
    if row.content_sid is not None or row.idempotency_key.endswith(TEMPLATE_SUFFIX):
        return  # a template already: nothing else to try
    template = template_for(session, row.clinic_id, row.kind, row.language)
    if template is None:
        row.status = OutboxStatus.not_sendable
        row.error_message = NO_TEMPLATE.format(kind=row.kind, language=row.language or "?")
        row.updated_at = now
        return
    statement = insert_or_skip(session.get_bind().dialect.name, OutboxMessage, ("idempotency_key",))
    session.connection().execute(
        statement,
        {
            "clinic_id": row.clinic_id,
            "idempotency_key": row.idempotency_key + TEMPLATE_SUFFIX,
            "kind": row.kind,
            "template": row.template,
            "from_phone": row.from_phone,
            "to_phone": row.to_phone,
            "body": row.body,
            "appointment_id": row.appointment_id,
            "not_after": row.not_after,
            "language": row.language,
            "variables": row.variables,
            "content_sid": template.content_sid,  # queued as a template: never as text
            "status": OutboxStatus.pending,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
            "updated_at": now,
        },
    )


def flag_phone(session: Session, clinic_id: int, phone: str, reason: str) -> None:
    """Mark every patient on `phone` at the clinic as unreachable for `reason`."""
    session.execute(
        update(Patient)
        .where(col(Patient.clinic_id) == clinic_id, col(Patient.phone) == phone)
        .values(unreachable=reason)
    )
