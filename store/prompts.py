"""Which business-initiated questions reached a phone since its last message: a reminder,
a waitlist offer, a survey. One indexed read (`ix_outbox_phone`) per inbound message that
could answer one, so the lookups behind each kind run only when it was asked."""

from datetime import datetime

from sqlmodel import Session, col, select

from store.models import OutboxMessage

QUESTIONS = ("reminder", "waitlist_offer", "survey")


def asked_since(
    session: Session, clinic_id: int, phone: str, since: datetime | None
) -> frozenset[str]:
    """The kinds of question queued for `phone` after `since` (all of them when None)."""
    query = select(OutboxMessage.kind).where(
        OutboxMessage.clinic_id == clinic_id,
        OutboxMessage.to_phone == phone,
        col(OutboxMessage.kind).in_(QUESTIONS),
    )
    if since is not None:
        query = query.where(col(OutboxMessage.created_at) > since)
    return frozenset(session.exec(query.distinct()))
