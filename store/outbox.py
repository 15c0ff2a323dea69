"""Writing messages to the outbox: at most one row per idempotency key, decided by the
database (an insert that does nothing on conflict), not by a check in Python."""

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Concatenate, ParamSpec

from sqlalchemy import Engine
from sqlmodel import Session, col, func, select

from store.db import insert_or_skip
from store.driver import Db, Sql, first
from store.message_kinds import MessageKind
from store.models import OutboxMessage, OutboxStatus

P = ParamSpec("P")
BODY_LIMIT = 1600  # Twilio's limit for one WhatsApp body
# The reply to an inbound message is keyed by the message's SID: one reply per message,
# and the link `/metrics` follows from a reply back to the message it answers.
REPLY_KEY_PREFIX = f"{MessageKind.reply}:"


def reply_key(message_sid: str) -> str:
    """The idempotency key of the reply to the inbound message `message_sid`."""
    return REPLY_KEY_PREFIX + message_sid


def split_body(body: str, limit: int = BODY_LIMIT) -> list[str]:
    """Pieces of at most `limit` characters, cut at the last paragraph end in the second
    half of the piece, else the last line end, else the last space (a word is cut only
    when it is longer than half a piece)."""
    pieces: list[str] = []
    rest = body.strip()
    while len(rest) > limit:
        window = rest[:limit]
        cut = next(
            (found for sep in ("\n\n", "\n", " ") if (found := window.rfind(sep)) > limit // 2),
            limit,
        )
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    return [*pieces, rest] if rest else pieces


OUTBOX_COLUMNS = (
    "clinic_id", "idempotency_key", "kind", "template", "from_phone", "to_phone", "body",
    "appointment_id", "not_after", "language", "options", "variables", "status", "attempts",
    "next_attempt_at", "created_at", "updated_at",
)  # fmt: skip
_ENQUEUE = Sql(
    f"INSERT INTO outbox_message ({', '.join(OUTBOX_COLUMNS)})"
    f" VALUES ({', '.join(':' + c for c in OUTBOX_COLUMNS)})"
    " ON CONFLICT (idempotency_key) DO NOTHING RETURNING id"
)


def outbox_rows(
    *,
    clinic_id: int,
    idempotency_key: str,
    from_phone: str,
    to_phone: str,
    body: str,
    now: datetime,
    kind: str = MessageKind.reply,
    template: str | None = None,
    appointment_id: int | None = None,
    not_after: datetime | None = None,
    language: str | None = None,
    options: str | None = None,
    variables: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """The rows that queue a message (several if it is too long). A message with
    `not_after` is skipped, not sent, once that time has passed. `options` (JSON,
    see `bot.choices.Offer`) lets the dispatcher send its choices as buttons or a list;
    a message split in pieces goes as text. A business-initiated message keeps its
    `language` and its tags as text (`variables`): outside the 24-hour window the clinic's
    approved template goes in its place, filled from them."""
    pieces = split_body(body)
    if len(pieces) > 1:
        options = None
    tags = json.dumps(dict(variables), ensure_ascii=False) if variables is not None else None
    return [
        {
            "clinic_id": clinic_id,
            "idempotency_key": idempotency_key
            if len(pieces) == 1
            else f"{idempotency_key}#{n + 1}",
            "kind": kind,
            "template": template,
            "from_phone": from_phone,
            "to_phone": to_phone,
            "body": piece,
            "appointment_id": appointment_id,
            "not_after": not_after,
            "language": language,
            "options": options,
            "variables": tags,
            "status": OutboxStatus.pending.value,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
            "updated_at": now,
        }
        for n, piece in enumerate(pieces)
    ]


def insert_rows(db: Db, rows: list[dict[str, Any]]) -> int:
    """Insert `outbox_rows`, each at most once (its idempotency key); how many were new."""
    return sum(first(db, _ENQUEUE, row) is not None for row in rows)


# Many rows at once on PostgreSQL: one statement the driver prepares once and pipelines
# (SQLAlchemy's multi-row VALUES made psycopg parse a 17,000-parameter query per 1,000 rows).
_ENQUEUE_MANY = (
    f"INSERT INTO outbox_message ({', '.join(OUTBOX_COLUMNS)})"
    f" VALUES ({', '.join(f'%({c})s' for c in OUTBOX_COLUMNS)})"
    " ON CONFLICT (idempotency_key) DO NOTHING"
)


def insert_many(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert many `outbox_rows` (a campaign's thousands), each at most once."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.connection().exec_driver_sql(_ENQUEUE_MANY, rows)
    else:
        session.execute(insert_or_skip(dialect, OutboxMessage, ("idempotency_key",)), rows)


def _inserting(rows: Callable[P, list[dict[str, Any]]]) -> Callable[Concatenate[Db, P], int]:
    def enqueue(db: Db, *args: P.args, **kwargs: P.kwargs) -> int:
        return insert_rows(db, rows(*args, **kwargs))

    enqueue.__doc__ = "Queue a message (`outbox_rows`); returns how many rows were new."
    return enqueue


enqueue = _inserting(outbox_rows)


# what a message's status says to someone watching the phone: not yet dealt with, or
# dealt with but never reaching it
STILL_TO_SEND = frozenset({OutboxStatus.pending, OutboxStatus.sending})
NOT_SENT = frozenset(
    {
        OutboxStatus.failed,
        OutboxStatus.undelivered,
        OutboxStatus.skipped,
        OutboxStatus.not_sendable,
        OutboxStatus.unconfirmed,
    }
)


def last_message_to(engine: Engine, phone: str) -> int:
    """The newest row queued for one phone (0 for none): what a fresh chat starts after."""
    with Session(engine) as session:
        found = session.exec(
            select(func.max(OutboxMessage.id)).where(OutboxMessage.to_phone == phone)
        ).one()
        return found or 0


def messages_to(engine: Engine, phone: str, after_id: int = 0, limit: int = 50) -> list[dict]:
    """What was queued for one phone after a given row and has been dealt with since, in
    order: the sandbox chat and the simulator show these. Each says whether it went out;
    a message still waiting to be sent holds back the ones after it."""
    with Session(engine) as session:
        rows = session.exec(
            select(OutboxMessage)
            .where(OutboxMessage.to_phone == phone, col(OutboxMessage.id) > after_id)
            .order_by(col(OutboxMessage.id))
            .limit(limit)
        ).all()
    shown = []
    for r in rows:
        if r.status in STILL_TO_SEND:
            break
        shown.append(
            {
                "id": r.id,
                "body": r.body,
                "status": r.status,
                "sent": r.status not in NOT_SENT,
                "error_code": r.error_code,
                "error_message": r.error_message,
                "kind": r.kind,
                "from": r.from_phone,
            }
        )
    return shown
