"""WhatsApp's 24-hour customer-service window, decided at send time: inside it a message
goes as free-form text; outside it, a business-initiated message goes as the clinic's
approved template for its kind and language (a pending or rejected one is never sent),
filled from the tags kept on the outbox row; with neither, it is recorded as not
sendable. The decision itself is pure (`plan_send`); `plan_batch` reads what a claimed
batch needs in two statements."""

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, select
from sqlmodel import Session, col

from store.content_templates import APPROVED
from store.message_kinds import ANSWERS, template_kinds
from store.models import ContentTemplate, Conversation, OutboxMessage
from store.send_failures import NO_TEMPLATE

WINDOW = timedelta(hours=24)
# Our clock stamps an inbound message a little after Twilio did, and Twilio may hold a
# message in its queue before WhatsApp sees it: treat the window's last minutes as closed.
MARGIN = timedelta(minutes=5)
VARIABLE_LIMIT = 1600  # Twilio's limit for one template variable
EMPTY_VARIABLE = "-"  # WhatsApp refuses an empty template variable
_SPACES = re.compile(r"\s+")
_PIECE = re.compile(r"#(\d+)(?::template)?$")


@dataclass(frozen=True)
class Template:
    """A clinic's approved template: its Content SID and {"1": tag, ...}."""

    content_sid: str
    variables: Mapping[str, str]


@dataclass(frozen=True)
class SendPlan:
    """How to send one message: text (no `content_sid`), a template, or not at all
    (`not_sendable` says why; `skip` when another row already carries the message)."""

    content_sid: str | None = None
    content_variables: dict[str, str] | None = None
    not_sendable: str | None = None
    skip: str | None = None


TEXT = SendPlan()
MISSING_TAG = "the template needs {tag}, which the message does not have"
PIECE_COVERED = "the template sent for the first part stands for the whole message"


def window_open(last_inbound_at: datetime | None, now: datetime) -> bool:
    """Whether free-form text may be sent to a phone that last wrote at `last_inbound_at`."""
    return last_inbound_at is not None and now < last_inbound_at + WINDOW - MARGIN


def variable_text(value: str) -> str:
    """A tag's text as a template variable: one line, no runs of spaces (WhatsApp treats
    those as a policy violation, 63013), never empty, within Twilio's limit."""
    return _SPACES.sub(" ", value).strip()[:VARIABLE_LIMIT] or EMPTY_VARIABLE


def content_variables(mapping: Mapping[str, str], tags: Mapping[str, str]) -> dict[str, str]:
    """The template's numbered variables filled from the message's tags; KeyError names a
    tag the message lacks."""
    return {number: variable_text(str(tags[tag])) for number, tag in mapping.items()}


def piece_number(idempotency_key: str) -> int:
    """Which part of a split message a row is (1 when not split)."""
    found = _PIECE.search(idempotency_key)
    return int(found.group(1)) if found else 1


def plan_send(
    message: OutboxMessage,
    last_inbound_at: datetime | None,
    template: Template | None,
    now: datetime,
) -> SendPlan:
    """Text inside the window and for answers; the template outside it (and always for a
    row queued as a template, e.g. a resend after Twilio's 63016); else not sendable."""
    forced = message.content_sid is not None
    if not forced and (message.kind in ANSWERS or window_open(last_inbound_at, now)):
        return TEXT
    if template is None:
        return SendPlan(
            not_sendable=NO_TEMPLATE.format(kind=message.kind, language=message.language or "?")
        )
    if piece_number(message.idempotency_key) > 1:
        return SendPlan(skip=PIECE_COVERED)
    try:
        tags = json.loads(message.variables or "{}")
        variables = content_variables(template.variables, tags)
    except KeyError as missing:
        return SendPlan(not_sendable=MISSING_TAG.format(tag=missing.args[0]))
    except (ValueError, TypeError, AttributeError):
        return SendPlan(not_sendable=MISSING_TAG.format(tag="its tags"))
    return SendPlan(content_sid=template.content_sid, content_variables=variables)


def plan_batch(
    engine: Engine, messages: Iterable[OutboxMessage], now: datetime
) -> dict[int, SendPlan]:
    """`plan_send` for each claimed message that is not plainly text, reading the
    windows and templates they need in two statements."""
    candidates = [m for m in messages if m.content_sid is not None or m.kind not in ANSWERS]
    if not candidates:
        return {}
    with Session(engine) as session:
        windows: dict[tuple[int, str], datetime | None] = {
            (clinic_id, phone): last
            for clinic_id, phone, last in session.execute(
                select(
                    col(Conversation.clinic_id),
                    col(Conversation.phone),
                    col(Conversation.last_inbound_at),
                ).where(
                    col(Conversation.clinic_id).in_({m.clinic_id for m in candidates}),
                    col(Conversation.phone).in_({m.to_phone for m in candidates}),
                )
            )
        }
        templates: dict[tuple[int, str, str], Template] = {
            (t.clinic_id, t.kind, t.language): Template(t.content_sid, json.loads(t.variables))
            for t in session.scalars(
                select(ContentTemplate).where(
                    col(ContentTemplate.clinic_id).in_({m.clinic_id for m in candidates}),
                    col(ContentTemplate.status) == APPROVED,  # pending or rejected: never sent
                )
            )
        }
    return {
        m.id or 0: plan_send(
            m,
            windows.get((m.clinic_id, m.to_phone)),
            next(
                (
                    found
                    for kind in template_kinds(m.kind)
                    if (found := templates.get((m.clinic_id, kind, m.language or "")))
                ),
                None,
            ),
            now,
        )
        for m in candidates
    }
