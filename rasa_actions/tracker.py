"""What an action reads of Rasa's tracker and gives back to it: the clinic, the reader's
language, the form's answers by Turnero's names, and the slots an answer settles."""

from dataclasses import dataclass
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

from bot.locale import LANGUAGES
from usecases.assistant import MAX_ID_DIGITS, Agenda, Said

# Turnero's name of each answer → the slot of the example domain that holds it.
SLOTS = {
    "clinic": "clinic_id",
    "language": "language",
    "service": "service",
    "professional": "professional",
    "day": "day",
    "times": "turnero_times",
    "time": "time",
    "name": "patient_name",
    "phone": "phone",
    "dni": "dni",
    "insurance": "insurance",
    "code": "code",
    "link": "link",
}
FORM = "turnero_booking_form"
SLOT_LIMIT = 1000  # what is read of a slot's value (a 5,000-character slot is cut, not read)


@dataclass(frozen=True)
class Context:
    """What every action is given: the agenda, and the clinic the configuration names
    (a tracker's `clinic_id` slot wins)."""

    agenda: Agenda
    clinic_id: int | None = None


def slot(tracker: Tracker, name: str) -> Any:
    """The slot holding Turnero's answer `name`; text cut to `SLOT_LIMIT`."""
    value = tracker.get_slot(SLOTS[name])
    return value[:SLOT_LIMIT] if isinstance(value, str) else value


def text(tracker: Tracker, name: str) -> str:
    value = slot(tracker, name)
    return "" if value is None else str(value)[:SLOT_LIMIT]


def clinic_of(tracker: Tracker, context: Context) -> int | None:
    """The clinic the `clinic_id` slot names (a database id, as a number or its digits),
    else the configuration's."""
    value = slot(tracker, "clinic")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip()[: MAX_ID_DIGITS + 1])
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**31:
        return value
    return context.clinic_id


def language_of(tracker: Tracker, context: Context, clinic_id: int | None) -> str:
    """The tracker's `language` slot if it is one of ours, else the clinic's own."""
    value = slot(tracker, "language")
    if isinstance(value, str) and value.lower()[:2] in LANGUAGES:
        return value.lower()[:2]
    return context.agenda.default_language(clinic_id)


def latest_text(tracker: Tracker) -> str:
    return str((tracker.latest_message or {}).get("text") or "")[:SLOT_LIMIT]


def as_slots(said: Said) -> dict[str, Any]:
    """An answer's settled values by slot name (None: the slot is asked again)."""
    return {SLOTS[name]: value for name, value in said.values.items() if name in SLOTS}


def slot_events(said: Said) -> list[dict[str, Any]]:
    return [SlotSet(name, value) for name, value in as_slots(said).items()]
