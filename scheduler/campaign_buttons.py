"""A campaign's reschedule request or closure notice with its buttons (another day or
time, cancel; each naming the appointment), made at send time where the clinic sends
buttons: the campaign queues the numbered text alone, and its answers read both alike."""

import json
from dataclasses import replace

from sqlalchemy import Engine
from sqlmodel import Session

from bot.choices import offer
from bot.payloads import CAMPAIGN_ACTIONS, reminder_buttons
from bot.render import render
from bot.types import Reply
from store.clinic_templates import overrides
from store.message_kinds import CAMPAIGN_QUESTIONS
from store.models import OutboxMessage


def campaign_options(engine: Engine, message: OutboxMessage) -> str | None:
    """The outbox `options` of a campaign's question, its body in the wording for tapping
    (with the lines of the phone's other appointments that day, if any); None for any
    other message, or one whose text is no longer what its template writes (it goes as
    its text)."""
    if message.kind not in CAMPAIGN_QUESTIONS or message.appointment_id is None:
        return None
    if message.template is None:
        return None
    language = message.language or "es"
    tags = json.loads(message.variables or "{}")
    with Session(engine) as session:
        own = overrides(session, message.clinic_id, language)
    numbered = render(Reply(message.template, tags), language, own)
    if not message.body.startswith(numbered):
        return None
    buttons = reminder_buttons(message.appointment_id, CAMPAIGN_ACTIONS)
    found = offer([Reply(message.template, tags, buttons)], language, own)
    if found is None:
        return None
    tapped = replace(found, body=found.body + message.body[len(numbered) :])
    return json.dumps(tapped.to_json(), ensure_ascii=False)
