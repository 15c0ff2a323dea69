"""Which outbound message a tap answers (Twilio's `OriginalRepliedMessageSid`), and whether
it still stands: one indexed read by SID, made only for messages that carry one."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from store.message_kinds import ABOUT_AN_APPOINTMENT, Category, MessageKind
from store.models import Appointment, OutboxMessage

# The bot's answers: a later one means the tapped question is no longer the current one.
QUESTION_KINDS = tuple(k for k in MessageKind if k.category == Category.bot_reply)


@dataclass(frozen=True)
class Tapped:
    """The tapped message as far as the check needs it."""

    id: int
    clinic_id: int
    to_phone: str
    kind: str
    appointment_id: int | None
    not_after: datetime | None


def tapped_message(session: Session, replied_sid: str) -> Tapped | None:
    """The outbox row Twilio sent as `replied_sid` (through the index on `twilio_sid`)."""
    row = session.execute(
        select(
            col(OutboxMessage.id),
            col(OutboxMessage.clinic_id),
            col(OutboxMessage.to_phone),
            col(OutboxMessage.kind),
            col(OutboxMessage.appointment_id),
            col(OutboxMessage.not_after),
        ).where(col(OutboxMessage.twilio_sid) == replied_sid)
    ).first()
    return Tapped(*row) if row is not None else None


def tap_is_stale(
    session: Session,
    *,
    clinic_id: int,
    phone: str,
    replied_sid: str,
    appointment_id: int | None,
) -> bool:
    """Whether a tap must not be applied: the message is unknown, another clinic's or
    another phone's; a reminder whose appointment has moved since, or whose button names
    another appointment (`appointment_id`, from the payload); or a question the bot has
    answered past since (a later reply went to this phone)."""
    tapped = tapped_message(session, replied_sid)
    if tapped is None or (tapped.clinic_id, tapped.to_phone) != (clinic_id, phone):
        return True
    # a waitlist offer's button names its offer; the store says if it stands
    if tapped.kind == MessageKind.waitlist_offer:
        return False
    if tapped.kind in ABOUT_AN_APPOINTMENT:
        if appointment_id is not None and appointment_id != tapped.appointment_id:
            return True
        if tapped.appointment_id is None or tapped.not_after is None:
            return False
        starts_at = session.scalar(
            select(col(Appointment.starts_at)).where(col(Appointment.id) == tapped.appointment_id)
        )
        return starts_at != tapped.not_after
    later = session.scalar(
        select(col(OutboxMessage.id))
        .where(
            col(OutboxMessage.clinic_id) == clinic_id,
            col(OutboxMessage.to_phone) == phone,
            col(OutboxMessage.id) > tapped.id,
            col(OutboxMessage.kind).in_(QUESTION_KINDS),
        )
        .limit(1)
    )
    return later is not None
