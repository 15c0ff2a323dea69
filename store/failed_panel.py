"""The failed-messages panel: outbound messages that failed, were undelivered, could not
be sent or were cut off, until staff handle them; sending one again (a new row, so the
old one keeps its history), marking one handled, and fixing a wrong number."""

import json
from datetime import datetime

from sqlalchemy import ColumnElement, exists, func
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from store.content_templates import template_for
from store.models import OPEN_FAILURE_STATUSES, Conversation, OutboxMessage, OutboxStatus
from store.outbox import enqueue
from store.patients import move_phone
from store.send_failures import TEMPLATE_SUFFIX
from store.window import Template, plan_send

PANEL_LIMIT = 200
RESEND_SUFFIX = ":resend:"


def _open(clinic_id: int) -> tuple[ColumnElement[bool], ...]:
    """Open failures of the clinic, minus messages already replaced by their approved
    template (a 63016 refusal that `store.send_failures` dealt with)."""
    replacement = aliased(OutboxMessage)
    replaced = exists().where(
        col(replacement.idempotency_key) == col(OutboxMessage.idempotency_key) + TEMPLATE_SUFFIX
    )
    return (
        col(OutboxMessage.clinic_id) == clinic_id,
        col(OutboxMessage.status).in_(OPEN_FAILURE_STATUSES),
        col(OutboxMessage.handled_at).is_(None),
        ~replaced,
    )


def open_failures(
    session: Session, clinic_id: int, limit: int = PANEL_LIMIT
) -> list[OutboxMessage]:
    """Newest first."""
    return list(
        session.exec(
            select(OutboxMessage)
            .where(*_open(clinic_id))
            .order_by(col(OutboxMessage.id).desc())
            .limit(limit)
        )
    )


def count_open(session: Session, clinic_id: int) -> int:
    """The navigation badge."""
    return session.exec(
        select(func.count()).select_from(OutboxMessage).where(*_open(clinic_id))
    ).one()


def open_failure(session: Session, clinic_id: int, message_id: int) -> OutboxMessage | None:
    """One open failure of the clinic, locked for the action staff take on it."""
    return session.exec(
        select(OutboxMessage)
        .where(col(OutboxMessage.id) == message_id, *_open(clinic_id))
        .with_for_update()
    ).first()


def mark_handled(row: OutboxMessage, by: str, now: datetime) -> None:
    row.handled_at = now
    row.handled_by = by
    row.updated_at = now


def cannot_go_yet(session: Session, row: OutboxMessage, now: datetime) -> bool:
    """Whether a message that could not be sent would fail the same way again now: the
    patient has not written in the last 24 hours and the clinic still has no approved
    template for its kind and language."""
    if row.status != OutboxStatus.not_sendable:
        return False
    last_inbound = session.exec(
        select(Conversation.last_inbound_at).where(
            Conversation.clinic_id == row.clinic_id, Conversation.phone == row.to_phone
        )
    ).first()
    found = template_for(session, row.clinic_id, row.kind, row.language)
    template = Template(found.content_sid, json.loads(found.variables)) if found else None
    return plan_send(row, last_inbound, template, now).not_sendable is not None


def resend(
    session: Session, row: OutboxMessage, by: str, now: datetime, to_phone: str | None = None
) -> bool:
    """Queue a copy of the message (to `to_phone` if given) under the key with a resend
    suffix, and mark the old row handled; whether a new row was queued."""
    added = enqueue(
        session,
        clinic_id=row.clinic_id,
        idempotency_key=f"{row.idempotency_key}{RESEND_SUFFIX}{row.id}",
        from_phone=row.from_phone,
        to_phone=to_phone or row.to_phone,
        body=row.body,
        now=now,
        kind=row.kind,
        template=row.template,
        appointment_id=row.appointment_id,
        not_after=row.not_after,
        language=row.language,
        options=row.options,
        variables=json.loads(row.variables) if row.variables else None,
    )
    mark_handled(row, by, now)
    return added > 0


def fix_number(session: Session, clinic_id: int, old: str, new: str, by: str, now: datetime) -> int:
    """Move everybody on the wrong number `old` to `new` and send every open failure to
    `old` again, to `new`; how many were sent again."""
    move_phone(session, clinic_id, old, new, now)
    again = [
        row
        for row in session.exec(
            select(OutboxMessage)
            .where(*_open(clinic_id), col(OutboxMessage.to_phone) == old)
            .order_by(col(OutboxMessage.id))
            .with_for_update()
        )
    ]
    for row in again:
        resend(session, row, by, now, to_phone=new)
    return len(again)
