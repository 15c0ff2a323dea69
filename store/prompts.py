"""Which business-initiated questions reached a phone since its last message: a reminder,
a waitlist offer, a survey. One read of their own partial index (`ix_outbox_questions`)
per inbound message that could answer one, so the lookups behind each kind run only when
it was asked. Run on the driver's cursor (`store.driver`): it is on the path of every
numbered answer."""

from datetime import datetime

from store.driver import Db, Sql, rows
from store.models import IS_QUESTION

_ASKED = Sql(
    f"""SELECT DISTINCT kind FROM outbox_message
    WHERE clinic_id = :clinic_id AND to_phone = :phone AND {IS_QUESTION}
        AND created_at > :since"""
)
EPOCH = datetime.fromisoformat("1970-01-01T00:00:00+00:00")


def asked_since(
    db: Db, clinic_id: int, phone: str, since: datetime | None
) -> frozenset[str]:
    """The kinds of question queued for `phone` after `since` (all of them when None)."""
    key = {"clinic_id": clinic_id, "phone": phone, "since": since or EPOCH}
    return frozenset(kind for (kind,) in rows(db, _ASKED, key))
