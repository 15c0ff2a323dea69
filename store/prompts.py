"""Which business-initiated questions reached a phone since its last message: a reminder,
a waitlist offer, a survey. One indexed read (`ix_outbox_phone`) per inbound message that
could answer one, so the lookups behind each kind run only when it was asked. A prebuilt
Core statement: it is on the path of every numbered answer."""

from datetime import datetime

from sqlalchemy import bindparam, select
from sqlmodel import Session, col

from store.models import OutboxMessage

QUESTIONS = ("reminder", "waitlist_offer", "survey")

_ASKED = (
    select(col(OutboxMessage.kind))
    .where(
        col(OutboxMessage.clinic_id) == bindparam("clinic_id"),
        col(OutboxMessage.to_phone) == bindparam("phone"),
        col(OutboxMessage.kind).in_(QUESTIONS),
        col(OutboxMessage.created_at) > bindparam("since"),
    )
    .distinct()
)
EPOCH = datetime.fromisoformat("1970-01-01T00:00:00+00:00")


def asked_since(
    session: Session, clinic_id: int, phone: str, since: datetime | None
) -> frozenset[str]:
    """The kinds of question queued for `phone` after `since` (all of them when None)."""
    key = {"clinic_id": clinic_id, "phone": phone, "since": since or EPOCH}
    return frozenset(kind for (kind,) in session.connection().execute(_ASKED, key))
