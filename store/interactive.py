"""The store side of interactive messages: whether a clinic sends them and when the phone
last wrote (the 24-hour window), and the content already created for a set of choices."""

from datetime import datetime

from sqlalchemy import Engine, select
from sqlmodel import Session, col

from store.db import insert_or_skip, transaction
from store.models import Clinic, Conversation, InteractiveContent


def interactive_for(engine: Engine, clinic_id: int, phone: str) -> tuple[bool, datetime | None]:
    """Whether the clinic sends interactive messages, and the phone's last inbound
    message there (None if it never wrote), in one statement."""
    with Session(engine) as session:
        row = session.execute(
            select(col(Clinic.interactive_messages), col(Conversation.last_inbound_at))
            .select_from(Clinic)
            .outerjoin(
                Conversation,
                (col(Conversation.clinic_id) == col(Clinic.id))
                & (col(Conversation.phone) == phone),
            )
            .where(col(Clinic.id) == clinic_id)
        ).first()
    if row is None:
        return False, None
    return bool(row[0]), row[1]


def cached_content(engine: Engine, digest: str) -> str | None:
    """The SID of content created before for this digest, if any."""
    with Session(engine) as session:
        return session.scalar(
            select(col(InteractiveContent.content_sid)).where(
                col(InteractiveContent.digest) == digest
            )
        )


def remember_content(
    engine: Engine, clinic_id: int, digest: str, content_sid: str, now: datetime
) -> str:
    """Keep a created content's SID; if another dispatcher kept one for the same digest
    meanwhile, that one wins (both show the same thing). Returns the SID kept."""
    statement = insert_or_skip(engine.dialect.name, InteractiveContent, ("digest",))
    with transaction(engine) as session:
        session.connection().execute(
            statement,
            {
                "clinic_id": clinic_id,
                "digest": digest,
                "content_sid": content_sid,
                "created_at": now,
            },
        )
        kept = session.scalar(
            select(col(InteractiveContent.content_sid)).where(
                col(InteractiveContent.digest) == digest
            )
        )
    return kept or content_sid
