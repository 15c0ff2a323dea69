"""Sending a message's choices as buttons or a list picker, decided at send time from the
outbox row's `options` (see `bot.choices.Offer`), so the inbound path makes no network
call. Up to 3 choices go as quick-reply buttons, up to 10 as a list picker, more as the
row's numbered text; so does anything outside the 24-hour window (a list picker can never
start a conversation), a clinic that has them off, and any failure to create the content.
A campaign's question gets its buttons here (`campaign_buttons`). Content is created once
per clinic, language, body and choices (`interactive_content`)."""

import hashlib
import json
import logging
import unicodedata
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from channel.base import Channel, ContentCreator, SendError, SendResult
from scheduler.campaign_buttons import campaign_options
from store.interactive import cached_content, interactive_for, remember_content
from store.message_kinds import CAMPAIGN_QUESTIONS
from store.models import OutboxMessage

log = logging.getLogger(__name__)

QUICK_REPLY = "twilio/quick-reply"
LIST_PICKER = "twilio/list-picker"
QUICK_REPLY_MAX = 3  # buttons in a message sent inside the window without approval
LIST_MAX = 10
BUTTON_TITLE_MAX = 20
ITEM_TITLE_MAX = 24
ITEM_DESCRIPTION_MAX = 72
LIST_BUTTON_MAX = 20
BODY_MAX = 1024
ID_MAX = 200
WINDOW = timedelta(hours=24)
_JOINERS = {"\u200d", "\ufe0e", "\ufe0f"}  # zero-width joiner, variation selectors


def clip(text: str, limit: int) -> str:
    """`text` in at most `limit` characters: whole if it fits, else cut at a word end
    where one is near, never inside a character and its accents or an emoji sequence,
    and ended with "…"."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    end = limit - 1
    while end > 0 and (unicodedata.combining(text[end]) or text[end] in _JOINERS):
        end -= 1  # the cut would split a letter from its accent, or an emoji sequence
    cut = text[:end]
    while cut and (cut[-1] in _JOINERS or unicodedata.combining(cut[-1])):
        cut = cut[:-2]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,.;:—-") + "…"


def content_types(offer: dict[str, Any]) -> dict[str, Any] | None:
    """The Content API `types` for an offer, or None when it must go as text: too many
    choices, a body over the limit, an id too long, or buttons whose titles collide."""
    body, choices = offer.get("body"), offer.get("choices")
    if not isinstance(body, str) or not body or len(body) > BODY_MAX:
        return None
    if not isinstance(choices, list) or not 1 <= len(choices) <= LIST_MAX:
        return None
    pairs = [
        (str(c.get("id", "")), str(c.get("label", ""))) for c in choices if isinstance(c, dict)
    ]
    if len(pairs) != len(choices) or any(not i or len(i) > ID_MAX or not t for i, t in pairs):
        return None
    if len(pairs) <= QUICK_REPLY_MAX:
        titles = [clip(label, BUTTON_TITLE_MAX) for _, label in pairs]
        if len(set(titles)) < len(titles):
            return None  # WhatsApp wants every button different
        actions = [{"id": i, "title": t} for (i, _), t in zip(pairs, titles, strict=True)]
        return {QUICK_REPLY: {"body": body, "actions": actions}}
    items = []
    for choice_id, label in pairs:
        item: dict[str, str] = {"id": choice_id, "item": clip(label, ITEM_TITLE_MAX)}
        if item["item"] != label:  # the whole label, where the title had to be cut
            item["description"] = clip(label, ITEM_DESCRIPTION_MAX)
        items.append(item)
    button = clip(str(offer.get("button") or ""), LIST_BUTTON_MAX)
    if not button:
        return None
    return {LIST_PICKER: {"body": body, "button": button, "items": items}}


def digest(clinic_id: int, language: str, types: dict[str, Any]) -> str:
    """What identifies a content: the clinic, the language, the body and the choices."""
    data = json.dumps([clinic_id, language, types], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(data.encode()).hexdigest()


def content_for(
    engine: Engine, channel: Channel, message: OutboxMessage, now: datetime
) -> str | None:
    """The content SID to send `message` with, or None to send its text. Never raises:
    whatever goes wrong here, the text still goes."""
    if not isinstance(channel, ContentCreator):
        return None
    if not message.options and message.kind not in CAMPAIGN_QUESTIONS:
        return None
    try:
        return _content_for(engine, channel, message, now)
    except Exception:
        log.exception("outbox %s: interactive content failed; sending text", message.id)
        return None


def _content_for(
    engine: Engine, channel: ContentCreator, message: OutboxMessage, now: datetime
) -> str | None:
    enabled, last_inbound = interactive_for(engine, message.clinic_id, message.to_phone)
    if not enabled or last_inbound is None or now - last_inbound >= WINDOW:
        return None
    offer = json.loads(message.options or campaign_options(engine, message) or "null")
    types = content_types(offer) if isinstance(offer, dict) else None
    if types is None:
        return None
    language = message.language or "es"
    key = digest(message.clinic_id, language, types)
    found = cached_content(engine, key)
    if found is not None:
        return found
    try:
        created = channel.create_content(
            friendly_name=f"turnero_{message.clinic_id}_{key[:16]}", language=language, types=types
        )
    except SendError as error:
        log.warning("outbox %s: content not created (%s); sending text", message.id, error.summary)
        return None
    return remember_content(engine, message.clinic_id, key, created, now)


def send(
    channel: Channel, message: OutboxMessage, content_sid: str | None
) -> tuple[SendResult, str | None]:
    """Send with the content, or as text; content the provider refuses for good (say it
    was deleted) is sent as text at once. Returns the result and the content used."""
    if content_sid is not None:
        try:
            sent = channel.send(
                from_phone=message.from_phone,
                to_phone=message.to_phone,
                body=message.body,
                content_sid=content_sid,
                reference=str(message.id),
            )
            return sent, content_sid
        except SendError as error:
            if error.retryable:
                raise
            log.warning(
                "outbox %s: content %s refused (%s); sending text",
                message.id,
                content_sid,
                error.summary,
            )
    sent = channel.send(
        from_phone=message.from_phone,
        to_phone=message.to_phone,
        body=message.body,
        reference=str(message.id),
    )
    return sent, None
