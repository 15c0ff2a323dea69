"""Which business-initiated questions reached a phone since its last message: a reminder,
a waitlist offer, a survey, a campaign's reschedule request or closure notice. One read of
their own partial index (`ix_outbox_questions`) per inbound message that could answer one,
so the lookups behind each kind run only when it was asked; or, on the hot path, when each
was last asked, read with the conversation (`last_asked_columns`). Run on the driver's
cursor (`store.driver`): it is on the path of every numbered answer."""

from collections.abc import Mapping
from datetime import datetime

from store.driver import Db, Sql, rows
from store.models import BUSINESS_QUESTIONS, IS_QUESTION

LastAsked = Mapping[str, datetime | None]  # kind of question → when the phone last got one

_ASKED = Sql(
    f"""SELECT DISTINCT kind FROM outbox_message
    WHERE clinic_id = :clinic_id AND to_phone = :phone AND {IS_QUESTION}
        AND created_at > :since"""
)
EPOCH = datetime.fromisoformat("1970-01-01T00:00:00+00:00")


def asked_since(db: Db, clinic_id: int, phone: str, since: datetime | None) -> frozenset[str]:
    """The kinds of question queued for `phone` after `since` (all of them when None)."""
    key = {"clinic_id": clinic_id, "phone": phone, "since": since or EPOCH}
    return frozenset(kind for (kind,) in rows(db, _ASKED, key))


def last_asked_columns(conversation: str) -> str:
    """SQL for one column per kind of question (`BUSINESS_QUESTIONS`): when the phone of
    the conversation row `conversation` was last asked one, through the partial index."""
    return ", ".join(
        f"""(SELECT max(o.created_at) FROM outbox_message o
            WHERE o.clinic_id = {conversation}.clinic_id AND o.to_phone = {conversation}.phone
                AND {IS_QUESTION} AND o.kind = '{kind}')"""
        for kind in BUSINESS_QUESTIONS
    )


def asked_after(last_asked: LastAsked, kind: str, since: datetime | None) -> bool:
    """Whether a question of `kind` was asked after `since` (ever, when None)."""
    at = last_asked.get(kind)
    return at is not None and (since is None or at > since)
