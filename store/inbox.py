"""What the inbox reads: the clinic's conversations (those waiting for staff first) and one
phone's whole exchange, inbound and outbound in the order it happened."""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from store.models import Conversation, InboundMessage, OutboxMessage, Patient

WINDOW = timedelta(hours=24)  # WhatsApp's customer-service window
INBOX_LIMIT = 100
EXCHANGE_LIMIT = 300


@dataclass(frozen=True)
class InboxRow:
    id: int
    phone: str
    names: list[str]
    needs_staff: bool
    paused: bool
    last_inbound_at: datetime | None
    updated_at: datetime
    opted_out: bool = False  # business-initiated messages no longer go to the phone


def asking_for_staff(session: Session, clinic_id: int) -> int:
    """How many conversations wait for a person (the navigation's badge)."""
    return session.exec(
        select(func.count()).where(
            Conversation.clinic_id == clinic_id, col(Conversation.needs_staff)
        )
    ).one()


def inbox(session: Session, clinic_id: int, limit: int = INBOX_LIMIT) -> list[InboxRow]:
    """Conversations: those that asked for staff first, then those under staff, then the
    most recently active."""
    paused = (
        select(func.count())
        .where(
            col(Patient.clinic_id) == col(Conversation.clinic_id),
            col(Patient.phone) == col(Conversation.phone),
            col(Patient.bot_paused),
        )
        .correlate(Conversation)
        .scalar_subquery()
    )
    rows = session.exec(
        select(Conversation, paused)
        .where(Conversation.clinic_id == clinic_id)
        .order_by(
            case((col(Conversation.needs_staff), 0), else_=1),
            case((paused > 0, 0), else_=1),
            col(Conversation.updated_at).desc(),
            col(Conversation.id).desc(),
        )
        .limit(limit)
    ).all()
    phones = [c.phone for c, _ in rows]
    names: dict[str, list[str]] = {}
    opted_out: set[str] = set()
    if phones:
        for phone, name, left in session.exec(
            select(col(Patient.phone), col(Patient.name), col(Patient.opted_out))
            .where(Patient.clinic_id == clinic_id, col(Patient.phone).in_(phones))
            .order_by(col(Patient.id))
        ):
            if name:
                names.setdefault(phone, []).append(name)
            if left:
                opted_out.add(phone)
    return [
        InboxRow(
            c.id or 0,
            c.phone,
            names.get(c.phone, []),
            c.needs_staff,
            bool(n),
            c.last_inbound_at,
            c.updated_at,
            c.phone in opted_out,
        )
        for c, n in rows
    ]


@dataclass(frozen=True)
class Entry:
    """One message of the exchange: `inbound` from the patient, or an outbound row."""

    inbound: bool
    id: int
    at: datetime
    body: str
    kind: str = ""
    status: str = ""
    error_code: str | None = None
    error_message: str | None = None
    media: int = 0
    handled_by_bot: bool = True


def exchange(
    session: Session, clinic_id: int, phone: str, limit: int = EXCHANGE_LIMIT
) -> list[Entry]:
    """The last `limit` messages each way with this phone, oldest first."""
    inbound = session.exec(
        select(InboundMessage)
        .where(InboundMessage.clinic_id == clinic_id, InboundMessage.from_phone == phone)
        .order_by(col(InboundMessage.id).desc())
        .limit(limit)
    ).all()
    outbound = session.exec(
        select(OutboxMessage)
        .where(OutboxMessage.clinic_id == clinic_id, OutboxMessage.to_phone == phone)
        .order_by(col(OutboxMessage.id).desc())
        .limit(limit)
    ).all()
    entries = [
        Entry(
            True,
            m.id or 0,
            m.received_at,
            m.body,
            media=m.num_media,
            handled_by_bot=m.handled_by_bot,
        )
        for m in inbound
    ] + [
        Entry(
            False,
            m.id or 0,
            m.created_at,
            m.body,
            kind=m.kind,
            status=m.status,
            error_code=m.error_code,
            error_message=m.error_message,
        )
        for m in outbound
    ]
    # An answer is written in the same instant as the message it answers: inbound first.
    return sorted(entries, key=lambda e: (e.at, not e.inbound, e.id))[-limit:]


def stamp(entries: list[Entry]) -> str:
    """Changes when a message arrives or an outbound status moves."""
    seen = [(e.inbound, e.id, e.status, e.error_code) for e in entries]
    return hashlib.sha256(repr(seen).encode()).hexdigest()[:16]


def window_left(last_inbound_at: datetime | None, now: datetime) -> timedelta | None:
    """What is left of the 24-hour window (None when closed: only templates go)."""
    if last_inbound_at is None:
        return None
    left = last_inbound_at + WINDOW - now
    return left if left > timedelta(0) else None
