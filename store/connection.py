"""What the WhatsApp connection page reads: when the clinic's last message arrived (the
webhook works) and the test messages sent from the page, newest first."""

from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import Session, col

from store.models import InboundMessage, OutboxMessage

TEST_PREFIX = "test:"


def test_key(clinic_id: int, token: str) -> str:
    """The idempotency key of a test message: the page's form sent twice sends one."""
    return f"{TEST_PREFIX}{clinic_id}:{token}"


def last_inbound(session: Session, clinic_id: int) -> datetime | None:
    found: datetime | None = session.execute(
        select(func.max(col(InboundMessage.received_at))).where(
            col(InboundMessage.clinic_id) == clinic_id
        )
    ).scalar()
    return found


def test_messages(session: Session, clinic_id: int, limit: int = 5) -> list[OutboxMessage]:
    return list(
        session.execute(
            select(OutboxMessage)
            .where(
                col(OutboxMessage.clinic_id) == clinic_id,
                col(OutboxMessage.idempotency_key).startswith(f"{TEST_PREFIX}{clinic_id}:"),
            )
            .order_by(col(OutboxMessage.id).desc())
            .limit(limit)
        ).scalars()
    )
