"""Where a turn's replies go: the caller gives a sink. The webhook's writes them to the
outbox in the message's own transaction (the dispatcher sends them later); another edge
(an assistant that answers in its own channel) collects them once the message is kept."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from store.outbox import outbox_rows


@dataclass(frozen=True)
class Outgoing:
    """One turn's replies, rendered as one message to the patient."""

    clinic_id: int
    from_phone: str
    to_phone: str
    body: str
    language: str
    kind: str
    idempotency_key: str
    appointment_id: int | None = None
    options: str | None = None  # the choices offered, as JSON (`bot.choices.Offer`)


class ReplySink(Protocol):
    def rows(self, outgoing: Outgoing, now: datetime) -> list[dict[str, Any]]:
        """The outbox rows to write with the message (none where the sink keeps the reply
        itself)."""
        ...

    def kept(self, outgoing: Outgoing) -> None:
        """The message and this reply were committed."""
        ...


class OutboxSink:
    """Replies queued in the outbox, in the message's transaction."""

    def rows(self, outgoing: Outgoing, now: datetime) -> list[dict[str, Any]]:
        return outbox_rows(
            clinic_id=outgoing.clinic_id,
            idempotency_key=outgoing.idempotency_key,
            from_phone=outgoing.from_phone,
            to_phone=outgoing.to_phone,
            body=outgoing.body,
            kind=outgoing.kind,
            appointment_id=outgoing.appointment_id,
            now=now,
            language=outgoing.language,
            options=outgoing.options,
        )

    def kept(self, outgoing: Outgoing) -> None:
        pass


@dataclass
class CollectingSink:
    """Replies handed back to the caller instead of queued: only those of messages that
    were kept (a repeated message, or an attempt decided again, leaves nothing)."""

    replies: list[Outgoing] = field(default_factory=list)

    def rows(self, outgoing: Outgoing, now: datetime) -> list[dict[str, Any]]:
        return []

    def kept(self, outgoing: Outgoing) -> None:
        self.replies.append(outgoing)
