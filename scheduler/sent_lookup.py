"""Whether Twilio has a message whose send got no answer (a timeout, a crash between the
send and its mark): found by its words, or, when its words at Twilio are not ours (a
template, buttons), as the one message there that no row of ours accounts for."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from channel.base import Channel, Listed
from store.dispatch import Accounting, account_for
from store.message_kinds import ANSWERS
from store.models import OutboxMessage


@dataclass(frozen=True)
class Unsure:
    """Twilio has messages nobody accounts for, and none can be told to be this one."""

    reason: str


AMBIGUOUS = "another message reached this phone since, and it cannot be told apart from this one"


def may_have_gone_as_content(message: OutboxMessage) -> bool:
    """Whether the send could have used a template or interactive content, whose words at
    Twilio are not our body: a business-initiated kind (a closed window sends its
    template), choices (buttons or a list), or content already chosen."""
    return (
        message.content_sid is not None
        or message.options is not None
        or message.kind not in ANSWERS
    )


def identify(
    message: OutboxMessage, listed: list[Listed], accounting: Accounting
) -> Listed | Unsure | None:
    """Which of the messages Twilio `listed` for the phone is `message`, if any (pure).
    A message some other row holds is not it; one with our words is; without words of
    ours, the only message left is, unless another send to the phone is also open."""
    unknown = [m for m in listed if m.sid not in accounting.recorded]
    by_words = next((m for m in unknown if m.body == message.body), None)
    if by_words is not None or not unknown or not may_have_gone_as_content(message):
        return by_words
    if len(unknown) == 1 and not accounting.others_open:
        return unknown[0]
    return Unsure(AMBIGUOUS)


def look_up(
    engine: Engine, channel: Channel, message: OutboxMessage, since: datetime
) -> Listed | Unsure | None:
    """Ask Twilio, then the outbox (in that order, so every message Twilio listed is
    either recorded by now or still open), which message is this one; raises `SendError`
    when Twilio cannot be asked."""
    listed = channel.sent_since(
        from_phone=message.from_phone, to_phone=message.to_phone, sent_after=since
    )
    return identify(message, listed, account_for(engine, message, [m.sid for m in listed]))
